"""jobs/send_due.py against the Twilio test server: every class of provider answer."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from jobs.send_due import AMBIGUOUS_SETTLE, send_due
from smsdesk.models import AuditEvent, Customer, Message, MessageStatus, SenderSlot, utcnow
from smsdesk.services import rate_limit, send_outcomes, sending
from smsdesk.services.outbox import enqueue_text
from smsdesk.sms.twilio_provider import create_provider
from tests.conftest import PUBLIC_URL, TWILIO_SID, TWILIO_TOKEN
from tests.factories import Factory
from tests.support.twilio_server import unreachable_url

SLACK = timedelta(seconds=2)  # tolerance for "about now" comparisons


def queue(db_session, store, *, phone="+15025550123", body="Your order #1001 has shipped.", **fields):
    """One outbound text, due now unless ``due_at`` says otherwise."""
    customer = Factory(db_session).customer(store, phone)
    message = enqueue_text(db_session, store=store, customer=customer, kind=fields.pop("kind", "order_shipped"),
                           body=body, **fields)
    db_session.commit()
    return message


def stored(db_session, message_id) -> Message:
    db_session.fresh()
    return db_session.get(Message, message_id)


def test_sent_text_carries_sid_validity_and_its_status_callback(drain, twilio_server, make, db_session):
    store = make.store()
    message = queue(db_session, store, validity_seconds=3600)

    assert drain() == 1

    [accepted] = twilio_server.messages
    form = twilio_server.requests[-1].form
    assert form["ValidityPeriod"] == "3600"
    assert form["StatusCallback"] == f"{PUBLIC_URL}/webhooks/twilio/status?message_id={message.id}"
    row = stored(db_session, message.id)
    assert (row.status.value, row.provider_sid, row.attempts) == ("sent", accepted["sid"], 1)
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.message_id == message.id)) == "sent"


def test_text_without_a_kind_validity_gets_the_default(drain, twilio_server, make, db_session):
    queue(db_session, make.store(), kind="agent_reply", body="Thanks, on it!")
    drain()
    assert twilio_server.requests[-1].form["ValidityPeriod"] == str(sending.DEFAULT_VALIDITY)


def test_opted_out_customer_is_suppressed_and_never_sent(drain, twilio_server, make, db_session):
    store = make.store()
    message = queue(db_session, store)
    db_session.execute(update(Customer).values(opted_out=True))
    db_session.commit()

    assert drain() == 0

    row = stored(db_session, message.id)
    assert (row.status.value, row.reason) == ("suppressed", "opted_out")
    assert twilio_server.messages == []
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.reason) == ("suppressed", "opted_out")


@pytest.mark.parametrize("status, code, retry_after, min_delay", [
    (429, 20429, 30, 30),  # Too Many Requests: honour Retry-After
    (503, 20503, None, 0),  # Service unavailable, never queued
])
def test_retryable_rejection_requeues_with_backoff(drain, twilio_server, make, db_session,
                                                    status, code, retry_after, min_delay):
    message = queue(db_session, make.store())
    twilio_server.fail_next(status, code=code, retry_after=retry_after)

    drain()

    row = stored(db_session, message.id)
    assert (row.status.value, row.error_code, row.attempts) == ("queued", code, 1)
    assert row.due_at >= utcnow() + timedelta(seconds=min_delay) - SLACK
    assert row.reason == "retrying"
    assert twilio_server.messages == []


@pytest.mark.parametrize("code", [21611, 30001, 20429])
def test_slow_down_answers_pause_the_whole_sender(app, drain, twilio_server, make, db_session, code):
    store = make.store()
    texts = [queue(db_session, store, body="first"), queue(db_session, store, body="second", phone="+15025550124")]
    twilio_server.fail_next(429 if code == 20429 else 400, code=code, retry_after=20)

    drain()

    slot = db_session.get(SenderSlot, store.from_number)
    assert slot.paused_until >= utcnow() + timedelta(seconds=20) - SLACK
    rows = [stored(db_session, m.id) for m in texts]
    assert [r.status.value for r in rows] == ["queued", "queued"]
    [deferred] = [r for r in rows if r.attempts == 0]  # the one that never reached Twilio
    if deferred.due_at < slot.paused_until:  # its slot was reserved before the pause began ...
        with app.extensions["smsdesk.sessions"].begin() as session:  # ... so when it comes, it moves on
            [claim] = sending.claim_due(session, limit=10, now=deferred.due_at)
            assert sending.prepare(session, claim, now=deferred.due_at) is None
    assert stored(db_session, deferred.id).due_at >= slot.paused_until  # not sent into the full queue
    assert len(twilio_server.requests) == 1 and twilio_server.messages == []


def test_connection_refused_is_retried(app, make, db_session):
    message = queue(db_session, make.store())
    provider = create_provider(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, api_base=unreachable_url())

    send_due(app.extensions["smsdesk.sessions"], provider, status_callback=None)

    row = stored(db_session, message.id)
    assert row.status.value == "queued" and row.reason == "retrying" and "could not connect" in row.reason_detail


def test_retries_are_bounded_then_failed(drain, twilio_server, make, db_session):
    message = queue(db_session, make.store())
    db_session.execute(update(Message).values(attempts=send_outcomes.MAX_ATTEMPTS - 1))
    db_session.commit()
    twilio_server.fail_next(503)

    drain()

    row = stored(db_session, message.id)
    assert row.status.value == "failed" and row.reason == "gave_up" and row.reason_detail.startswith("after ")
    assert row.attempts == send_outcomes.MAX_ATTEMPTS


@pytest.mark.parametrize("code, reason", [
    (21211, "invalid_number"),
    (21614, "not_a_mobile_number"),
    (21408, "region_not_enabled"),
    (21606, "invalid_sender"),
    (21000, "rejected"),  # any other 4xx: refused for good
])
def test_permanent_errors_fail_with_code_and_reason(drain, twilio_server, make, db_session, code, reason):
    message = queue(db_session, make.store())
    twilio_server.fail_next(400, code=code, message="Twilio says no")

    drain()
    drain()  # nothing is retried

    row = stored(db_session, message.id)
    assert (row.status.value, row.error_code) == ("failed", code)
    assert row.reason == reason and row.reason_detail.endswith("Twilio says no")
    assert len(twilio_server.requests) == 1
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.reason, audit.detail["code"]) == ("send_failed", reason, code)


def test_unsubscribed_recipient_is_opted_out_and_pending_texts_cancelled(drain, twilio_server, make, db_session):
    store = make.store()
    first = queue(db_session, store, body="first")
    later = queue(db_session, store, body="later", due_at=utcnow() + timedelta(hours=1))
    twilio_server.fail_next(400, code=21610, message="Attempt to send to unsubscribed recipient")

    drain()

    assert stored(db_session, first.id).error_code == 21610
    assert db_session.get(Customer, first.customer_id).opted_out is True
    assert stored(db_session, later.id).status.value == "cancelled"
    opt_out = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "opted_out"))
    assert opt_out.source == "twilio_21610" and opt_out.at is not None


@pytest.mark.parametrize("inject", ["server_error", "dropped"])
def test_ambiguous_answer_stays_sending_for_reconcile(drain, twilio_server, make, db_session, inject):
    message = queue(db_session, make.store())
    if inject == "server_error":
        twilio_server.fail_next(500, accept=True)
    else:
        twilio_server.drop_next(accept=True)

    drain()
    drain()  # a second sweep must not resend it blindly

    row = stored(db_session, message.id)
    assert row.status.value == "sending" and row.reason == "ambiguous"
    assert row.claimed_until <= utcnow() + timedelta(seconds=AMBIGUOUS_SETTLE)
    assert len(twilio_server.messages) == 1


def test_timeout_is_ambiguous(app, twilio_server, make, db_session):
    message = queue(db_session, make.store())
    twilio_server.delay_next(1.0)
    provider = create_provider(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, api_base=twilio_server.url,
                               timeout=0.2)

    send_due(app.extensions["smsdesk.sessions"], provider, status_callback=None)

    assert stored(db_session, message.id).status.value == "sending"


def test_sender_rate_limit_defers_instead_of_sending(drain, twilio_server, make, db_session):
    store = make.store(rate_per_second=1)
    messages = [queue(db_session, store, body=f"text {i}", phone=f"+1502555012{i}") for i in range(3)]

    assert drain() == 1

    rows = [stored(db_session, m.id) for m in messages]
    assert sorted(r.status.value for r in rows) == ["queued", "queued", "sent"]
    deferred = sorted((r for r in rows if r.status.value == "queued"), key=lambda r: r.slot_at)
    gap = (deferred[1].slot_at - deferred[0].slot_at).total_seconds()
    assert gap == pytest.approx(1.0, abs=0.01) and deferred[0].due_at == deferred[0].slot_at
    assert all(r.attempts == 0 for r in deferred)  # deferral is not a failed attempt


def test_reserved_slot_is_used_when_due(drain, app, make, db_session):
    store = make.store(rate_per_second=0.01)  # the second slot is 100 s away, however slow the drain
    texts = [queue(db_session, store, body="a"), queue(db_session, store, body="b", phone="+15025550999")]
    drain()
    [later] = [row for row in (stored(db_session, m.id) for m in texts) if row.status == MessageStatus.QUEUED]
    slot_at = later.slot_at
    next_free = db_session.get(SenderSlot, store.from_number).next_free_at

    with app.extensions["smsdesk.sessions"].begin() as session:  # the clock has reached the slot
        [claim] = sending.claim_due(session, limit=10, now=slot_at)
        assert claim.message_id == later.id
        outgoing = sending.prepare(session, claim, now=slot_at)

    assert outgoing.send_at == slot_at
    db_session.fresh()
    assert db_session.get(SenderSlot, store.from_number).next_free_at == next_free  # no second reservation


def test_reserved_slot_moves_past_a_pause(app, make, db_session):
    store = make.store(rate_per_second=1)
    first = queue(db_session, store, body="a")
    later = queue(db_session, store, body="b", phone="+15025550999")
    sessions = app.extensions["smsdesk.sessions"]
    with sessions.begin() as session:
        claims = {c.message_id: c for c in sending.claim_due(session, limit=10)}
        now = utcnow()
        assert sending.prepare(session, claims[first.id], now=now) is not None
        assert sending.prepare(session, claims[later.id], now=now) is None  # deferred one second
        rate_limit.slow_sender(session, sender_key=store.from_number, seconds=30, now=now)
        slot_at = session.get(Message, later.id).slot_at
        # claimed again when its slot came, after the pause began
        [again] = sending.claim_due(session, limit=10, now=slot_at)
        assert sending.prepare(session, again, now=slot_at) is None

    assert stored(db_session, later.id).due_at >= now + timedelta(seconds=30)


def test_claim_skips_rows_not_yet_due(app, make, db_session):
    store = make.store()
    queue(db_session, store, due_at=utcnow() + timedelta(minutes=5))
    with app.extensions["smsdesk.sessions"].begin() as session:
        assert sending.claim_due(session, limit=10) == []
        assert len(sending.claim_due(session, limit=10, now=utcnow() + timedelta(minutes=6))) == 1


@pytest.mark.parametrize("attempts", [1, 2, 3, 5, 8, 12])
def test_backoff_grows_exponentially_with_full_jitter(attempts):
    ceiling = min(send_outcomes.BACKOFF_CAP, send_outcomes.BACKOFF_BASE * 2 ** (attempts - 1))
    samples = [send_outcomes.backoff(attempts) for _ in range(200)]
    assert all(0 <= s <= ceiling for s in samples)
    assert max(samples) > ceiling / 2 and min(samples) < ceiling / 2  # spread out, not fixed
