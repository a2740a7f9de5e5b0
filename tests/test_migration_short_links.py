"""Migration 0021: a database filled at 0019 keeps its texts, takes short links, clicks and link
settings, and downgrading drops only those again."""
from __future__ import annotations

from alembic import command
from sqlalchemy import insert, inspect, text

from smsdesk.models import LinkClick, ShortLink
from tests.test_migration_feedback import AT, _filled_at_0016

NEW_TABLES = {"short_links", "link_clicks", "link_settings"}


def test_upgrade_from_0019_keeps_texts_and_takes_short_links_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0016(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0019_feedback")
        assert not NEW_TABLES & set(inspect(conn).get_table_names())
        command.upgrade(cfg, "0021_short_links")
        assert conn.execute(text("SELECT id, kind, body FROM messages ORDER BY id")).all() == [
            (1, "delivered", "Delivered"), (2, "inbound", "5")]
        # Only 0021's columns (the model's table has later ones, 0022's attribution windows).
        conn.execute(text("INSERT INTO link_settings (store_id, short_links, base_url, smart_sending_hours, "
                          "updated_at) VALUES (1, 1, 'https://desk.example', 16, :at)"),
                     {"at": AT.replace(tzinfo=None)})
        conn.execute(insert(ShortLink.__table__), {"id": 1, "code": "AbCdEf12", "store_id": 1, "message_id": 1,
                                                   "customer_id": 1, "url": "https://x.example", "created_at": AT})
        conn.execute(insert(LinkClick.__table__), {"link_id": 1, "message_id": 1, "store_id": 1, "customer_id": 1,
                                                   "clicked_at": AT, "device": "ios"})
        assert conn.execute(text("SELECT count(*) FROM link_clicks")).scalar() == 1
        unique = {tuple(c["column_names"]) for c in inspect(conn).get_unique_constraints("short_links")}
        assert ("code",) in unique
        command.downgrade(cfg, "0019_feedback")
        assert not NEW_TABLES & set(inspect(conn).get_table_names())
        assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 2
    engine.dispose()
