"""Message kinds, default templates, rendering and validation."""

import re

import pytest

from smsdesk.services.segments import segment_info
from smsdesk.services.template_kinds import AUTOMATIC_KINDS, KINDS, VARIABLES, KindSpec
from smsdesk.services.templates import (
    MAX_BODY_LENGTH,
    TemplateError,
    build_context,
    empty_context,
    render_message,
    sample_context,
    validate_template,
)

ALL_KINDS = [
    "order_confirmed", "order_shipped", "out_for_delivery", "ready_for_pickup",
    "delivered", "order_cancelled", "order_refunded", "cart_reminder_1", "cart_reminder_2",
    "help_reply", "opt_out_confirmation", "opt_in_confirmation", "away_message", "feedback_request",
    "order_status_answer", "faq_answer", "handoff_ack",  # automatic answers (services/auto_answers.py)
]
CART_KINDS = ["cart_reminder_1", "cart_reminder_2"]
ORDER_KINDS = ALL_KINDS[:7]

# What a real send has at minimum: the store, the order number, the cart link.
MINIMAL = build_context(
    store={"name": "Acme Outfitters"},
    order={"number": "1042"},
    cart={"recovery_url": "https://shop.example.com/cart/r/8f3a2c9d"},
)


def assert_reads_well(text: str) -> None:
    """No traces of empty variables: double spaces, orphan punctuation."""
    assert text == text.strip()
    assert "  " not in text
    assert not re.search(r"\s[,.!?:]", text), text
    assert not re.search(r"[,:]\s*[.!?]", text), text
    assert not re.search(r"#(\s|$|[.!?,])", text), text
    assert "None" not in text


# --- kinds -----------------------------------------------------------------


def test_every_kind_is_defined_in_order():
    assert list(KINDS) == ALL_KINDS
    for kind, spec in KINDS.items():
        assert isinstance(spec, KindSpec) and spec.kind == kind and spec.label


def test_kind_spec_is_frozen():
    with pytest.raises(AttributeError):
        KINDS["order_confirmed"].default_enabled = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kind", "marketing", "enabled", "delay", "validity"),
    [
        ("order_confirmed", False, True, 0, 14400),
        ("order_shipped", False, True, 0, 14400),
        ("out_for_delivery", False, True, 0, 14400),
        ("ready_for_pickup", False, True, 0, 14400),
        ("delivered", False, True, 0, 14400),
        ("order_cancelled", False, True, 0, 14400),
        ("order_refunded", False, False, 0, 14400),  # off until the owner turns it on
        ("cart_reminder_1", True, True, 60, 3600),
        ("cart_reminder_2", True, False, 1440, 3600),
        ("help_reply", False, True, 0, 3600),
        ("opt_out_confirmation", False, True, 0, 3600),
        ("opt_in_confirmation", False, True, 0, 3600),
        ("away_message", False, True, 0, 3600),
        ("feedback_request", False, True, 0, 14400),  # sent when the store asks (/feedback), hours later
    ],
)
def test_kind_settings(kind, marketing, enabled, delay, validity):
    spec = KINDS[kind]
    assert (spec.marketing, spec.default_enabled, spec.default_delay_minutes,
            spec.validity_seconds) == (marketing, enabled, delay, validity)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_kind_variables_are_known_and_cover_the_default(kind):
    spec = KINDS[kind]
    assert set(spec.variables) <= VARIABLES
    used = set(re.findall(r"\b(?:store|customer|order|tracking|cart|shipment|refund|hours)\.\w+", spec.default_body))
    assert used <= set(spec.variables)


def test_variables():
    assert VARIABLES == {
        "store.name", "store.support_contact", "customer.first_name", "order.number",
        "order.total", "order.currency", "order.status_url", "tracking.number",
        "tracking.company", "tracking.url", "cart.recovery_url", "cart.total",
        "cart.item_count", "cart.first_item", "shipment.partial", "shipment.item_count",
        "shipment.order_item_count", "shipment.items", "refund.amount", "refund.partial",
        "answer.status", "answer.text",
        "hours.back_at",
    }


