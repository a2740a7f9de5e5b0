"""Migration 0015: every customer of a database filled at 0014 gets a search document (name,
phone, order numbers, latest texts), and the triggers keep it from then on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic import command
from sqlalchemy import insert, text

from smsdesk import db
from smsdesk.models import Customer, Direction, Message, MessageStatus, Order

STORE = ("INSERT INTO stores (id, slug, name, platform, webhook_secret, from_number, country, timezone, quiet_hours, "
         "rate_per_second, help_text, send_opt_out_confirmation, created_at) VALUES "
         "(:id, :slug, 'S', 'shopify', 'x', :sender, 'US', 'UTC', '', 1, '', 1, '2025-01-01 00:00:00')")
AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _customer(conn, id_: int, phone: str, first: str, last: str) -> None:
    conn.execute(insert(Customer.__table__), {"id": id_, "store_id": 1, "phone": phone, "first_name": first,
                                               "last_name": last})


def _order(conn, id_: int, number: str, customer_id: int) -> None:
    conn.execute(insert(Order.__table__), {"id": id_, "store_id": 1, "external_id": str(id_), "number": number,
                                            "customer_id": customer_id})


def _text(conn, id_: int, customer_id: int, body: str, minutes: int) -> None:
    conn.execute(insert(Message.__table__), {"id": id_, "store_id": 1, "customer_id": customer_id, "body": body,
                                              "direction": Direction.IN, "kind": "inbound",
                                              "status": MessageStatus.RECEIVED,
                                              "created_at": AT + timedelta(minutes=minutes)})


def _database_before_search_docs(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0014_catch_up")  # the revision before 0015
        conn.execute(text(STORE), {"id": 1, "slug": "s1", "sender": "+14155550100"})
        _customer(conn, 1, "+15025550123", "Emma", "Larsen")
        _customer(conn, 2, "+15025550999", "Jonas", "Beck")
        _order(conn, 1, "1042", 1)
        _order(conn, 2, "1043", 1)
        for n in range(1, 61):  # more texts than a document keeps
            _text(conn, n, 1, f"text number {n:03d}", n)
    return engine, cfg


def _doc(conn, customer_id: int):
    return conn.execute(text("SELECT store_id, who, orders, texts FROM search_docs WHERE customer_id = :id"),
                        {"id": customer_id}).one()


def _found(conn, phrase: str) -> list[int]:
    return sorted(conn.execute(text("SELECT rowid FROM doc_search WHERE doc_search MATCH :q"), {"q": phrase}).scalars())


def test_upgrade_backfills_a_document_per_customer_and_triggers_keep_it(tmp_path):
    engine, cfg = _database_before_search_docs(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0015_search_docs")
        store, who, orders, texts = _doc(conn, 1)
        assert (store, who, orders) == (1, "emma larsen +15025550123", "1042 1043")
        assert texts.endswith("text number 060") and "text number 001" not in texts  # the latest texts only
        assert _doc(conn, 2)[1:] == ("jonas beck +15025550999", "", "")
        assert _found(conn, '"Larsen"') == [1] and _found(conn, '"0999"') == [2] and _found(conn, '"1043"') == [1]
        assert "message_search" not in {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master"))}

        _text(conn, 99, 2, "parcel went missing", 99)
        conn.execute(text("UPDATE customers SET first_name = 'Mia' WHERE id = 2"))
        assert _found(conn, '"missing"') == [2] and _found(conn, '"Mia Beck"') == [2] and _found(conn, '"Jonas"') == []
        conn.execute(text("UPDATE messages SET body = '' WHERE id = 99"))  # retention blanks a body
        assert _found(conn, '"missing"') == []
        conn.execute(text("DELETE FROM orders WHERE id = 2"))
        assert _doc(conn, 1)[2] == "1042"
    engine.dispose()


def test_downgrade_restores_the_search_tables_of_0011(tmp_path):
    engine, cfg = _database_before_search_docs(tmp_path)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0015_search_docs")
        command.downgrade(cfg, "0014_catch_up")
        names = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master"))}
        assert "search_docs" not in names and "doc_search" not in names
        found = conn.execute(text("SELECT rowid FROM message_search WHERE message_search MATCH '\"number 060\"'"))
        assert list(found.scalars()) == [60]
    engine.dispose()
