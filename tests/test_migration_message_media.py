"""Migration 0016: a database filled at 0015 keeps its texts (none with pictures), and takes
pictures from then on; downgrading drops them again."""
from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import insert, inspect, text

from smsdesk import db
from smsdesk.models import Customer, Direction, Message, MessageMedia, MessageStatus
from tests.support.pictures import png
from tests.test_migration_search_docs import STORE

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _filled_at_0015(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0015_search_docs")
        conn.execute(text(STORE), {"id": 1, "slug": "s1", "sender": "+14155550100"})
        conn.execute(insert(Customer.__table__), {"id": 1, "store_id": 1, "phone": "+15025550123"})
        for n in (1, 2):
            conn.execute(text("INSERT INTO messages (id, store_id, customer_id, direction, kind, body, status, "
                              "reason_detail, marketing, attempts, segments, encoding, created_at, updated_at, "
                              "lease_generation, reconcile_tries) VALUES (:id, 1, 1, 'in', 'inbound', :body, "
                              "'received', '', 0, 0, 1, 'GSM-7', :at, :at, 0, 0)"),
                         {"id": n, "body": f"text {n}", "at": AT.replace(tzinfo=None)})
    return engine, cfg


def test_upgrade_keeps_texts_and_takes_pictures_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0015(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0016_message_media")
        assert conn.execute(text("SELECT id, body, media_count FROM messages ORDER BY id")).all() == [
            (1, "text 1", 0), (2, "text 2", 0)]
        conn.execute(insert(MessageMedia.__table__), {"message_id": 1, "position": 0, "content_type": "image/png",
                                                      "token": "t" * 43, "content": png(), "created_at": AT})
        conn.execute(insert(Message.__table__), {"store_id": 1, "customer_id": 1, "direction": Direction.OUT,
                                                 "kind": "agent_reply", "body": "", "status": MessageStatus.QUEUED,
                                                 "media_count": 1})
        assert conn.execute(text("SELECT content FROM message_media")).scalar() == png()
        assert {"message_media"} <= set(inspect(conn).get_table_names())
        command.downgrade(cfg, "0015_search_docs")
        assert "message_media" not in inspect(conn).get_table_names()
        assert "media_count" not in {c["name"] for c in inspect(conn).get_columns("messages")}
    engine.dispose()