# --- default templates -----------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_default_template_validates(kind):
    validate_template(KINDS[kind].default_body)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_default_template_with_sample_data(kind):
    text = render_message(KINDS[kind].default_body, sample_context())
    assert_reads_well(text)
    assert "Acme Outfitters" in text
    info = segment_info(text)
    assert info.encoding == "GSM-7"
    # An automatic answer also says how to reach a person ("Reply AGENT for a person.").
    assert info.segments <= (2 if kind == "help_reply" or kind in AUTOMATIC_KINDS else 1), text


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_default_template_without_first_name_or_optional_fields(kind):
    text = render_message(KINDS[kind].default_body, MINIMAL)
    assert_reads_well(text)
    assert "Acme Outfitters" in text
    assert text[0].isupper()
    assert segment_info(text).segments == 1


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_default_template_renders_with_empty_context(kind):
    text = render_message(KINDS[kind].default_body, empty_context())
    assert "  " not in text and text == text.strip()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_default_template_with_long_values_stays_within_two_segments(kind):
    ctx = sample_context("The Really Long Name Outdoor Supply Co")
    ctx["customer"]["first_name"] = "Maximiliane"
    ctx["cart"]["first_item"] = "Merino Wool Hiking Socks (3-pack)"
    assert segment_info(render_message(KINDS[kind].default_body, ctx)).segments <= 2


@pytest.mark.parametrize("kind", ORDER_KINDS)
def test_order_texts_start_with_store_and_name_the_order(kind):
    text = render_message(KINDS[kind].default_body, sample_context())
    assert text.startswith("Acme Outfitters: ")
    assert "#1042" in text


def test_greeting_uses_first_name_when_present():
    body = KINDS["order_confirmed"].default_body
    assert render_message(body, sample_context()).startswith("Acme Outfitters: Hi Emma, thanks")
    assert render_message(body, MINIMAL).startswith("Acme Outfitters: Thanks for your order #1042!")


def test_order_shipped_includes_tracking_when_present():
    body = KINDS["order_shipped"].default_body
    full = render_message(body, sample_context())
    for part in ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum="):
        assert part in full
    assert render_message(body, MINIMAL) == "Acme Outfitters: Your order #1042 has shipped!"
    only_url = build_context(store={"name": "Acme"}, order={"number": "7"},
                             tracking={"url": "https://t.example/7"})
    assert render_message(body, only_url) == "Acme: Your order #7 has shipped! https://t.example/7"


def package(first_name: str = "", **shipment) -> dict:
    return build_context(store={"name": "Acme"}, customer={"first_name": first_name}, order={"number": "1001"},
                         shipment=shipment)


@pytest.mark.parametrize(("kind", "context", "expected"), [
    ("order_shipped", package("Bob", partial=True, item_count=2, order_item_count=3),
     "Acme: Hi Bob, part of your order #1001 has shipped (2 of 3 items)!"),
    ("order_shipped", package(partial=True, item_count=1, order_item_count=3),
     "Acme: Part of your order #1001 has shipped (1 of 3 items)!"),
    ("order_shipped", package("Bob", partial=False, item_count=3, order_item_count=3),
     "Acme: Hi Bob, your order #1001 has shipped!"),
    ("delivered", package("Bob", partial=True, item_count=2, order_item_count=3),
     "Acme: Hi Bob, part of your order #1001 has been delivered (2 of 3 items). "
     "Enjoy! Questions? Just reply to this text."),
    ("out_for_delivery", package(partial=True, item_count=2, order_item_count=3),
     "Acme: Part of your order #1001 is out for delivery and should arrive today."),
])
def test_partial_package_says_so(kind, context, expected):
    assert render_message(KINDS[kind].default_body, context) == expected


@pytest.mark.parametrize(("refund", "expected"), [
    ({"amount": "10.00", "partial": True},
     "Hi Bob, we have issued a partial refund of 10.00 EUR for your order #1001."),
    ({"amount": "", "partial": False}, "Hi Bob, we have issued a refund for your order #1001."),
])
def test_refund_text_names_the_amount_and_partial_refunds(refund, expected):
    context = build_context(store={"name": "Acme"}, customer={"first_name": "Bob"},
                            order={"number": "1001", "currency": "EUR"}, refund=refund)
    assert render_message(KINDS["order_refunded"].default_body, context).startswith(f"Acme: {expected}")


