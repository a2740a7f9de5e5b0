"""Benchmark: a webhook is answered after one durable write, close to the cost of a bare POST.

For each database it starts, under the same gunicorn command (README's production command:
2 gthread workers of 8 threads), smsdesk (``SMSDESK_SCHEDULER_ENABLED=false``, with one
``smsdesk worker`` process beside it applying the recorded events, as README's deployment
section runs it) and a bare Flask app whose POST
route reads the body and answers ``{"status": "accepted"}``. ``wrk`` drives both at
concurrency 8 with signed ~5.5 KB Shopify orders/create webhooks (ORDERS distinct orders,
every request a new ``X-Shopify-Event-Id``), alternating bare and smsdesk runs so both see the
same background load. A third server, smsdesk with the delivery's insert left out
(``unwritten_app``), shows what the door's validation alone costs: the ratio smsdesk could reach
with a free durable write and no apply worker. It prints req/s, p50 and p99 of each run, how many deliveries were still
waiting to be applied when the load stopped and how long the worker took to catch up; then
``RATIO ingest_<db> <smsdesk req/s / bare req/s>`` (median of the rounds) per database and
last ``RATIO ingest <the lower of the two>``.

    .venv/bin/python bench/ingest.py [--database-url URL] [--quick]

Without --database-url it runs on a fresh temporary SQLite file and on a freshly created
postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_ingest_bench. Needs ``wrk``
(Debian: ``apt-get install wrk``). --quick: one 4-second round per database, about a minute.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, func, make_url, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bench.common import count_rows, parse_args, targets, throwaway_secret_key  # noqa: E402
from smsdesk import db  # noqa: E402
from smsdesk.models import WebhookDelivery  # noqa: E402
from smsdesk.services.stores import create_store  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smsdesk_ingest_bench"
DOMAIN = "bench.myshopify.com"
SECRET = "bench-webhook-secret"
ORDERS = 2000  # distinct signed orders; requests cycle through them with new event ids
CONNECTIONS = 8
THREADS = 2  # wrk threads: the machine's cores
FULL = {"rounds": 3, "seconds": 10}
QUICK = {"rounds": 1, "seconds": 4}
WARMUP = 1  # seconds of load before each measured run (imports, pools, page cache)
WRK_TIMEOUT = 10  # seconds; wrk's default (2 s) would leave slower answers out of p99
CATCH_UP_LIMIT = 60.0  # seconds the worker may take to apply the backlog after a run
GUNICORN = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "8", "--chdir", str(ROOT)]
LUA = """
local orders = dofile("%(orders)s")
local n, prefix, threads = 0, "", 0
-- wrk's math.random is not seeded: every run would repeat the last run's event ids (duplicates)
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) prefix = args[1] .. "-" .. wrk.thread:get("id") end
function request()
  n = n + 1
  local order = orders[(n %% #orders) + 1]
  return wrk.format("POST", "/webhooks/shopify", {
    ["Content-Type"] = "application/json", ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Shop-Domain"] = "%(domain)s", ["X-Shopify-Hmac-Sha256"] = order[2],
    ["X-Shopify-Event-Id"] = "evt-" .. prefix .. "-" .. n}, order[1])
end
"""


def unwritten_app() -> Flask:
    """smsdesk with the delivery's insert left out (gunicorn 'bench.ingest:unwritten_app()'): what
    finding the store, verifying, parsing and validating a webhook cost with no database write,
    under the same command. Not a way to run smsdesk: it answers ``accepted`` and records nothing."""
    import webhooks
    from smsdesk.app import create_app

    webhooks._insert = lambda values: True  # type: ignore[attr-defined]
    return create_app()


def bare_app() -> Flask:
    """The baseline: a Flask POST route that reads the body and answers (gunicorn 'bench.ingest:bare_app()')."""
    app = Flask(__name__)

    @app.post("/webhooks/shopify")
    def receive():
        request.get_data()
        return jsonify({"status": "accepted"})

    return app


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float  # wrk corrects its percentiles for the requests a stalled connection did not send:
    # one stall of a second lifts the p99 of a 10 s run to hundreds of ms; the max shows it
    failed: int  # answers other than 2xx, and connection errors
    timeouts: int  # requests wrk gave up on after WRK_TIMEOUT (not in p50/p99)
    requests: int = 0  # answers wrk counted

    def line(self, label: str) -> str:
        return (f"{label:<9} {self.rps:8.0f} req/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:7.1f} ms"
                f"  max {self.max_ms:7.1f} ms  non-2xx {self.failed}  timeouts {self.timeouts}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__, quick_help="one short round per database: under a minute")
    plan = QUICK if args.quick else FULL
    throwaway_secret_key()
    with tempfile.TemporaryDirectory(prefix="smsdesk-ingest-") as scratch:
        script = _write_wrk_script(Path(scratch))
        databases = targets(args.database_url, scratch, sqlite_file="ingest.db", postgres_url=POSTGRES_URL)
        ratios = [_bench_database(label, url, script, plan) for label, url in databases]
    print(f"RATIO ingest {min(ratios):.3f}")
    return 0






def _bench_database(label: str, url: str, script: Path, plan: dict[str, int]) -> float:
    """Alternate bare and smsdesk runs; returns the median of the rounds' smsdesk/bare ratios."""
    fresh_database(url)
    ratios = []
    with _Servers(url) as servers:
        for round_no in range(1, plan["rounds"] + 1):
            bare, _ = _load(servers.bare_port, script, plan["seconds"])
            unwritten, _ = _load(servers.unwritten_port, script, plan["seconds"])
            before = count_rows(url, WebhookDelivery)
            ours, answered = _load(servers.smsdesk_port, script, plan["seconds"])
            backlog, catch_up = _catch_up(url)
            recorded = count_rows(url, WebhookDelivery) - before
            ratios.append(ours.rps / bare.rps)
            print(f"{label} round {round_no}:", flush=True)
            print("  " + bare.line("bare"), flush=True)
            print("  " + ours.line("smsdesk"), flush=True)
            print("  " + unwritten.line("no write") + f"  (ratio {unwritten.rps / bare.rps:.3f}: smsdesk's ceiling "
                  "without its durable write and without the apply worker's share of the cores)", flush=True)
            print(f"  {recorded} new deliveries recorded for {answered} webhooks answered (warm-up included); "
                  f"{backlog} were waiting to be applied when the load stopped, all applied {catch_up:.1f} s later",
                  flush=True)
    ratio = statistics.median(ratios)
    print(f"RATIO ingest_{label} {ratio:.3f}", flush=True)
    return ratio


def fresh_database(url: str) -> None:
    """An empty migrated database with one Shopify store."""
    target = make_url(url)
    if target.get_backend_name() == "postgresql":
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.make_session_factory(engine).begin() as session:
        create_store(session, slug="bench", name="Acme Outfitters", platform="shopify", domain=DOMAIN,
                     webhook_secret=SECRET, from_number="+15005550006", timezone="America/New_York",
                     country="US")
    engine.dispose()


class _Servers:
    """Both gunicorns (same command) and the smsdesk worker, for one database."""

    def __init__(self, url: str):
        self.url = url
        self.bare_port, self.smsdesk_port, self.unwritten_port = _free_port(), _free_port(), _free_port()
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> _Servers:
        env = {**os.environ, "SMSDESK_DATABASE_URL": self.url, "SMSDESK_SMS_PROVIDER": "simulator",
               "SMSDESK_SERVER_SECRET_KEY": "bench-secret-key"}
        self._start([*GUNICORN, "-b", f"127.0.0.1:{self.bare_port}", "bench.ingest:bare_app()"], env)
        self._start([*GUNICORN, "-b", f"127.0.0.1:{self.smsdesk_port}", "smsdesk.app:create_app()"],
                    {**env, "SMSDESK_SCHEDULER_ENABLED": "false"})
        self._start([*GUNICORN, "-b", f"127.0.0.1:{self.unwritten_port}", "bench.ingest:unwritten_app()"],
                    {**env, "SMSDESK_SCHEDULER_ENABLED": "false"})
        self._start([sys.executable, "-m", "smsdesk.cli", "worker"], env)
        for port in (self.bare_port, self.smsdesk_port, self.unwritten_port):
            _wait_for_port(port)
        return self

    def _start(self, command: list[str], env: dict[str, str]) -> None:
        self.processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))

    def __exit__(self, *_exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def _load(port: int, script: Path, seconds: int) -> tuple[Run, int]:
    """Warm up, then one measured wrk run; and the requests answered in both."""
    warm = _parse_wrk(_wrk(port, script, WARMUP))
    run = _parse_wrk(_wrk(port, script, seconds))
    return run, warm.requests + run.requests


def _wrk(port: int, script: Path, seconds: int) -> str:
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency",
               "--timeout", f"{WRK_TIMEOUT}s",
               "-s", str(script), f"http://127.0.0.1:{port}", "--", uuid.uuid4().hex]  # the run's event ids
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)") from None


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _parse_wrk(output: str) -> Run:
    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M).groups()  # type: ignore[union-attr]
        return float(value) * UNITS_MS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    most, unit = re.search(r"^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\s", output, re.M).groups()  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = dict(re.findall(r"(connect|read|write|timeout) (\d+)", output))
    failed = sum(int(errors.get(kind, 0)) for kind in ("connect", "read", "write"))
    failed += int(non_2xx.group(1)) if non_2xx else 0
    answered = re.search(r"(\d+) requests in", output)
    return Run(rps=rps, p50_ms=latency("50"), p99_ms=latency("99"), max_ms=float(most) * UNITS_MS[unit],
               failed=failed, timeouts=int(errors.get("timeout", 0)),
               requests=int(answered.group(1)) if answered else 0)


