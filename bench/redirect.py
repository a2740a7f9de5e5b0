"""Short-link redirects (GET /r/<code>) under load, against a bare Flask redirect in the same run.

For each database it starts, under the same gunicorn command as bench/ingest.py (README's
production command: ``gunicorn -k gthread -w 2 --threads 8``), smsdesk and a bare Flask app
whose ``/r/<code>`` answers a 302 to a fixed URL. ``wrk`` drives both with a phone browser's
User-Agent, cycling through LINKS codes, so every smsdesk answer reads a link and queues a
click. After the load the servers stop (SIGTERM, as a deploy does) and the clicks written are
counted against the 302s wrk got.

Prints req/s, p50 and p99 per app and database, ``RATIO redirect_<db> <smsdesk/bare req/s>``
per database, and last ``RATIO redirect <the lower of the two>``. The goal: at least 0.5, and
smsdesk's p99 under 20 ms.

    .venv/bin/python bench/redirect.py [--database-url URL] [--quick]

Without --database-url: a temporary SQLite file and the local PostgreSQL,
postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_redirect_bench (a database of this run's
own, dropped at the end). Needs ``wrk``. --quick: one 4-second round per database.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask import Flask, redirect
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bench.common import count_rows, parse_args, targets, throwaway_secret_key  # noqa: E402
from bench.ingest import GUNICORN, Run, _free_port, _parse_wrk, _wait_for_port, _wrk, fresh_database  # noqa: E402
from smsdesk import db  # noqa: E402
from smsdesk.models import LinkClick, LinkSettings, Store  # noqa: E402
from smsdesk.services.customers import get_or_create_customer  # noqa: E402
from smsdesk.services.outbox import enqueue_text  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_redirect_bench"
TARGET = "https://shop.example.com/cart/recover/8f3a2c9d7e6b5a4c"
LINKS = 1000  # texts with one short link each
FULL = {"rounds": 3, "seconds": 10}
QUICK = {"rounds": 1, "seconds": 4}
PHONE_BROWSER = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
LUA = """
local codes = {%(codes)s}
local n = 0
wrk.headers["User-Agent"] = "%(agent)s"
function request()
  n = n + 1
  return wrk.format("GET", "/r/" .. codes[(n %% #codes) + 1])
end
"""


def bare_app() -> Flask:
    """The baseline: a Flask redirect route (gunicorn 'bench.redirect:bare_app()')."""
    app = Flask(__name__)

    @app.get("/r/<code>")
    def short_link(code: str):
        return redirect(TARGET, 302)

    return app


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__, quick_help="one short round per database: under a minute")
    plan = QUICK if args.quick else FULL
    throwaway_secret_key()
    with tempfile.TemporaryDirectory(prefix="smsdesk-redirect-") as scratch:
        databases = targets(args.database_url, scratch, sqlite_file="redirect.db", postgres_url=POSTGRES_URL)
        ratios = [_bench_database(label, url, Path(scratch), plan) for label, url in databases]
    print(f"RATIO redirect {min(ratios):.3f}")
    return 0


def _bench_database(label: str, url: str, scratch: Path, plan: dict[str, int]) -> float:
    codes = _fill(url)
    script = scratch / f"redirect-{label}.lua"
    script.write_text(LUA % {"codes": ",".join(f'"{c}"' for c in codes), "agent": PHONE_BROWSER})
    ratios, answered = [], 0
    servers = _Servers(url, log=scratch / f"{label}-servers.log")
    with servers:
        for round_no in range(1, plan["rounds"] + 1):
            bare = _run(servers.bare_port, script, plan["seconds"], url)
            ours = _run(servers.smsdesk_port, script, plan["seconds"], url)
            ratios.append(ours.rps / bare.rps)
            answered += ours.requests
            print(f"{label} round {round_no}:", flush=True)
            print("  " + bare.run.line("bare") + f"  probe {bare.probe_ms:6.1f} ms", flush=True)
            print("  " + ours.run.line("smsdesk") + f"  probe {ours.probe_ms:6.1f} ms", flush=True)
    written = count_rows(url, LinkClick)
    print(f"  {written} clicks written for {answered} redirects answered (incl. warm-ups) after a SIGTERM stop",
          flush=True)
    _print_problems(servers.log)
    ratio = statistics.median(ratios)
    print(f"RATIO redirect_{label} {ratio:.3f}", flush=True)
    return ratio


class _Measured:
    def __init__(self, run: Run, requests: int, probe_ms: float):
        self.run, self.requests, self.rps, self.probe_ms = run, requests, run.rps, probe_ms


def _run(port: int, script: Path, seconds: int, url: str) -> _Measured:
    warm = _wrk(port, script, 1)
    with _Probe(url) as probe:
        output = _wrk(port, script, seconds)
    return _Measured(_parse_wrk(output), _parse_wrk(warm).requests + _parse_wrk(output).requests, probe.slowest_ms)


class _Probe:
    """``SELECT 1`` every 2 ms on a connection of its own while wrk runs. Its slowest round trip
    says whether the database itself stalled for every client (a stall that only this run's
    app saw leaves it low): on this 2-core machine PostgreSQL stalls for 0.3-0.8 s now and then
    even while only the bare app is under load (bench/README.md, redirect round 4)."""

    def __init__(self, url: str):
        self.engine = db.make_engine(url, sqlite_begin="DEFERRED")
        self.slowest_ms = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _Probe:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _loop(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.wait(0.002):
                started = time.perf_counter()
                conn.exec_driver_sql("SELECT 1").all()
                self.slowest_ms = max(self.slowest_ms, (time.perf_counter() - started) * 1000)
                conn.rollback()


def _fill(url: str) -> list[str]:
    """A migrated database with one store (short links on) and LINKS texts holding a short link each."""
    fresh_database(url)
    engine = db.make_engine(url)
    with db.make_session_factory(engine).begin() as session:
        store = session.scalars(select(Store)).one()
        session.add(LinkSettings(store_id=store.id, short_links=True, base_url="https://desk.example.com"))
        session.flush()
        codes = []
        for n in range(LINKS):
            customer = get_or_create_customer(session, store_id=store.id, phone=f"+1502459{n:04d}")
            message = enqueue_text(session, store=store, customer=customer, kind="cart_reminder_1",
                                   body=f"Your cart: {TARGET}?n={n}")
            assert message is not None
            codes.append(message.body.rsplit("/r/", 1)[1])
    engine.dispose()
    return codes


def _print_problems(log: Path, limit: int = 30) -> None:
    """The servers' (and click writers') warnings and errors, so a bad round shows its cause."""
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if not re.search(r"\[INFO\]| INFO ", line)]
    for line in lines[:limit]:
        print(f"  server log: {line}", flush=True)
    if len(lines) > limit:
        print(f"  server log: ... {len(lines) - limit} more lines in {log}", flush=True)


class _Servers:
    """Both gunicorns, same command; smsdesk without its scheduler (no worker needed here)."""

    def __init__(self, url: str, *, log: Path):
        self.url, self.log = url, log
        self.bare_port, self.smsdesk_port = _free_port(), _free_port()
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> _Servers:
        env = {**os.environ, "SMSDESK_DATABASE_URL": self.url, "SMSDESK_SMS_PROVIDER": "simulator",
               "SMSDESK_SERVER_SECRET_KEY": "bench-secret-key", "SMSDESK_SCHEDULER_ENABLED": "false"}
        apps = ((self.bare_port, "bench.redirect:bare_app()"), (self.smsdesk_port, "smsdesk.app:create_app()"))
        with self.log.open("ab") as log:  # the children keep their own copies of the descriptor
            for port, app in apps:
                self.processes.append(subprocess.Popen([*GUNICORN, "-b", f"127.0.0.1:{port}", app], cwd=ROOT,
                                                       env=env, stdout=log, stderr=log))
        for port in (self.bare_port, self.smsdesk_port):
            _wait_for_port(port)
        return self

    def __exit__(self, *_exc) -> None:
        for process in self.processes:
            process.terminate()  # gunicorn stops its workers gracefully: queued clicks are written
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
