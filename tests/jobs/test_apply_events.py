"""jobs/apply_events.py: webhooks only record; this job applies, in arrival order, exactly once."""
from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from jobs import apply_events as job
from jobs.apply_events import apply_batch, apply_events, lock_next_store
from smsdesk.models import AuditEvent, Message, Order, WebhookDelivery, utcnow
from tests.factories import shopify_order
from tests.webhooks.payloads import UNPACED, shopify_cancelled_order
from tests.webhooks.test_shopify import CANCELLED, CONFIRMED, STORE, life_cycle, post, texts


@pytest.fixture
def sessions(app_applying_later):
    return app_applying_later.extensions["smsdesk.sessions"]


@pytest.fixture
def store(make):
    return make.store(name=STORE, rate_per_second=UNPACED)


def count(db_session, model, *where) -> int:
    db_session.fresh()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def statuses(db_session) -> list[str]:
    db_session.fresh()
    return list(db_session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)))


def test_the_webhook_answers_after_recording_and_the_job_applies_the_events(client, sessions, store, db_session):
    assert post(client, store, shopify_order(), "orders/create").json == {"status": "accepted"}
    delivery = db_session.scalar(select(WebhookDelivery))
    assert delivery.status == "received" and [e["type"] for e in delivery.events] == ["OrderPlaced"]
    assert count(db_session, Order) == 0 and count(db_session, Message) == 0

    assert apply_events(sessions) == 1
    assert statuses(db_session) == ["processed"]
    assert count(db_session, Order) == 1 and count(db_session, Message) == 1
    assert apply_events(sessions) == 0


def test_a_repeat_is_a_duplicate_at_the_door_while_the_first_waits(client, sessions, store, db_session):
    assert post(client, store, shopify_order(), "orders/create", event_id="evt-1").json["status"] == "accepted"
    assert post(client, store, shopify_order(), "orders/create", event_id="evt-1").json["status"] == "duplicate"
    assert statuses(db_session) == ["received"]


def test_each_store_applies_in_arrival_order(client, sessions, store, drain, twilio_server):
    post(client, store, shopify_order(), "orders/create")
    post(client, store, shopify_cancelled_order(), "orders/cancelled")
    drain()  # applies both in one batch, then sends
    assert texts(twilio_server) == [CONFIRMED, CANCELLED]


@pytest.mark.parametrize("seed", range(4))
def test_replayed_and_shuffled_deliveries_applied_later_text_each_stage_once(client, sessions, store, drain,
                                                                              twilio_server, db_session, seed):
    deliveries = [(topic, payload, f"evt-{i}") for i, (topic, payload) in enumerate(life_cycle())]
    deliveries = deliveries * 2 + [(topic, payload, None) for topic, payload, _ in deliveries]  # + new ids
    rng = random.Random(seed)
    rng.shuffle(deliveries)
    for topic, payload, event_id in deliveries:
        assert post(client, store, payload, topic, event_id=event_id).status_code == 200
        if rng.random() < 0.3:  # the job sometimes runs between webhooks, sometimes after many
            drain()
    drain()
    drain()
    sent = texts(twilio_server)
    assert len(sent) == len(set(sent)) and count(db_session, Message) >= len(sent)
    assert any("has been delivered" in text for text in sent)
    assert set(statuses(db_session)) == {"processed"} and len(statuses(db_session)) == 10  # 5 repeats dropped


def test_a_crash_before_the_apply_commits_leaves_every_delivery_to_be_applied_once(client, sessions, store, drain,
                                                                                   twilio_server, db_session):
    for topic, payload in life_cycle():
        post(client, store, payload, topic)
    session = sessions()
    session.begin()
    assert apply_batch(session, now=utcnow(), limit=100, seconds=60) == 5
    session.rollback()  # the worker died before its commit: nothing it did remains
    session.close()
    assert statuses(db_session) == ["received"] * 5 and count(db_session, Order) == 0

    drain()
    drain()
    assert len(texts(twilio_server)) == 4 == len(set(texts(twilio_server)))
    assert statuses(db_session) == ["processed"] * 5 and apply_events(sessions) == 0


def test_a_batch_is_bounded_in_time(client, sessions, store, db_session):
    for n in range(3):
        post(client, store, shopify_order(id=1000 + n), "orders/create")
    with sessions.begin() as session:
        assert apply_batch(session, now=utcnow(), limit=100, seconds=0) == 1  # then it commits
    assert statuses(db_session) == ["processed", "received", "received"]
    assert apply_events(sessions, batch_seconds=0) == 2


def batch_bounds(monkeypatch, during_batch=lambda session: None) -> list[float]:
    """The ``seconds`` of each batch apply_events runs (``during_batch(session)`` ends each)."""
    bounds: list[float] = []

    def spy(session, *, now, limit, seconds):
        bounds.append(seconds)
        applied = apply_batch(session, now=now, limit=limit, seconds=seconds)
        during_batch(session)
        return applied
    monkeypatch.setattr(job, "apply_batch", spy)
    return bounds


