"""Texts per language (issue 14): built-ins for every kind, resolution order, keyword families."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from smsdesk.models import Message, Template
from smsdesk.services.builtin_texts import OPT_OUT_LINES, built_in
from smsdesk.services.compliance import with_opt_out_line
from smsdesk.services.inbound import handle_inbound, keyword, keyword_language
from smsdesk.services.languages import BUILT_IN_LANGUAGES, normalize, parse
from smsdesk.services.segments import segment_info
from smsdesk.services.template_kinds import KINDS
from smsdesk.services.template_languages import kind_versions
from smsdesk.services.template_store import delete_template, resolve_template, save_template
from smsdesk.services.templates import build_context, render_message, sample_context, validate_template
from tests.factories import Factory

_sids = itertools.count(1)
# A built-in text, rendered with the sample data, costs at most this many segments (a carrier
# URL is most of it); GSM-7 ones at most 2.
MAX_SEGMENTS = 3
MAX_GSM7_SEGMENTS = 2
STATUSES = ("", "shipped", "out_for_delivery", "ready_for_pickup", "delivered", "cancelled", "refunded")


def contexts():
    full = sample_context()
    full["answer"] = {"status": "shipped", "text": "Free returns within 30 days."}
    bare = build_context(store={"name": "Acme Outfitters"}, order={"number": "7"})
    bare["answer"] = {"status": "", "text": "Free returns."}
    partial = sample_context()
    partial["shipment"] = dict(partial["shipment"], partial=True, item_count=1, order_item_count=3)
    partial["refund"] = dict(partial.get("refund", {}), partial=True, amount="")
    partial["answer"] = {"status": "delivered", "text": "x"}
    return full, bare, partial


@pytest.mark.parametrize("kind, language", [(k, lang) for k in KINDS for lang in BUILT_IN_LANGUAGES])
def test_every_kind_has_a_built_in_in_every_language_that_renders_well(kind, language):
    body = built_in(kind, language)
    assert body, f"{kind} has no {language} text"
    validate_template(body)
    if language != "en":
        assert body != KINDS[kind].default_body
    for context in contexts():
        text = render_message(body, context)
        assert "  " not in text and "None" not in text and "{" not in text and text[0].isupper(), text
        assert " ." not in text and " ," not in text and "  " not in text, text
        info = segment_info(text)
        assert info.segments <= MAX_SEGMENTS, (text, info)
        if info.encoding == "GSM-7":
            assert info.segments <= MAX_GSM7_SEGMENTS, (text, info)
        else:  # only Spanish may need UCS-2 (á, í, ó, ú); French and German stay in GSM-7
            assert language == "es", text


def test_partial_shipment_reads_naturally_in_each_language():
    _, _, partial = contexts()
    assert render_message(built_in("order_shipped", "es"), partial).startswith(
        "Acme Outfitters: Hola Emma, parte de tu pedido #1042 (1 de 3 productos) ya va en camino")
    assert "une partie de votre commande #1042 (1 article sur 3) a été expédiée" in render_message(
        built_in("order_shipped", "fr"), partial)
    assert "ein Teil Ihrer Bestellung #1042 (1 von 3 Artikeln) wurde mit UPS versandt!" in render_message(
        built_in("order_shipped", "de"), partial)


@pytest.mark.parametrize("raw, expected", [("es", "es"), ("fr-CA", "fr"), ("ES_mx", "es"), (" de ", "de"),
                                           ("pt-BR", "pt"), ("", None), (None, None), (3, None), ("x-klingon", None),
                                           ("english", None), ("e", None)])
def test_normalize_takes_the_primary_subtag(raw, expected):
    assert normalize(raw) == expected


def test_parse_refuses_what_is_no_language():
    with pytest.raises(ValueError, match="unknown language 'zzzz'"):
        parse("zzzz")


def test_resolution_order(db_session, make):
    store = make.store(default_language="fr")
    resolve = lambda language: resolve_template(db_session, store_id=store.id, kind="order_cancelled",  # noqa: E731
                                                language=language)
    assert (resolve("es").language, resolve("es").customized) == ("es", False)  # built-in Spanish
    assert (resolve("it").language, resolve("it").customized) == ("fr", False)  # no Italian: the store's default
    save_template(db_session, store_id=store.id, kind="order_cancelled", body="FR {{ order.number }}")
    assert resolve("it").body == "FR {{ order.number }}"  # the owner's default-language version
    assert resolve(None).body == "FR {{ order.number }}"
    assert resolve("es").customized is False  # the built-in Spanish still beats the owner's French
    save_template(db_session, store_id=store.id, kind="order_cancelled", body="ES", language="es")
    assert (resolve("es").body, resolve("es").language) == ("ES", "es")
    assert delete_template(db_session, store_id=store.id, kind="order_cancelled", language="es")
    assert resolve("es").customized is False


def test_enabled_and_delay_belong_to_the_kind_not_the_language(db_session, make):
    store = make.store()
    save_template(db_session, store_id=store.id, kind="order_refunded", enabled=True, language="es")
    assert [(t.language, t.enabled) for t in db_session.scalars(select(Template))] == [("en", True)]
    assert resolve_template(db_session, store_id=store.id, kind="order_refunded", language="es").customized is False
    save_template(db_session, store_id=store.id, kind="cart_reminder_1", body="ES {{ cart.recovery_url }}",
                  language="es")
    save_template(db_session, store_id=store.id, kind="cart_reminder_1", enabled=False, delay_minutes=30)
    for language in ("en", "es", "de"):
        template = resolve_template(db_session, store_id=store.id, kind="cart_reminder_1", language=language)
        assert (template.enabled, template.delay_minutes) == (False, 30)


def test_versions_show_what_is_missing_where_customers_speak_it(db_session, make):
    store = make.store()
    make.customer(store, "+15025550101", language="it")
    save_template(db_session, store_id=store.id, kind="order_cancelled", body="ES", language="es")
    versions = {v.language: v for v in kind_versions(db_session, store, "order_cancelled")}
    assert list(versions)[:4] == ["en", "es", "fr", "de"]
    assert (versions["es"].source, versions["fr"].source, versions["it"].source) == ("owner", "built-in", "fallback")
    assert versions["it"].missing and not versions["fr"].missing and versions["it"].template.language == "en"


def test_opt_out_line_in_the_customers_language():
    assert with_opt_out_line("Hola", language="es") == "Hola " + OPT_OUT_LINES["es"]
    assert with_opt_out_line("Salut", language="fr") == "Salut Répondez STOP pour vous désabonner."
    assert with_opt_out_line("Hallo. Antworten Sie STOP zum Abmelden.", language="de").count("STOP") == 1
    assert with_opt_out_line("Hi") == "Hi Reply STOP to opt out."


# -- keywords ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, family, language", [
    ("PARAR", "stop", "es"), ("Baja", "stop", "es"), ("alto", "stop", "es"), ("Cancelar", "stop", "es"),
    ("baja por favor", "stop", "es"), ("Arrêt", "stop", "fr"), ("ARRETER", "stop", "fr"),
    ("désabonner", "stop", "fr"), ("Stopp", "stop", "de"), ("abmelden bitte", "stop", "de"),
    ("ALTA", "start", "es"), ("Comenzar", "start", "es"), ("reprendre", "start", "fr"), ("anmelden", "start", "de"),
    ("AYUDA", "help", "es"), ("Aide", "help", "fr"), ("Hilfe!", "help", "de"),
    ("STOP", "stop", None), ("HELP", "help", None), ("START", "start", None), ("info", "help", None),
    ("no pare mi pedido", None, None), ("¿puedo cancelar mi pedido?", None, None), ("ayuda con mi pedido", None, None),
    ("Hilfe, wo ist mein Paket?", None, None), ("arrêt de bus", None, None),
])
def test_keyword_families_per_language(body, family, language):
    assert keyword(body) == family
    assert keyword_language(body) == (language if family else None)


def text_in(db_session, store, body, *, phone="+15025550123", **fields):
    factory = Factory(db_session)
    customer = factory.customer(store, phone, **fields)
    answer = handle_inbound(db_session, store=store, customer=customer, body=body, provider_sid=f"SMl{next(_sids)}")
    db_session.commit()
    return customer, answer


def outbound(db_session, kind):
    return db_session.scalars(select(Message).where(Message.kind == kind, Message.direction == "out")).all()


def test_baja_opts_out_confirms_in_spanish_and_remembers_it(db_session, make):
    store = make.store(name="Acme Outfitters")
    customer, _ = text_in(db_session, store, "BAJA")
    assert customer.opted_out is True and customer.language == "es"
    [confirmation] = outbound(db_session, "opt_out_confirmation")
    assert confirmation.body.startswith("Te has dado de baja de los SMS de Acme Outfitters.")
    customer, _ = text_in(db_session, store, "START")  # an English keyword keeps the known language
    [confirmation] = outbound(db_session, "opt_in_confirmation")
    assert customer.language == "es" and confirmation.body.startswith("Te has suscrito de nuevo")


def test_ayuda_answers_in_spanish(db_session, make):
    store = make.store(name="Acme Outfitters", help_text="ayuda@acme.example")
    customer, answer = text_in(db_session, store, "AYUDA")
    assert answer.startswith("Acme Outfitters: avisos de pedidos") and "Ayuda: ayuda@acme.example" in answer
    assert "Responde STOP para darte de baja." in answer and customer.language == "es"


def test_a_keyword_does_not_override_the_platforms_language(db_session, make):
    store = make.store()
    customer, answer = text_in(db_session, store, "HILFE", language="fr")
    assert customer.language == "fr" and "Répondez STOP pour vous désabonner." in answer


def test_stop_from_a_german_customer_is_confirmed_in_german(db_session, make):
    store = make.store(name="Acme Outfitters")
    text_in(db_session, store, "STOP", language="de")
    [confirmation] = outbound(db_session, "opt_out_confirmation")
    assert confirmation.body.startswith("Sie haben sich von den SMS von Acme Outfitters abgemeldet")


def test_no_pare_mi_pedido_is_no_opt_out(db_session, make):
    store = make.store()
    customer, answer = text_in(db_session, store, "no pare mi pedido")
    assert customer.opted_out is False and answer is None and outbound(db_session, "opt_out_confirmation") == []
