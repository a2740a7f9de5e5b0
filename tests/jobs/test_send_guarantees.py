"""The sending guarantees (README "Sending guarantees"): a stale claim never reaches the
provider, a bad store or text never holds up the others, a body Twilio would refuse is
never handed to it, and a status callback naming another text cannot corrupt a row."""
from __future__ import annotations

import math
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from jobs.reconcile import reconcile
from jobs.send_due import send_due, send_one
from smsdesk.models import AuditEvent, Direction, Message, MessageStatus, Store, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import send_outcomes, sending
from smsdesk.services.outbox import enqueue_text
from smsdesk.sms.base import SentMessage
from tests.conftest import PUBLIC_URL, TWILIO_TOKEN
from tests.factories import Factory, twilio_signature

LONG_BODIES = [1601, 4242, 100_332]  # characters; Twilio refuses anything over 1,600


def queue(db_session, store, *, phone="+15025550123", body="Your order #1001 has shipped.") -> Message:
    customer = Factory(db_session).customer(store, phone)
    message = enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body=body)
    db_session.commit()
    return message


def stored(db_session, message_id) -> Message:
    db_session.fresh()
    return db_session.get(Message, message_id)


def later(seconds: float):
    return utcnow() + timedelta(seconds=seconds)


# -- the claim fence -------------------------------------------------------------------


def _lease_ran_out(sessions) -> str:
    """The worker was busy past its lease; nobody took the row yet."""
    time.sleep(0.3)
    return "worker-a"


def _reclaimed_by_reconcile(sessions) -> str:
    with sessions.begin() as session:
        sending.reclaim_expired(session, limit=10, lease=5, owner="reconciler", now=later(1))
    return "reconciler"


def _requeued_and_claimed_by_another_worker(sessions) -> str:
    _reclaimed_by_reconcile(sessions)
    with sessions.begin() as session:  # reconcile did not find it at the provider: back to the queue ...
        session.execute(update(Message).values(status=MessageStatus.QUEUED, due_at=utcnow()))
    with sessions.begin() as session:  # ... where worker b claims it
        assert len(sending.claim_due(session, limit=10, lease=5, owner="worker-b")) == 1
    return "worker-b"


@pytest.mark.parametrize("meanwhile", [_lease_ran_out, _reclaimed_by_reconcile,
                                       _requeued_and_claimed_by_another_worker])
def test_a_stale_claim_never_reaches_the_provider(app, twilio_server, make, db_session, meanwhile):
    message = queue(db_session, make.store())
    sessions, provider = app.extensions["smsdesk.sessions"], app.extensions["smsdesk.provider"]
    with sessions.begin() as session:
        [stale] = sending.claim_due(session, limit=10, lease=0.2, owner="worker-a")
    holder = meanwhile(sessions)

    assert send_one(sessions, provider, stale, status_callback=None) == 0

    assert twilio_server.requests == []
    row = stored(db_session, message.id)
    assert (row.status, row.claim_owner, row.attempts) == (MessageStatus.SENDING, holder, 0)


def test_every_claim_gets_a_new_generation(app, make, db_session):
    queue(db_session, make.store())
    sessions = app.extensions["smsdesk.sessions"]
    with sessions.begin() as session:
        [first] = sending.claim_due(session, limit=10, owner="worker-a")
    with sessions.begin() as session:
        [again] = sending.reclaim_expired(session, limit=10, owner="reconciler", now=later(sending.LEASE + 1))
    assert (again.generation, again.owner) == (first.generation + 1, "reconciler")


# -- one bad store or text never blocks the others ---------------------------------------


