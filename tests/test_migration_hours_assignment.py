"""Migration 0018: a database filled at 0016 keeps its agents, memberships and conversations
(nobody away or seen, no assignment made, no store with hours: everything as before), takes
hours and routing from then on, and downgrading drops them again."""
from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import insert, inspect, text

from smsdesk import db
from smsdesk.models import Customer
from tests.test_migration_search_docs import STORE

AT = "2025-01-01 00:00:00"
AGENT = ("INSERT INTO agents (id, email, password_hash, is_admin, session_version, created_at) "
         "VALUES (:id, :email, 'h', 0, 0, :at)")
MEMBER = "INSERT INTO memberships (id, agent_id, store_id, role, created_at) VALUES (:id, :agent, 1, :role, :at)"
CONVERSATION = ("INSERT INTO conversations (id, store_id, customer_id, status, assigned_agent_id, waiting_since, "
                "unread, last_message_at, created_at, updated_at) VALUES (1, 1, 1, 'open', 2, :at, 1, :at, :at, :at)")


def _filled_at_0016(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0016_message_media")
        conn.execute(text(STORE), {"id": 1, "slug": "s1", "sender": "+14155550100"})
        conn.execute(insert(Customer.__table__), {"id": 1, "store_id": 1, "phone": "+15025550123"})
        for n, role in ((1, "owner"), (2, "agent")):
            conn.execute(text(AGENT), {"id": n, "email": f"{role}@example.com", "at": AT})
            conn.execute(text(MEMBER), {"id": n, "agent": n, "role": role, "at": AT})
        conn.execute(text(CONVERSATION), {"at": AT})
    return engine, cfg


def test_upgrade_keeps_the_team_and_the_queue_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0016(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0018_hours_assignment")
        assert conn.execute(text("SELECT id, email, last_seen_at, away_since FROM agents ORDER BY id")).all() == [
            (1, "owner@example.com", None, None), (2, "agent@example.com", None, None)]
        assert conn.execute(text("SELECT agent_id, role, last_assigned_seq FROM memberships ORDER BY id")).all() == [
            (1, "owner", 0), (2, "agent", 0)]
        assert conn.execute(text("SELECT assigned_agent_id, waiting_since FROM conversations")).all() == [(2, AT)]
        assert conn.execute(text("SELECT count(*) FROM desk_settings")).scalar() == 0  # no hours: always open

        # What the app writes from then on, with the columns' defaults.
        conn.execute(text("INSERT INTO desk_settings (store_id, schedule, updated_at) "
                          "VALUES (1, '[[0, 540, 1050]]', :at)"), {"at": AT})
        assert conn.execute(text("SELECT use_hours, away_message, assignment, agent_limit, answer_minutes, "
                                 "assignment_seq FROM desk_settings")).one() == (0, 0, 0, 10, 15, 0)
        conn.execute(text("INSERT INTO conversation_routing (conversation_id, store_id, assigned_agent_id, "
                          "answer_due_at) VALUES (1, 1, 2, :at)"),
                     {"at": datetime(2025, 1, 1, tzinfo=timezone.utc).replace(tzinfo=None)})
        conn.execute(text("UPDATE agents SET last_seen_at = :at, away_since = :at WHERE id = 2"), {"at": AT})
        indexes = {index["name"] for index in inspect(conn).get_indexes("conversations")}
        assert "ix_conversations_assigned_waiting" in indexes

        command.downgrade(cfg, "0016_message_media")
        tables = set(inspect(conn).get_table_names())
        assert not {"desk_settings", "conversation_routing"} & tables
        assert not {"last_seen_at", "away_since"} & {c["name"] for c in inspect(conn).get_columns("agents")}
        assert "last_assigned_seq" not in {c["name"] for c in inspect(conn).get_columns("memberships")}
        assert conn.execute(text("SELECT count(*) FROM conversations WHERE assigned_agent_id = 2")).scalar() == 1
    engine.dispose()
