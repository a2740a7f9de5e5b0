"""PostgreSQL: clicks handed from each web process to a writer process of its own, over a pipe.

With the clicks written by a thread of the web process (clicks.ClickWriter, as SQLite still
does), bench/redirect.py's PostgreSQL ratio stayed at 0.45-0.60 of bare Flask: the thread's
batches, small because a longer wait held the redirects' GIL longer, cost more database work
per click than the redirect's own read. Here the web process only writes each click as one
line to a pipe, a non-blocking ``os.write`` that never waits. The child process
(``python -m smsdesk.services.click_relay``, which imports psycopg, not smsdesk's models) lets
clicks gather in the pipe for GATHER_SECONDS, then COPYs them in one transaction: no thread in
the web process, and batches ten times larger. (``link_clicks`` has no foreign keys: their row
locks stalled the redirects' reads; migration 0024.)

The child starts with the first click in each web process (a gunicorn worker forks after the
app is built). It ignores SIGINT and SIGTERM and ends when its pipe closes: when the web
process closes the relay at shutdown, and also when the web process dies outright, so clicks
already handed over are written even then. While the database refuses them (a restart) the
child keeps reading the pipe and retries; a dropped connection is replaced. What is lost:
clicks beyond MAX_QUEUE waiting in the child, or beyond what the pipe holds when the child
is stalled, counted and logged; and what is still unwritten CLOSE_SECONDS after the pipe closed.
"""
from __future__ import annotations

import atexit
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import make_conninfo

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

CLICK_COLUMNS = ("link_id", "message_id", "store_id", "customer_id", "clicked_at", "device")
COPY_SQL = f"COPY link_clicks ({', '.join(CLICK_COLUMNS)}) FROM STDIN"
PIPE_BYTES = 1 << 20  # the pipe's buffer (Linux's default limit for a user): ~14,000 clicks
# How long clicks gather in the pipe before the child writes them. In bench/redirect.py 50 ms
# gave batches of ~100 clicks per web process; the wait costs the redirect nothing.
GATHER_SECONDS = 0.05
MAX_QUEUE = 100_000  # clicks the child holds while the database refuses them
RETRY_MAX_SECONDS = 2.0  # the longest wait between two tries of a refused batch
CLOSE_SECONDS = 10.0  # how long the child, its pipe closed, keeps trying to write what it holds
RESTART_SECONDS = 5.0  # a child that ended by itself is replaced no sooner: no process per click
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (named in fcntl only from Python 3.10, on Linux)


def click_line(row: dict) -> bytes:
    """One click as a line of COPY's text format (every value is a number, an ISO time or a
    device class: nothing to escape)."""
    values = (row[column] for column in CLICK_COLUMNS)
    return ("\t".join(v.isoformat() if isinstance(v, datetime) else str(v) for v in values) + "\n").encode()