def test_batches_lengthen_once_no_delivery_arrives_during_one(client, sessions, store, db_session, monkeypatch):
    for n in range(3):
        post(client, store, shopify_order(id=1000 + n), "orders/create")
    bounds = batch_bounds(monkeypatch)
    assert apply_events(sessions, batch=1) == 3
    dialect = db_session.get_bind().dialect.name
    short, long = job.BATCH_SECONDS[dialect], job.CATCH_UP_SECONDS[dialect]
    assert long > short and bounds == [short, long, long, long]  # the last one finds nothing left


def test_batches_stay_short_while_deliveries_arrive(client, sessions, store, db_session, monkeypatch):
    arriving = ["late-1", "late-2", "late-3"]

    def one_arrives(session):  # in the batch's transaction: SQLite takes no other writer meanwhile
        if arriving:
            first = session.scalar(select(WebhookDelivery).order_by(WebhookDelivery.id))
            session.add(WebhookDelivery(store_id=first.store_id, source=first.source, delivery_id=arriving.pop(0),
                                        topic=first.topic, status="received", events=first.events,
                                        next_attempt_at=utcnow(), received_at=utcnow()))
    bounds = batch_bounds(monkeypatch, one_arrives)
    post(client, store, shopify_order(id=1000), "orders/create")
    assert apply_events(sessions, batch=1) == 4
    dialect = db_session.get_bind().dialect.name
    short, long = job.BATCH_SECONDS[dialect], job.CATCH_UP_SECONDS[dialect]
    assert bounds == [short, short, short, short, long]  # an order arrived during each of the first three


def test_a_delivery_that_fails_is_retried_then_failed_and_the_others_go_on(client, sessions, store, db_session):
    post(client, store, shopify_order(id=1), "orders/create")
    post(client, store, shopify_order(id=2), "orders/create")
    first = db_session.scalar(select(WebhookDelivery.id).order_by(WebhookDelivery.id))
    db_session.execute(update(WebhookDelivery).where(WebhookDelivery.id == first).values(events=[{"type": "Nope"}]))
    db_session.commit()

    now = utcnow()
    assert apply_events(sessions, clock=lambda: now) == 2
    assert statuses(db_session) == ["received", "processed"] and count(db_session, Order) == 1
    broken = db_session.get_one(WebhookDelivery, first)
    assert (broken.attempts, broken.error) == (1, "internal error: KeyError")
    assert broken.next_attempt_at == now + timedelta(seconds=job.RETRY_BASE)

    for hours in range(1, job.MAX_ATTEMPTS):
        apply_events(sessions, clock=lambda hours=hours: now + timedelta(hours=hours))
    db_session.fresh()
    broken = db_session.get_one(WebhookDelivery, first)
    assert broken.status == "failed" and broken.error.startswith(f"gave up after {job.MAX_ATTEMPTS} attempts")
    assert count(db_session, AuditEvent, AuditEvent.action == "apply_failed") == 1


def test_a_store_being_applied_is_left_to_its_worker(client, sessions, make, store, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: there is no second worker to keep out")
    other = make.store(rate_per_second=UNPACED)
    post(client, store, shopify_order(), "orders/create")
    post(client, other, shopify_order(), "orders/create")
    first, second, third = sessions(), sessions(), sessions()
    try:
        for session in (first, second, third):
            session.begin()
        taken = {lock_next_store(first, now=utcnow()).id, lock_next_store(second, now=utcnow()).id}
        assert taken == {store.id, other.id}
        assert lock_next_store(third, now=utcnow()) is None
    finally:
        for session in (first, second, third):
            session.rollback()
            session.close()


def test_the_scheduler_runs_the_job_and_a_webhook_starts_it_at_once(app):
    scheduler = app.extensions["smsdesk.scheduler_factory"]()
    scheduler.start(paused=True)
    try:
        apply_job = scheduler.get_job("apply_events")
        assert apply_job.trigger.interval <= timedelta(seconds=1)
        later = utcnow() + timedelta(hours=1)
        scheduler.modify_job("apply_events", next_run_time=later)
        app.extensions["smsdesk.events_received"]()
        assert scheduler.get_job("apply_events").next_run_time < later
    finally:
        scheduler.shutdown(wait=False)


def test_ticks_skipped_while_a_sweep_runs_are_not_logged_but_other_warnings_are(app, caplog):
    logger = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
        logger.warning('Execution of job "%s" skipped: maximum number of running instances reached (%d)', "x", 1)
        logger.warning("Run time of job %r was missed by %s", "x", "0:00:02")
    assert [record.getMessage() for record in caplog.records] == ["Run time of job 'x' was missed by 0:00:02"]
