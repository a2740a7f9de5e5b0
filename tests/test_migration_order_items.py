"""Migration 0013: orders gain their line items; existing orders keep every column and get [],
and the search triggers of migration 0011 on orders survive (SQLite)."""
import json

from alembic import command
from sqlalchemy import text

from smsdesk import db
from tests.test_migration_tenancy import STORE

ORDER = ("INSERT INTO orders (id, store_id, external_id, number, status, total, currency, status_url, tracking_number, "
         "tracking_company, tracking_url, item_count, created_at, updated_at) "
         "VALUES (:id, 1, :ext, :number, 'shipped', '54.00', 'USD', 'https://shop.example/s', '1Z', 'UPS', "
         "'https://ups.example/1Z', 3, '2025-01-01 00:00:00', "
         "'2025-01-01 00:00:00')")


def test_existing_orders_keep_their_data_and_get_no_items(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0012_suppressions")  # the revision before 0013
        triggers_before = _order_triggers(conn)
        conn.execute(text(STORE), {"id": 1, "slug": "s1", "sender": "+14155550100"})
        for n in (1, 2):
            conn.execute(text(ORDER), {"id": n, "ext": f"ext-{n}", "number": f"10{n}"})
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0013_order_items")  # later revisions replace the search triggers (0015)
        rows = conn.execute(text("SELECT id, number, total, tracking_url, item_count, items FROM orders "
                                 "ORDER BY id")).all()
        conn.execute(text("INSERT INTO orders (id, store_id, external_id, number, status, total, currency, status_url, "
                          "tracking_number, tracking_company, tracking_url, item_count, created_at, updated_at) "
                          "VALUES (3, 1, 'ext-3', '103', 'new', '', '', '', '', '', '', 0, '2025-01-02 00:00:00', "
                          "'2025-01-02 00:00:00')"))
        new_row = conn.execute(text("SELECT items FROM orders WHERE id = 3")).scalar()
        triggers_after = _order_triggers(conn)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012_suppressions")  # and back: the column goes, the orders stay
        count = conn.execute(text("SELECT count(*) FROM orders")).scalar()
    engine.dispose()
    assert [(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows] == [
        (1, "101", "54.00", "https://ups.example/1Z", 3, []), (2, "102", "54.00", "https://ups.example/1Z", 3, [])]
    assert json.loads(new_row) == [] and count == 3
    assert triggers_before and triggers_after == triggers_before


def _order_triggers(conn) -> list[str]:
    return sorted(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'orders'"))
                  .scalars())
