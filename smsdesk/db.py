"""Engine and session setup; the schema is owned by Alembic (``smsdesk init``)."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, Engine, create_engine, event, make_url, select, text, update
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from smsdesk import sqlite_gate
from smsdesk.thread_connections import ThreadConnections

SQLITE_BUSY_TIMEOUT = 10_000  # ms a writer waits for the lock before "database is locked"
# A pooled PostgreSQL connection idle this long is pinged before use (see _ping_if_idle).
PING_IDLE_SECONDS = 10.0
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DETAIL_LINE = re.compile(r"\nDETAIL:[^\n]*")
# Search indexes made by migrations 0011 and 0013 outside the models: pg_trgm GIN indexes on expressions
# (PostgreSQL) and FTS5 virtual tables with their shadow tables (SQLite). Metadata can't say
# "only on this dialect", so the models/migrations comparison skips them by name.
SEARCH_OBJECTS = re.compile(r"^ix_\w+_trgm$|^(customer|order|message|doc)_search(_\w+)?$")


def make_engine(url: str, *, sqlite_begin: str = "IMMEDIATE") -> Engine:
    """Create the engine; SQLite gets WAL, synchronous=FULL and a busy timeout.

    hide_parameters: SQL errors in logs never show bound values (customers' phones and names)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True,
                               connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads and then
        # writes (a claim, a webhook) waits for the lock (busy_timeout) instead of failing
        # with "database is locked" when it upgrades. Readers that never write may pass
        # sqlite_begin="DEFERRED".
        # Writers queue at the file's gate first (sqlite_gate.py): at BEGIN IMMEDIATE, or in a
        # DEFERRED transaction before its first write.
        file = sqlite_file(url)
        gate = sqlite_gate.install(engine, file, begins_writing=sqlite_begin == "IMMEDIATE") if file else None
        event.listen(engine, "begin", lambda conn: _sqlite_begin(conn, sqlite_begin, gate))
        return engine
    engine = create_engine(url, hide_parameters=True, pool_size=10, max_overflow=20)
    event.listen(engine, "handle_error", _hide_row_values)
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine.pool, "checkout", lambda conn, record, _proxy: _ping_if_idle(engine, conn, record))
    return engine


def _sqlite_begin(conn: Connection, mode: str, gate: sqlite_gate.WriterGate | None) -> None:
    if gate is not None and mode == "IMMEDIATE":
        gate.enter(conn.connection.dbapi_connection)
    conn.exec_driver_sql(f"BEGIN {mode}")


def _note_checkin(_dbapi_conn, record) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_conn, record) -> None:
    """Ping a connection that sat idle in the pool, replacing it when the server dropped it.

    pool_pre_ping would ping on every checkout: a round trip more for every request and job
    transaction (a third of a webhook's). A connection used within PING_IDLE_SECONDS is taken
    as alive; should the server have gone in that window (a restart), the first statement
    fails, SQLAlchemy invalidates the whole pool, and every later checkout gets a new
    connection: one request or job run fails and is retried (platforms retry webhooks, jobs
    run again), where a stale pool would fail them all."""
    if time.monotonic() - record.info.get("checked_in_at", 0.0) < PING_IDLE_SECONDS:
        return
    try:
        engine.dialect.do_ping(dbapi_conn)
    except engine.dialect.loaded_dbapi.Error as error:
        raise DisconnectionError() from error  # the pool connects anew and checks out that


def database_location(url: str) -> str:
    """The database as one can find it again: a SQLite file by its absolute path (a relative one
    depends on the folder the command ran in), any other without its password."""
    file = sqlite_file(url)
    return f"sqlite:///{file}" if file else make_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve()


def _hide_row_values(context) -> None:
    """PostgreSQL's DETAIL line repeats row values ("Key (phone)=(+1502...) already exists"),
    which hide_parameters does not cover: drop it from the error before anyone logs it."""
    for exc in (context.original_exception, context.sqlalchemy_exception):
        if exc is not None and exc.args and isinstance(exc.args[0], str) and "\nDETAIL:" in exc.args[0]:
            exc.args = (DETAIL_LINE.sub("", exc.args[0]), *exc.args[1:])


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" listener above issue BEGIN
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # A webhook we answered 200 must survive a power cut: fsync on every commit.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object``: everything but the dialect-specific search objects."""
    return not (reflected and name is not None and SEARCH_OBJECTS.match(name))


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (idempotent)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn, _sqlite_foreign_keys_off(conn), conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def rebuild(engine: Engine) -> None:
    """Drop everything and migrate from nothing, as ``smsdesk init`` builds a new database (tests
    and benchmarks only). On PostgreSQL the public schema goes whole: an earlier run may have left
    an older schema, whose constraints the current models' ``drop_all`` would try to drop by name."""
    from smsdesk.models import Base  # the models import this module's neighbours; only needed here

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)


@contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite alters a table by copying it and dropping the old one, which its foreign-key
    checks refuse while other tables point at it: migrate with them off (they can only be
    switched outside a transaction), then make sure nothing dangles and switch them on again."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"migration left {len(problems)} dangling foreign key(s)")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


