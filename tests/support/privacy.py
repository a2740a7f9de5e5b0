"""A customer with data in every table that can hold theirs, and a scan for what remains of them."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import inspect, select, text

from smsdesk.crypto import EncryptedString
from smsdesk.models import Base, Customer, Order, WebhookDelivery, utcnow
from smsdesk.services.inbound import handle_inbound
from smsdesk.web.dashboard import daily_stats, median_first_response, replies_waiting
from tests.factories import shopify_headers, shopify_order

# What the Shopify order sample says about Bob, plus what he texted.
BOB_PHONE = "+15024592181"
BOB = (BOB_PHONE, "15024592181", "502-459-2181", "Bob", "Norman", "bob.norman@mail.example.com", "Chestnut",
       "Louisville", "imasecretipod", "my parcel went to 12 Elm Lane")


def post_shopify(client, store, payload: dict, *, topic: str, secret: str | None = None):
    body = json.dumps(payload).encode()
    return client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body, topic=topic, secret=secret))


def bob_with_history(client, make, db_session, store) -> Customer:
    """Bob ordered (a text queued), wrote in, then texted STOP; Carol, another customer, wrote in too."""
    assert post_shopify(client, store, shopify_order(), topic="orders/create").status_code == 200
    db_session.fresh()
    bob = db_session.scalar(select(Customer).where(Customer.phone == BOB_PHONE))
    handle_inbound(db_session, store=store, customer=bob, body="my parcel went to 12 Elm Lane",
                   provider_sid="SM" + "b" * 32)
    handle_inbound(db_session, store=store, customer=bob, body="STOP", provider_sid="SM" + "c" * 32)
    carol = make.customer(store, "+15025550177", first_name="Carol", last_name="Keeper", email="carol@example.com")
    handle_inbound(db_session, store=store, customer=carol, body="where is Carol's box", provider_sid="SM" + "d" * 32)
    # a delivery that kept its whole payload (as a fetched BigCommerce one does), addresses and all
    db_session.add(WebhookDelivery(store_id=store.id, source="shopify", delivery_id="raw-1", topic="orders/updated",
                                   status="processed", payload=shopify_order()))
    db_session.commit()
    return bob


def remaining(db_session, needles) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text or JSON value of every table that holds a needle."""
    db_session.fresh()
    found = []
    # Encrypted columns hold the store's secrets as random base64, which now and then spells a
    # needle such as "Bob" by chance; they never hold customer data.
    tables = [(t.name, [c.name for c in t.columns if not isinstance(c.type, EncryptedString)])
              for t in Base.metadata.sorted_tables]
    if db_session.get_bind().dialect.name == "sqlite" and "customer_search" in inspect(db_session.get_bind()) \
            .get_table_names():
        tables.append(("customer_search", ["name", "phone"]))  # an FTS5 table keeping its own copies
    for table, columns in tables:
        for row in db_session.execute(text(f"SELECT {', '.join(columns)} FROM {table}")):
            for column, value in zip(columns, row, strict=True):
                if value is None or isinstance(value, (int, float, bool)):
                    continue
                shown = value if isinstance(value, str) else json.dumps(value, default=str)
                found += [(table, column, n) for n in needles if n.lower() in shown.lower()]
    return found


def dashboard_counts(db_session, store) -> tuple:
    db_session.fresh()
    today = utcnow().date()
    return (daily_stats(db_session, today=today, store_ids=[store.id]),
            median_first_response(db_session, since=utcnow() - timedelta(days=30), store_ids=[store.id]),
            replies_waiting(db_session, store_ids=[store.id]),
            db_session.scalar(select(Order.status).where(Order.store_id == store.id)))
