"""smsdesk/services/delivery.py: status callbacks move a message forward only."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from jobs.scheduler import status_callback_url
from jobs.send_due import send_due
from smsdesk import db
from smsdesk.app import create_app
from smsdesk.models import AuditEvent, Customer, Message, MessageStatus
from smsdesk.services.delivery import apply_status
from smsdesk.services.outbox import enqueue_text
from tests.conftest import app_settings
from tests.factories import Factory
from tests.support.twilio_server import free_port

SID = "SM" + "d" * 32


def outbound(db_session, *, status=MessageStatus.SENT, sid: str | None = SID) -> Message:
    make = Factory(db_session)
    store = make.store()
    message = enqueue_text(db_session, store=store, customer=make.customer(store), kind="order_shipped",
                           body="Shipped!")
    message.status, message.provider_sid = status, sid
    db_session.commit()
    return message


def apply(db_session, sequence, **kwargs) -> Message:
    for status, code in sequence:
        apply_status(db_session, sid=kwargs.get("sid", SID), status=status, error_code=code,
                     message_id=kwargs.get("message_id"))
    db_session.commit()
    db_session.expire_all()
    return db_session.scalar(select(Message).where(Message.direction == "out"))


@pytest.mark.parametrize("sequence, final, code, reason", [
    ([("queued", None), ("sent", None), ("delivered", None)], "delivered", None, None),
    ([("delivered", None), ("sent", None), ("queued", None)], "delivered", None, None),  # late ones never move back
    ([("sent", None), ("undelivered", "30003")], "undelivered", 30003, "unreachable_handset"),
    ([("failed", "30005"), ("delivered", None)], "failed", 30005, "unknown_destination"),
    ([("sent", None), ("failed", "30006")], "failed", 30006, "landline_or_unreachable_carrier"),
    ([("undelivered", "30007"), ("failed", "30008")], "undelivered", 30007, "carrier_filtered"),
    ([("failed", "39999")], "failed", 39999, "carrier_error"),
    ([("failed", None)], "failed", None, "carrier_error"),
    ([("partially_delivered", None)], "delivered", None, None),
    ([("canceled", None), ("sent", None)], "cancelled", None, None),
])
def test_status_sequences(db_session, sequence, final, code, reason):
    outbound(db_session)
    message = apply(db_session, sequence)
    assert (message.status.value, message.error_code, message.reason) == (final, code, reason)


def test_failure_is_audited_with_its_reason(db_session):
    message = outbound(db_session)
    apply(db_session, [("undelivered", "30003")])
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.source, audit.detail) == (
        "delivery_failed", "status_callback", {"code": 30003, "status": "undelivered"})


def test_unsubscribed_error_opts_the_customer_out(db_session):
    message = outbound(db_session)
    apply(db_session, [("failed", "21610")])
    assert db_session.get(Customer, message.customer_id).opted_out is True


def test_unknown_sid_is_reported(db_session):
    outbound(db_session)
    assert apply_status(db_session, sid="SMunknown", status="delivered") is False


def test_unknown_status_changes_nothing(db_session):
    outbound(db_session)
    assert apply(db_session, [("exploded", None)]).status.value == "sent"


def test_callback_that_beats_our_commit_finds_the_message_by_id(db_session):
    message = outbound(db_session, status=MessageStatus.SENDING, sid=None)
    updated = apply(db_session, [("sent", None)], message_id=message.id)
    assert (updated.status.value, updated.provider_sid) == ("sent", SID)


def test_callback_never_takes_over_a_message_with_another_sid(db_session):
    message = outbound(db_session, sid="SM" + "e" * 32)
    assert apply_status(db_session, sid=SID, status="delivered", message_id=message.id) is False


@pytest.fixture
def live_app(engine, database_url, twilio_server):
    """The app served over real HTTP, so the Twilio test server can post signed callbacks to it."""
    port = free_port()
    settings = app_settings(database_url, twilio_server.url)
    settings["server"]["public_url"] = f"http://127.0.0.1:{port}"  # Twilio signs over this URL
    app = create_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    db.dispose(app)


@pytest.mark.parametrize("callbacks, final, code", [
    ([("delivered", None, True), ("sent", None, False)], "delivered", None),  # minimal first, then a late full one
    ([("sent", None, True), ("undelivered", 30006, False)], "undelivered", 30006),
])
def test_signed_callbacks_from_twilio_move_the_sent_text(live_app, twilio_server, make, db_session,
                                                         callbacks, final, code):
    store = make.store()
    message = enqueue_text(db_session, store=store, customer=make.customer(store), kind="order_shipped",
                           body="Shipped!")
    db_session.commit()
    send_due(live_app.extensions["smsdesk.sessions"], live_app.extensions["smsdesk.provider"],
             status_callback=status_callback_url(live_app))
    [sent] = twilio_server.messages

    for status, error_code, minimal in callbacks:
        assert twilio_server.send_status_callback(sent["sid"], status, error_code=error_code, minimal=minimal) == 200

    db_session.fresh()
    stored = db_session.get(Message, message.id)
    assert (stored.status.value, stored.provider_sid, stored.error_code) == (final, sent["sid"], code)


@pytest.mark.parametrize("error_code", ["99999999999999", "abc", "-3", "0", ""])
def test_junk_error_codes_are_ignored(db_session, error_code):
    message = outbound(db_session)
    updated = apply(db_session, [("failed", error_code)])
    assert (updated.status.value, updated.error_code, updated.reason) == ("failed", None, "carrier_error")
    assert updated.id == message.id


def test_out_of_range_callback_id_is_ignored(db_session):
    outbound(db_session, status=MessageStatus.SENDING, sid=None)
    assert apply_status(db_session, sid=SID, status="sent", message_id=2**40) is False
