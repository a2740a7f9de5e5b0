"""Migration 0023: a database filled at 0022 keeps its texts (their A/B columns empty), takes A/B
tests with at most one running per kind and language, and downgrading drops only those again."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import insert, inspect, text
from sqlalchemy.exc import IntegrityError

from smsdesk.models import AbTest
from tests.test_migration_feedback import AT, _filled_at_0016


def _test_row(**changes) -> dict:
    return {"store_id": 1, "kind": "cart_reminder_1", "language": "en", "name": "shorter", "body_b": "Hi",
            "split_percent": 50, "started_at": AT} | changes


def test_upgrade_from_0022_keeps_texts_and_takes_ab_tests_then_downgrades(tmp_path):
    engine, cfg = _filled_at_0016(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0022_attribution")
        triggers = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        assert "search_docs_messages_ai" in triggers
        command.upgrade(cfg, "0023_ab_tests")
        assert conn.execute(text("SELECT id, body, ab_test_id, ab_variant FROM messages ORDER BY id")).all() == [
            (1, "Delivered", None, None), (2, "5", None, None)]
        conn.execute(insert(AbTest.__table__), _test_row(id=1, ended_at=AT, ended_reason="ended", winner="A"))
        conn.execute(insert(AbTest.__table__), _test_row(id=2))
        with pytest.raises(IntegrityError), conn.begin_nested():  # a second running test of the kind
            conn.execute(insert(AbTest.__table__), _test_row(id=3))
        conn.execute(insert(AbTest.__table__), _test_row(id=4, language="fr"))
        conn.execute(text("UPDATE messages SET ab_test_id = 2, ab_variant = 'B' WHERE id = 1"))
        foreign = {(tuple(fk["constrained_columns"]), fk["referred_table"])
                   for fk in inspect(conn).get_foreign_keys("messages")}
        assert (("ab_test_id",), "ab_tests") in foreign
        command.downgrade(cfg, "0022_attribution")
        assert "ab_tests" not in inspect(conn).get_table_names()
        assert not {"ab_test_id", "ab_variant"} & {c["name"] for c in inspect(conn).get_columns("messages")}
        assert conn.execute(text("SELECT id, kind, body FROM messages ORDER BY id")).all() == [
            (1, "delivered", "Delivered"), (2, "inbound", "5")]
        # The search documents' triggers on messages survive the table copy SQLite needs.
        assert set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()) == triggers
        command.upgrade(cfg, "0023_ab_tests")  # and up again
    engine.dispose()
