"""Crash safety (DESIGN §1): workers killed with SIGKILL mid-drain neither lose nor double a text.

A real ``smsdesk worker`` subprocess drains 300 texts through the Twilio test server and is
killed at random points, again and again; the Twilio test server answers every send after
a short delay, so many kills land between "Twilio took it" and "we recorded it". Reconcile
must then find those texts at Twilio instead of sending them again.
"""
from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import func, select

from smsdesk.models import AuditEvent, Message
from tests.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.support.workers import WorkerPool, accepted_per_body, queue_messages, status_counts, wait_until

pytestmark = pytest.mark.slow

MESSAGES = 500  # enough that 20 short worker lives (4 sends in flight, 4 more claimed ahead) do not use them all up
KILLS = 20
LEASE = 1.0  # seconds: short, so reconcile picks up a killed worker's texts quickly
SEND_DELAY = 0.03  # seconds Twilio "works" on each send after taking it: the crash window
MAX_LIFETIME = 0.25  # seconds a worker may send before it is killed (after its first send)
PROGRESS_TIMEOUT = 15.0  # seconds a restarted worker has to send (or reconcile) something


@pytest.fixture
def pool(database_url, twilio_server, tmp_path):
    pool = WorkerPool(database_url=database_url, twilio_url=twilio_server.url, account_sid=TWILIO_SID,
                      auth_token=TWILIO_TOKEN, lease_seconds=LEASE, workdir=tmp_path)
    yield pool
    pool.stop_all()


def test_sigkilled_workers_send_every_text_exactly_once(pool, twilio_server, make, db_session, database_url):
    store = make.store(rate_per_second=1000)
    bodies = queue_messages(db_session, store_id=store.id, count=MESSAGES, customers=MESSAGES)
    twilio_server.create_delay = SEND_DELAY
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    started = time.monotonic()

    kills = kill_repeatedly(pool, twilio_server, rng)
    pool.start()
    wait_until(lambda: status_counts(db_session)["sent"] == MESSAGES, timeout=90, what="all texts sent", pool=pool)
    pool.stop_all()

    accepted = accepted_per_body(twilio_server)
    reconciled = db_session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "sent", AuditEvent.source == "reconcile"))
    print(f"\ncrash test [{database_url.split(':')[0]}] seed={seed}: {kills} SIGKILLs, {MESSAGES} texts, "
          f"{sum(accepted.values())} accepted by Twilio, {len(accepted)} distinct, "
          f"{sum(n > 1 for n in accepted.values())} duplicated, {reconciled} recovered by reconcile, "
          f"{time.monotonic() - started:.1f} s")
    assert kills >= KILLS
    assert reconciled > 0  # some kills landed between "Twilio took it" and our commit (~1 in 2 do)
    assert sorted(accepted) == sorted(bodies) and set(accepted.values()) == {1}
    assert_rows_match_twilio(db_session, twilio_server)


def kill_repeatedly(pool: WorkerPool, twilio_server, rng: random.Random) -> int:
    """Start a worker, let it send a little, SIGKILL it; KILLS times (or until all are out)."""
    kills = 0
    while kills < KILLS:
        before = len(twilio_server.messages)
        if before >= MESSAGES:
            break
        proc = pool.start()
        wait_until(lambda before=before, proc=proc: len(twilio_server.messages) > before or proc.poll() is not None,
                   timeout=PROGRESS_TIMEOUT, what="a restarted worker to send", pool=pool)
        time.sleep(rng.uniform(0, MAX_LIFETIME))
        pool.kill(proc)
        kills += 1
    return kills


def assert_rows_match_twilio(db_session, twilio_server) -> None:
    """Every row holds the sid Twilio gave its text, and no sid twice."""
    sid_by_body = {message["body"]: message["sid"] for message in twilio_server.messages}
    rows = db_session.execute(select(Message.body, Message.provider_sid)).all()
    assert {body: sid for body, sid in rows} == sid_by_body
