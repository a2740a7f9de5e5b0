"""Migration 0009: users keep what they had, store by store; stores sharing a sender stop it."""
import pytest
from alembic import command
from sqlalchemy import text

from smsdesk import db

STORE = ("INSERT INTO stores (id, slug, name, platform, webhook_secret, from_number, country, timezone, quiet_hours, "
         "rate_per_second, help_text, send_opt_out_confirmation, created_at) VALUES "
         "(:id, :slug, 'S', 'shopify', 'x', :sender, 'US', 'UTC', '', 1, '', 1, '2025-01-01 00:00:00')")
AGENT = ("INSERT INTO agents (id, email, password_hash, role, session_version, created_at) VALUES "
         "(:id, :email, 'h', :role, 0, '2025-01-01 00:00:00')")


def _old_database(tmp_path, senders):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008_secrets")  # the revision before 0009
        for n, sender in enumerate(senders, start=1):
            conn.execute(text(STORE), {"id": n, "slug": f"s{n}", "sender": sender})
        conn.execute(text(AGENT), {"id": 1, "email": "own@example.com", "role": "owner"})
        conn.execute(text(AGENT), {"id": 2, "email": "ag@example.com", "role": "agent"})
    return engine, cfg


def test_every_user_keeps_their_role_at_every_existing_store(tmp_path):
    engine, cfg = _old_database(tmp_path, ["+14155550100", "+14155550101"])
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        memberships = conn.execute(text("SELECT agent_id, store_id, role FROM memberships")).all()
        admins = conn.execute(text("SELECT count(*) FROM agents WHERE is_admin")).scalar()
    engine.dispose()
    assert sorted(map(tuple, memberships)) == [(1, 1, "owner"), (1, 2, "owner"), (2, 1, "agent"), (2, 2, "agent")]
    assert admins == 0  # nobody becomes admin by the upgrade


def test_stores_sharing_a_sender_stop_the_upgrade_with_their_names(tmp_path):
    engine, cfg = _old_database(tmp_path, ["+14155550100", "+14155550100", None])
    with pytest.raises(RuntimeError, match=r"from_number \+14155550100 is used by stores s1, s2"):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    engine.dispose()
