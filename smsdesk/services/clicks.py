"""Clicks on short links: who counts as a click, and the writer that records them off the
request path.

The redirect (web/short_links.py) answers after one indexed read and hands the click to a
writer that works in batches off the request path (``writer_for``): on SQLite, ClickWriter, a
queue in the process that one thread writes; on PostgreSQL, ClickRelay, a pipe to a writer
process (services/click_relay.py). A busy or locked database (SQLite's writer lock, a
PostgreSQL restart) delays the batch, it never fails the redirect; the batch is retried until
written. On a normal shutdown (atexit: gunicorn's worker exit, ``smsdesk serve`` ending) what
is queued is written before the process ends. What is lost: on SQLite, clicks queued when a
process is killed outright; clicks beyond MAX_QUEUE waiting at once.

Counted: a GET whose User-Agent is not a link-preview bot or a script, and that is no browser
prefetch. HEAD requests, previews (iMessage, WhatsApp, Slack, Facebook, Twitter/X, Telegram,
Discord, LinkedIn, Skype, Google and other crawlers) and requests without a User-Agent redirect
the same but are not counted. No IP address is recorded.
"""
from __future__ import annotations

import atexit
import collections
import functools
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from smsdesk.models import LinkClick
from smsdesk.services.click_relay import ClickRelay, conninfo
from smsdesk.thread_connections import ThreadConnections

log = logging.getLogger(__name__)

BATCH = 500  # clicks per insert
# A batch waits this long for more clicks, for fewer transactions. In bench/redirect.py 5-20 ms
# did about as well as no wait; at 50 ms the redirect's p99 rose from 7 to 17 ms (the thread
# holds the redirects' GIL longer).
GATHER_SECONDS = 0.01
MAX_QUEUE = 100_000  # clicks waiting at once, per process; beyond it they are dropped (and logged)
RETRY_MAX_SECONDS = 2.0  # the longest wait between two tries of a batch the database refused
CLOSE_SECONDS = 10.0  # how long a shutdown waits for the queue to be written
# Link previews and fetchers that are not a person opening the link. iMessage previews as
# "... facebookexternalhit/1.1 Facebot Twitterbot/1.0".
_NOT_A_PERSON = re.compile(
    r"bot\b|bot/|crawler|spider|facebookexternalhit|facebookcatalog|facebot|slack|whatsapp|telegram|discord"
    r"|linkedin|skypeuripreview|pinterest|embedly|iframely|preview|vkshare|headless|curl|wget|python-|"
    r"go-http-client|okhttp|java/|libwww|httpclient|scrapy",
    re.IGNORECASE)


def counts(method: str, headers: Any) -> bool:  # a Mapping, or the request's Headers
    """Whether a request to a short link is a person's click (see the module's docstring)."""
    if method != "GET":
        return False
    if not _a_person(headers.get("User-Agent", "")):
        return False
    purpose = (headers.get("Sec-Purpose", "") + headers.get("Purpose", "") + headers.get("X-Moz", "")).lower()
    return "prefetch" not in purpose and "preview" not in purpose


@functools.lru_cache(maxsize=1024)  # a few browsers' agents make most clicks
def _a_person(agent: str) -> bool:
    return bool(agent.strip()) and not _NOT_A_PERSON.search(agent)


@functools.lru_cache(maxsize=1024)
def device(user_agent: str) -> str:
    """A coarse class of the clicking device (the only thing kept of the User-Agent)."""
    if re.search(r"iPhone|iPad|iPod", user_agent):
        return "ios"
    if "Android" in user_agent:
        return "android"
    if re.search(r"Windows|Macintosh|X11|Linux|CrOS", user_agent):
        return "desktop"
    return "other"


@dataclass(frozen=True)
class Target:
    link_id: int
    url: str
    message_id: int
    store_id: int
    customer_id: int


LOOKUP_SQL = "SELECT id, url, message_id, store_id, customer_id FROM short_links WHERE code = {}"