@pytest.mark.parametrize("name", ["shipment.partial", "shipment.items", "shipment.item_count",
                                  "shipment.order_item_count", "refund.amount", "refund.partial"])
def test_new_variables_validate_in_the_editor(name):
    validate_template(f"{{{{ store.name }}}}: {{{{ {name} }}}}")


@pytest.mark.parametrize("kind", CART_KINDS)
def test_cart_reminders_link_the_cart_and_end_with_opt_out(kind):
    text = render_message(KINDS[kind].default_body, sample_context())
    assert "https://shop.example.com/cart/r/8f3a2c9d" in text
    assert text.endswith("Reply STOP to opt out.")
    assert KINDS[kind].marketing


def test_help_reply_has_what_ctia_asks():
    text = render_message(KINDS["help_reply"].default_body, sample_context())
    for part in ("Acme Outfitters", "order updates", "cart reminders", "Msg frequency varies",
                 "Msg & data rates may apply", "Reply STOP to opt out",
                 "support@shop.example.com"):
        assert part in text


def test_opt_out_and_opt_in_confirmations():
    ctx = sample_context()
    out = render_message(KINDS["opt_out_confirmation"].default_body, ctx)
    assert out == ("You're unsubscribed from Acme Outfitters texts. "
                   "No more messages will be sent. Reply START to resubscribe.")
    back = render_message(KINDS["opt_in_confirmation"].default_body, ctx)
    assert "Acme Outfitters" in back and "STOP" in back and "HELP" in back


# --- contexts --------------------------------------------------------------


def test_empty_context_has_every_variable_empty():
    ctx = empty_context()
    for name in VARIABLES:
        ns, field = name.split(".")
        assert ctx[ns][field] == ""


def test_empty_context_is_a_fresh_copy():
    empty_context()["store"]["name"] = "changed"
    assert empty_context()["store"]["name"] == ""


def test_sample_context_has_every_variable_filled():
    ctx = sample_context("Fjord & Co")
    assert ctx["store"]["name"] == "Fjord & Co"
    for name in VARIABLES:
        ns, field = name.split(".")
        assert ctx[ns][field] not in ("", None)


def test_build_context_merges_over_empty_and_blanks_none():
    ctx = build_context(store={"name": "Acme"}, order={"number": "9", "total": None},
                        customer={"first_name": "Jo", "email": "jo@example.org"})
    assert ctx["store"] == {"name": "Acme", "support_contact": ""}
    assert ctx["order"]["number"] == "9" and ctx["order"]["total"] == ""
    assert ctx["customer"]["email"] == "jo@example.org"  # extra keys are kept
    assert ctx["cart"]["recovery_url"] == ""
    with pytest.raises(TypeError):
        build_context(shop={"name": "x"})  # type: ignore[call-arg]


# --- rendering -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{{ store.name }}: hello", "Acme Outfitters: hello"),
        ("Total {{ order.total }} {{ order.currency }}", "Total 54.00 USD"),
        ("{{ order['number'] }}", "1042"),
        ("{{ customer.first_name | upper }}", "EMMA"),
        ("{{ customer.first_name.lower() }}", "emma"),
        ("A & B <b>", "A & B <b>"),  # plain text: no HTML escaping
        ("  padded  \n", "padded"),
        # blocks on their own lines leave no blank lines or indentation behind
        ("Hi\n{% if customer.first_name %}\n  {{ customer.first_name }}\n{% endif %}\nBye",
         "Hi\nEmma\nBye"),
        ("Hi {{ tracking.number }}  there", "Hi 1Z999AA10123456784 there"),
        ("{% set n = cart.item_count %}{{ n }} item{{ 's' if n != 1 }}", "2 items"),
    ],
)
def test_render_message(body, expected):
    assert render_message(body, sample_context()) == expected


