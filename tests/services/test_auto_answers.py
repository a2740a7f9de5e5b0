"""smsdesk/services/auto_answers.py: which order a question means, when to stay silent, agents'
conversations, hand-offs, exactly once, opt-outs, languages and the wording per order status."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from smsdesk.models import Conversation, Handoff, Message, utcnow
from smsdesk.services import compliance
from smsdesk.services.answer_texts import BODIES
from smsdesk.services.auto_answers import pick_order
from smsdesk.services.conversations import assign
from smsdesk.services.replies import reply
from smsdesk.services.segments import segment_info
from smsdesk.services.template_store import save_template
from smsdesk.services.templates import build_context, render_message, sample_context, validate_template
from tests.factories import Factory, inbound_sms
from tests.services.answers_fixtures import (
    TRACKING,
    answering_store,
    answers_to,
    customer_with,
    order,
    text_in,
)
from tests.webhooks.test_twilio import post_signed


def waiting(session, message) -> bool:
    session.fresh()
    return session.get_one(Conversation, message.conversation_id).waiting_since is not None


def test_only_recent_order_is_answered_at_once_with_its_tracking_link(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "one")
    message = text_in(db_session, store, customer, "where's my package??")
    [answer] = answers_to(db_session, message)
    assert (answer.kind, answer.status.value, answer.marketing) == ("order_status_answer", "queued", False)
    assert "#1042 has shipped with UPS" in answer.body and TRACKING in answer.body
    assert answer.body.startswith("Acme Outfitters: Hi Emma,")
    assert not waiting(db_session, message)


def test_a_named_order_among_several_is_answered(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "two")
    message = text_in(db_session, store, customer, "where is order 2001?")
    [answer] = answers_to(db_session, message)
    assert "#2001 is confirmed and being prepared" in answer.body


@pytest.mark.parametrize("who, body, why", [
    ("two", "where is my order?", "2 recent orders and none named"),
    ("two", "where is my order #1042", "names #1042: not exactly one of this customer's"),
    ("none", "where is my order?", "no recent order for this customer"),
])
def test_unsure_which_order_answers_nothing_and_the_text_waits(db_session, who, body, why):
    store = answering_store(db_session)
    other = customer_with(db_session, store, "one")  # owns a #1042
    assert other.id
    customer = customer_with(db_session, store, who)
    message = text_in(db_session, store, customer, body)
    assert answers_to(db_session, message) == []
    assert waiting(db_session, message)
    from smsdesk.services.intents import order_numbers
    assert pick_order(db_session, store=store, customer=customer, numbers=order_numbers(body),
                      now=utcnow()).reason == why


def test_an_old_order_is_not_recent(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "none")
    order(db_session, store, customer, "7", created_at=utcnow() - timedelta(days=90))
    assert pick_order(db_session, store=store, customer=customer, numbers=(), now=utcnow()).order is None
    assert pick_order(db_session, store=store, customer=customer, numbers=("7",), now=utcnow()).order.number == "7"


def test_answers_off_send_nothing(db_session):
    store = answering_store(db_session, order_status=False, faq_on=False)
    customer = customer_with(db_session, store, "one")
    for body in ("where's my package??", "What is your return policy?", "agent"):
        message = text_in(db_session, store, customer, body)
        assert answers_to(db_session, message) == [] and waiting(db_session, message)


def test_order_answers_off_faq_on_leaves_order_questions_to_agents(db_session):
    store = answering_store(db_session, order_status=False)
    customer = customer_with(db_session, store, "one")
    assert answers_to(db_session, text_in(db_session, store, customer, "where is my order")) == []
    [answer] = answers_to(db_session, text_in(db_session, store, customer, "what is your return policy"))
    assert answer.kind == "faq_answer" and "Returns are free within 30 days" in answer.body


def test_an_assigned_conversation_is_answered_but_keeps_waiting(db_session):
    store = answering_store(db_session)
    agent = Factory(db_session).agent()
    customer = customer_with(db_session, store, "one")
    first = text_in(db_session, store, customer, "hello?")
    conversation = db_session.get_one(Conversation, first.conversation_id)
    assign(conversation, agent)
    conversation.waiting_since = None  # the agent dealt with it; the conversation stays theirs
    db_session.commit()
    message = text_in(db_session, store, customer, "where is my order")
    assert len(answers_to(db_session, message)) == 1
    assert waiting(db_session, message)


def test_a_conversation_an_agent_replied_in_keeps_waiting(db_session):
    store = answering_store(db_session)
    agent = Factory(db_session).agent()
    customer = customer_with(db_session, store, "one")
    first = text_in(db_session, store, customer, "hello, question about a gift")
    reply(db_session, conversation=db_session.get_one(Conversation, first.conversation_id), agent=agent,
          body="Hi! Happy to help, what is it?")
    db_session.commit()
    message = text_in(db_session, store, customer, "first, where's my package?")
    assert len(answers_to(db_session, message)) == 1
    assert waiting(db_session, message)


def test_an_older_waiting_text_keeps_the_conversation_waiting(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "one")
    text_in(db_session, store, customer, "my sweater has a hole")
    message = text_in(db_session, store, customer, "and where is my order?")
    assert len(answers_to(db_session, message)) == 1
    assert waiting(db_session, message)


def test_hand_off_holds_answers_until_an_agent_replies(db_session):
    store = answering_store(db_session)
    agent = Factory(db_session).agent()
    customer = customer_with(db_session, store, "one")
    ask = text_in(db_session, store, customer, "real person please")
    [ack] = answers_to(db_session, ask)
    assert (ack.kind, ack.body) == ("handoff_ack", "A person from Acme Outfitters will reply here soon.")
    assert waiting(db_session, ask)
    again = text_in(db_session, store, customer, "human!!")  # one acknowledgement per hand-off
    assert answers_to(db_session, again) == []
    held = text_in(db_session, store, customer, "where is my order")
    assert answers_to(db_session, held) == [] and waiting(db_session, held)
    reply(db_session, conversation=db_session.get_one(Conversation, held.conversation_id), agent=agent,
          body="Looking into it now.")
    db_session.commit()
    later = text_in(db_session, store, customer, "thanks! where is my order btw")
    assert len(answers_to(db_session, later)) == 1


def test_hand_off_ends_after_a_day(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "one")
    ask = text_in(db_session, store, customer, "agente")
    [ack] = answers_to(db_session, ask)
    assert ack.body == "Una persona de Acme Outfitters te responderá aquí en breve."
    row = db_session.get_one(Handoff, ask.conversation_id)
    row.requested_at = utcnow() - timedelta(hours=25)
    db_session.commit()
    assert len(answers_to(db_session, text_in(db_session, store, customer, "dónde está mi pedido"))) == 1


def test_hand_off_without_acknowledgement(db_session):
    store = answering_store(db_session)
    from smsdesk.services import faq
    faq.save_settings(db_session, store, {"order_status": "on", "faq": "on"})
    db_session.commit()
    customer = customer_with(db_session, store, "one")
    ask = text_in(db_session, store, customer, "I want to talk to a human")
    assert answers_to(db_session, ask) == [] and waiting(db_session, ask)
    assert answers_to(db_session, text_in(db_session, store, customer, "where is my order")) == []


def test_a_retried_twilio_webhook_is_answered_once(client, db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "one")
    params = inbound_sms(store, from_=customer.phone, body="wheres my oder", sid="SM" + "c" * 32)
    for _ in range(3):
        assert post_signed(client, "/webhooks/twilio/sms", params).status_code == 200
    db_session.fresh()
    answers = db_session.scalars(select(Message).where(Message.kind == "order_status_answer")).all()
    assert len(answers) == 1 and TRACKING in answers[0].body


def test_an_opted_out_customer_gets_nothing(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "one")
    customer.opted_out = True
    db_session.commit()
    for body in ("where is my order", "agent", "what is your return policy"):
        message = text_in(db_session, store, customer, body)
        assert answers_to(db_session, message) == [] and waiting(db_session, message)


def test_quiet_hours_and_opt_outs_at_send_time(db_session):
    """An answer is no marketing text: the customer just asked, so it goes out in the store's quiet
    hours (like a HELP reply or an agent's answer); an opt-out before it is sent still stops it."""
    store = answering_store(db_session, quiet_hours="20:00-08:00")
    customer = customer_with(db_session, store, "one")
    [answer] = answers_to(db_session, text_in(db_session, store, customer, "where is my order"))
    late = datetime(2026, 12, 3, 3, 30, tzinfo=timezone.utc)  # 22:30 in New York: quiet hours
    assert compliance.hours_decision(customer.phone, store=store, now=late) is not None  # a cart reminder waits
    assert compliance.decide(db_session, message=answer, customer=customer, store=store, now=late).action == "send"
    customer.opted_out = True
    decision = compliance.decide(db_session, message=answer, customer=customer, store=store, now=late)
    assert (decision.action, decision.reason.value) == ("suppress", "opted_out")


@pytest.mark.parametrize("body, language, words", [
    ("¿dónde está mi pedido?", "es", "Hola Emma, tu pedido #1042 ya fue enviado con UPS. Síguelo aquí:"),
    ("où est ma commande", "fr", "Bonjour Emma, votre commande #1042 a été expédiée avec UPS. Suivi :"),
    ("wo ist meine Bestellung", "de", "Hallo Emma, Ihre Bestellung #1042 wurde mit UPS versandt."),
    ("where is my order", "en", "Hi Emma, your order #1042 has shipped with UPS. Track it:"),
])
def test_answers_in_the_language_of_the_question(db_session, body, language, words):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "one")
    [answer] = answers_to(db_session, text_in(db_session, store, customer, body))
    assert words in answer.body and TRACKING in answer.body


