"""Migration 0024: link_clicks keeps its clicks and drops its foreign keys; downgrading restores
them."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from tests.test_migration_feedback import _filled_at_0016

CLICK = ("INSERT INTO link_clicks (id, link_id, message_id, store_id, customer_id, clicked_at, device) "
         "VALUES (1, 1, 1, 1, 1, '2026-12-01 10:00:00', 'ios')")


def _references(conn) -> set[tuple[str, str]]:
    keys = inspect(conn).get_foreign_keys("link_clicks")
    return {(fk["constrained_columns"][0], fk["referred_table"]) for fk in keys}


def test_upgrade_keeps_clicks_without_foreign_keys_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0016(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0023_ab_tests")
        conn.execute(text("INSERT INTO short_links (id, code, url, message_id, store_id, customer_id, created_at) "
                          "VALUES (1, 'AbCdEf12', 'https://shop.example.com/t', 1, 1, 1, '2026-12-01 09:00:00')"))
        conn.execute(text(CLICK))
        assert _references(conn) == {("link_id", "short_links"), ("message_id", "messages"),
                                     ("store_id", "stores"), ("customer_id", "customers")}
        command.upgrade(cfg, "0024_click_refs")
        assert _references(conn) == set()
        clicks = conn.execute(text("SELECT link_id, message_id, store_id, customer_id, device FROM link_clicks"))
        assert clicks.all() == [(1, 1, 1, 1, "ios")]
        assert {i["name"] for i in inspect(conn).get_indexes("link_clicks")} >= {
            "ix_link_clicks_customer_clicked", "ix_link_clicks_store_clicked", "ix_link_clicks_message_id"}
        command.downgrade(cfg, "0023_ab_tests")
        assert len(_references(conn)) == 4
        assert conn.execute(text("SELECT count(*) FROM link_clicks")).scalar() == 1
        command.upgrade(cfg, "0024_click_refs")
    engine.dispose()
