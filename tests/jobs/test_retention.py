"""Retention: old webhook payloads (customers' personal data) are dropped, recent and pending kept."""
from datetime import timedelta

from sqlalchemy import select

from jobs.retention import PAYLOAD_RETENTION, purge_message_bodies, purge_payloads
from smsdesk.models import WebhookDelivery, utcnow


def delivery(db_session, store, *, status: str, age: timedelta) -> WebhookDelivery:
    row = WebhookDelivery(store_id=store.id, source="bigcommerce", delivery_id=f"{status}-{age}", status=status,
                          payload={"data": {"id": 250}, "customer": "Maya Lopez"}, received_at=utcnow() - age)
    db_session.add(row)
    db_session.commit()
    return row


def test_purges_only_old_finished_payloads(app, make, db_session):
    store = make.store(platform="bigcommerce", domain=None)
    old = PAYLOAD_RETENTION + timedelta(hours=1)
    expired = [delivery(db_session, store, status=s, age=old) for s in ("processed", "ignored", "failed")]
    pending = delivery(db_session, store, status="pending", age=old)
    recent = delivery(db_session, store, status="processed", age=timedelta(days=1))

    assert purge_payloads(app.extensions["smsdesk.sessions"]) == 3
    db_session.fresh()
    payloads = dict(db_session.execute(select(WebhookDelivery.id, WebhookDelivery.payload)).tuples().all())
    assert all(payloads[row.id] is None for row in expired)
    assert payloads[pending.id] is not None and payloads[recent.id] is not None
    assert db_session.get(WebhookDelivery, expired[0].id).status == "processed"  # the row itself stays
    assert purge_payloads(app.extensions["smsdesk.sessions"]) == 0


def test_purges_the_events_of_old_applied_deliveries_and_keeps_those_waiting(app, make, db_session):
    store = make.store()
    old = PAYLOAD_RETENTION + timedelta(hours=1)
    rows = {status: WebhookDelivery(store_id=store.id, source="shopify", delivery_id=status, status=status,
                                    events=[{"type": "OrderPlaced", "customer": {"first_name": "Maya"}}],
                                    received_at=utcnow() - old) for status in ("processed", "received")}
    db_session.add_all(rows.values())
    db_session.commit()

    assert purge_payloads(app.extensions["smsdesk.sessions"]) == 1
    db_session.fresh()
    assert db_session.get(WebhookDelivery, rows["processed"].id).events is None
    assert db_session.get(WebhookDelivery, rows["received"].id).events is not None  # still to be applied


def test_message_bodies_older_than_the_setting_are_erased_rows_kept(app, make, db_session):
    from smsdesk.enums import Direction
    from smsdesk.models import Message, MessageStatus

    store = make.store()
    customer = make.customer(store)
    rows = {name: Message(store_id=store.id, customer_id=customer.id, direction=Direction.OUT, kind="order_shipped",
                          body=f"{name} body", status=status, created_at=utcnow() - age)
            for name, status, age in (("old", MessageStatus.DELIVERED, timedelta(days=8)),
                                      ("waiting", MessageStatus.SCHEDULED, timedelta(days=8)),
                                      ("recent", MessageStatus.DELIVERED, timedelta(days=6)))}
    db_session.add_all(rows.values())
    db_session.commit()
    sessions = app.extensions["smsdesk.sessions"]
    assert purge_message_bodies(sessions, days=0) == 0  # 0 keeps them
    assert purge_message_bodies(sessions, days=7) == 1
    db_session.fresh()
    bodies = {name: db_session.get(Message, row.id).body for name, row in rows.items()}
    assert bodies == {"old": "[erased]", "waiting": "waiting body", "recent": "recent body"}
    assert db_session.get(Message, rows["old"].id).status == MessageStatus.DELIVERED
    assert purge_message_bodies(sessions, days=7) == 0