THREAD_CONNECTIONS = "smsdesk.thread_connections"  # app.extensions: the app's ThreadConnections
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Give the app its engine and session factories, and a session per request.

    On SQLite, requests that only read get sessions of a second engine that begins DEFERRED,
    so a page never holds the write lock while it renders (webhooks and jobs wait for it).
    """
    url = app.config["SMSDESK"].database.url
    engine = make_engine(url)
    read_engine = make_engine(url, sqlite_begin="DEFERRED") if engine.dialect.name == "sqlite" else engine
    app.extensions["smsdesk.engine"] = engine
    app.extensions["smsdesk.read_engine"] = read_engine
    app.extensions["smsdesk.sessions"] = make_session_factory(engine)
    app.extensions["smsdesk.read_sessions"] = make_session_factory(read_engine)
    # Statements that run on every hot request (a short link's read; on PostgreSQL a webhook's
    # insert) use one connection per thread, shared by both: the reading engine's (the one
    # engine on PostgreSQL).
    app.extensions[THREAD_CONNECTIONS] = ThreadConnections(read_engine)
    app.teardown_appcontext(_close_session)


def dispose(app: Flask) -> None:
    """Close both engines' pooled connections, after the short links' click writer has written
    what it holds and the threads' own connections (short links' reads, webhook inserts) are
    closed."""
    for name in ("smsdesk.click_writer", THREAD_CONNECTIONS):
        extension = app.extensions.get(name)
        if extension is not None:
            extension.close()
    app.extensions["smsdesk.engine"].dispose()
    app.extensions["smsdesk.read_engine"].dispose()


def get_session() -> Session:
    """The current request's session (opened on first use, closed on teardown): a reading one
    (DEFERRED on SQLite) for GET/HEAD/OPTIONS unless the view is marked ``writes_on_get``,
    and for views marked ``write_begins_with_insert``."""
    if "db_session" not in g:
        factory = "smsdesk.read_sessions" if _reads_only() else "smsdesk.sessions"
        g.db_session = current_app.extensions[factory]()
    return g.db_session


def writes_on_get(view):
    """Mark a view that writes although its method only reads (e.g. opening marks read)."""
    view.writes_on_get = True
    return view


def write_begins_with_insert(view):
    """Mark a view that reads, ends that transaction, and then writes in one whose first
    statement writes (a webhook: look up the store, verify, parse, insert). Its session is a
    reading one, so on SQLite the write lock is held for the insert and commit only: a DEFERRED
    transaction that starts with a write waits for the lock as BEGIN IMMEDIATE does."""
    view.write_begins_with_insert = True
    return view


def end_read(session: Session) -> None:
    """End a reading transaction before writing, in a view marked ``write_begins_with_insert``:
    on SQLite the next transaction then begins with its write and waits for the lock; on
    PostgreSQL nothing needs ending."""
    if session.get_bind().dialect.name == "sqlite":
        session.commit()


def _reads_only() -> bool:
    if not has_request_context():
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "write_begins_with_insert", False):
        return True
    return request.method in READ_METHODS and not getattr(view, "writes_on_get", False)


def _close_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def relax_durability(session: Session) -> None:
    """Let this transaction commit without waiting for PostgreSQL's WAL flush.

    Only for recording a provider's answer: if the database loses that commit in a crash,
    the row is still ``sending`` and reconcile looks the text up (DESIGN §1). The claim
    and the prepare commit before the provider call stay fully durable.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def claim_rows(session: Session, model, *, where: list, order_by: list, limit: int, values: dict,
               one_per=None) -> list[int]:
    """Lock up to ``limit`` rows matching ``where``, apply ``values`` to them, return their ids.

    The one way jobs claim work: on PostgreSQL the select skips rows another worker holds
    (FOR UPDATE SKIP LOCKED); SQLite serializes writers (BEGIN IMMEDIATE), and repeating
    ``where`` in the UPDATE keeps a claim single either way. With ``one_per`` (a column) at
    most one row per value of it is claimed, the first in ``order_by``.
    """
    ids = _pick(session, model, where=where, order_by=order_by, limit=limit, one_per=one_per)
    if ids:
        session.execute(update(model).where(model.id.in_(ids), *where).values(**values)
                        .execution_options(synchronize_session=False))
    return ids


def claim_loaded(session: Session, model, *, where: list, order_by: list, limit: int, values: dict,
                 one_per=None) -> list:
    """``claim_rows`` returning the claimed rows as loaded objects (UPDATE ... RETURNING: one
    round trip fewer than claiming and then reading them), in no particular order."""
    ids = _pick(session, model, where=where, order_by=order_by, limit=limit, one_per=one_per)
    if not ids:
        return []
    return list(session.scalars(
        update(model).where(model.id.in_(ids), *where).values(**values).returning(model),
        execution_options={"synchronize_session": False, "populate_existing": True}))


def _pick(session: Session, model, *, where: list, order_by: list, limit: int, one_per) -> list[int]:
    """The ids to claim, locked (skipping rows locked by others)."""
    if one_per is None:
        return list(session.scalars(
            select(model.id).where(*where).order_by(*order_by).limit(limit).with_for_update(skip_locked=True)
        ))
    return _first_per(session.execute(
        select(model.id, one_per).where(*where).order_by(*order_by).limit(limit * CLAIM_LOOKAHEAD)
        .with_for_update(skip_locked=True)
    ).tuples(), limit)


CLAIM_LOOKAHEAD = 4  # rows read per row claimed when claiming one per key (the rest stay due)


def _first_per(rows, limit: int) -> list[int]:
    """The first id of each key, in order, at most ``limit`` of them."""
    seen: set = set()
    ids: list[int] = []
    for row_id, key in rows:
        if key not in seen and len(ids) < limit:
            seen.add(key)
            ids.append(row_id)
    return ids