def test_empty_variables_do_not_leave_double_spaces():
    body = "Order {{ order.number }} {{ tracking.company }} {{ tracking.number }} shipped"
    assert render_message(body, MINIMAL) == "Order 1042 shipped"


def test_render_caches_compiled_templates():
    from smsdesk.services import templates

    body = "{{ store.name }} cache check"
    render_message(body, sample_context())
    hits = templates._compile.cache_info().hits
    render_message(body, sample_context())
    assert templates._compile.cache_info().hits == hits + 1


def test_render_unknown_variable_names_it_and_its_line():
    with pytest.raises(TemplateError) as err:
        render_message("Hi\n{{ order.numbr }}", sample_context())
    assert err.value.line == 2
    assert "order.numbr" in err.value.reason
    assert str(err.value) == "line 2: unknown variable 'order.numbr'"


def test_render_missing_context_value_names_it():
    with pytest.raises(TemplateError) as err:
        render_message("{{ store.name }}: {{ order.number }}", {"store": {"name": "Acme"}})
    assert "order.number" in str(err.value)
    assert err.value.line == 1


def test_render_syntax_error_has_line():
    with pytest.raises(TemplateError) as err:
        render_message("one\ntwo\n{{ order.number }", sample_context())
    assert err.value.line == 3


# --- validation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line", "reason_part"),
    [
        ("", None, "template is empty"),
        ("  \n ", None, "template is empty"),
        ("Hi {{ order.numbr }}", 1, "unknown variable 'order.numbr'"),
        ("Hi\n{{ customer.first_name }}\n{{ order.numbr }}", 3, "unknown variable 'order.numbr'"),
        ("{{ customer.last_name }}", 1, "unknown variable 'customer.last_name'"),
        ("{{ shop.name }}", 1, "unknown variable 'shop.name'"),
        ("{{ phone }}", 1, "unknown variable 'phone'"),
        ("{{ order['numbr'] }}", 1, "unknown variable 'order.numbr'"),
        ("{% if tracking.urll %}x{% endif %}", 1, "unknown variable 'tracking.urll'"),
        ("{{ cart.first_item.name.upper() }}", 1, "unknown variable 'cart.first_item.name'"),
        ("{{ (order.numbr ~ '!').upper() }}", 1, "unknown variable 'order.numbr'"),
        ("{{ 'a'.join([customer.frist_name]) }}", 1, "unknown variable 'customer.frist_name'"),
        ("line 1\n{% if order.number %}\nno end", 3, "endif"),
        ("a\n{{ order.number }", 2, "unexpected"),
        ("{{ store.name | nosuchfilter }}", 1, "nosuchfilter"),
        ("{% include 'other' %}", 1, "'include' is not allowed"),
        ("{% import 'macros' as m %}", 1, "is not allowed"),
        ("{{ 1 / 0 }}", 1, "division by zero"),
        ("{{ 'x' * 2000 }}", None, "maximum is 1600"),
        ("{{ '' }}", None, "empty"),
    ],
)
def test_validate_template_errors(body, line, reason_part):
    with pytest.raises(TemplateError) as err:
        validate_template(body)
    assert err.value.line == line
    assert reason_part in err.value.reason
    assert str(err.value) == (f"line {line}: {err.value.reason}" if line else err.value.reason)


@pytest.mark.parametrize(
    "body",
    [
        "{{ store.name }}: {{ order.number }} {{ order.total }} {{ order.currency }}",
        "{% if tracking %}{{ tracking.url }}{% endif %}",
        "{% for i in range(2) %}{{ loop.index }}{% endfor %}",
        "{% set name = customer.first_name or 'there' %}Hi {{ name }}",
        "{{ customer.first_name.title() }} {{ cart.item_count }} {{ cart.total }}",
        "{{ 'x' * (1600 - 1) }}",
        "Just text.",
    ],
)
def test_validate_template_accepts(body):
    validate_template(body)


def test_max_body_length_is_twilios():
    assert MAX_BODY_LENGTH == 1600
    validate_template("x" * MAX_BODY_LENGTH)
    with pytest.raises(TemplateError):
        validate_template("x" * (MAX_BODY_LENGTH + 1))
