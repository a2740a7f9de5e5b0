"""Migration 0022: a database filled at 0021 keeps its texts, orders and link settings (which take
the attribution windows' defaults), takes template versions and attribution columns, and
downgrading drops only those again (the search documents' triggers on messages and orders stay)."""
from __future__ import annotations

from alembic import command
from sqlalchemy import insert, inspect, text

from smsdesk.models import TemplateVersion
from tests.test_migration_feedback import AT, _filled_at_0016

ORDER = ("INSERT INTO orders (id, store_id, external_id, number, customer_id, status, total, currency, status_url, "
         "tracking_number, tracking_company, tracking_url, created_at, updated_at, item_count, items) VALUES "
         "(1, 1, 'o1', '1001', 1, 'placed', '25.00', 'USD', '', '', '', '', :at, :at, 0, '[]')")


def _triggers(conn) -> set[str]:
    return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                 "AND tbl_name IN ('messages', 'orders')")).scalars())


def test_upgrade_from_0021_keeps_rows_and_takes_attribution_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0016(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0021_short_links")
        conn.execute(text(ORDER), {"at": AT.replace(tzinfo=None)})
        conn.execute(text("INSERT INTO link_settings (store_id, short_links, base_url, smart_sending_hours, "
                          "updated_at) VALUES (1, 1, 'https://d.example', 16, :at)"), {"at": AT.replace(tzinfo=None)})
        triggers = _triggers(conn)
        assert triggers
        command.upgrade(cfg, "0022_attribution")
        assert conn.execute(text("SELECT click_window_hours, view_attribution, view_window_hours FROM link_settings")
                            ).one() == (120, 0, 24)
        assert conn.execute(text("SELECT total, attributed_message_id, attribution FROM orders")).one() == (
            "25.00", None, None)
        assert conn.execute(text("SELECT id, template_version_id FROM messages ORDER BY id")).all() == [
            (1, None), (2, None)]
        conn.execute(insert(TemplateVersion.__table__), {"id": 1, "store_id": 1, "kind": "cart_reminder_1",
                                                         "language": "en", "number": 1, "body": "Come back",
                                                         "body_hash": "a" * 64, "created_at": AT})
        conn.execute(text("UPDATE messages SET template_version_id = 1 WHERE id = 1"))
        conn.execute(text("UPDATE orders SET attributed_message_id = 1, attribution = 'click', attributed_at = :at"),
                     {"at": AT.replace(tzinfo=None)})
        unique = {tuple(c["column_names"]) for c in inspect(conn).get_unique_constraints("template_versions")}
        assert ("store_id", "kind", "language", "body_hash") in unique
        assert {fk["referred_table"] for fk in inspect(conn).get_foreign_keys("orders")} >= {"messages"}
        assert _triggers(conn) == triggers  # columns added in place, no table copy
        command.downgrade(cfg, "0021_short_links")
        assert "template_versions" not in inspect(conn).get_table_names()
        assert "attributed_message_id" not in {c["name"] for c in inspect(conn).get_columns("orders")}
        assert "template_version_id" not in {c["name"] for c in inspect(conn).get_columns("messages")}
        assert "click_window_hours" not in {c["name"] for c in inspect(conn).get_columns("link_settings")}
        assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 2
        assert conn.execute(text("SELECT total FROM orders")).scalar() == "25.00"
        assert _triggers(conn) == triggers
    engine.dispose()
