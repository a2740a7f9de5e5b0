"""Benchmark: scale-out of the web tier, N gunicorn instances on one PostgreSQL (issue 11).

It fills a PostgreSQL database (CONVERSATIONS conversations, ten texts each, an agent with an
API token), then serves it with the production command (``gunicorn -w 2 -k sync
'smsdesk.app:create_app()'``, the scheduler off: workers are separate processes) and drives
``GET /api/conversations`` (the inbox's first page, the agents' most frequent request) with wrk:

  one instance   wrk -c 8 against it
  two instances  on two ports, wrk -c 4 against each at the same time (what a round-robin load
                 balancer in front of them would hand each), throughputs added

taking turns, ROUNDS times. The last line is ``RATIO scaleout_2web_over_1web <value>``: the best
two-instance throughput over the best one-instance one. Workers (M): bench/drain.py measures one
against two ``smsdesk worker`` processes on one PostgreSQL.

    .venv/bin/python bench/scaleout.py [--database-url URL] [--quick]

Default database: postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_scaleout_bench (created
when missing). Needs ``wrk``. --quick: 1,000 conversations, one 4-second round each.
"""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import inbox
from bench.carts import _empty_tables, _reset_schema, _settle
from bench.common import create_postgres_database, parse_args
from bench.ingest import ROOT, WRK_TIMEOUT, Run, _free_port, _parse_wrk, _wait_for_port
from smsdesk import crypto, db
from smsdesk.services.auth import create_token

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_scaleout_bench"
FULL = {"conversations": 20_000, "seconds": 10, "rounds": 3}
QUICK = {"conversations": 1_000, "seconds": 4, "rounds": 1}
CONNECTIONS = 8  # in all, as in bench/ingest.py
GUNICORN = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "--chdir", str(ROOT)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__)
    plan = QUICK if args.quick else FULL
    url = args.database_url or POSTGRES_URL
    if not url.startswith("postgresql"):
        raise SystemExit("scale-out is for PostgreSQL (several processes on one SQLite file queue on its lock)")
    crypto.configure([inbox.KEY])
    token = _filled(url, plan["conversations"])
    env = {**os.environ, "SMSDESK_DATABASE_URL": url, "SMSDESK_SMS_PROVIDER": "simulator",
           "SMSDESK_SERVER_SECRET_KEY": "bench-secret-key", "SMSDESK_SECURITY_SECRET_KEYS": inbox.KEY,
           "SMSDESK_SCHEDULER_ENABLED": "false"}
    ports = [_free_port(), _free_port()]
    processes = [subprocess.Popen([*GUNICORN, "-b", f"127.0.0.1:{port}", "smsdesk.app:create_app()"], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    try:
        for port in ports:
            _wait_for_port(port, timeout=180)  # gunicorn boots slowly on a loaded machine
        best: dict[int, Run] = {}
        for _ in range(plan["rounds"]):
            for instances in (1, 2):
                run = _drive(ports[:instances], token, plan["seconds"])
                print(f"{instances} instance(s): {run.rps:7.1f} req/s  p50 {run.p50_ms:6.1f} ms"
                      f"  p99 {run.p99_ms:6.1f} ms  failed {run.failed}", flush=True)
                if run.failed:
                    raise SystemExit("some requests failed")
                if instances not in best or run.rps > best[instances].rps:
                    best[instances] = run
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    print(f"best: one instance {best[1].rps:.1f} req/s, two instances {best[2].rps:.1f} req/s "
          f"(cores on this machine: {os.cpu_count()})")
    print(f"RATIO scaleout_2web_over_1web {best[2].rps / best[1].rps:.3f}")
    return 0


def _filled(url: str, conversations: int) -> str:
    """A freshly filled database; returns an API token of an agent of its store."""
    create_postgres_database(url)
    engine = db.make_engine(url)
    try:
        _reset_schema(engine)
        _empty_tables(engine)
        inbox._fill(engine, conversations)
        _settle(engine)
        with db.make_session_factory(engine).begin() as session:
            return create_token(session, inbox._agent(session))
    finally:
        engine.dispose()


def _drive(ports: list[int], token: str, seconds: int) -> Run:
    """wrk against each port at once, CONNECTIONS shared out; throughputs added, the worse p99."""
    each = CONNECTIONS // len(ports)
    with ThreadPoolExecutor(len(ports)) as pool:
        runs = list(pool.map(lambda port: _parse_wrk(_wrk(port, token, each, seconds)), ports))
    return Run(rps=sum(r.rps for r in runs), p50_ms=max(r.p50_ms for r in runs), p99_ms=max(r.p99_ms for r in runs),
               max_ms=max(r.max_ms for r in runs), failed=sum(r.failed for r in runs),
               timeouts=sum(r.timeouts for r in runs))


def _wrk(port: int, token: str, connections: int, seconds: int) -> str:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout",
               f"{WRK_TIMEOUT}s", "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}/api/conversations"]
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)") from None


if __name__ == "__main__":
    sys.exit(main())
