"""Benchmark: how fast the apply job turns recorded webhook deliveries into orders and texts.

For each database it records N signed-order deliveries the way the webhook door does (the
Shopify adapter parses bench/ingest.py's ~5.5 KB orders/create bodies, one ``received``
delivery row each, N distinct shoppers), then times one in-process run of
``jobs.apply_events.apply_events`` applying all of them (wall and this process's CPU, and the
SQL statements it sent). The baseline, in the same run and database, is a bare insert of the
rows that work ends in (a customer, an order, a conversation and a queued text per delivery:
four executemany INSERTs in one transaction), best of two. It prints deliveries/s of both and

    RATIO apply_<db> <smsdesk deliveries/s / bare rows-sets/s>
    RATIO apply <the lower of the two databases>

    .venv/bin/python bench/apply.py [--quick] [--database-url URL] [--deliveries N] [--profile FILE]

Without --database-url it runs on a fresh temporary SQLite file and on a freshly created
postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_apply_bench. --quick: 500 deliveries
(default 2,000). --profile writes a cProfile of the apply run (the last database's) to FILE.
"""
from __future__ import annotations

import argparse
import cProfile
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, event, func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bench.common import targets, throwaway_secret_key  # noqa: E402
from bench.ingest import DOMAIN, fresh_database, shopify_order  # noqa: E402
from jobs.apply_events import apply_events  # noqa: E402
from smsdesk import db  # noqa: E402
from smsdesk.events import encode  # noqa: E402
from smsdesk.models import (  # noqa: E402
    Conversation,
    Customer,
    Direction,
    Message,
    MessageStatus,
    Order,
    Store,
    WebhookDelivery,
    utcnow,
)
from smsdesk.services.stores import create_store  # noqa: E402
from webhooks.shopify import ShopifyAdapter  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_apply_bench"
DELIVERIES = {"full": 2000, "quick": 500}


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    count = args.deliveries or DELIVERIES["quick" if args.quick else "full"]
    throwaway_secret_key()
    with tempfile.TemporaryDirectory(prefix="smsdesk-apply-") as scratch:
        databases = targets(args.database_url, scratch, sqlite_file="apply.db", postgres_url=POSTGRES_URL)
        ratios = [_bench_database(label, url, count, args.profile) for label, url in databases]
    print(f"RATIO apply {min(ratios):.3f}")
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="one database to use (default: temp SQLite and local PostgreSQL)")
    parser.add_argument("--quick", action="store_true", help="500 deliveries: under a minute")
    parser.add_argument("--deliveries", type=int, help="how many deliveries to apply")
    parser.add_argument("--profile", help="write a cProfile of the apply run to this file")
    return parser.parse_args(argv)


def _bench_database(label: str, url: str, count: int, profile: str | None) -> float:
    fresh_database(url)
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine)
    try:
        bare = min(_bare_insert(sessions, count, slug=f"bare{round_no}") for round_no in (1, 2))
        _record_deliveries(sessions, count)
        with _statements(engine) as sent:
            wall, cpu, applied = _timed_apply(sessions, profile)
        texts = _count(sessions, select(func.count()).select_from(Message))
    finally:
        engine.dispose()
    ours = applied / wall
    print(f"{label}: bare insert of {count} customer+order+conversation+text row sets: {bare:.2f} s "
          f"({count / bare:,.0f}/s)", flush=True)
    print(f"{label}: apply job: {applied} deliveries in {wall:.2f} s ({ours:,.0f}/s), "
          f"CPU {cpu / applied * 1000:.2f} ms "
          f"and {sent[0] / applied:.1f} SQL statements per delivery; {texts} texts queued", flush=True)
    ratio = ours / (count / bare)
    print(f"RATIO apply_{label} {ratio:.3f}", flush=True)
    return ratio


def _record_deliveries(sessions, count: int) -> None:
    """``count`` received orders/create deliveries with their events, as the webhook door records them."""
    adapter, now = ShopifyAdapter(), utcnow()
    with sessions.begin() as session:
        store = session.scalars(select(Store).where(Store.domain == DOMAIN)).one()
        rows = [{"store_id": store.id, "source": "shopify", "delivery_id": f"evt-{n}", "topic": "orders/create",
                 "status": "received", "error": "", "attempts": 0, "next_attempt_at": now, "received_at": now,
                 "events": [encode(e) for e in adapter.parse(store, "orders/create", shopify_order(n))]}
                for n in range(count)]
        session.execute(insert(WebhookDelivery), rows)


def _timed_apply(sessions, profile: str | None) -> tuple[float, float, int]:
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    applied = apply_events(sessions)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return time.perf_counter() - wall, time.process_time() - cpu, applied


def _bare_insert(sessions, count: int, *, slug: str) -> float:
    """Seconds to insert ``count`` customers, orders, conversations and queued texts (a store of their own)."""
    with sessions.begin() as session:
        store = create_store(session, slug=slug, name="Bare", platform="woocommerce", webhook_secret="x" * 32,
                             from_number=None, timezone="America/New_York", country="US")
        store_id = store.id
    started, now = time.perf_counter(), utcnow()
    with sessions.begin() as session:
        phones = [f"+1502459{n % 10_000:04d}" for n in range(count)]
        customers = session.scalars(insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                                    [{"store_id": store_id, "phone": p, "first_name": "Bob"} for p in phones]).all()
        orders = session.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True), [
            {"store_id": store_id, "external_id": str(n), "number": str(1000 + n), "status": "placed",
             "customer_id": c, "phone": p, "total": "105.75", "currency": "USD"}
            for n, (c, p) in enumerate(zip(customers, phones, strict=True))]).all()
        conversations = session.scalars(insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True), [
            {"store_id": store_id, "customer_id": c, "last_message_at": now} for c in customers]).all()
        session.execute(insert(Message), [
            {"store_id": store_id, "customer_id": c, "conversation_id": v, "order_id": o, "direction": Direction.OUT,
             "kind": "order_confirmed", "body": f"Hi Bob, thanks for your order #{1000 + n}!",
             "status": MessageStatus.QUEUED, "due_at": now, "dedupe_key": f"bare:{slug}:{n}"}
            for n, (c, o, v) in enumerate(zip(customers, orders, conversations, strict=True))])
    return time.perf_counter() - started


@contextmanager
def _statements(engine: Engine):
    """Counts the SQL statements sent while inside (one-item list, read after)."""
    sent = [0]

    def count(*_args) -> None:
        sent[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _count(sessions, query) -> int:
    with sessions() as session:
        return session.scalar(query) or 0


if __name__ == "__main__":
    sys.exit(main())
