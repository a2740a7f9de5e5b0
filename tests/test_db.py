"""Schema and engine: migrations match the models; SQLite is durable (WAL, synchronous=FULL)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from smsdesk import db
from smsdesk.models import Base


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], "models changed without a migration: add an Alembic revision (never regenerate 0001)"


def test_upgrade_twice_is_a_no_op(engine):
    db.upgrade(engine)
    assert "messages" in inspect(engine).get_table_names()


def test_sqlite_pragmas(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == db.SQLITE_BUSY_TIMEOUT
    engine.dispose()