def test_an_owners_edited_template_applies_in_its_language_and_the_built_in_one_in_others(db_session):
    store = answering_store(db_session)
    save_template(db_session, store_id=store.id, kind="order_status_answer",
                  body="{{ store.name }} order {{ order.number }}: {{ answer.status }} {{ tracking.url }}")
    db_session.commit()
    customer = customer_with(db_session, store, "one")
    [answer] = answers_to(db_session, text_in(db_session, store, customer, "where is my order?"))
    assert answer.body == f"Acme Outfitters order 1042: shipped {TRACKING}"
    [answer] = answers_to(db_session, text_in(db_session, store, customer, "¿dónde está mi pedido?"))
    assert answer.body.startswith("Acme Outfitters: Hola Emma, tu pedido #1042 ya fue enviado")
    save_template(db_session, store_id=store.id, kind="order_status_answer", language="es",
                  body="{{ store.name }} pedido {{ order.number }}: {{ tracking.url }}")
    db_session.commit()
    [answer] = answers_to(db_session, text_in(db_session, store, customer, "¿dónde está mi pedido ahora?"))
    assert answer.body == f"Acme Outfitters pedido 1042: {TRACKING}"


def test_a_disabled_template_answers_nothing(db_session):
    store = answering_store(db_session)
    save_template(db_session, store_id=store.id, kind="order_status_answer", enabled=False)
    db_session.commit()
    customer = customer_with(db_session, store, "one")
    message = text_in(db_session, store, customer, "wo ist mein Paket")
    assert answers_to(db_session, message) == [] and waiting(db_session, message)