def _catch_up(url: str) -> tuple[int, float]:
    """Deliveries still ``received`` when the load stopped, and seconds until none are."""
    engine = db.make_engine(url, sqlite_begin="DEFERRED")
    started = time.monotonic()
    try:
        backlog = waiting = _received(engine)
        while waiting and time.monotonic() - started < CATCH_UP_LIMIT:
            time.sleep(0.1)
            waiting = _received(engine)
        if waiting:
            raise SystemExit(f"{waiting} deliveries still unapplied {CATCH_UP_LIMIT:.0f} s after the load")
        return backlog, time.monotonic() - started
    finally:
        engine.dispose()


def _received(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(WebhookDelivery)
                           .where(WebhookDelivery.status == "received")) or 0


def _write_wrk_script(scratch: Path) -> Path:
    """The wrk script and its data: ORDERS signed order bodies as Lua long strings."""
    data = scratch / "orders.lua"
    rows = []
    for n in range(ORDERS):
        body = json.dumps(shopify_order(n), separators=(",", ":"))
        signature = base64.b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()
        rows.append(f"{{[==[{body}]==], \"{signature}\"}}")
    data.write_text("return {\n" + ",\n".join(rows) + "\n}\n")
    script = scratch / "ingest.lua"
    script.write_text(LUA % {"orders": data, "domain": DOMAIN})
    return script