@pytest.mark.parametrize("column, poison", [
    ("rate_per_second", 1e-300), ("rate_per_second", math.nan), ("rate_per_second", math.inf),
    ("quiet_hours", "99:99-99:99"), ("timezone", "Mars/Olympus"), ("from_number", "not a number"),
])
def test_poisoned_store_settings_never_hold_up_other_stores(drain, twilio_server, make, db_session, column, poison):
    if poison != poison and db_session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite stores NaN as NULL; the column refuses it")
    bad, good = make.store(slug="bad", domain="bad.example"), make.store(slug="good", domain="good.example",
                                                                        rate_per_second=1000)
    bad_texts = [queue(db_session, bad, phone=f"+1502555010{i}", body=f"bad {i}") for i in range(3)]
    good_texts = [queue(db_session, good, phone=f"+1502555020{i}", body=f"good {i}") for i in range(10)]
    db_session.execute(update(Store).where(Store.id == bad.id).values({column: poison}))  # past validation
    db_session.commit()

    drain()

    assert sorted(m["body"] for m in twilio_server.messages) == sorted(m.body for m in good_texts)
    assert {stored(db_session, m.id).status for m in good_texts} == {MessageStatus.SENT}
    for message in bad_texts:
        row = stored(db_session, message.id)
        assert (row.status, row.reason, row.attempts) == (MessageStatus.QUEUED, Reason.BAD_STORE_SETTINGS, 1)
        assert column in row.reason_detail


def test_bad_store_settings_end_failed_after_the_attempts(drain, twilio_server, make, db_session):
    store = make.store()
    message = queue(db_session, store)
    db_session.execute(update(Store).values(rate_per_second=1e-300))
    db_session.commit()

    for _ in range(send_outcomes.MAX_ATTEMPTS):
        drain()
        db_session.execute(update(Message).values(due_at=utcnow()))  # skip the backoff
        db_session.commit()

    row = stored(db_session, message.id)
    assert (row.status, row.reason, row.attempts) == (MessageStatus.FAILED, Reason.BAD_STORE_SETTINGS,
                                                      send_outcomes.MAX_ATTEMPTS)
    assert twilio_server.requests == []


def test_a_text_that_breaks_preparing_is_recorded_and_the_rest_go_out(drain, twilio_server, make, db_session,
                                                                      monkeypatch):
    store = make.store(rate_per_second=1000)
    poisoned = queue(db_session, store, body="poisoned")
    others = [queue(db_session, store, phone=f"+1502555030{i}", body=f"fine {i}") for i in range(5)]
    decide = sending.compliance.decide

    def breaks_on_poison(session, *, message, **kwargs):
        if message.body == "poisoned":
            raise KeyError("a bug that only this text triggers")
        return decide(session, message=message, **kwargs)
    monkeypatch.setattr(sending.compliance, "decide", breaks_on_poison)

    drain()

    assert sorted(m["body"] for m in twilio_server.messages) == sorted(m.body for m in others)
    row = stored(db_session, poisoned.id)
    assert (row.status, row.reason, row.attempts) == (MessageStatus.QUEUED, Reason.SEND_ERROR, 1)
    assert "KeyError" in row.reason_detail


# -- texts that cannot arrive ----------------------------------------------------------------


@pytest.mark.parametrize("length", LONG_BODIES)
def test_over_long_text_fails_when_queued(drain, twilio_server, make, db_session, length):
    message = queue(db_session, make.store(), body="x" * length)
    assert (message.status, message.reason) == (MessageStatus.FAILED, Reason.TOO_LONG)

    drain()

    assert twilio_server.requests == []
    assert stored(db_session, message.id).reason_detail == f"{length} characters"


@pytest.mark.parametrize("length", LONG_BODIES)
def test_over_long_text_written_past_the_outbox_fails_before_the_provider(drain, twilio_server, make, db_session,
                                                                          length):
    store = make.store()
    customer = make.customer(store)
    message_id = db_session.execute(insert(Message).returning(Message.id), [{
        "store_id": store.id, "customer_id": customer.id, "direction": Direction.OUT, "kind": "order_shipped",
        "body": "y" * length, "status": MessageStatus.QUEUED, "due_at": utcnow()}]).scalar_one()
    db_session.commit()

    drain()

    assert twilio_server.requests == []
    row = stored(db_session, message_id)
    assert (row.status, row.reason, row.attempts) == (MessageStatus.FAILED, Reason.TOO_LONG, 0)


# -- status callbacks --------------------------------------------------------------------


