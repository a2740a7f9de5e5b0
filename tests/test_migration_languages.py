"""Migration 0020: a database filled at 0019 keeps its templates as the store default language's
versions, takes a version per language, and downgrading keeps only those default-language versions."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from smsdesk import db
from tests.test_migration_search_docs import STORE

TEMPLATE = ("INSERT INTO templates (store_id, kind, body, enabled, delay_minutes, updated_at) "
            "VALUES (:store, :kind, :body, 1, 0, '2025-01-01 00:00:00')")


def _filled_at_0019(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0019_feedback")
        conn.execute(text(STORE), {"id": 1, "slug": "s1", "sender": "+14155550100"})
        conn.execute(text(STORE), {"id": 2, "slug": "s2", "sender": "+14155550101"})
        conn.execute(text("INSERT INTO customers (id, store_id, phone, first_name, last_name, email, "
                          "marketing_consent, opted_out, created_at) VALUES (1, 1, '+15025550123', 'Ana', '', '', "
                          "0, 0, '2025-01-01 00:00:00')"))
        conn.execute(text(TEMPLATE), {"store": 1, "kind": "order_confirmed", "body": "Thanks #{{ order.number }}"})
        conn.execute(text(TEMPLATE), {"store": 2, "kind": "order_confirmed", "body": "Merci"})
    return engine, cfg


def test_existing_templates_become_the_default_languages_then_downgrade(tmp_path):
    engine, cfg = _filled_at_0019(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'customers' ORDER BY name"
        before = conn.execute(text(triggers)).scalars().all()
        command.upgrade(cfg, "0020_languages")
        assert before and conn.execute(text(triggers)).scalars().all() == before  # the search triggers stay
        assert conn.execute(text("SELECT store_id, kind, language, body FROM templates ORDER BY store_id")).all() == [
            (1, "order_confirmed", "en", "Thanks #{{ order.number }}"), (2, "order_confirmed", "en", "Merci")]
        assert conn.execute(text("SELECT default_language FROM stores ORDER BY id")).scalars().all() == ["en", "en"]
        assert conn.execute(text("SELECT language FROM customers")).scalar() is None
        conn.execute(text("UPDATE customers SET language = 'es'"))
        conn.execute(text(TEMPLATE.replace("updated_at)", "updated_at, language)").replace("')", "', 'es')")),
                     {"store": 1, "kind": "order_confirmed", "body": "Gracias"})
        # Still one version per (store, kind, language).
        assert {tuple(u["column_names"]) for u in inspect(conn).get_unique_constraints("templates")} == {
            ("store_id", "kind", "language")}
        command.downgrade(cfg, "0019_feedback")
        assert conn.execute(text("SELECT store_id, body FROM templates ORDER BY store_id")).all() == [
            (1, "Thanks #{{ order.number }}"), (2, "Merci")]
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(templates)"))]
        assert "language" not in columns
