"""A DBAPI connection per thread, for the two statements that run on every hot request: a
short link's read (services/clicks.py) and a webhook delivery's insert (webhooks/__init__.py).

Each thread keeps its own connection, detached from the engine's pool (on PostgreSQL
autocommitting: one statement is its own transaction), and its cursor, with the SQL written
out: no pool checkout, no pre-ping, no BEGIN/ROLLBACK, no ORM or Core execution. On a 5.5 KB
webhook those were a third of the request's CPU; on a redirect most of it.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")


class ThreadConnections:
    """Run a statement on this thread's connection. A connection the server dropped (a
    PostgreSQL restart) is replaced and the work run once more, so the work must be safe to
    repeat: a read, or an insert that skips an existing key."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dbapi = engine.dialect.loaded_dbapi
        self.placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Any] = []  # every thread's connection, closed by close()

    def run(self, work: Callable[[Any], T]) -> T:
        """``work(cursor)``'s result; an IntegrityError is the caller's to handle."""
        try:
            return work(self._cursor())
        except self.dbapi.IntegrityError:
            raise
        except self.dbapi.Error:
            self._drop()
            return work(self._cursor())

    def close(self) -> None:
        """Close every thread's connection (the app's engines are being disposed)."""
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            _close(connection)

    def _cursor(self) -> Any:
        """The thread's cursor, kept with its connection: making one per statement cost a third
        of a read's client-side CPU (psycopg)."""
        connection = self._connection()
        if getattr(self._local, "cursor_of", None) is not connection:
            self._local.cursor, self._local.cursor_of = connection.cursor(), connection
        return self._local.cursor

    def _connection(self) -> Any:
        connection: Any = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():  # a forked worker opens its own
            pooled = self.engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()  # kept by this thread, not returned to the pool
            if self.engine.dialect.name == "postgresql":
                connection.autocommit = True
            self._local.connection, self._local.pid = connection, os.getpid()
            with self._lock:
                self._open.append(connection)
        return connection

    def _drop(self) -> None:
        connection, self._local.connection, self._local.cursor_of = getattr(self._local, "connection", None), None, None
        if connection is not None:
            with self._lock:
                if connection in self._open:
                    self._open.remove(connection)
            _close(connection)


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # already broken: nothing left to close
        log.debug("closing a thread's connection failed", exc_info=True)
