"""Batches of texts per transaction (services/send_batch.py, jobs/send_due.py): the same rules
as one text at a time, in fewer transactions."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from jobs.send_due import Answer, call_provider, record_answers, send_due
from smsdesk.models import Customer, Message, MessageStatus, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import send_batch, send_outcomes, sending
from smsdesk.services.outbox import enqueue_text
from smsdesk.sms.base import SentMessage

PHONES = [f"+150255501{i:02d}" for i in range(6)]


@pytest.fixture
def sessions(app):
    return app.extensions["smsdesk.sessions"]


def queue_texts(make, db_session, store, count: int) -> list[Message]:
    texts = [enqueue_text(db_session, store=store, customer=make.customer(store, phone), kind="order_shipped",
                          body=f"Your order #{1000 + i} has shipped.") for i, phone in enumerate(PHONES[:count])]
    db_session.commit()
    return texts


def rows(db_session, texts: list[Message]) -> list[Message]:
    db_session.fresh()
    return [db_session.get(Message, text.id) for text in texts]


def claim_batch(sessions, limit: int) -> tuple[int, list[send_batch.Call]]:
    with sessions.begin() as session:
        return send_batch.claim_and_prepare(session, limit=limit, lease=60, owner="worker-a")


def test_one_transaction_claims_and_fences_a_batch_and_records_who_must_not_get_a_text(
        sessions, make, db_session):
    store = make.store(rate_per_second=1000)
    texts = queue_texts(make, db_session, store, 5)
    db_session.execute(update(Customer).where(Customer.id == texts[1].customer_id).values(opted_out=True))
    db_session.commit()

    claimed, calls = claim_batch(sessions, limit=4)

    assert claimed == 4
    assert [call.outgoing.message_id for call in calls] == [texts[0].id, texts[2].id, texts[3].id]
    states = [(row.status, row.claim_owner, row.attempts) for row in rows(db_session, texts)]
    assert states == [(MessageStatus.SENDING, "worker-a", 1), (MessageStatus.SUPPRESSED, "worker-a", 0),
                      (MessageStatus.SENDING, "worker-a", 1), (MessageStatus.SENDING, "worker-a", 1),
                      (MessageStatus.QUEUED, None, 0)]


def test_a_batch_keeps_to_the_senders_rate(sessions, make, db_session):
    texts = queue_texts(make, db_session, make.store(rate_per_second=2), 3)

    _, calls = claim_batch(sessions, limit=3)

    first, second = (call.outgoing.send_at for call in calls)
    assert second - first == timedelta(seconds=0.5)
    deferred = rows(db_session, texts)[2]
    assert (deferred.status, deferred.due_at, deferred.attempts) == (MessageStatus.QUEUED, first + timedelta(seconds=1),
                                                                     0)


def test_a_text_that_breaks_preparing_is_recorded_and_the_rest_of_its_batch_is_prepared(
        sessions, make, db_session, monkeypatch):
    texts = queue_texts(make, db_session, make.store(rate_per_second=1000), 4)
    decide = sending.compliance.decide

    def breaks_on_the_second(session, *, message, **kwargs):
        if message.id == texts[1].id:
            raise KeyError("a bug that only this text triggers")
        return decide(session, message=message, **kwargs)
    monkeypatch.setattr(sending.compliance, "decide", breaks_on_the_second)

    claimed, calls = claim_batch(sessions, limit=4)

    assert (claimed, [call.claim.message_id for call in calls]) == (4, [texts[0].id, texts[2].id, texts[3].id])
    broken = rows(db_session, texts)[1]
    assert (broken.status, broken.reason, broken.attempts) == (MessageStatus.QUEUED, Reason.SEND_ERROR, 1)


def test_when_a_batch_fails_as_a_whole_the_worker_claims_text_by_text(
        app, sessions, make, db_session, twilio_server, monkeypatch):
    texts = queue_texts(make, db_session, make.store(rate_per_second=1000), 4)

    def broken_batch(session, **kwargs):
        raise OperationalError("SELECT ...", {}, Exception("a statement this batch cannot run"))
    monkeypatch.setattr(send_batch, "claim_and_prepare", broken_batch)

    assert send_due(sessions, app.extensions["smsdesk.provider"], status_callback=None, concurrency=4) == 4

    assert sorted(m["body"] for m in twilio_server.messages) == sorted(text.body for text in texts)
    assert {row.status for row in rows(db_session, texts)} == {MessageStatus.SENT}


def test_an_answer_that_cannot_be_recorded_leaves_only_its_own_text_to_reconcile(
        sessions, make, db_session, monkeypatch):
    texts = queue_texts(make, db_session, make.store(rate_per_second=1000), 3)
    _, calls = claim_batch(sessions, limit=3)
    answers = [Answer(call, sent=SentMessage(sid=f"SM{i:032d}", status="queued")) for i, call in enumerate(calls)]
    record_sent = send_outcomes.record_sent

    def breaks_on_the_second(session, message, sent, **kwargs):
        if message.id == texts[1].id:
            raise RuntimeError("a bug that only this answer triggers")
        record_sent(session, message, sent, **kwargs)
    monkeypatch.setattr(send_outcomes, "record_sent", breaks_on_the_second)

    record_answers(sessions, answers)

    states = [(row.status, row.provider_sid) for row in rows(db_session, texts)]
    assert states == [(MessageStatus.SENT, "SM" + "0" * 32), (MessageStatus.SENDING, None),
                      (MessageStatus.SENT, "SM" + "0" * 31 + "2")]


def test_a_prepared_text_that_waited_too_long_for_a_thread_is_put_back_unsent(
        app, sessions, make, db_session, twilio_server):
    texts = queue_texts(make, db_session, make.store(rate_per_second=1000), 1)
    _, [call] = claim_batch(sessions, limit=1)
    waited = dataclasses.replace(call, outgoing=dataclasses.replace(
        call.outgoing, start_by=utcnow() - timedelta(seconds=1)))  # its lease no longer covers a call

    record_answers(sessions, [call_provider(app.extensions["smsdesk.provider"], waited, status_callback=None)])

    row = rows(db_session, texts)[0]
    assert (twilio_server.messages, row.status, row.attempts, row.due_at) == (
        [], MessageStatus.QUEUED, 0, texts[0].due_at)