def shopify_order(n: int) -> dict:
    """An orders/create body shaped like Shopify's (REST 2025-07), about 5.5 KB."""
    order_id = 5_000_000_000 + n
    phone = f"+1502459{n % 10_000:04d}"
    address = {"first_name": "Bob", "last_name": "Norman", "address1": "Chestnut Street 92", "address2": "",
               "city": "Louisville", "province": "Kentucky", "province_code": "KY", "country": "United States",
               "country_code": "US", "zip": "40202", "phone": phone, "company": None, "latitude": 38.25,
               "longitude": -85.75, "name": "Bob Norman"}
    items = [{"id": order_id * 10 + i, "admin_graphql_api_id": f"gid://shopify/LineItem/{order_id * 10 + i}",
              "variant_id": 39072856 + i, "product_id": 632910392 + i, "title": f"Wool Mittens {i}",
              "variant_title": "Large / Red", "name": f"Wool Mittens {i} - Large / Red", "sku": f"MIT-{i}-LR",
              "vendor": "Acme", "quantity": 1, "current_quantity": 1, "requires_shipping": True, "taxable": True,
              "gift_card": False, "fulfillable_quantity": 1, "fulfillment_status": None, "grams": 200,
              "price": "19.95", "total_discount": "0.00", "product_exists": True, "properties": [],
              "price_set": {"shop_money": {"amount": "19.95", "currency_code": "USD"},
                            "presentment_money": {"amount": "19.95", "currency_code": "USD"}},
              "tax_lines": [{"title": "KY State Tax", "price": "1.20", "rate": 0.06}]}
             for i in range(5)]
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#{1000 + n}",
        "order_number": 1000 + n, "email": f"bob{n}@example.com", "phone": None, "created_at":
        "2026-11-25T10:00:00-05:00", "updated_at": "2026-11-25T10:00:01-05:00", "currency": "USD",
        "presentment_currency": "USD", "total_price": "105.75", "subtotal_price": "99.75",
        "current_total_price": "105.75", "total_tax": "6.00", "total_discounts": "0.00",
        "financial_status": "paid", "fulfillment_status": None, "confirmed": True, "test": False,
        "buyer_accepts_marketing": False, "buyer_accepts_sms_marketing": False, "source_name": "web",
        "checkout_token": f"ct-{order_id}", "token": f"tok-{order_id}", "tags": "", "note": None,
        "order_status_url": f"https://{DOMAIN}/orders/{order_id}/authenticate?key=k{n}",
        "customer": {"id": 207119551 + n, "email": f"bob{n}@example.com", "first_name": "Bob",
                     "last_name": "Norman", "phone": None, "state": "enabled", "verified_email": True,
                     "sms_marketing_consent": None, "default_address": address},
        "billing_address": address, "shipping_address": address, "line_items": items,
        "shipping_lines": [{"id": 369256396, "title": "Standard", "price": "0.00", "code": "Standard"}],
    }


if __name__ == "__main__":
    sys.exit(main())
