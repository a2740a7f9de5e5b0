"""jobs/reconcile.py: texts left ``sending`` are looked up at Twilio before any resend."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from jobs.reconcile import Stranded, reconcile, resolve
from smsdesk.models import AuditEvent, Message, MessageStatus, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import send_outcomes, sending
from smsdesk.services.outbox import enqueue_text
from smsdesk.sms.base import Sender
from smsdesk.sms.twilio_provider import create_provider
from tests.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.factories import Factory
from tests.support.twilio_server import unreachable_url

BODY = "Your order #1001 has shipped."
PHONE = "+15025550123"


def stranded(db_session, store, *, body=BODY, phone=PHONE, lease_ago=timedelta(seconds=5)) -> Message:
    """A text a killed worker left ``sending``, its lease already over."""
    customer = Factory(db_session).customer(store, phone)
    message = enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body=body)
    now = utcnow()
    message.status, message.attempts = MessageStatus.SENDING, 1
    message.attempted_at, message.claimed_until = now - lease_ago - timedelta(seconds=1), now - lease_ago
    db_session.commit()
    return message


def run(app) -> int:
    return reconcile(app.extensions["smsdesk.sessions"], app.extensions["smsdesk.provider"])


def twilio_took(app, store, *, body=BODY, phone=PHONE) -> str:
    """Send straight through the provider: what the killed worker got done before dying."""
    provider = app.extensions["smsdesk.provider"]
    return provider.send(phone, body, sender=Sender(store.from_number)).sid


def stored(db_session, message_id) -> Message:
    db_session.fresh()
    return db_session.get(Message, message_id)


@pytest.mark.parametrize("date_sent_on_accept", [True, False])  # False: still queued at Twilio, no date_sent
def test_text_twilio_took_is_marked_sent_not_resent(app, drain, twilio_server, make, db_session,
                                                     date_sent_on_accept):
    twilio_server.date_sent_on_accept = date_sent_on_accept
    store = make.store()
    message = stranded(db_session, store)
    sid = twilio_took(app, store)

    assert run(app) == 1
    drain()

    row = stored(db_session, message.id)
    assert (row.status.value, row.provider_sid, row.reason, row.reason_detail) == (
        "sent", sid, None, "found at the provider by reconcile")
    assert len(twilio_server.messages) == 1
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.source) == ("sent", "reconcile")


def test_text_twilio_never_got_is_sent_once(app, drain, twilio_server, make, db_session):
    message = stranded(db_session, make.store())

    assert run(app) == 1
    row = stored(db_session, message.id)
    assert row.status.value == "queued" and row.reason == "retrying"
    assert "not found at the provider" in row.reason_detail
    db_session.execute(update(Message).values(due_at=utcnow()))  # skip the backoff
    db_session.commit()
    drain()

    assert stored(db_session, message.id).status.value == "sent"
    assert len(twilio_server.messages) == 1


def test_same_text_already_recorded_for_another_message_is_not_a_match(app, twilio_server, make, db_session):
    store = make.store()
    earlier = stranded(db_session, store, body="Thanks!")
    earlier.status, earlier.provider_sid = MessageStatus.SENT, twilio_took(app, store, body="Thanks!")
    db_session.commit()
    message = stranded(db_session, store, body="Thanks!")  # the same reply again; this one never left

    run(app)

    assert stored(db_session, message.id).status.value == "queued"


def test_live_lease_is_left_alone(app, make, db_session):
    message = stranded(db_session, make.store(), lease_ago=timedelta(seconds=-30))  # lease runs 30 s more
    assert run(app) == 0
    assert stored(db_session, message.id).status.value == "sending"


def test_reclaimed_row_fences_the_earlier_reconcile_out(app, make, db_session):
    message = stranded(db_session, make.store())
    sessions = app.extensions["smsdesk.sessions"]
    with sessions.begin() as session:
        [first] = sending.reclaim_expired(session, limit=10, lease=5, owner="reconciler-a")
    seen = Stranded(first, PHONE, BODY, message.attempted_at)
    with sessions.begin() as session:  # a's lookup outlived its lease; b took the row
        [second] = sending.reclaim_expired(session, limit=10, lease=5, owner="reconciler-b",
                                           now=utcnow() + timedelta(seconds=6))

    with sessions.begin() as session:
        assert resolve(session, seen, None) == 0

    row = stored(db_session, message.id)
    assert (row.status.value, row.claim_owner, row.lease_generation) == ("sending", "reconciler-b", second.generation)


def test_lookup_failure_keeps_the_row_for_the_next_run(app, make, db_session):
    message = stranded(db_session, make.store())
    # Twilio unreachable: nothing can be decided
    provider = create_provider(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, api_base=unreachable_url())

    assert reconcile(app.extensions["smsdesk.sessions"], provider) == 0

    assert stored(db_session, message.id).status.value == "sending"


def test_gives_up_after_the_last_attempt(app, make, db_session):
    message = stranded(db_session, make.store())
    db_session.execute(update(Message).values(attempts=send_outcomes.MAX_ATTEMPTS))
    db_session.commit()

    run(app)

    row = stored(db_session, message.id)
    assert (row.status.value, row.reason) == ("failed", Reason.GAVE_UP)


def test_outcome_that_stays_unknown_ends_failed_with_a_visible_reason(app, make, db_session):
    message = stranded(db_session, make.store())
    provider = create_provider(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, api_base=unreachable_url())
    sessions = app.extensions["smsdesk.sessions"]

    for _ in range(send_outcomes.MAX_LOOKUPS):
        assert reconcile(sessions, provider) == 0
        db_session.execute(update(Message).values(claimed_until=utcnow() - timedelta(seconds=1)))  # skip the wait
        db_session.commit()

    row = stored(db_session, message.id)
    assert (row.status.value, row.reason, row.reconcile_tries) == ("failed", Reason.OUTCOME_UNKNOWN,
                                                                   send_outcomes.MAX_LOOKUPS)
    assert "could not connect" in row.reason_detail
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.reason, audit.source) == ("send_failed", "outcome_unknown", "reconcile")


def test_lookup_failure_waits_before_the_next_lookup(app, make, db_session):
    message = stranded(db_session, make.store())
    provider = create_provider(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, api_base=unreachable_url())

    reconcile(app.extensions["smsdesk.sessions"], provider)

    row = stored(db_session, message.id)
    assert (row.status.value, row.reason, row.reconcile_tries) == ("sending", Reason.AMBIGUOUS, 1)
    assert row.claimed_until >= utcnow() + timedelta(seconds=send_outcomes.LOOKUP_RETRY_MIN - 0.5)
