"""smsdesk/sqlite_gate.py: SQLite's writers queue at a lock file, across threads and processes."""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from smsdesk import db, sqlite_gate

ROOT = Path(__file__).resolve().parents[1]
HOLD = 0.6  # seconds the other process holds the gate
# Another process writes one row and keeps its transaction open for argv[2] seconds.
HOLDER = """
import sys, time
from sqlalchemy import text
from smsdesk import db
with db.make_engine(sys.argv[1]).begin() as conn:
    conn.execute(text("INSERT INTO t VALUES ('holder')"))
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def database(tmp_path) -> Path:
    file = tmp_path / "gate.db"
    engine = db.make_engine(f"sqlite:///{file}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT UNIQUE)"))
    engine.dispose()
    return file


def url(file: Path) -> str:
    return f"sqlite:///{file}"


def gate_is_free(file: Path) -> bool:
    """Whether a writer could take the gate now (tried with a lock file of our own)."""
    fd = os.open(file.with_name(file.name + ".writers"), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def hold_in_other_process(file: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, url(file), str(HOLD)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "holding"
    return process


def rows(file: Path) -> list[str]:
    engine = db.make_engine(url(file), sqlite_begin="DEFERRED")
    with engine.connect() as conn:
        names = list(conn.scalars(text("SELECT who FROM t ORDER BY rowid")))
    engine.dispose()
    return names


def test_a_writing_transaction_holds_the_gate_until_it_ends(database):
    engine = db.make_engine(url(database))
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
        assert not gate_is_free(database)  # BEGIN IMMEDIATE took it
    assert gate_is_free(database)
    lock_file = database.with_name("gate.db.writers")
    assert stat.S_IMODE(lock_file.stat().st_mode) == 0o600
    engine.dispose()


def test_a_deferred_transaction_takes_it_at_its_first_write_only(database):
    engine = db.make_engine(url(database), sqlite_begin="DEFERRED")
    with engine.connect() as conn:
        conn.execute(text("SELECT who FROM t"))
        assert gate_is_free(database)  # reading takes nothing
        conn.execute(text("INSERT INTO t VALUES ('reader')"))
        assert not gate_is_free(database)
        conn.commit()
        assert gate_is_free(database)
    engine.dispose()


def test_a_failed_write_gives_the_gate_back_with_its_rollback(database):
    engine = db.make_engine(url(database), sqlite_begin="DEFERRED")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('once')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('once')"))
    assert gate_is_free(database)
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t VALUES ('twice')"))
        conn.invalidate()  # a connection dropped mid-transaction lets go too
    assert gate_is_free(database)
    assert rows(database) == ["once"]
    engine.dispose()


def test_a_writer_of_another_process_waits_at_the_gate_then_writes(database):
    holder = hold_in_other_process(database)
    engine = db.make_engine(url(database))
    started = time.monotonic()
    try:
        assert not gate_is_free(database)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('after')"))
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=10)
        engine.dispose()
    assert waited >= HOLD / 2  # it queued behind the holder's whole transaction ...
    assert rows(database) == ["holder", "after"]  # ... and then wrote, with no "database is locked"


def test_threads_of_one_process_take_turns(database):
    engine = db.make_engine(url(database))
    inside, most, errors = [0], [0], []
    lock = threading.Lock()

    def write(n: int) -> None:
        try:
            for i in range(20):
                with engine.begin() as conn:
                    with lock:
                        inside[0] += 1
                        most[0] = max(most[0], inside[0])
                    conn.execute(text("INSERT INTO t VALUES (:who)"), {"who": f"{n}-{i}"})
                    with lock:
                        inside[0] -= 1
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert errors == [] and most[0] == 1
    assert len(rows(database)) == 120


def test_a_thread_holding_the_gate_does_not_wait_for_itself(database):
    gate = sqlite_gate.gate_for(database)
    first, second = object(), object()
    gate.enter(first)
    gate.enter(second)  # the same thread, another connection: returns (SQLite's lock decides)
    assert not gate_is_free(database)
    gate.leave(second)  # it never held the gate
    assert not gate_is_free(database)
    gate.leave(first)
    assert gate_is_free(database)


def _enter_in_child(file: str, queue) -> None:
    gate = sqlite_gate.gate_for(Path(file))  # the parent's object, inherited
    started = time.monotonic()
    gate.enter(object())
    queue.put(time.monotonic() - started)


def test_a_forked_child_queues_behind_its_parent(database):
    """A forked process inherits the parent's open lock file and its note of holding the gate,
    which would let it in at once."""
    engine = db.make_engine(url(database))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('parent')"))
        child = context.Process(target=_enter_in_child, args=(str(database), queue))
        child.start()
        time.sleep(HOLD)
    waited = queue.get(timeout=20)
    child.join(timeout=10)
    engine.dispose()
    assert waited >= HOLD / 2
