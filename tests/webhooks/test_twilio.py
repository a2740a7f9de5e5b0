"""POST /webhooks/twilio/sms and /status: signatures, threading, keywords, status moves."""
import pytest
from sqlalchemy import select

from smsdesk.models import Conversation, Customer, Message
from smsdesk.services.outbox import enqueue_text
from tests.conftest import PUBLIC_URL, TWILIO_TOKEN
from tests.factories import inbound_sms, twilio_signature


def post_signed(client, path, params, *, token=TWILIO_TOKEN):
    signature = twilio_signature(token, PUBLIC_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_inbound_sms_opens_conversation(client, make, db_session):
    store = make.store()
    params = inbound_sms(store, from_="+15025550123", body="Where is it?")
    response = post_signed(client, "/webhooks/twilio/sms", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert b"<Response></Response>" in response.data
    conversation = db_session.scalar(select(Conversation))
    assert conversation.status.value == "open" and conversation.unread == 1 and conversation.waiting_since
    message = db_session.scalar(select(Message))
    assert (message.direction.value, message.body, message.status.value) == ("in", "Where is it?", "received")


def test_inbound_sms_retry_is_recorded_once(client, make, db_session):
    store = make.store()
    params = inbound_sms(store, from_="+15025550123", body="hello", sid="SM" + "a" * 32)
    post_signed(client, "/webhooks/twilio/sms", params)
    post_signed(client, "/webhooks/twilio/sms", params)
    assert len(db_session.scalars(select(Message)).all()) == 1


def test_inbound_store_found_by_messaging_service(client, make, db_session):
    make.store(from_number="+15005550001")
    store = make.store(from_number=None, messaging_service_sid="MG" + "b" * 32)
    params = inbound_sms(store, from_="+15025550123", body="hi") | {"To": "+15005550999",
                                                                    "MessagingServiceSid": "MG" + "b" * 32}
    post_signed(client, "/webhooks/twilio/sms", params)
    assert db_session.scalar(select(Message)).store_id == store.id


def test_bad_signature_is_403_and_writes_nothing(client, make, db_session):
    store = make.store()
    params = inbound_sms(store, from_="+15025550123", body="hi")
    response = post_signed(client, "/webhooks/twilio/sms", params, token="wrong-token")
    assert response.status_code == 403
    assert db_session.scalar(select(Message)) is None


def test_signature_over_other_params_is_403(client, make):
    store = make.store()
    params = inbound_sms(store, from_="+15025550123", body="hi")
    signature = twilio_signature(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio/sms", params)
    tampered = params | {"Body": "STOP"}
    response = client.post("/webhooks/twilio/sms", data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_stop_opts_out_and_start_opts_back_in(client, make, db_session):
    store = make.store()
    post_signed(client, "/webhooks/twilio/sms", inbound_sms(store, from_="+15025550123", body=" Stop. "))
    customer = db_session.scalar(select(Customer))
    assert customer.opted_out is True
    kinds = [m.kind for m in db_session.scalars(select(Message).order_by(Message.id))]
    assert kinds == ["inbound", "opt_out_confirmation"]
    post_signed(client, "/webhooks/twilio/sms", inbound_sms(store, from_="+15025550123", body="START"))
    db_session.fresh()
    assert db_session.get(Customer, customer.id).opted_out is False


def test_help_answers_inline(client, make):
    store = make.store(name="Acme Outfitters")
    response = post_signed(client, "/webhooks/twilio/sms", inbound_sms(store, from_="+15025550123", body="help"))
    assert b"<Message>" in response.data and b"Acme Outfitters" in response.data and b"STOP" in response.data


def queued_message(db_session, store, sid):
    customer = db_session.merge(db_session.get(Customer, db_session.scalar(select(Customer.id))))
    message = enqueue_text(db_session, store=store, customer=customer, kind="agent_reply", body="hi")
    message.provider_sid = sid
    db_session.commit()
    return message


@pytest.mark.parametrize("sequence, final, code", [
    (["sent", "delivered"], "delivered", None),
    (["delivered", "sent"], "delivered", None),  # late "sent" never moves it back
    (["sent", "undelivered"], "undelivered", 30003),
    (["failed", "delivered"], "failed", 30005),
])
def test_status_callbacks_only_move_forward(client, make, db_session, sequence, final, code):
    store = make.store()
    make.customer(store)
    message = queued_message(db_session, store, "SM" + "c" * 32)
    for status in sequence:
        params = {"MessageSid": message.provider_sid, "MessageStatus": status}
        if status in ("undelivered", "failed"):
            params["ErrorCode"] = str(code)
        assert post_signed(client, "/webhooks/twilio/status", params).status_code == 200
    db_session.fresh()
    stored = db_session.get(Message, message.id)
    assert stored.status.value == final and stored.error_code == code


def test_status_for_unknown_sid_is_200(client, make):
    make.store()
    response = post_signed(client, "/webhooks/twilio/status", {"MessageSid": "SMnope", "MessageStatus": "sent"})
    assert response.status_code == 200


def test_status_bad_signature_is_403(client, make):
    response = post_signed(client, "/webhooks/twilio/status", {"MessageSid": "SMx", "MessageStatus": "sent"},
                           token="nope")
    assert response.status_code == 403


def test_status_callback_finds_a_message_by_its_callback_id(client, make, db_session):
    """Twilio's callback can arrive before the sender committed the sid: the URL's id finds it."""
    store = make.store()
    make.customer(store)
    message = queued_message(db_session, store, None)
    path = f"/webhooks/twilio/status?message_id={message.id}"
    response = post_signed(client, path, {"MessageSid": "SM" + "f" * 32, "MessageStatus": "sent"})
    assert response.status_code == 200
    db_session.fresh()
    stored = db_session.get(Message, message.id)
    assert (stored.status.value, stored.provider_sid) == ("sent", "SM" + "f" * 32)
