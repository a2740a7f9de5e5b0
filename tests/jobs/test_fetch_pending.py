"""jobs/fetch_pending: claim recorded BigCommerce callbacks, fetch, apply; retry, back off, give up."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs import fetch_pending as job
from smsdesk.models import AuditEvent, WebhookDelivery, utcnow
from tests.webhooks.payloads import bigcommerce_callback, bigcommerce_headers, bigcommerce_order

CONFIRMED = "Acme Outfitters: Hi Jane, thanks for your order #250! We'll text you when it ships."


@pytest.fixture
def recorded(client, bigcommerce_store, bigcommerce_api):
    """Order 250 awaiting fulfillment on the API, and its store/order/created callback recorded."""
    bigcommerce_api.put_order(bigcommerce_order(status_id=11))
    body = json.dumps(bigcommerce_callback("store/order/created", 250)).encode()
    response = client.post(f"/webhooks/bigcommerce/{bigcommerce_store.slug}", data=body,
                           headers=bigcommerce_headers(bigcommerce_store))
    assert response.json == {"status": "accepted"}


def delivery(db_session) -> WebhookDelivery:
    db_session.fresh()
    return db_session.scalar(select(WebhookDelivery))


class Clock:
    """A controllable clock for the job: time moves only when a test says so."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_two_server_errors_then_success_sends_the_text_once(recorded, db_session, bigcommerce_api, fetch, drain,
                                                           twilio_server):
    bigcommerce_api.fail_next(500, count=2)
    fetch()
    assert (delivery(db_session).status, delivery(db_session).error) == ("pending", "GET /v2/orders/250: HTTP 500")
    fetch()
    fetch()
    row = delivery(db_session)
    assert (row.status, row.attempts, row.error) == ("processed", 3, "")
    drain()
    fetch()  # nothing left to do
    assert [m["body"] for m in twilio_server.messages] == [CONFIRMED]


def test_retry_waits_for_the_backoff(recorded, db_session, bigcommerce_api, fetch):
    clock = Clock()
    bigcommerce_api.fail_next(503)
    fetch(clock=clock, delay=lambda attempts: 10.0 * attempts)
    assert fetch(clock=clock) == 0  # not due yet
    clock.advance(10.5)
    assert fetch(clock=clock) == 1 and delivery(db_session).status == "processed"


def test_rate_limit_honours_retry_after(recorded, db_session, bigcommerce_api, fetch):
    clock = Clock()
    bigcommerce_api.fail_next(429, retry_after=30)
    fetch(clock=clock)
    assert delivery(db_session).next_attempt_at == clock.now + timedelta(seconds=30)
    clock.advance(29)
    assert fetch(clock=clock) == 0
    clock.advance(2)
    assert fetch(clock=clock) == 1 and delivery(db_session).status == "processed"


def test_api_down_for_good_marks_the_delivery_failed_with_the_reason(recorded, db_session, bigcommerce_api, fetch,
                                                                    drain, twilio_server):
    bigcommerce_api.down = True
    for _ in range(job.MAX_ATTEMPTS + 2):
        fetch()
    row = delivery(db_session)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", job.MAX_ATTEMPTS, None)
    assert row.error.startswith(f"gave up after {job.MAX_ATTEMPTS} attempts: GET /v2/orders/250: ")
    assert "ConnectionError" in row.error
    assert db_session.scalar(select(AuditEvent.action)) == "fetch_failed"
    drain()
    assert twilio_server.messages == []


@pytest.mark.parametrize(("status", "reason"), [
    (404, "GET /v2/orders/250: HTTP 404"),
    (401, "GET /v2/orders/250: HTTP 401 (the store's API token was refused)"),
])
def test_errors_that_will_not_pass_fail_at_once(recorded, db_session, bigcommerce_api, fetch, status, reason):
    bigcommerce_api.fail_next(status)
    fetch()
    row = delivery(db_session)
    assert (row.status, row.attempts, row.error) == ("failed", 1, reason)


def test_store_without_api_credentials_fails_with_the_reason(recorded, db_session, bigcommerce_store, fetch):
    bigcommerce_store.api_token = None
    db_session.commit()
    fetch()
    row = delivery(db_session)
    assert row.status == "failed" and "API token" in row.error


def test_a_claimed_delivery_is_leased_to_one_worker(recorded, app):
    clock = Clock()
    sessions = app.extensions["smsdesk.sessions"]
    with sessions.begin() as session:
        first = job.claim_due(session, limit=10, now=clock())
    with sessions.begin() as session:
        assert job.claim_due(session, limit=10, now=clock()) == []  # another worker finds nothing
    clock.advance(job.LEASE + 1)  # the first worker died: the lease runs out
    with sessions.begin() as session:
        assert job.claim_due(session, limit=10, now=clock()) == first


def test_unexpected_api_answer_is_retried_not_fatal(recorded, db_session, bigcommerce_api, fetch):
    bigcommerce_api.fail_next(200)  # a 200 whose body is a list, not an order
    fetch()
    row = delivery(db_session)
    assert row.status == "pending" and "not an order" in row.error


@pytest.mark.parametrize("attempts", [1, 2, 5, 20])
def test_backoff_grows_exponentially_up_to_the_cap(attempts):
    ceiling = min(job.BACKOFF_CAP, job.BACKOFF_BASE * 2 ** (attempts - 1))
    samples = [job.backoff(attempts) for _ in range(50)]
    assert all(0 <= s <= ceiling for s in samples) and max(samples) > 0


def test_concurrent_workers_skip_each_others_locked_rows(recorded, app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite serializes writers instead")
    sessions = app.extensions["smsdesk.sessions"]
    with sessions.begin() as first:
        assert len(job.claim_due(first, limit=10, now=utcnow())) == 1  # locked until this commits
        with sessions.begin() as second:
            assert job.claim_due(second, limit=10, now=utcnow()) == []


def test_scheduler_runs_the_job_every_few_seconds(app):
    from jobs.scheduler import FETCH_PENDING_EVERY, create_scheduler

    scheduled = create_scheduler(app).get_job("fetch_pending")
    assert scheduled.func is job.fetch_pending
    assert scheduled.trigger.interval.total_seconds() == FETCH_PENDING_EVERY <= 10
