"""The message kinds: each one's label, default text, variables, validity and defaults, and
the variables a template may use (DESIGN §6)."""
from __future__ import annotations

from dataclasses import dataclass

VARIABLES: frozenset[str] = frozenset({
    "store.name", "store.support_contact",
    "customer.first_name",
    "order.number", "order.total", "order.currency", "order.status_url",
    "tracking.number", "tracking.company", "tracking.url",
    "cart.recovery_url", "cart.total", "cart.item_count", "cart.first_item",
    # One package of the order: partial when it holds fewer units than were ordered.
    "shipment.partial", "shipment.item_count", "shipment.order_item_count", "shipment.items",
    "refund.amount", "refund.partial",
    # Automatic answers (services/auto_answers.py): the order's stage the answer speaks of
    # (confirmed, shipped, out_for_delivery, ready_for_pickup, delivered, cancelled, refunded) and
    # an FAQ entry's answer.
    "answer.status", "answer.text",
    # When the team is back, for the away message ("Monday at 9:00 AM"; "" when it never opens).
    "hours.back_at",
})
# Top-level names ("order") and their fields, derived so the two never disagree.
NAMESPACES: dict[str, tuple[str, ...]] = {}
for _name in sorted(VARIABLES):
    _ns, _field = _name.split(".", 1)
    NAMESPACES.setdefault(_ns, ())
    NAMESPACES[_ns] += (_field,)

ORDER_VALIDITY_SECONDS = 4 * 3600  # an order update older than 4 h is stale
MARKETING_VALIDITY_SECONDS = 3600  # a late cart reminder may land in quiet hours
KEYWORD_VALIDITY_SECONDS = 3600  # a HELP/STOP answer only makes sense right away


@dataclass(frozen=True)
class KindSpec:
    """A message kind: its default template and how it is sent."""

    kind: str
    label: str
    default_body: str
    marketing: bool = False
    default_enabled: bool = True
    default_delay_minutes: int = 0
    validity_seconds: int = ORDER_VALIDITY_SECONDS
    variables: tuple[str, ...] = ()


# Shared template fragments: greet by first name only when we have one.
_HI = "{% if customer.first_name %}Hi {{ customer.first_name }}, your{% else %}Your{% endif %}"
_STORE_VARS = ("store.name", "store.support_contact")
_ORDER_VARS = _STORE_VARS + ("customer.first_name", "order.number", "order.total",
                             "order.currency", "order.status_url")
_TRACKING_VARS = _ORDER_VARS + ("tracking.number", "tracking.company", "tracking.url",
                                 "shipment.partial", "shipment.item_count", "shipment.order_item_count",
                                 "shipment.items")
_REFUND_VARS = _ORDER_VARS + ("refund.amount", "refund.partial")
# "Hi Emma, your order #1042" or, for a package holding only some of the order, "Hi Emma, part
# of your order #1042".
_PACKAGE = ("{% if customer.first_name %}Hi {{ customer.first_name }}, {% endif %}"
            "{% if shipment.partial %}{% if customer.first_name %}part{% else %}Part{% endif %} of your"
            "{% elif customer.first_name %}your{% else %}Your{% endif %} order #{{ order.number }}")
_PART_COUNT = ("{% if shipment.partial %} ({{ shipment.item_count }} of {{ shipment.order_item_count }} items)"
               "{% endif %}")
_CART_VARS = _STORE_VARS + ("customer.first_name", "cart.recovery_url", "cart.total",
                            "cart.item_count", "cart.first_item")


def _order_kind(kind: str, label: str, body: str, variables: tuple[str, ...], enabled: bool = True) -> KindSpec:
    return KindSpec(kind, label, body, default_enabled=enabled, variables=variables)


def _cart_kind(kind: str, label: str, body: str, enabled: bool, delay: int) -> KindSpec:
    return KindSpec(kind, label, body, marketing=True, default_enabled=enabled,
                    default_delay_minutes=delay,
                    validity_seconds=MARKETING_VALIDITY_SECONDS, variables=_CART_VARS)