@pytest.mark.parametrize("status, words", [
    ("placed", "#1042 is confirmed and being prepared. We'll text you the tracking link when it ships."),
    ("shipped", f"#1042 has shipped with UPS. Track it: {TRACKING}"),
    ("in_transit", f"#1042 has shipped with UPS. Track it: {TRACKING}"),
    ("out_for_delivery", f"#1042 is out for delivery and should arrive today. Track it: {TRACKING}"),
    ("ready_for_pickup", "#1042 is ready for pickup."),
    ("delivered", "#1042 was delivered."),
    ("cancelled", "#1042 was cancelled."),
    ("refunded", "#1042 was refunded."),
    ("declined", None),  # a failed payment is for an agent
])
def test_wording_per_order_status(db_session, status, words):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "none")
    order(db_session, store, customer, "1042", status=status)
    answers = answers_to(db_session, text_in(db_session, store, customer, "any update on my order?"))
    if words is None:
        assert answers == []
    else:
        assert words in answers[0].body and answers[0].order_id is not None


def test_a_javascript_tracking_link_is_never_sent(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "none")
    order(db_session, store, customer, "5", tracking_url="javascript:alert(1)")
    [answer] = answers_to(db_session, text_in(db_session, store, customer, "tracking?"))
    assert "javascript" not in answer.body and "Tracking number: 1Z999AA10123456784" in answer.body


def test_keywords_are_not_answered(db_session):
    store = answering_store(db_session)
    customer = customer_with(db_session, store, "one")
    for body in ("HELP", "STOP"):
        message = text_in(db_session, store, customer, body)
        assert answers_to(db_session, message) == []


def test_the_newest_package_gives_the_tracking_link(db_session):
    from smsdesk.models import Shipment

    store = answering_store(db_session)
    customer = customer_with(db_session, store, "none")
    row = order(db_session, store, customer, "77", tracking_url="")
    row.tracking_number = ""
    for n in (1, 2):
        db_session.add(Shipment(store_id=store.id, order_id=row.id, external_id=f"p{n}", status="shipped",
                                tracking_company="DHL", tracking_number=f"JD{n}",
                                tracking_url=f"https://dhl.example/JD{n}"))
    db_session.commit()
    [answer] = answers_to(db_session, text_in(db_session, store, customer, "where is my parcel"))
    assert "with DHL. Track it: https://dhl.example/JD2" in answer.body


@pytest.mark.parametrize("kind, language", [(k, lang) for k in BODIES for lang in BODIES[k]])
def test_every_built_in_translation_is_a_valid_template_that_reads_well(kind, language):
    body = BODIES[kind][language]
    validate_template(body)
    for status in ("", "shipped", "out_for_delivery", "ready_for_pickup", "delivered", "cancelled", "refunded"):
        for context in (sample_context(), build_context(store={"name": "Acme Outfitters"}, order={"number": "7"})):
            context["answer"] = {"status": status, "text": "Free returns."}
            text = render_message(body, context)
            assert "  " not in text and "None" not in text and "{" not in text and text[0].isupper(), text
            info = segment_info(text)
            assert info.segments <= 4 and (info.encoding == "GSM-7" or language == "es"), text
