"""PostgreSQL's click writer: a child process fed by a pipe (services/click_relay.py), run for
real against the test database."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from smsdesk.models import LinkClick, LinkSettings, ShortLink, utcnow
from smsdesk.services.click_relay import ClickRelay, click_line, conninfo
from smsdesk.services.clicks import Target, click_row
from smsdesk.services.outbox import enqueue_text
from tests.conftest import PUBLIC_URL

NO_DATABASE = Target(1, "https://shop.example.com/cart", 2, 3, 4)  # for children that never write
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Mobile/15E148 Safari/604.1"


@pytest.fixture
def target(engine, make, db_session):
    """A short link's target, on PostgreSQL only (SQLite's clicks are written by a thread)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the click relay is PostgreSQL's; SQLite's writer is tests/web/test_short_links.py's")
    store = make.store()
    db_session.add(LinkSettings(store_id=store.id, short_links=True, base_url=PUBLIC_URL))
    message = enqueue_text(db_session, store=store, customer=make.customer(store), kind="cart_reminder_1",
                           body="Cart: https://shop.example.com/cart/recover/8f3a")
    db_session.commit()
    link = db_session.scalar(select(ShortLink).where(ShortLink.message_id == message.id))
    return Target(link.id, link.url, link.message_id, link.store_id, link.customer_id)


@pytest.fixture
def relay(engine, target):
    relay = ClickRelay(conninfo(engine.url))
    yield relay
    relay.close()


def _click(target: Target) -> dict:
    return click_row(target, at=utcnow(), user_agent=IPHONE)


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(LinkClick)) or 0


def _wait_for(engine, count: int, seconds: float = 10) -> int:
    deadline = time.monotonic() + seconds
    while (found := _count(engine)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_click_line_is_copy_text_format():
    row = {"link_id": 7, "message_id": 8, "store_id": 9, "customer_id": 10, "device": "ios",
           "clicked_at": utcnow().replace(year=2026, month=12, day=4, hour=11, minute=2, second=3, microsecond=45)}
    assert click_line(row) == b"7\t8\t9\t10\t2026-12-04T11:02:03.000045+00:00\tios\n"


def test_the_connection_string_keeps_password_port_and_options():
    url = make_url("postgresql+psycopg://shop:p%40ss%20w@db.internal:6432/smsdesk?sslmode=require")
    assert conninfo_to_dict(conninfo(url)) == {
        "host": "db.internal", "port": "6432", "dbname": "smsdesk", "user": "shop", "password": "p@ss w",
        "sslmode": "require"}


def test_clicks_are_written_by_a_child_process_once_each(engine, relay, target):
    for _ in range(250):
        relay.record(_click(target))
    assert relay.flush(15)
    assert _count(engine) == 250
    relay.record(_click(target))  # a new child after the flush
    assert relay.flush(15) and _count(engine) == 251
    with engine.connect() as conn:
        clicked = conn.execute(select(LinkClick.link_id, LinkClick.customer_id, LinkClick.device).distinct()).all()
    assert clicked == [(target.link_id, target.customer_id, "ios")]


def test_a_dropped_connection_is_replaced(engine, relay, target):
    relay.record(_click(target))
    assert _wait_for(engine, 1) == 1
    with engine.connect() as conn:
        ended = conn.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE application_name = 'smsdesk-clicks' AND datname = current_database()"))
    assert ended == 1
    relay.record(_click(target))
    assert relay.flush(15) and _count(engine) == 2


def test_clicks_wait_while_the_table_is_locked_and_are_then_written(engine, relay, target):
    with engine.connect() as locker:
        locker.execute(text("LOCK TABLE link_clicks IN SHARE MODE"))  # COPY waits for it
        started = time.monotonic()
        for _ in range(20):
            relay.record(_click(target))
        assert time.monotonic() - started < 1  # record() never waits
        time.sleep(0.5)
        locker.rollback()
    assert relay.flush(15) and _count(engine) == 20


def test_a_refused_click_does_not_take_its_batch_with_it(engine, relay, target):
    relay.record(_click(target))
    relay.record({**_click(target), "device": "x" * 11})  # longer than its column: refused
    relay.record(_click(target))
    assert relay.flush(15)
    assert _count(engine) == 2


def test_the_child_outlives_a_sigterm_and_a_killed_parent(engine, target):
    """The child ignores the SIGTERM a process group gets, and writes what it was handed even
    when the web process dies outright (the pipe closes)."""
    script = (
        "import os, sys, time\n"
        "from datetime import datetime, timezone\n"
        "from smsdesk.services.click_relay import ClickRelay\n"
        "relay = ClickRelay(sys.argv[1])\n"
        "row = dict(link_id=LINK, message_id=MESSAGE, store_id=STORE, customer_id=CUSTOMER, device='ios')\n"
        "for _ in range(300):\n"
        "    relay.record({**row, 'clicked_at': datetime.now(timezone.utc)})\n"
        "status = f'/proc/{relay._child.pid}/status'\n"
        "while not int(next(l for l in open(status) if l.startswith('SigIgn')).split()[1], 16) & 1 << 14:\n"
        "    time.sleep(0.01)  # until the child ignores SIGTERM (it is set up)\n"
        "os.kill(relay._child.pid, 15)\n"
        "print(relay._child.pid, flush=True)\n"
        "os._exit(1)  # no atexit, no close: killed outright\n"
    ).replace("LINK", str(target.link_id)).replace("MESSAGE", str(target.message_id)).replace(
        "STORE", str(target.store_id)).replace("CUSTOMER", str(target.customer_id))
    parent = subprocess.run([sys.executable, "-c", script, conninfo(engine.url)], capture_output=True, text=True,
                            timeout=30, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert parent.returncode == 1, parent.stderr
    assert _wait_for(engine, 300) == 300
    child = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)  # it ended once its pipe was closed and drained


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # not a zombie awaiting its reaper


def test_a_stalled_child_costs_clicks_never_a_wait():
    target = NO_DATABASE
    relay = ClickRelay("unused", command=[sys.executable, "-c", "import time; time.sleep(3)"])  # never reads
    started = time.monotonic()
    for _ in range(40_000):  # ~2.9 MB: more than the pipe holds
        relay.record(_click(target))
    assert time.monotonic() - started < 3  # every record() returned at once
    assert 0 < relay.dropped < 40_000
    assert relay.flush(10)



def test_a_child_that_keeps_ending_is_not_restarted_for_every_click():
    target = NO_DATABASE
    relay = ClickRelay("unused", command=[sys.executable, "-c", "pass"])  # ends at once
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        relay.record(_click(target))
        time.sleep(0.01)
    assert relay.started == 1 and relay.dropped > 50  # one start in RESTART_SECONDS, the clicks dropped
    relay.close()
