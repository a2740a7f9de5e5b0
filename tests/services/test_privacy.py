"""services/privacy.py: export everything held on a customer; erase it all but the counts."""
import json

import pytest
from sqlalchemy import func, select

from smsdesk.enums import Direction
from smsdesk.events import CustomerInfo, OrderInfo, OrderPlaced
from smsdesk.models import (
    AuditEvent,
    Consent,
    Customer,
    Message,
    MessageStatus,
    Order,
    Suppression,
    WebhookDelivery,
    utcnow,
)
from smsdesk.reasons import Reason
from smsdesk.services.events import apply_event
from smsdesk.services.privacy import UnknownCustomer, erase_customer, export_customer, find_by_phone
from tests.support.privacy import BOB, BOB_PHONE, bob_with_history, dashboard_counts, remaining


def test_export_holds_everything_on_the_customer_and_nothing_of_others(client, make, db_session):
    store = make.store()
    bob = bob_with_history(client, make, db_session, store)
    data = export_customer(db_session, store, bob)
    text = json.dumps(data)  # JSON-ready
    assert data["customer"]["email"] == "bob.norman@mail.example.com" and data["customer"]["opted_out"]
    assert [o["number"] for o in data["orders"]] == ["1001"]
    assert "my parcel went to 12 Elm Lane" in [m["body"] for m in data["messages"]]
    assert data["consents"] and data["conversations"] and data["webhook_deliveries"]
    assert "Carol" not in text and "+15025550177" not in text


def test_phone_is_read_in_the_store_country(client, make, db_session):
    store = make.store()
    bob = make.customer(store, BOB_PHONE)
    assert find_by_phone(db_session, store, "(502) 459-2181").id == bob.id
    with pytest.raises(UnknownCustomer):
        find_by_phone(db_session, store, "+15025550100")
    with pytest.raises(UnknownCustomer):
        find_by_phone(db_session, store, "not a phone")


def test_after_erasure_nothing_of_the_customer_remains_and_counts_stay(client, make, db_session):
    store = make.store()
    bob = bob_with_history(client, make, db_session, store)
    assert {n for _, _, n in remaining(db_session, BOB)} >= {BOB_PHONE, "Norman", "Chestnut"}  # the scan finds them
    before = dashboard_counts(db_session, store)
    rows_before = {m: db_session.scalar(select(func.count()).select_from(m))
                   for m in (Message, Consent, Customer, WebhookDelivery)}

    result = erase_customer(db_session, store, db_session.get(Customer, bob.id), requested_by="test")
    db_session.commit()

    assert remaining(db_session, BOB) == []
    assert dashboard_counts(db_session, store) == before
    assert {m: db_session.scalar(select(func.count()).select_from(m)) for m in rows_before} == rows_before
    assert result.customers == 1 and result.messages >= 3 and result.deliveries >= 1
    erased = db_session.get(Customer, bob.id)
    assert erased.phone == f"erased:{bob.id}" and erased.opted_out  # the opt-out is kept
    # recorded, without personal data
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "customer_erased"))
    assert event.customer_id == bob.id and event.detail["requested_by"] == "test"
    # Carol is untouched
    carol = db_session.scalar(select(Customer).where(Customer.phone == "+15025550177"))
    assert carol.first_name == "Carol"
    assert db_session.scalar(select(Message.body).where(Message.customer_id == carol.id)) == "where is Carol's box"


def test_texts_still_waiting_are_cancelled_with_a_reason(make, db_session):
    store = make.store()
    ann = make.customer(store, "+15025550188", first_name="Ann")
    db_session.add(Message(store_id=store.id, customer_id=ann.id, direction=Direction.OUT, kind="order_shipped",
                           body="Ann, your order shipped", status=MessageStatus.SCHEDULED, due_at=utcnow()))
    db_session.commit()
    assert erase_customer(db_session, store, ann, requested_by="test").cancelled == 1
    db_session.commit()
    message = db_session.scalar(select(Message))
    assert (message.status, message.reason, message.body) == (MessageStatus.CANCELLED, Reason.CUSTOMER_ERASED,
                                                              "[erased]")


@pytest.mark.parametrize("opted_out", [True, False])
def test_an_opt_out_outlives_the_erasure_and_only_an_opt_out(make, db_session, opted_out):
    store = make.store()
    ann = make.customer(store, "+15025550188", first_name="Ann")
    ann.opted_out = opted_out
    db_session.commit()
    erase_customer(db_session, store, ann, requested_by="test")
    db_session.commit()
    kept = db_session.scalars(select(Suppression.phone_hash)).all()
    assert len(kept) == int(opted_out) and not any("5550188" in digest for digest in kept)  # a hash, no number

    event = OrderPlaced(order=OrderInfo(external_id="2001", number="2001"),
                        customer=CustomerInfo(phone="+15025550188", first_name="Ann"))
    apply_event(db_session, store=store, event=event, source="test")
    db_session.commit()
    again = db_session.scalar(select(Customer).where(Customer.phone == "+15025550188"))
    order = db_session.scalar(select(Order).where(Order.external_id == "2001"))
    assert again.id != ann.id and again.opted_out is opted_out
    assert (order.no_text_reason == Reason.OPTED_OUT) is opted_out  # a new order from a "no" gets no text
