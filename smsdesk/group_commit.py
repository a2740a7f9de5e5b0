"""SQLite: the writes that this process's threads wait to make at the same moment share one
transaction (group commit).

SQLite lets one writer in at a time, and each webhook's insert and fsync'd commit held the
write lock (smsdesk/sqlite_gate.py's gate first) for itself, its thread's turn for the GIL
among the process's busy threads included. bench/ingest.py measured the door at ~1,000
answers/s with the cores a third idle, and ~450/s beside the apply worker, whose batches hold
the lock for 25 ms while the webhooks queue behind them.

Here a thread that finds no write under way becomes the leader: it opens one transaction,
makes its own write and that of every thread that queued meanwhile, and commits once. Each
thread still returns only after the commit that made its own write durable. When the leader
is done and more have queued, the first of them leads the next transaction. PostgreSQL groups
concurrent commits by itself, so its door needs none of this.

A write that raises (other than what ``write`` itself turns into a result) does not cost the
others theirs: the transaction is rolled back and each write of it is made again in a
transaction of its own, so each thread gets its own outcome.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class _Waiting(Generic[T, R]):
    """One thread's write: what to write, and, once a commit has covered it, its outcome."""

    def __init__(self, item: T) -> None:
        self.item = item
        self.ready = threading.Event()
        self.leads = False  # set with ``ready`` when this thread is to lead the next transaction
        self.written = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def succeeded(self, result: R) -> None:
        self.result, self.written = result, True

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        if not self.written:  # the leader's transaction was interrupted (its thread stopped)
            raise RuntimeError("the write was not made")
        return self.result  # type: ignore[return-value]


class GroupCommit(Generic[T, R]):
    """``write(item)`` runs ``write(connection, item)`` in a transaction shared with the writes of
    other threads that came while one was under way, and returns its result once committed."""

    def __init__(self, engine: Engine, write: Callable[[Connection, T], R]) -> None:
        self.engine = engine
        self._write = write
        self._lock = threading.Lock()
        self._queue: list[_Waiting[T, R]] = []
        self._busy = False  # a leader is writing
        self.commits = 0  # transactions committed (what the tests observe the batching by)

    def write(self, item: T) -> R:
        waiting: _Waiting[T, R] = _Waiting(item)
        with self._lock:
            self._queue.append(waiting)
            leads = not self._busy
            self._busy = True
        if not leads:
            waiting.ready.wait()
            if not waiting.leads:
                return waiting.outcome()
        self._lead()
        return waiting.outcome()

    def _lead(self) -> None:
        """Write all that has queued (this thread's write first), then hand over or stand down."""
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._write_batch(batch)
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._busy = following is not None
            for waiting in batch:
                waiting.ready.set()
            if following is not None:
                following.leads = True
                following.ready.set()

    def _write_batch(self, batch: list[_Waiting[T, R]]) -> None:
        try:
            results = self._in_one_transaction([waiting.item for waiting in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            log.warning("group commit: a transaction of %d writes failed (%s); each is made alone",
                        len(batch), type(exc).__name__)
            for waiting in batch:
                try:
                    waiting.succeeded(self._in_one_transaction([waiting.item])[0])
                except Exception as alone:
                    waiting.error = alone
            return
        for waiting, result in zip(batch, results, strict=True):
            waiting.succeeded(result)

    def _in_one_transaction(self, items: list[T]) -> list[R]:
        with self.engine.connect() as conn:
            results = [self._write(conn, item) for item in items]
            conn.commit()
        self.commits += 1
        return results