def post_status(client, message_id: int, sid: str, status: str):
    path = f"/webhooks/twilio/status?message_id={message_id}"
    params = {"MessageSid": sid, "MessageStatus": status}
    signature = twilio_signature(TWILIO_TOKEN, PUBLIC_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def conflicts(db_session, message_id: int) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.message_id == message_id, AuditEvent.action == send_outcomes.CONFLICT_ACTION))


def test_callback_naming_another_sid_is_refused_and_recorded_once(client, drain, twilio_server, make, db_session):
    message = queue(db_session, make.store())
    drain()
    own_sid = stored(db_session, message.id).provider_sid

    for status in ("sent", "delivered", "failed"):
        assert post_status(client, message.id, "SM" + "9" * 32, status).status_code == 200

    row = stored(db_session, message.id)
    assert (row.status, row.provider_sid) == (MessageStatus.SENT, own_sid)
    assert conflicts(db_session, message.id) == 1
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == send_outcomes.CONFLICT_ACTION))
    assert (audit.reason, audit.detail["sid"]) == (Reason.CONFLICTING_CALLBACK.value, "SM" + "9" * 32)


def test_callback_that_named_a_text_wrongly_gives_way_to_the_provider_answer(app, client, make, db_session):
    """A callback attached a foreign sid while the send was in flight: our own answer wins,
    the row ends ``sent`` (not stuck in ``sending``) and reconcile leaves it alone."""
    message = queue(db_session, make.store())
    sessions = app.extensions["smsdesk.sessions"]
    with sessions.begin() as session:
        sending.claim_due(session, limit=10)
    assert post_status(client, message.id, "SM" + "8" * 32, "queued").status_code == 200
    with sessions.begin() as session:
        send_outcomes.mark_sent(session, message.id, SentMessage(sid="SM" + "7" * 32, status="queued"))

    row = stored(db_session, message.id)
    assert (row.status, row.provider_sid, row.claimed_until) == (MessageStatus.SENT, "SM" + "7" * 32, None)
    assert conflicts(db_session, message.id) == 1
    assert reconcile(sessions, app.extensions["smsdesk.provider"]) == 0


def test_callback_with_an_unknown_status_changes_nothing(client, app, make, db_session):
    message = queue(db_session, make.store())
    with app.extensions["smsdesk.sessions"].begin() as session:
        sending.claim_due(session, limit=10)

    assert post_status(client, message.id, "SM" + "6" * 32, "read").status_code == 200

    row = stored(db_session, message.id)
    assert (row.status, row.provider_sid) == (MessageStatus.SENDING, None)


# -- configuration ---------------------------------------------------------------------------


def test_scheduler_hands_lease_and_concurrency_to_the_jobs(app):
    from jobs.scheduler import create_scheduler
    from smsdesk.sms.twilio_provider import timeout_for_lease

    app.config["SMSDESK"].scheduler.concurrency, app.config["SMSDESK"].scheduler.lease_seconds = 7, 9.0
    scheduler = create_scheduler(app)

    assert scheduler.get_job("send_due").kwargs | {"status_callback": None} == {
        "status_callback": None, "lease": 9.0, "concurrency": 7,
        "media_base": "https://smsdesk.test/media"}  # where Twilio fetches agents' pictures
    assert scheduler.get_job("reconcile").kwargs == {"lease": 9.0}
    assert 2 * timeout_for_lease(9.0) < 9.0  # connect + read of a live send end inside its lease


def test_concurrent_sender_keeps_each_customers_texts_in_order(app, make, db_session, twilio_server):
    """Several calls in flight, but one per customer: a customer's texts reach Twilio as queued."""
    twilio_server.create_delay_range = (0.05, 0.3)
    store = make.store(rate_per_second=1000)
    phones = [f"+1502555{i:04d}" for i in range(4)]
    for phone in phones:
        customer = make.customer(store, phone)
        for step in range(3):
            enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body=f"{phone} step {step}")
    db_session.commit()
    send_due(app.extensions["smsdesk.sessions"], app.extensions["smsdesk.provider"], status_callback=None,
             concurrency=8)
    for phone in phones:
        bodies = [m["body"] for m in twilio_server.messages if m["to"] == phone]
        assert bodies == [f"{phone} step {step}" for step in range(3)]