class LinkReader:
    """Reads links by code: one round trip per redirect, on the thread's own connection
    (smsdesk/thread_connections.py)."""

    def __init__(self, connections: ThreadConnections) -> None:
        self.connections = connections
        self._sql = LOOKUP_SQL.format(connections.placeholder)

    def lookup(self, code: str) -> Target | None:
        row = self.connections.run(lambda cursor: cursor.execute(self._sql, (code,)).fetchone())
        return Target(*row) if row is not None else None


def click_row(target: Target, *, at: datetime, user_agent: str) -> dict:
    return {"link_id": target.link_id, "message_id": target.message_id, "store_id": target.store_id,
            "customer_id": target.customer_id, "clicked_at": at, "device": device(user_agent)}


class ClickWriter:
    """One per process (SQLite): ``record`` queues a click and returns at once; a thread
    writes batches.

    The thread starts on the first click in each process (a gunicorn worker forks after the
    app is built, and threads do not survive a fork). Queueing is an append to a deque, with no
    lock, and the thread is woken only when it sleeps with nothing to write, so a busy redirect
    does not hand the GIL to the writer for every click. The thread then waits GATHER_SECONDS
    for the batch to fill."""

    def __init__(self, engine: Engine, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._engine = engine
        self._sleep = sleep  # between tries of a refused batch
        self._rows: collections.deque[dict] = collections.deque()
        self._wake = threading.Event()  # set by record() while the thread sleeps
        self._busy = False  # the thread is gathering or writing: record() need not wake it
        self._written = threading.Condition()  # notified when the thread goes idle
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopping = False
        self._closing = False
        self.dropped = 0

    def record(self, row: dict) -> None:
        """Queue one click; never blocks, never raises."""
        try:
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._start()
            if len(self._rows) >= MAX_QUEUE:
                self._drop()
                return
            self._rows.append(row)
            if not self._busy:
                self._wake.set()
        except Exception:  # a click is worth less than the redirect
            log.exception("a click could not be queued")

    def flush(self, timeout: float = CLOSE_SECONDS) -> bool:
        """Wait until every queued click is written; False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._written:
            while self._rows or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._written.wait(left)
        return True

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Write what is queued (up to ``timeout``) and stop the thread."""
        thread, self._closing = self._thread, True
        if thread is None or self._pid != os.getpid():
            return
        if not self.flush(timeout):
            log.warning("shutting down with %s clicks not yet written", len(self._rows))
        self._stopping = True
        self._wake.set()
        thread.join(timeout)

    def _drop(self) -> None:
        self.dropped += 1
        if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
            log.warning("click queue full: %s clicks not recorded", self.dropped)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._pid, self._stopping, self._closing = os.getpid(), False, False
            self._thread = threading.Thread(target=self._run, name="smsdesk-clicks", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait()
            self._wake.clear()
            self._busy = True
            if not self._stopping:
                time.sleep(GATHER_SECONDS)
            self._write_queued()
            with self._written:
                self._busy = False
                self._written.notify_all()
            if self._rows:  # queued after the last look, by a record() that saw us busy
                self._wake.set()
        self._write_queued()

    def _write_queued(self) -> None:
        while self._rows:
            batch: list[dict] = []
            while self._rows and len(batch) < BATCH:
                batch.append(self._rows.popleft())  # only this thread takes from the deque
            self._write(batch)

    def _write(self, batch: list[dict]) -> None:
        """Insert ``batch``, retrying while the database refuses; given up only on shutdown."""
        wait = 0.05
        while True:
            try:
                self.write_batch(batch)
                return
            except Exception:
                if self._closing and wait >= RETRY_MAX_SECONDS:
                    log.exception("%s clicks lost: the database refused them at shutdown", len(batch))
                    return
                log.warning("writing %s clicks failed; trying again in %.2f s", len(batch), wait, exc_info=True)
                self._sleep(wait)
                wait = min(wait * 2, RETRY_MAX_SECONDS)

    def write_batch(self, batch: list[dict]) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(LinkClick), batch)


def writer_for(engine: Engine) -> ClickWriter | ClickRelay:
    """SQLite: a thread of this process writes the clicks (a second process would only wait for
    the same file's lock). PostgreSQL: a child process of this one (services/click_relay.py)."""
    if engine.dialect.name == "postgresql":
        return ClickRelay(conninfo(engine.url))
    return ClickWriter(engine)
