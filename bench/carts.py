"""Benchmark: one sweep of the sender costs what is due, not what is pending (DESIGN §1).

For each database it bulk-inserts PENDING pending cart reminders (with their customers
and checkouts, SQLAlchemy Core executemany), makes DUE of them due, and times the real
sender job (``jobs.send_due.send_due`` with the simulator provider: claim, compliance,
provider call, record). It does that with 1,000,000 and with 10,000 pending and prints
both timings; the last line is ``RATIO sweep_1m_over_10k <value>`` (the worst database),
which stays near 1 when a sweep is an index range scan over what is due.

    .venv/bin/python bench/carts.py [--database-url URL] [--quick]

Without --database-url it runs on a temporary SQLite file and on
postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_bench (created when missing).
--quick scales everything down (50,000 vs 500 pending, 100 due) to finish in under
a minute.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.common import parse_args, targets, throwaway_secret_key
from jobs.send_due import send_due
from smsdesk import db
from smsdesk.models import (
    Base,
    Checkout,
    Customer,
    Direction,
    Message,
    MessageStatus,
    Store,
    utcnow,
)
from smsdesk.services.checkouts import dedupe_key
from smsdesk.services.segments import segment_info
from smsdesk.sms.simulator import SimulatorProvider

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_bench"
FULL = {"big": 1_000_000, "small": 10_000, "due": 1_000}
QUICK = {"big": 50_000, "small": 500, "due": 100}
CHUNK = 20_000  # rows per executemany call
# Sweeps per size; the fastest is reported: on a shared machine noise only ever adds time
# (other processes, fsync latency), so the minimum is the steadiest estimate of the cost.
REPEATS = 5
RATE = 1000.0  # texts per second: the highest rate a store may set, so the limiter never waits here
BODY = ("Acme Outfitters: Hi Emma, you left Wool Mittens in your cart. Complete your order: "
        "https://shop.example.com/cart/r/{token} Reply STOP to opt out.")
ITEMS = [{"title": "Wool Mittens", "quantity": 1}]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__)
    sizes = QUICK if args.quick else FULL
    throwaway_secret_key()
    with tempfile.TemporaryDirectory(prefix="smsdesk-bench-") as scratch:
        databases = targets(args.database_url, scratch, sqlite_file="bench.db", postgres_url=POSTGRES_URL)
        ratios = [_bench_database(label, url, sizes) for label, url in databases]
    print(f"RATIO sweep_1m_over_10k {max(ratios):.3f}")
    return 0








def _bench_database(label: str, url: str, sizes: dict[str, int]) -> float:
    """Time the sweep with the small and the big backlog; returns big / small."""
    engine = db.make_engine(url)
    try:
        _reset_schema(engine)
        timings = {}
        for name in ("small", "big"):
            timings[name] = _bench_size(engine, pending=sizes[name], due=sizes["due"])
            print(f"{label:<10} pending={sizes[name]:>9,} due={sizes['due']:>5,} "
                  f"sweep={timings[name]:.3f}s (best of {REPEATS})", flush=True)
    finally:
        engine.dispose()
    ratio = timings["big"] / timings["small"]
    print(f"{label:<10} ratio {ratio:.3f}", flush=True)
    return ratio


def _reset_schema(engine: Engine) -> None:
    """Start from an empty, migrated schema (the way ``smsdesk init`` builds it)."""
    db.rebuild(engine)


def _bench_size(engine: Engine, *, pending: int, due: int) -> float:
    """Fill the outbox with ``pending`` reminders, ``due`` of them due; fastest sweep in seconds."""
    _empty_tables(engine)
    started = time.perf_counter()
    now = utcnow()
    store_id = _insert_store(engine)
    _bulk_insert(engine, store_id, pending, now)
    due_ids = _pick_due(pending, due)
    _settle(engine)
    print(f"  filled {pending:,} pending reminders in {time.perf_counter() - started:.1f}s", flush=True)
    sessions, provider = db.make_session_factory(engine), SimulatorProvider()
    timings = []
    for _ in range(REPEATS):
        _make_due(engine, due_ids)
        started = time.perf_counter()
        calls = send_due(sessions, provider, status_callback=None)
        timings.append(time.perf_counter() - started)
        if calls != due:
            raise SystemExit(f"expected {due} texts sent, the sweep sent {calls}")
    print(f"  sweeps {' '.join(f'{t:.3f}' for t in timings)}s (median {statistics.median(timings):.3f}s)",
          flush=True)
    return min(timings)


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


def _insert_store(engine: Engine) -> int:
    """One store; quiet hours off and UK customers (no US legal floor, one clock) so every due
    reminder takes the full send path whenever the benchmark runs (a deferral would skip the
    provider call and the recording)."""
    with engine.begin() as conn:
        return conn.execute(insert(Store.__table__).returning(Store.id), {
            "slug": "bench", "name": "Acme Outfitters", "platform": "shopify", "webhook_secret": "bench",
            "from_number": "+15005550006", "country": "GB", "timezone": "Europe/London",
            "quiet_hours": "00:00-00:00", "rate_per_second": RATE, "help_text": "", "created_at": utcnow(),
        }).scalar_one()


def _bulk_insert(engine: Engine, store_id: int, count: int, now: datetime) -> None:
    """Customers, checkouts and one scheduled reminder each (ids 1..count), in chunks."""
    for first in range(1, count + 1, CHUNK):
        ids = range(first, min(first + CHUNK, count + 1))
        with engine.begin() as conn:
            conn.execute(insert(Customer.__table__), [_customer(i, store_id, now) for i in ids])
            conn.execute(insert(Checkout.__table__), [_checkout(i, store_id, now) for i in ids])
            conn.execute(insert(Message.__table__), [_reminder(i, store_id, now) for i in ids])


def _phone(i: int) -> str:
    return f"+4474{i:08d}"  # UK mobiles: Europe/London and the Crown dependencies share one clock


def _customer(i: int, store_id: int, now: datetime) -> dict:
    return {"id": i, "store_id": store_id, "phone": _phone(i), "first_name": "Emma",
            "last_name": "", "email": "", "marketing_consent": True, "opted_out": False, "created_at": now}


def _checkout(i: int, store_id: int, now: datetime) -> dict:
    return {"id": i, "store_id": store_id, "token": f"tok-{i}", "customer_id": i, "phone": _phone(i),
            "marketing_consent": True, "recovery_url": f"https://shop.example.com/cart/r/tok-{i}",
            "total": "54.00", "currency": "USD", "items": ITEMS, "status": "open",
            "started_at": now, "last_activity_at": now}


def _reminder(i: int, store_id: int, now: datetime) -> dict:
    """A first reminder due some time in the coming day (none due yet)."""
    body = BODY.format(token=f"tok-{i}")
    info = segment_info(body)
    return {"id": i, "store_id": store_id, "customer_id": i, "direction": Direction.OUT,
            "kind": "cart_reminder_1", "body": body, "status": MessageStatus.SCHEDULED, "reason": None,
            "marketing": True, "due_at": now + timedelta(minutes=10 + i % 1440), "attempts": 0,
            "dedupe_key": dedupe_key(store_id, f"tok-{i}", "cart_reminder_1"), "segments": info.segments,
            "encoding": info.encoding, "validity_seconds": 3600, "checkout_id": i,
            "created_at": now, "updated_at": now}


def _pick_due(pending: int, due: int) -> list[int]:
    """``due`` ids spread evenly over the table (not a cluster at its start or end)."""
    step = pending // due
    return [1 + n * step for n in range(due)]


def _make_due(engine: Engine, ids: list[int]) -> None:
    """(Re)arm the chosen reminders: pending and due a minute ago, as if never sent."""
    with engine.begin() as conn:
        conn.execute(update(Message).where(Message.id.in_(ids)).values(
            status=MessageStatus.QUEUED, due_at=utcnow() - timedelta(minutes=1), provider_sid=None, sent_at=None,
            attempts=0, attempted_at=None, claimed_until=None, slot_at=None, reason=None))


def _settle(engine: Engine) -> None:
    """Bring the freshly filled database to the steady state a backlog built up over days has:
    planner statistics, visibility map and dirty pages written out, so neither autovacuum
    nor a checkpoint of the bulk insert runs during the timed sweeps."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        raw = engine.raw_connection()  # outside a transaction: a checkpoint cannot run inside one
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


if __name__ == "__main__":
    sys.exit(main())
