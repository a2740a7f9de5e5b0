"""Many workers, one PostgreSQL database (DESIGN §1): two ``smsdesk worker`` processes drain
5,000 texts through the Twilio test server, and Twilio takes each exactly once."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from smsdesk.models import AuditEvent
from tests.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.support.workers import WorkerPool, accepted_per_body, queue_messages, status_counts, wait_until

pytestmark = pytest.mark.slow

MESSAGES = 5000
WORKERS = 2
DRAIN_TIMEOUT = 90.0  # seconds; it takes well under half of that on a laptop
LEASE = 30.0  # seconds: no worker dies here, so nothing should ever need reconciling


@pytest.fixture
def pool(database_url, twilio_server, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("many workers need PostgreSQL (SKIP LOCKED); SQLite runs one process by design")
    pool = WorkerPool(database_url=database_url, twilio_url=twilio_server.url, account_sid=TWILIO_SID,
                      auth_token=TWILIO_TOKEN, lease_seconds=LEASE, workdir=tmp_path)
    yield pool
    pool.stop_all()


def test_two_workers_send_each_text_exactly_once(pool, twilio_server, make, db_session):
    store = make.store(rate_per_second=1000)  # the shared rate limit is not what is measured here
    bodies = queue_messages(db_session, store_id=store.id, count=MESSAGES, customers=100)
    started = time.monotonic()
    for _ in range(WORKERS):
        pool.start()

    wait_until(lambda: status_counts(db_session)["sent"] == MESSAGES, timeout=DRAIN_TIMEOUT,
               what="all texts sent", pool=pool, poll=0.25)
    elapsed = time.monotonic() - started
    pool.stop_all()

    accepted = accepted_per_body(twilio_server)
    recorded = db_session.execute(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == "sent")).scalar_one()
    print(f"\nmany workers: {WORKERS} workers, {MESSAGES} texts, {sum(accepted.values())} accepted by Twilio, "
          f"{sum(n > 1 for n in accepted.values())} duplicated, {recorded} recorded sent, "
          f"{elapsed:.1f} s ({MESSAGES / elapsed:.0f} texts/s)")
    assert sorted(accepted) == sorted(bodies) and set(accepted.values()) == {1}
    assert status_counts(db_session) == {"sent": MESSAGES}
