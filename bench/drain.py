"""Benchmark: how fast workers drain the outbox against a Twilio that answers in 150 ms.

A Twilio-compatible test server (tests/support/twilio_server.py, in its own process)
answers every message create after CREATE_DELAY. In the same run the benchmark times:

* raw: the bare ``twilio`` library, ``client.messages.create`` for N texts from a
  ThreadPoolExecutor with CONCURRENCY calls in flight (the same http client smsdesk uses);
* ``smsdesk worker`` processes (``[scheduler] concurrency = CONCURRENCY``) draining N
  queued texts: one worker on SQLite, one and two workers on PostgreSQL.

A worker's time runs from the moment the texts become due (the workers are already up)
until the last one is recorded ``sent``. Each run starts from empty tables. It prints

    RATIO drain_1worker_vs_raw_<db> <worker texts/s over raw texts/s>   goal >= 0.8
    RATIO drain_2w_over_1w_pg <two workers over one on PostgreSQL>     goal >= 1.7
    RATIO drain <the worse of the two above, each over its goal>      >= 1 means both met

    .venv/bin/python bench/drain.py [--quick] [--texts N] [--concurrency C] [--postgres-url URL]

The PostgreSQL database (default postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_bench)
is created when missing and its tables are dropped and migrated again.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.carts import _empty_tables, _reset_schema
from bench.common import create_postgres_database, throwaway_secret_key
from smsdesk import db
from smsdesk.models import Customer, Direction, Message, MessageStatus, Store, utcnow
from smsdesk.sms.twilio_provider import create_provider
from tests.support.workers import WorkerPool

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_bench"
CREATE_DELAY = 0.15  # seconds the test server takes to answer each create (a real provider's ~150 ms)
CONCURRENCY = 16  # provider calls in flight: raw loop and each worker alike
TEXTS = {"full": 2000, "quick": 300}
ACCOUNT_SID, AUTH_TOKEN = "AC" + "b" * 32, "bench-auth-token"
LEASE = 60.0  # seconds
POLL = 0.05  # seconds between counts of sent texts
START_TIMEOUT = 60.0  # seconds for worker processes to come up
DRAIN_TIMEOUT = 300.0  # seconds
FROM_NUMBER = "+15005550006"
GOALS = {"vs_raw": 0.8, "scale": 1.7}


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    texts = args.texts or TEXTS["quick" if args.quick else "full"]
    create_postgres_database(args.postgres_url)
    throwaway_secret_key()
    with _twilio_server() as twilio_url, tempfile.TemporaryDirectory(prefix="smsdesk-drain-") as scratch:
        work = Path(scratch)
        raw = _raw_rate(twilio_url, texts, args.concurrency)
        print(f"raw twilio loop         {raw:7.1f} texts/s ({texts} texts, {args.concurrency} in flight)", flush=True)
        sqlite_url = f"sqlite:///{work / 'drain.db'}"
        rates = {
            "sqlite_1w": _drain_rate(sqlite_url, twilio_url, work, texts=texts, workers=1,
                                     concurrency=args.concurrency),
            "pg_1w": _drain_rate(args.postgres_url, twilio_url, work, texts=texts, workers=1,
                                 concurrency=args.concurrency),
            "pg_2w": _drain_rate(args.postgres_url, twilio_url, work, texts=texts, workers=2,
                                 concurrency=args.concurrency),
        }
        raw = max(raw, _raw_rate(twilio_url, texts, args.concurrency))  # again: the machine's load drifts
    return _report(raw, rates)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{TEXTS['quick']} texts per run: under a minute")
    parser.add_argument("--texts", type=int, help=f"texts per run (default {TEXTS['full']})")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="calls in flight per worker")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the test server's process
    args = parser.parse_args(argv)
    if args.serve:
        sys.exit(_serve())
    return args


def _report(raw: float, rates: dict[str, float]) -> int:
    print(f"raw twilio loop (best)  {raw:7.1f} texts/s")
    vs_raw = {name: rate / raw for name, rate in rates.items() if name.endswith("_1w")}
    scale = rates["pg_2w"] / rates["pg_1w"]
    for name, ratio in vs_raw.items():
        print(f"RATIO drain_1worker_vs_raw_{name.removesuffix('_1w')} {ratio:.3f}")
    print(f"RATIO drain_2w_over_1w_pg {scale:.3f}")
    print(f"RATIO drain {min(min(vs_raw.values()) / GOALS['vs_raw'], scale / GOALS['scale']):.3f}")
    return 0


# -- the Twilio test server, in its own process so it does not share a GIL with the clients --


class _twilio_server:
    """Runs ``bench/drain.py --serve`` and yields its URL; stops it on exit."""

    def __enter__(self) -> str:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        return self.proc.stdout.readline().strip()  # type: ignore[union-attr]

    def __exit__(self, *exc_info) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=10)


def _serve() -> int:
    from tests.support.twilio_server import TwilioTestServer

    with TwilioTestServer(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as server:
        server.create_delay = CREATE_DELAY
        print(server.url, flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin
    return 0


# -- the baseline: the twilio library alone ------------------------------------------------


def _raw_rate(twilio_url: str, texts: int, concurrency: int) -> float:
    """Texts per second of bare ``messages.create`` calls, ``concurrency`` in flight."""
    client = create_provider(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, api_base=twilio_url).client

    def create(i: int) -> str:
        return client.messages.create(to=_phone(i), from_=FROM_NUMBER, body=_body(i)).sid

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        sids = set(pool.map(create, range(texts)))
    elapsed = time.perf_counter() - started
    assert len(sids) == texts
    return texts / elapsed


# -- smsdesk workers --------------------------------------------------------------------------


def _drain_rate(url: str, twilio_url: str, work: Path, *, texts: int, workers: int, concurrency: int) -> float:
    """Texts per second ``workers`` worker processes take to drain ``texts`` due texts."""
    engine = db.make_engine(url)
    try:
        _reset(engine)
        _queue(engine, texts)
        pool = WorkerPool(database_url=url, twilio_url=twilio_url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                          lease_seconds=LEASE, workdir=work, concurrency=concurrency)
        pool.log.unlink(missing_ok=True)
        try:
            for _ in range(workers):
                pool.start()
            _wait_started(pool, workers)
            elapsed = _time_drain(engine, texts)
        finally:
            pool.stop_all()
    finally:
        engine.dispose()
    rate = texts / elapsed
    label = f"{engine.dialect.name}, {workers} worker{'s' if workers > 1 else ''}"
    print(f"{label:<23} {rate:7.1f} texts/s ({elapsed:.2f} s)", flush=True)
    return rate


_MIGRATED: set[str] = set()


def _reset(engine: Engine) -> None:
    """Empty tables (migrated once per database per run)."""
    key = engine.url.render_as_string(hide_password=False)
    if key not in _MIGRATED:
        _reset_schema(engine)
        _MIGRATED.add(key)
    else:
        _empty_tables(engine)


def _queue(engine: Engine, texts: int) -> None:
    """One store, ``texts`` customers with one order text each, not due yet."""
    now = utcnow()
    later = now + timedelta(days=1)
    with engine.begin() as conn:
        store_id = conn.execute(insert(Store.__table__).returning(Store.id), {
            "slug": "bench", "name": "Acme Outfitters", "platform": "generic", "webhook_secret": "bench",
            "from_number": FROM_NUMBER, "country": "US", "timezone": "America/New_York",
            "rate_per_second": 1000.0, "help_text": "", "created_at": now}).scalar_one()
        conn.execute(insert(Customer.__table__), [{"store_id": store_id, "phone": _phone(i), "created_at": now}
                                                  for i in range(texts)])
        customer_ids = list(conn.scalars(select(Customer.id).order_by(Customer.id)))
        conn.execute(insert(Message.__table__), [
            {"store_id": store_id, "customer_id": customer_id, "direction": Direction.OUT, "kind": "order_shipped",
             "body": _body(i), "status": MessageStatus.QUEUED, "due_at": later, "validity_seconds": 3600,
             "created_at": now, "updated_at": now}
            for i, customer_id in enumerate(customer_ids)])
    _analyze(engine)


def _analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def _wait_started(pool: WorkerPool, workers: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while _log_text(pool).count("worker started") < workers:
        if time.monotonic() > deadline or len(pool.alive) < workers:
            raise SystemExit(f"workers did not start:\n{pool.log_tail()}")
        time.sleep(POLL)


def _log_text(pool: WorkerPool) -> str:
    return pool.log.read_text(errors="replace") if pool.log.exists() else ""


def _time_drain(engine: Engine, texts: int) -> float:
    """Make every text due now; seconds until all are ``sent``."""
    with engine.begin() as conn:
        conn.execute(update(Message).values(due_at=utcnow()))
    started = time.perf_counter()
    deadline = started + DRAIN_TIMEOUT
    while _sent(engine) < texts:
        if time.perf_counter() > deadline:
            raise SystemExit(f"only {_sent(engine)} of {texts} texts sent in {DRAIN_TIMEOUT:.0f} s")
        time.sleep(POLL)
    return time.perf_counter() - started


def _sent(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Message).where(Message.status == MessageStatus.SENT)) or 0


def _phone(i: int) -> str:
    return f"+1502555{i:04d}"


def _body(i: int) -> str:
    return f"Acme Outfitters: your order #{1000 + i} has shipped. Track it: https://t.example/{i}"


if __name__ == "__main__":
    sys.exit(main())
