"""Migration 0013: stores keep their settings and secrets; API keys and catch-up state start empty."""
from alembic import command
from sqlalchemy import text

from smsdesk import crypto, db

STORE = ("INSERT INTO stores (id, slug, name, platform, webhook_secret, api_base, api_token, store_hash, country, "
         "timezone, quiet_hours, rate_per_second, help_text, send_opt_out_confirmation, created_at) VALUES "
         "(1, 'bc', 'S', 'bigcommerce', :secret, 'https://api.bigcommerce.com', :token, 'abc123', 'US', 'UTC', '', "
         "1, '', 1, '2025-01-01 00:00:00')")


def test_upgrade_keeps_stores_and_starts_catch_up_empty(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0013_order_items")  # the revision before 0014
        conn.execute(text(STORE), {"secret": crypto.encrypt("whsecret"), "token": crypto.encrypt("bc-token")})
        command.upgrade(cfg, "head")
        row = conn.execute(text("SELECT slug, api_token, api_key, store_hash FROM stores")).one()
        states = conn.execute(text("SELECT count(*) FROM catch_up_states")).scalar()
        conn.execute(text("INSERT INTO catch_up_states (store_id, attempts, error, missed_changes) "
                          "VALUES (1, 0, '', 0)"))
        command.downgrade(cfg, "0013_order_items")
        after_down = conn.execute(text("SELECT slug FROM stores")).scalars().all()
    engine.dispose()
    assert (row.slug, crypto.decrypt(row.api_token), row.api_key, row.store_hash) == ("bc", "bc-token", None, "abc123")
    assert states == 0
    assert after_down == ["bc"]
