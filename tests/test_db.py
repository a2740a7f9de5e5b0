"""Schema and engine: migrations match the models; SQLite is durable (WAL, synchronous=FULL);
PostgreSQL pool connections are pinged only after sitting idle."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from smsdesk import db
from smsdesk.models import Base


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": db.include_in_autogenerate})
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


def test_reason_codes_migration_keeps_old_reasons_as_codes_and_words(tmp_path):
    from alembic import command

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_initial")
        conn.execute(text("INSERT INTO stores (id, slug, name, platform, webhook_secret, country, timezone, "
                          "quiet_hours, rate_per_second, help_text, send_opt_out_confirmation, created_at) VALUES "
                          "(1, 's', 'S', 'shopify', 'x', 'US', 'UTC', '', 1, '', 1, '2026-01-01')"))
        conn.execute(text("INSERT INTO customers (id, store_id, phone, first_name, last_name, email, "
                          "marketing_consent, opted_out, created_at) VALUES (1, 1, '+15025550123', '', '', '', "
                          "0, 0, '2026-01-01')"))
        old = ["", "opted out", "no marketing consent", "quiet_hours", "retrying: HTTP 429",
               "unreachable_handset: error 30003", "invalid_number: bad To", "checkout completed",
               "order placed by the same customer", "found at the provider by reconcile", "something odd"]
        for n, reason in enumerate(old, start=1):
            conn.execute(text(
                "INSERT INTO messages (id, store_id, customer_id, direction, kind, body, status, reason, marketing, "
                "attempts, segments, encoding, created_at, updated_at) VALUES "
                "(:id, 1, 1, 'out', 'order_shipped', 'b', :status, :reason, 0, 0, 1, 'GSM-7', '2026-01-01', "
                "'2026-01-01')"), {"id": n, "reason": reason, "status": "failed" if n == len(old) else "queued"})
    db.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT reason, reason_detail FROM messages ORDER BY id")).all()
    engine.dispose()
    assert [r[0] for r in rows] == [None, "opted_out", "no_consent", "quiet_hours", "retrying",
                                    "unreachable_handset", "invalid_number", "checkout_completed",
                                    "order_placed", None, "rejected"]
    assert [r[1] for r in rows] == old


def _kill(engine, pid: int) -> None:
    """End one backend, as a server restart or an idle timeout would (others' connections stay)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _pool_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_an_idle_pooled_connection_the_server_dropped_is_replaced_before_use(database_url, monkeypatch):
    """PostgreSQL only: an idle connection is pinged at checkout and a dead one replaced."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are files: nothing to ping")
    engine, killer = db.make_engine(database_url), db.make_engine(database_url)
    try:
        first = _pool_pid(engine)
        _kill(killer, first)
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
        assert _pool_pid(engine) != first  # no error: the ping found it dead and the pool reconnected
    finally:
        engine.dispose()
        killer.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(database_url):
    """No ping round trip for a busy pool: the pool checks out the same backend with no SELECT 1."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are files: nothing to ping")
    engine = db.make_engine(database_url)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda conn: pings.append(conn) or real_ping(conn)  # type: ignore[method-assign]
    try:
        first = _pool_pid(engine)
        assert len(pings) == 1  # a new connection: pinged once
        assert _pool_pid(engine) == first and _pool_pid(engine) == first
        assert len(pings) == 1
    finally:
        engine.dispose()
