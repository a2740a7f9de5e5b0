"""Each thread's own connection: kept, replaced when the server dropped it, closed on dispose."""
import threading

import pytest
from sqlalchemy import text

from smsdesk.thread_connections import ThreadConnections


def backend_id(connections: ThreadConnections) -> object:
    sql = "SELECT pg_backend_pid()" if connections.engine.dialect.name == "postgresql" else "SELECT 1"
    return connections.run(lambda cursor: cursor.execute(sql).fetchone()[0])


def drop_from_the_server_side(connections: ThreadConnections) -> None:
    """What a PostgreSQL restart does to a connection (sqlite3: the connection is closed)."""
    if connections.engine.dialect.name == "postgresql":
        pid = backend_id(connections)
        with connections.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    else:
        connections._local.connection.close()


def test_a_thread_keeps_its_connection(engine):
    connections = ThreadConnections(engine)
    try:
        first = connections._connection()
        backend_id(connections)
        assert connections._connection() is first
    finally:
        connections.close()


def test_threads_do_not_share_a_connection(engine):
    connections = ThreadConnections(engine)
    seen = []
    try:
        workers = [threading.Thread(target=lambda: seen.append(connections._connection())) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len({id(connection) for connection in seen}) == 3
    finally:
        connections.close()


def test_a_dropped_connection_is_replaced_and_the_work_repeated(engine):
    connections = ThreadConnections(engine)
    try:
        before = connections._connection()
        backend_id(connections)
        drop_from_the_server_side(connections)
        assert connections.run(lambda cursor: cursor.execute("SELECT 41 + 1").fetchone()[0]) == 42
        assert connections._connection() is not before
    finally:
        connections.close()


def test_an_integrity_error_is_the_callers_and_keeps_the_connection(engine):
    connections = ThreadConnections(engine)
    table = "tc_unique_probe"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (k INTEGER PRIMARY KEY)"))
    try:
        insert = f"INSERT INTO {table} (k) VALUES (1)"
        connections.run(lambda cursor: cursor.execute(insert))
        if engine.dialect.name == "sqlite":
            connections._connection().commit()
        kept = connections._connection()
        with pytest.raises(connections.dbapi.IntegrityError):
            connections.run(lambda cursor: cursor.execute(insert))
        assert connections._connection() is kept
    finally:
        connections.close()
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))


def test_close_closes_every_threads_connection(engine):
    connections = ThreadConnections(engine)
    opened = []
    worker = threading.Thread(target=lambda: opened.append(connections._connection()))
    worker.start()
    worker.join()
    opened.append(connections._connection())
    connections.close()
    for connection in opened:
        with pytest.raises(connections.dbapi.Error):
            connection.cursor().execute("SELECT 1")
