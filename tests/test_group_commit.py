"""smsdesk/group_commit.py: threads that write at the same moment share one SQLite transaction,
and each gets its own outcome only once a commit holds its write."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from smsdesk import db
from smsdesk.group_commit import GroupCommit

THREADS = 6
TIMEOUT = 10  # seconds a test waits for a thread that should long be done


@pytest.fixture
def sqlite_file(tmp_path: Path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'group.db'}", sqlite_begin="DEFERRED")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (k TEXT UNIQUE NOT NULL)"))
    yield engine
    engine.dispose()


def insert(conn: Connection, key: str) -> bool:
    """What the webhook door's write does: False for a key that is taken."""
    try:
        conn.execute(text("INSERT INTO t VALUES (:k)"), {"k": key})
    except IntegrityError as exc:
        if "UNIQUE" in str(exc.orig):
            return False
        raise
    return True


def keys(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(text("SELECT k FROM t")))


class HeldFirstWrite:
    """A write function whose first write waits until ``others`` more writes have queued, so
    they must share the next transaction."""

    def __init__(self, others: int, write=insert) -> None:
        self.others, self.write = others, write
        self.group: GroupCommit | None = None
        self.first = True

    def __call__(self, conn: Connection, key: str):
        if self.first:
            self.first = False
            deadline = time.monotonic() + TIMEOUT
            while len(self.group._queue) < self.others and time.monotonic() < deadline:  # type: ignore[union-attr]
                time.sleep(0.005)
        return self.write(conn, key)


def write_in_threads(group: GroupCommit, items: list[str]) -> dict[str, object]:
    """Each item written by a thread of its own, the first one started first; item -> outcome."""
    outcomes: dict[str, object] = {}

    def one(item: str) -> None:
        try:
            outcomes[item] = group.write(item)
        except BaseException as exc:  # the test asserts what each thread got
            outcomes[item] = exc

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    threads[0].start()
    while not group._busy:  # the first is leading before the others come
        time.sleep(0.001)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a writer was left waiting"
    return outcomes


def test_writes_that_wait_together_share_one_commit(sqlite_file):
    write = HeldFirstWrite(others=THREADS - 1)
    group = write.group = GroupCommit(sqlite_file, write)
    items = [f"k{n}" for n in range(THREADS)]
    outcomes = write_in_threads(group, items)
    assert outcomes == {item: True for item in items}
    assert keys(sqlite_file) == sorted(items)
    assert group.commits == 2  # the first alone, the five that queued behind it in one


def test_a_lone_write_is_committed_at_once(sqlite_file):
    group = GroupCommit(sqlite_file, insert)
    assert group.write("alone") is True and group.write("alone") is False
    assert keys(sqlite_file) == ["alone"] and group.commits == 2


def test_a_taken_key_in_a_shared_transaction_costs_only_itself(sqlite_file):
    group = GroupCommit(sqlite_file, insert)
    group.write("k1")
    write = HeldFirstWrite(others=3)
    group = write.group = GroupCommit(sqlite_file, write)
    outcomes = write_in_threads(group, ["k0", "k1", "k2", "k1 "])
    assert outcomes == {"k0": True, "k1": False, "k2": True, "k1 ": True}
    assert keys(sqlite_file) == ["k0", "k1", "k1 ", "k2"] and group.commits == 2


def test_a_write_that_raises_fails_alone_and_the_others_are_committed(sqlite_file, caplog):
    def insert_or_fail(conn: Connection, key: str) -> bool:
        if key == "bad":
            conn.execute(text("INSERT INTO t VALUES (NULL)"))  # NOT NULL: an IntegrityError
        return insert(conn, key)

    write = HeldFirstWrite(others=3, write=insert_or_fail)
    group = write.group = GroupCommit(sqlite_file, write)
    outcomes = write_in_threads(group, ["k0", "k1", "bad", "k2"])
    assert isinstance(outcomes.pop("bad"), IntegrityError)
    assert outcomes == {"k0": True, "k1": True, "k2": True}
    assert keys(sqlite_file) == ["k0", "k1", "k2"]
    assert "a transaction of 3 writes failed (IntegrityError); each is made alone" in caplog.text


def test_when_every_write_fails_each_writer_gets_its_own_error_and_writing_goes_on(sqlite_file):
    def fail(conn: Connection, key: str) -> bool:
        conn.execute(text("INSERT INTO t VALUES (NULL)"))
        return True

    write = HeldFirstWrite(others=2, write=fail)
    group = write.group = GroupCommit(sqlite_file, write)
    outcomes = write_in_threads(group, ["k0", "k1", "k2"])
    assert all(isinstance(outcome, IntegrityError) for outcome in outcomes.values()), outcomes
    assert len({id(outcome) for outcome in outcomes.values()}) == 3
    group._write = insert
    assert group.write("k3") is True and keys(sqlite_file) == ["k3"] and not group._busy


class Stop(BaseException):
    """What stops a thread outright (gunicorn's timeout, for one)."""


def test_a_writer_whose_leader_stopped_midway_is_told_its_write_was_not_made(sqlite_file):
    calls = []

    def stop_the_second_transaction(conn: Connection, key: str) -> bool:
        calls.append(key)
        if len(calls) == 2:  # the first write of the second transaction, in its leader's thread
            raise Stop
        return insert(conn, key)

    write = HeldFirstWrite(others=2, write=stop_the_second_transaction)
    group = write.group = GroupCommit(sqlite_file, write)
    outcomes = write_in_threads(group, ["k0", "k1", "k2"])
    assert outcomes["k0"] is True
    told = sorted(type(outcomes[key]).__name__ for key in ("k1", "k2"))
    assert told == ["RuntimeError", "Stop"], outcomes
    assert keys(sqlite_file) == ["k0"]
    assert group.write("k3") is True and not group._busy