def _keyword_kind(kind: str, label: str, body: str) -> KindSpec:
    return KindSpec(kind, label, body, validity_seconds=KEYWORD_VALIDITY_SECONDS,
                    variables=_STORE_VARS)


# The away message (services/away.py): one acknowledgement outside business hours.
_AWAY = KindSpec(
    "away_message", "Away message (outside business hours)",
    "{{ store.name }}: Thanks for your message! "
    "{% if hours.back_at %}Our team is back {{ hours.back_at }} and will reply then."
    "{% else %}Our team will reply as soon as we can.{% endif %}",
    validity_seconds=KEYWORD_VALIDITY_SECONDS, variables=_STORE_VARS + ("customer.first_name", "hours.back_at"))

_KIND_LIST = (
    _order_kind(
        "order_confirmed", "Order confirmed",
        "{{ store.name }}: {% if customer.first_name %}Hi {{ customer.first_name }}, thanks"
        "{% else %}Thanks{% endif %} for your order #{{ order.number }}! "
        "We'll text you when it ships."
        "{% if order.status_url %} Details: {{ order.status_url }}{% endif %}",
        _ORDER_VARS),
    _order_kind(
        "order_shipped", "Order shipped",
        "{{ store.name }}: " + _PACKAGE + " has shipped" + _PART_COUNT +
        "{% if tracking.company %} with {{ tracking.company }}{% endif %}!"
        "{% if tracking.number %} Tracking number: {{ tracking.number }}{% endif %}"
        "{% if tracking.url %} {{ tracking.url }}{% endif %}",
        _TRACKING_VARS),
    _order_kind(
        "out_for_delivery", "Out for delivery",
        "{{ store.name }}: " + _PACKAGE + " is out for delivery "
        "and should arrive today.{% if tracking.url %} Track it: {{ tracking.url }}{% endif %}",
        _TRACKING_VARS),
    _order_kind(
        "ready_for_pickup", "Ready for pickup",
        "{{ store.name }}: " + _HI + " order #{{ order.number }} is ready for pickup. "
        "Please show this text when you collect it.",
        _ORDER_VARS),
    _order_kind(
        "delivered", "Delivered",
        "{{ store.name }}: " + _PACKAGE + " has been delivered" + _PART_COUNT + ". "
        "Enjoy! Questions? Just reply to this text.",
        _TRACKING_VARS),
    _order_kind(
        "order_cancelled", "Order cancelled",
        "{{ store.name }}: " + _HI + " order #{{ order.number }} has been cancelled. "
        "Questions? Just reply to this text.",
        _ORDER_VARS),
    # Off until the owner turns it on: many shops' payment providers already send a receipt.
    _order_kind(
        "order_refunded", "Order refunded",
        "{{ store.name }}: {% if customer.first_name %}Hi {{ customer.first_name }}, we{% else %}We{% endif %}"
        " have issued a {% if refund.partial %}partial {% endif %}refund"
        "{% if refund.amount %} of {{ refund.amount }} {{ order.currency }}{% endif %} for your order "
        "#{{ order.number }}. It can take a few days to show on your statement. Questions? Just reply.",
        _REFUND_VARS, enabled=False),
    _cart_kind(
        "cart_reminder_1", "Cart reminder 1",
        "{{ store.name }}: {% if customer.first_name %}Hi {{ customer.first_name }}, you"
        "{% else %}You{% endif %} left "
        "{% if cart.first_item %}{{ cart.first_item }}{% else %}something{% endif %}"
        " in your cart. Complete your order: {{ cart.recovery_url }} Reply STOP to opt out.",
        enabled=True, delay=60),
    _cart_kind(
        "cart_reminder_2", "Cart reminder 2",
        "{{ store.name }}: Still thinking it over"
        "{% if customer.first_name %}, {{ customer.first_name }}{% endif %}? "
        "We saved your cart for you: {{ cart.recovery_url }} Reply STOP to opt out.",
        enabled=False, delay=1440),
    _keyword_kind(
        "help_reply", "HELP reply",
        "{{ store.name }}: order updates & cart reminders. Msg frequency varies. "
        "Msg & data rates may apply. Reply STOP to opt out."
        "{% if store.support_contact %} Help: {{ store.support_contact }}{% endif %}"),
    _keyword_kind(
        "opt_out_confirmation", "Opt-out confirmation (STOP)",
        "You're unsubscribed from {{ store.name }} texts. No more messages will be sent. "
        "Reply START to resubscribe."),
    _keyword_kind(
        "opt_in_confirmation", "Opt-in confirmation (START)",
        "You're resubscribed to {{ store.name }} texts. Msg frequency varies. "
        "Msg & data rates may apply. Reply HELP for help, STOP to opt out."),
    # Asked a set time after a delivery or a closed conversation (services/feedback.py, store
    # settings on /feedback); the reply's number is recorded as the customer's score.
    _AWAY,
    KindSpec(
        "feedback_request", "Feedback request",
        "{{ store.name }}: " + "{% if customer.first_name %}Hi {{ customer.first_name }}! {% endif %}"
        "How did we do{% if order.number %} with order #{{ order.number }}{% endif %}? "
        "Reply with a number from 1 (poor) to 5 (great).",
        variables=_STORE_VARS + ("customer.first_name", "order.number")),
)
# Automatic answers to a customer's text (services/auto_answers.py, answer_texts.py): sent at once
# (an answer later than an hour is no answer), in the thread marked "Automatic".
_ANSWER_VARS = _TRACKING_VARS + ("answer.status",)
_ANSWER_KINDS = (
    KindSpec("order_status_answer", "Automatic answer: order status",
             "{{ store.name }}: {% if answer.status == 'shipped' %}" + _HI + " order #{{ order.number }} "
             "has shipped{% if tracking.company %} with {{ tracking.company }}{% endif %}."
             "{% if tracking.url %} Track it: {{ tracking.url }}{% elif tracking.number %} Tracking number: "
             "{{ tracking.number }}{% endif %}"
             "{% elif answer.status == 'out_for_delivery' %}" + _HI + " order #{{ order.number }} is out for "
             "delivery and should arrive today.{% if tracking.url %} Track it: {{ tracking.url }}{% endif %}"
             "{% elif answer.status == 'ready_for_pickup' %}" + _HI + " order #{{ order.number }} is ready "
             "for pickup."
             "{% elif answer.status == 'delivered' %}" + _HI + " order #{{ order.number }} was delivered."
             "{% if tracking.url %} Details: {{ tracking.url }}{% endif %}"
             "{% elif answer.status == 'cancelled' %}" + _HI + " order #{{ order.number }} was cancelled."
             "{% elif answer.status == 'refunded' %}" + _HI + " order #{{ order.number }} was refunded."
             "{% else %}" + _HI + " order #{{ order.number }} is confirmed and being prepared. We'll text "
             "you the tracking link when it ships.{% endif %}"
             "{% if order.status_url and answer.status not in ('shipped', 'out_for_delivery', 'delivered') %}"
             " Details: {{ order.status_url }}{% endif %} Reply AGENT for a person.",
             validity_seconds=KEYWORD_VALIDITY_SECONDS, variables=_ANSWER_VARS),
    KindSpec("faq_answer", "Automatic answer: FAQ",
             "{{ store.name }}: {{ answer.text }} Reply AGENT for a person.",
             validity_seconds=KEYWORD_VALIDITY_SECONDS, variables=_STORE_VARS + ("customer.first_name",
                                                                                 "answer.text")),
    KindSpec("handoff_ack", "Automatic answer: a person will reply",
             "A person from {{ store.name }} will reply here soon.",
             validity_seconds=KEYWORD_VALIDITY_SECONDS, variables=_STORE_VARS),
)
KINDS: dict[str, KindSpec] = {spec.kind: spec for spec in _KIND_LIST + _ANSWER_KINDS}
# Texts smsdesk sends on its own in answer to or about a conversation (not order or cart
# updates): the thread marks them "Automatic". Other features add their kinds here.
AUTOMATIC_KINDS: frozenset[str] = frozenset({
    "help_reply", "opt_out_confirmation", "opt_in_confirmation", "feedback_request",
    "order_status_answer", "faq_answer", "handoff_ack", "away_message",
})
