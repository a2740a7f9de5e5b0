"""Many workers, one database (DESIGN §1), on SQLite and PostgreSQL alike.

Four ``smsdesk worker`` processes drain 500 texts through a slow Twilio test server (each
create answered after a random 0.3-1.5 s, so claims of a busy worker would outlive a short
lease if it claimed more than it can start), with a 5 s lease. Twilio must take each text
exactly once: without and with workers SIGKILLed (and restarted) again and again.
"""
from __future__ import annotations

import random
import time

import pytest

from tests.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.support.workers import WorkerPool, accepted_per_body, queue_messages, status_counts, wait_until

pytestmark = pytest.mark.slow

MESSAGES = 500
WORKERS = 4
CONCURRENCY = 12  # provider calls in flight per worker
LEASE = 5.0  # seconds
CREATE_DELAY = (0.3, 1.5)  # seconds Twilio takes to answer each create
DRAIN_TIMEOUT = 60.0  # seconds
KILL_EVERY = (1.0, 2.5)  # seconds between SIGKILLs of a random worker (restarted at once)


@pytest.fixture
def pool(database_url, twilio_server, tmp_path):
    pool = WorkerPool(database_url=database_url, twilio_url=twilio_server.url, account_sid=TWILIO_SID,
                      auth_token=TWILIO_TOKEN, lease_seconds=LEASE, workdir=tmp_path, concurrency=CONCURRENCY)
    yield pool
    pool.stop_all()


@pytest.fixture
def slow_twilio(twilio_server):
    twilio_server.create_delay_range = CREATE_DELAY
    return twilio_server


def test_four_workers_send_each_text_exactly_once(pool, slow_twilio, make, db_session, database_url):
    bodies = queue_texts(make, db_session)
    started = time.monotonic()
    for _ in range(WORKERS):
        pool.start()

    wait_until(lambda: status_counts(db_session)["sent"] == MESSAGES, timeout=DRAIN_TIMEOUT,
               what="all texts sent", pool=pool, poll=0.25)
    elapsed = time.monotonic() - started
    pool.stop_all()

    report("many workers", database_url, elapsed, slow_twilio, kills=0)
    assert_exactly_once(slow_twilio, bodies, db_session)


def test_sigkilled_workers_still_send_each_text_exactly_once(pool, slow_twilio, make, db_session, database_url):
    bodies = queue_texts(make, db_session)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    started = time.monotonic()
    for _ in range(WORKERS):
        pool.start()

    kills = 0
    while len(accepted_per_body(slow_twilio)) < MESSAGES * 0.9 and time.monotonic() - started < DRAIN_TIMEOUT:
        time.sleep(rng.uniform(*KILL_EVERY))
        pool.kill(rng.choice(pool.alive))
        pool.start()
        kills += 1
    wait_until(lambda: status_counts(db_session)["sent"] == MESSAGES, timeout=DRAIN_TIMEOUT,
               what=f"all texts sent (seed {seed})", pool=pool, poll=0.25)
    elapsed = time.monotonic() - started
    pool.stop_all()

    report(f"killed workers (seed {seed})", database_url, elapsed, slow_twilio, kills=kills)
    assert kills >= 5
    assert_exactly_once(slow_twilio, bodies, db_session)


def queue_texts(make, db_session) -> list[str]:
    store = make.store(rate_per_second=1000)  # the shared rate limit is not what is measured here
    return queue_messages(db_session, store_id=store.id, count=MESSAGES, customers=MESSAGES)


def report(name: str, database_url: str, elapsed: float, server, *, kills: int) -> None:
    accepted = accepted_per_body(server)
    print(f"\n{name} [{database_url.split(':')[0]}]: {WORKERS} workers x {CONCURRENCY} threads, "
          f"{MESSAGES} texts, {kills} SIGKILLs, {sum(accepted.values())} accepted by Twilio, "
          f"{sum(n > 1 for n in accepted.values())} duplicated, {elapsed:.1f} s ({MESSAGES / elapsed:.1f} texts/s)")


def assert_exactly_once(server, bodies: list[str], db_session) -> None:
    accepted = accepted_per_body(server)
    duplicated = {body: n for body, n in accepted.items() if n > 1}
    assert duplicated == {}
    assert sorted(accepted) == sorted(bodies)
    assert status_counts(db_session) == {"sent": MESSAGES}
