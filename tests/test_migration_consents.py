"""Migration 0003: customers who had marketing consent get one ``import`` row of history."""
from alembic import command
from sqlalchemy import text

from smsdesk import db


def test_existing_consent_is_imported_as_history(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_claim_fence")
        conn.execute(text("INSERT INTO stores (id, slug, name, platform, webhook_secret, country, timezone, "
                          "quiet_hours, rate_per_second, help_text, send_opt_out_confirmation, created_at) VALUES "
                          "(1, 's', 'S', 'shopify', 'x', 'US', 'UTC', '', 1, '', 1, '2025-01-01 00:00:00')"))
        for n, consent in ((1, 1), (2, 0)):
            conn.execute(text("INSERT INTO customers (id, store_id, phone, first_name, last_name, email, "
                              "marketing_consent, opted_out, created_at) VALUES "
                              f"({n}, 1, '+1212555010{n}', '', '', '', {consent}, 0, '2025-01-0{n} 00:00:00')"))
    db.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT phone, customer_id, state, level, source, at FROM consents")).all()
    engine.dispose()
    [row] = rows  # only the customer who had consent
    assert tuple(row[:5]) == ("+12125550101", 1, "granted", "unknown", "import")
    assert str(row[5]).startswith("2025-01-01 00:00:00")  # as old as the customer: later news still counts
