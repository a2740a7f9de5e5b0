"""Migration 0017: a database filled at 0016 keeps its texts and conversations, every store's automatic
answers start off, FAQ entries and hand-offs can be stored; downgrading drops them again."""
from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import insert, inspect, select, text

from smsdesk.models import AnswerSettings, Conversation, Customer, FaqEntry, Handoff
from tests.test_migration_message_media import _filled_at_0015
from tests.test_migration_search_docs import STORE

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)
TABLES = {"answer_settings", "faq_entries", "answer_handoffs"}


def _filled_at_0016(tmp_path):
    engine, cfg = _filled_at_0015(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0016_message_media")
        conn.execute(text(STORE), {"id": 2, "slug": "s2", "sender": "+14155550101"})
        conn.execute(insert(Customer.__table__), {"id": 2, "store_id": 2, "phone": "+15025550124"})
        conn.execute(insert(Conversation.__table__), {"id": 1, "store_id": 1, "customer_id": 1, "status": "open",
                                                      "unread": 2, "waiting_since": AT, "last_message_at": AT,
                                                      "created_at": AT, "updated_at": AT})
    return engine, cfg


def test_upgrade_keeps_data_starts_answers_off_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0016(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0017_auto_answers")
        assert conn.execute(text("SELECT id, body, media_count FROM messages ORDER BY id")).all() == [
            (1, "text 1", 0), (2, "text 2", 0)]
        assert conn.execute(text("SELECT id, unread FROM conversations")).all() == [(1, 2)]
        assert conn.execute(select(AnswerSettings.__table__)).all() == []  # no row: every store's answers off
        conn.execute(insert(AnswerSettings.__table__), {"store_id": 1, "updated_at": AT})
        assert conn.execute(text("SELECT order_status, faq, handoff_ack FROM answer_settings")).one() == (0, 0, 1)
        conn.execute(insert(FaqEntry.__table__), {"store_id": 2, "title": "Returns", "questions": ["How?", "¿Cómo?"],
                                                  "answer": "Free within 30 days.", "created_at": AT,
                                                  "updated_at": AT})
        assert conn.execute(select(FaqEntry.questions)).scalar() == ["How?", "¿Cómo?"]
        conn.execute(insert(Handoff.__table__), {"conversation_id": 1, "requested_at": AT, "message_id": 2})
        assert TABLES <= set(inspect(conn).get_table_names())
        command.downgrade(cfg, "0016_message_media")
        assert not TABLES & set(inspect(conn).get_table_names())
        assert conn.execute(text("SELECT count(*) FROM conversations")).scalar() == 1
    engine.dispose()