class ClickRelay:
    """The web process's side: ``record`` writes the click to the child's pipe and returns."""

    def __init__(self, conninfo: str, *, command: list[str] | None = None) -> None:
        self._conninfo = conninfo  # with its password: handed over on the pipe, never on a command line
        self._command = command or [sys.executable, "-m", __name__]
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._fd, self._pid = -1, 0
        self._registered = False  # close() runs at exit
        self._restart_at = 0.0  # (monotonic) a child that ended by itself is not replaced before
        self.started = 0  # children started
        self.dropped = 0

    def record(self, row: dict) -> None:
        """Hand one click over; never blocks, never raises."""
        try:
            line = click_line(row)
            with self._lock:  # not closed meanwhile by flush(); held for one short write
                if self._pid != os.getpid() and time.monotonic() < self._restart_at:
                    self._drop()
                    return
                os.write(self._fd if self._pid == os.getpid() else self._start(), line)
        except BlockingIOError:  # the pipe is full: the child is stalled
            self._drop()
        except BrokenPipeError:  # the child ended by itself (a bug, or killed): replaced in a while
            self._drop()
            self._pid, self._restart_at = 0, time.monotonic() + RESTART_SECONDS
            log.error("the click writer process ended (exit code %s); another starts in %s s",
                      self._child.poll() if self._child else None, RESTART_SECONDS)
        except Exception:  # a click is worth less than the redirect
            log.exception("a click could not be handed over")

    def flush(self, timeout: float = CLOSE_SECONDS + 5) -> bool:
        """Wait until every click handed over is written: the pipe is closed and the child ends
        (the next click starts another). False when ``timeout`` passed first."""
        with self._lock:
            child, self._pid = self._child, 0
            if child is None:
                return True
            if child.stdin is not None:
                child.stdin.close()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        with self._lock:
            if self._child is child:
                self._child = None
        return True

    def close(self, timeout: float = CLOSE_SECONDS + 5) -> None:
        if self._child is not None and not self.flush(timeout):
            log.warning("the click writer process had not finished %s s after its pipe closed", timeout)

    def _start(self) -> int:
        """Start this process's child (the lock is held)."""
        # Its own process group: a terminal's Ctrl-C ends the web process, and the child with it.
        self._child = subprocess.Popen(self._command, stdin=subprocess.PIPE, process_group=0)
        self.started += 1
        pipe: IO[bytes] = self._child.stdin  # type: ignore[assignment]
        pipe.write(self._conninfo.encode() + b"\n")
        pipe.flush()
        self._fd, self._pid = pipe.fileno(), os.getpid()
        try:
            fcntl.fcntl(self._fd, _F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # a lower system limit: the default 64 KB will do
            pass
        os.set_blocking(self._fd, False)
        if not self._registered:
            atexit.register(self.close)
            self._registered = True
        return self._fd

    def _drop(self) -> None:
        self.dropped += 1
        if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
            log.warning("click pipe full or closed: %s clicks not recorded", self.dropped)


class _Copier:
    """The child's side: reads lines from the pipe and COPYs them, retrying while refused."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._connection: Any = None
        self._lines: list[bytes] = []  # complete lines not yet written
        self._partial = b""
        self.dropped = 0

    def run(self, fd: int, first: bytes = b"") -> None:
        self._take(first)
        wait, open_since = 0.0, 0.0
        while True:
            if not open_since and not self._read(fd, block=not self._lines):
                open_since = time.monotonic()  # the pipe closed: write what is held, then end
            if not self._lines:
                if open_since:
                    return
                continue
            if self._write():
                wait = 0.0
                if not open_since:
                    time.sleep(GATHER_SECONDS)  # clicks gather in the pipe, without waking this process
            elif open_since and time.monotonic() - open_since > CLOSE_SECONDS:
                log.error("%s clicks lost: the database refused them at shutdown", len(self._lines))
                return
            else:
                wait = min(max(wait * 2, 0.05), RETRY_MAX_SECONDS)
                time.sleep(wait)

    def _read(self, fd: int, *, block: bool) -> bool:
        """Take what the pipe holds; False once it is closed."""
        os.set_blocking(fd, block)
        try:
            data = os.read(fd, PIPE_BYTES)
        except BlockingIOError:
            return True
        if not data:
            return False
        self._take(data)
        return True

    def _take(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        room = MAX_QUEUE - len(self._lines)
        if len(lines) > room:
            self.dropped += len(lines) - room
            log.warning("the database refuses clicks: %s dropped so far", self.dropped)
            del lines[room:]
        self._lines.extend(lines)

    def _write(self) -> bool:
        try:
            self._copy(self._lines)
        except psycopg.OperationalError:  # a restart, a dropped connection: try again later
            log.warning("writing %s clicks failed; trying again", len(self._lines), exc_info=True)
            self._disconnect()
            return False
        except psycopg.Error:  # a row refused (a value its column does not take): write the rest one by one
            self._disconnect()
            self._write_each()
        self._lines = []
        return True

    def _write_each(self) -> None:
        for line in self._lines:
            try:
                self._copy([line])
            except psycopg.Error:
                log.warning("a click was refused by the database and dropped", exc_info=True)
                self._disconnect()

    def _copy(self, lines: list[bytes]) -> None:
        connection = self._connect()
        with connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
            copy.write(b"\n".join(lines) + b"\n")
        connection.commit()

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = psycopg.connect(self._conninfo, application_name="smsdesk-clicks")
        return self._connection

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # already broken
                log.debug("closing the click writer's connection failed", exc_info=True)


def conninfo(url: URL) -> str:
    """libpq's connection string for an engine's URL (``postgresql+psycopg://...``)."""
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username,
             "password": url.password, **{k: v for k, v in url.query.items() if isinstance(v, str)}}
    return make_conninfo("", **{k: v for k, v in parts.items() if v is not None})


def main() -> None:
    """The child: read the connection string, then clicks, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C, or a SIGTERM sent to the group:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # end with the parent instead, once its clicks are written
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s smsdesk-clicks: %(message)s")
    fd, data = sys.stdin.fileno(), b""
    while b"\n" not in data:  # the connection string, then (maybe already) clicks
        chunk = os.read(fd, PIPE_BYTES)
        if not chunk:
            return
        data += chunk
    info, _, first = data.partition(b"\n")
    _Copier(info.decode()).run(fd, first)


if __name__ == "__main__":
    main()
