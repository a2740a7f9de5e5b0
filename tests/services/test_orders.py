"""services/orders: each stage texted once, never backwards, whatever order events come in."""
import pytest
from sqlalchemy import select

from smsdesk.events import CustomerInfo, OrderCancelled, OrderInfo, OrderPlaced, ShipmentUpdated, Tracking
from smsdesk.models import Message, MessageStatus, Order
from smsdesk.services.events import apply_event

BOB = CustomerInfo(phone="+15025550123", first_name="Bob")
NOBODY = CustomerInfo()  # a fulfillment names no customer
ORDER = OrderInfo(external_id="450789469", number="1001")
UPS = Tracking(number="1Z999", company="UPS", url="https://ups.example/1Z999")


def event(name: str):
    """Short names for the table below; "shipped?" is a shipment that names no customer."""
    if name == "placed":
        return OrderPlaced(order=ORDER, customer=BOB)
    if name == "cancelled":
        return OrderCancelled(order=ORDER, customer=BOB)
    status = name.rstrip("?")
    return ShipmentUpdated(order=OrderInfo(external_id=ORDER.external_id), status=status, tracking=UPS,
                           customer=NOBODY if name.endswith("?") else BOB)


@pytest.mark.parametrize(("events", "kinds", "status"), [
    (["placed", "shipped?", "out_for_delivery?", "delivered?"],
     ["order_confirmed", "order_shipped", "out_for_delivery", "delivered"], "delivered"),
    (["placed", "in_transit?", "shipped?"], ["order_confirmed", "order_shipped"], "shipped"),
    (["placed", "delivered?", "shipped?", "out_for_delivery?"], ["order_confirmed", "delivered"], "delivered"),
    (["shipped?", "placed"], ["order_shipped"], "shipped"),
    (["delivered?", "shipped?", "placed"], ["delivered"], "delivered"),
    (["placed", "cancelled", "shipped?", "placed"], ["order_confirmed", "order_cancelled"], "cancelled"),
    (["cancelled", "placed"], ["order_cancelled"], "cancelled"),
    (["placed", "delivered?", "cancelled"], ["order_confirmed", "delivered"], "cancelled"),
    (["placed", "placed", "shipped", "shipped?"], ["order_confirmed", "order_shipped"], "shipped"),
    (["shipped?", "delivered?"], [], "delivered"),
])
def test_stage_table(make, db_session, events, kinds, status):
    store = make.store()
    for name in events:
        apply_event(db_session, store=store, event=event(name), source="test")
    db_session.commit()
    assert list(db_session.scalars(select(Message.kind).order_by(Message.id))) == kinds
    assert db_session.scalar(select(Order.status)) == status


def test_text_sent_late_carries_the_tracking_recorded_before(make, db_session):
    store = make.store(name="Acme")
    for name in ("shipped?", "placed"):
        apply_event(db_session, store=store, event=event(name), source="test")
    body = db_session.scalar(select(Message.body))
    assert body == "Acme: Hi Bob, your order #1001 has shipped with UPS! Tracking number: 1Z999 https://ups.example/1Z999"


def test_delivery_failure_is_a_note_once(make, db_session):
    store = make.store()
    for name in ("placed", "failure", "failure"):
        apply_event(db_session, store=store, event=event(name), source="test")
    rows = db_session.execute(select(Message.kind, Message.status).order_by(Message.id)).all()
    assert [status for _, status in rows] == [MessageStatus.QUEUED, MessageStatus.NOTE]


def test_over_long_platform_values_are_cut_to_the_columns(make, db_session):
    store = make.store()
    info = OrderInfo(external_id="1", number="9" * 100, total="1" * 50, currency="EURO")
    apply_event(db_session, store=store, event=OrderPlaced(order=info, customer=BOB), source="test")
    apply_event(db_session, store=store, event=ShipmentUpdated(
        order=info, status="shipped", tracking=Tracking(number="Z" * 300, company="C" * 300)), source="test")
    db_session.commit()
    order = db_session.scalar(select(Order))
    assert (len(order.number), len(order.total), order.currency) == (64, 32, "EUR")
    assert (len(order.tracking_number), len(order.tracking_company)) == (255, 255)
