"""Migration 0019: a database filled at 0016 keeps its conversations and texts, takes feedback
settings, ratings and conversation closes, and downgrading drops only those again."""
from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import insert, inspect, text

from smsdesk import db
from smsdesk.models import Conversation, ConversationClose, Customer, Feedback, FeedbackSettings
from tests.test_migration_search_docs import STORE

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)
NEW_TABLES = {"feedback", "feedback_settings", "conversation_closes"}


def _filled_at_0016(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0016_message_media")
        conn.execute(text(STORE), {"id": 1, "slug": "s1", "sender": "+14155550100"})
        conn.execute(insert(Customer.__table__), {"id": 1, "store_id": 1, "phone": "+15025550123"})
        conn.execute(insert(Conversation.__table__), {"id": 1, "store_id": 1, "customer_id": 1, "status": "closed",
                                                      "unread": 0, "last_message_at": AT, "created_at": AT,
                                                      "updated_at": AT})
        for n, (direction, kind, body, status) in enumerate((("out", "delivered", "Delivered", "delivered"),
                                                             ("in", "inbound", "5", "received")), start=1):
            conn.execute(text("INSERT INTO messages (id, store_id, customer_id, conversation_id, direction, kind, "
                              "body, status, reason_detail, marketing, attempts, segments, encoding, created_at, "
                              "updated_at, lease_generation, reconcile_tries) VALUES (:id, 1, 1, 1, :direction, :kind, "
                              ":body, :status, '', 0, 0, 1, 'GSM-7', :at, :at, 0, 0)"),
                         {"id": n, "direction": direction, "kind": kind, "body": body, "status": status,
                          "at": AT.replace(tzinfo=None)})
    return engine, cfg


def test_upgrade_keeps_conversations_and_takes_feedback_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0016(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        assert not NEW_TABLES & set(inspect(conn).get_table_names())
        command.upgrade(cfg, "0019_feedback")
        assert conn.execute(text("SELECT id, kind, body FROM messages ORDER BY id")).all() == [
            (1, "delivered", "Delivered"), (2, "inbound", "5")]
        assert conn.execute(text("SELECT status FROM conversations")).scalar() == "closed"
        conn.execute(insert(FeedbackSettings.__table__), {"store_id": 1, "after_delivered": True,
                                                          "delivered_delay_hours": 24, "after_close": False,
                                                          "close_delay_hours": 24, "updated_at": AT})
        conn.execute(insert(Feedback.__table__), {"store_id": 1, "customer_id": 1, "conversation_id": 1,
                                                  "request_message_id": 1, "message_id": 2, "score": 5, "comment": "",
                                                  "opened": False, "created_at": AT})
        conn.execute(insert(ConversationClose.__table__), {"store_id": 1, "conversation_id": 1, "agent_id": None,
                                                           "closed_at": AT})
        assert conn.execute(text("SELECT score FROM feedback")).scalar() == 5
        command.downgrade(cfg, "0016_message_media")
        assert not NEW_TABLES & set(inspect(conn).get_table_names())
        assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 2
    engine.dispose()
