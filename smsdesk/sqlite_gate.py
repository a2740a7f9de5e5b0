"""One queue for a SQLite file's writers, across the processes that share it.

SQLite lets one writer in at a time. The others wait in its busy handler, which sleeps
between tries (1, 2, 5, 10 ... then 100 ms at a time), so a writer that loses the lock a few
times in a row (a webhook, while two gunicorn workers and the apply worker all write) waits
hundreds of milliseconds for a lock that was free most of that time: bench/ingest.py saw a
p99 of 0.9-1.1 s on SQLite against 50 ms with this gate.

Here a transaction takes the gate before it first writes (at BEGIN IMMEDIATE, or before the
first writing statement of a DEFERRED one) and gives it back when it ends: an exclusive
``flock`` of ``<database>.writers``, next to the database. The kernel wakes a waiter as soon
as the holder lets go, so SQLite's own lock is free when the transaction asks for it.
Readers never take the gate: WAL readers do not wait for writers. A process holding it that
dies lets go with its file. SQLite's locking still decides: a writer that bypasses the gate
(the ``sqlite3`` shell) only makes the others wait in the busy handler, as before.
"""
from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from sqlalchemy import Engine, event

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # how smsdesk's writing statements begin


class WriterGate:
    """The gate of one database file, shared by the engines of this process that open it."""

    def __init__(self, path: Path):
        self.path = path
        self.pid = os.getpid()
        self.files: dict[int, int] = {}  # thread id -> its own open lock file (flock locks conflict between them)
        self.held: dict[int, tuple[int, int]] = {}  # id of the DBAPI connection holding the gate -> (fd, thread id)
        self.holding: dict[int, int] = {}  # thread id -> the connection it holds the gate for

    def enter(self, dbapi_conn) -> None:
        """Wait for the gate for this connection's transaction. A no-op when it holds it, and when
        this thread holds it for another connection (then SQLite's busy timeout decides, as
        without the gate, instead of the thread waiting for itself)."""
        if self.pid != os.getpid():  # a forked child: the parent's lock files are the parent's
            self.pid, self.files, self.held, self.holding = os.getpid(), {}, {}, {}
        key, thread = _key(dbapi_conn), threading.get_ident()
        if key in self.held or thread in self.holding:
            return
        fd = self.files.get(thread)
        if fd is None:
            fd = self.files[thread] = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.held[key] = (fd, thread)
        self.holding[thread] = key

    def leave(self, dbapi_conn) -> None:
        """Give the gate back after the connection's transaction ended (no-op when not held)."""
        entry = self.held.pop(_key(dbapi_conn), None)
        if entry is None:
            return
        fd, thread = entry
        self.holding.pop(thread, None)
        fcntl.flock(fd, fcntl.LOCK_UN)


def _key(conn) -> int:
    """The raw connection's id, given it or the pool's proxy of it (what the dialect is given)."""
    return id(getattr(conn, "dbapi_connection", None) or conn)


_gates: dict[Path, WriterGate] = {}
_gates_lock = threading.Lock()


def gate_for(path: Path) -> WriterGate:
    """This process's gate of the database file ``path`` (one per file, whatever the engines)."""
    with _gates_lock:
        gate = _gates.get(path)
        if gate is None:
            gate = _gates[path] = WriterGate(path.with_name(path.name + ".writers"))
        return gate


def install(engine: Engine, file: Path, *, begins_writing: bool) -> WriterGate:
    """Make ``engine``'s transactions give the gate of ``file`` back when they end, and, unless
    they ``begins_writing`` (BEGIN IMMEDIATE: the caller enters the gate before it), take it
    before their first writing statement. Returns the gate."""
    gate = gate_for(file)
    if not begins_writing:
        event.listen(engine, "before_cursor_execute", lambda conn, _cursor, statement, *_args:
                     _before_statement(gate, conn, statement))
    dialect = engine.dialect
    commit, rollback, close = dialect.do_commit, dialect.do_rollback, dialect.do_close

    def do_commit(dbapi_conn) -> None:
        try:
            commit(dbapi_conn)
        finally:
            gate.leave(dbapi_conn)

    def do_rollback(dbapi_conn) -> None:
        try:
            rollback(dbapi_conn)
        finally:
            gate.leave(dbapi_conn)

    def do_close(dbapi_conn) -> None:
        try:
            close(dbapi_conn)
        finally:
            gate.leave(dbapi_conn)

    # This engine's own dialect object: other engines keep the plain methods.
    dialect.do_commit, dialect.do_rollback, dialect.do_close = do_commit, do_rollback, do_close  # type: ignore[method-assign,assignment]
    return gate


def _before_statement(gate: WriterGate, conn, statement: str) -> None:
    if statement.lstrip()[:7].upper().startswith(WRITES):
        gate.enter(conn.connection.dbapi_connection)
