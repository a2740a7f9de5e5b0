"""services/orders: each stage texted once, never backwards, whatever order events come in."""
import pytest
from sqlalchemy import select

from smsdesk.events import (
    CartItem,
    CustomerInfo,
    OrderCancelled,
    OrderInfo,
    OrderPlaced,
    OrderRefunded,
    PaymentDeclined,
    ShipmentUpdated,
    Tracking,
)
from smsdesk.models import AuditEvent, Message, MessageStatus, Order, Shipment
from smsdesk.reasons import Reason
from smsdesk.services.events import apply_event
from smsdesk.services.template_store import save_template

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


# --- packages: every package texted once per stage, with its own tracking ------------------

def package(shipment_id: str, status: str = "shipped", tracking: Tracking = UPS, items: int = 0):
    return ShipmentUpdated(order=OrderInfo(external_id=ORDER.external_id), status=status, tracking=tracking,
                           shipment_id=shipment_id, items=(CartItem("Mittens", items),) if items else ())


DHL = Tracking(number="JJD01", company="DHL", url="https://dhl.example/JJD01")


def texts(db_session) -> list[tuple[str, str]]:
    return list(db_session.execute(select(Message.kind, Message.body).order_by(Message.id)).tuples())


@pytest.mark.parametrize(("events", "kinds"), [
    ([package("A"), package("B", tracking=DHL)], ["order_shipped", "order_shipped"]),
    ([package("A"), package("A", "in_transit"), package("A")], ["order_shipped"]),
    ([package("A", "delivered"), package("B")], ["delivered", "order_shipped"]),  # B is its own package
    ([package("A", "delivered"), package("A"), package("A", "out_for_delivery")], ["delivered"]),
    ([package("A"), package("B"), package("A", "delivered"), package("B", "delivered")],
     ["order_shipped", "order_shipped", "delivered", "delivered"]),
])
def test_package_stage_table(make, db_session, events, kinds):
    store = make.store()
    for e in [OrderPlaced(order=ORDER, customer=BOB), *events]:
        apply_event(db_session, store=store, event=e, source="test")
    assert [kind for kind, _ in texts(db_session)][1:] == kinds


def test_split_shipment_texts_each_package_with_its_own_tracking(make, db_session):
    store = make.store(name="Acme")
    for e in (OrderPlaced(order=ORDER, customer=BOB), package("A"), package("B", tracking=DHL)):
        apply_event(db_session, store=store, event=e, source="test")
    db_session.commit()
    assert [body for _, body in texts(db_session)][1:] == [
        "Acme: Hi Bob, your order #1001 has shipped with UPS! Tracking number: 1Z999 https://ups.example/1Z999",
        "Acme: Hi Bob, your order #1001 has shipped with DHL! Tracking number: JJD01 https://dhl.example/JJD01"]
    packages = db_session.execute(select(Shipment.external_id, Shipment.tracking_number).order_by(Shipment.id)).all()
    assert packages == [("A", "1Z999"), ("B", "JJD01")]
    assert db_session.scalar(select(Order.tracking_number)) == "JJD01"  # the order shows its latest package
    keys = list(db_session.scalars(select(Message.dedupe_key).order_by(Message.id)))
    assert keys[1:] == [f"order:{store.id}:450789469:shipment:A:shipped",
                        f"order:{store.id}:450789469:shipment:B:shipped"]


def test_packages_shipped_before_the_order_are_texted_each_when_it_arrives(make, db_session):
    store = make.store(name="Acme")
    for e in (package("A"), package("B", "delivered", tracking=DHL), OrderPlaced(order=ORDER, customer=BOB)):
        apply_event(db_session, store=store, event=e, source="test")
    assert texts(db_session) == [
        ("order_shipped", ("Acme: Hi Bob, your order #1001 has shipped with UPS! Tracking number: 1Z999 "
                           "https://ups.example/1Z999")),
        ("delivered", "Acme: Hi Bob, your order #1001 has been delivered. Enjoy! Questions? Just reply to this text.")]


@pytest.mark.parametrize(("ordered", "in_package", "expected"), [
    (3, 2, "Acme: Hi Bob, part of your order #1001 has shipped (2 of 3 items) with UPS!"),
    (3, 3, "Acme: Hi Bob, your order #1001 has shipped with UPS!"),
    (0, 2, "Acme: Hi Bob, your order #1001 has shipped with UPS!"),  # the platform did not say: no guess
])
def test_partial_shipment_says_so(make, db_session, ordered, in_package, expected):
    store = make.store(name="Acme")
    order = OrderInfo(external_id=ORDER.external_id, number="1001", item_count=ordered)
    for e in (OrderPlaced(order=order, customer=BOB), package("A", items=in_package)):
        apply_event(db_session, store=store, event=e, source="test")
    assert texts(db_session)[-1][1].startswith(expected)


def test_whole_order_update_moves_every_package_with_one_text(make, db_session):
    store = make.store()
    for e in (OrderPlaced(order=ORDER, customer=BOB), package("A"), package("B", tracking=DHL),
              ShipmentUpdated(order=OrderInfo(external_id=ORDER.external_id), status="delivered")):
        apply_event(db_session, store=store, event=e, source="test")
    assert [kind for kind, _ in texts(db_session)] == ["order_confirmed", "order_shipped", "order_shipped", "delivered"]
    assert set(db_session.scalars(select(Shipment.status))) == {"delivered"}


# --- refunds and declined payments --------------------------------------------------------

def refund(refund_id: str = "", *, partial: bool | None = False, amount: str = "10.00"):
    return OrderRefunded(order=OrderInfo(external_id=ORDER.external_id, currency="EUR"), refund_id=refund_id,
                         amount=amount, partial=partial)


def enable_refund_texts(db_session, store):
    save_template(db_session, store_id=store.id, kind="order_refunded", enabled=True)


@pytest.mark.parametrize(("events", "kinds", "status"), [
    (["placed", refund("r1", partial=True), refund("r1", partial=True)], ["order_confirmed", "order_refunded"],
     "placed"),
    (["placed", refund("r1", partial=True), refund("r2")], ["order_confirmed", "order_refunded", "order_refunded"],
     "refunded"),
    (["placed", refund(partial=True), refund(partial=True), refund(), refund()],
     ["order_confirmed", "order_refunded", "order_refunded"], "refunded"),
    (["placed", refund(), "shipped", "cancelled"], ["order_confirmed", "order_refunded", "order_cancelled"],
     "refunded"),
    (["placed", "shipped", refund("r1")], ["order_confirmed", "order_shipped", "order_refunded"], "refunded"),
    # the platform does not say how much of the order it was (Shopify): the rest may still ship
    (["placed", refund("r1", partial=None), "shipped"], ["order_confirmed", "order_refunded", "order_shipped"],
     "shipped"),
])
def test_refund_table(make, db_session, events, kinds, status):
    store = make.store()
    enable_refund_texts(db_session, store)
    for e in events:
        apply_event(db_session, store=store, event=event(e) if isinstance(e, str) else e, source="test")
    assert [kind for kind, _ in texts(db_session)] == kinds
    assert db_session.scalar(select(Order.status)) == status


def test_refund_text_is_off_until_the_owner_turns_it_on(make, db_session):
    store = make.store()
    for e in (event("placed"), refund("r1")):
        apply_event(db_session, store=store, event=e, source="test")
    assert [kind for kind, _ in texts(db_session)] == ["order_confirmed"]  # and never "cancelled"


def test_refund_words(make, db_session):
    store = make.store(name="Acme")
    enable_refund_texts(db_session, store)
    for e in (event("placed"), refund("r1", partial=True)):
        apply_event(db_session, store=store, event=e, source="test")
    assert texts(db_session)[-1][1] == (
        "Acme: Hi Bob, we have issued a partial refund of 10.00 EUR for your order #1001. "
        "It can take a few days to show on your statement. Questions? Just reply.")


def test_declined_payment_is_no_text_and_is_recorded(make, db_session):
    store = make.store()
    for _ in range(2):  # the platform says it again: recorded once
        apply_event(db_session, store=store, event=PaymentDeclined(order=ORDER, customer=BOB), source="test")
    assert texts(db_session) == []
    assert len(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "no_text")).all()) == 1
    assert db_session.scalar(select(Order.status)) == "declined"
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "no_text"))
    assert audit.reason == Reason.PAYMENT_DECLINED.value
    apply_event(db_session, store=store, event=event("placed"), source="test")  # paid on the second try
    assert [kind for kind, _ in texts(db_session)] == ["order_confirmed"]


def test_delivery_failure_of_a_package_is_a_note_naming_its_carrier(make, db_session):
    store = make.store()
    for e in (event("placed"), package("A"), package("B", tracking=DHL), package("B", "failure", Tracking()),
              package("B", "failure", Tracking())):
        apply_event(db_session, store=store, event=e, source="test")
    notes = db_session.scalars(select(Message.body).where(Message.status == MessageStatus.NOTE)).all()
    assert notes == ["Carrier reported a delivery failure for order #1001 (DHL JJD01)."]


@pytest.mark.parametrize(("events", "kinds", "packages"), [
    # shipped as a whole order, then the platform names the parcel: the same parcel, no second text
    ([event("shipped?"), package("A")], ["order_shipped"], 1),
    ([event("shipped?"), package("A", "delivered")], ["order_shipped", "delivered"], 1),
    # ... unless its tracking says it is another parcel
    ([event("shipped?"), package("B", tracking=DHL)], ["order_shipped", "order_shipped"], 2),
])
def test_named_package_after_a_whole_order_update(make, db_session, events, kinds, packages):
    store = make.store()
    for e in [event("placed"), *events]:
        apply_event(db_session, store=store, event=e, source="test")
    assert [kind for kind, _ in texts(db_session)][1:] == kinds
    assert len(db_session.scalars(select(Shipment)).all()) == packages


def test_order_tracking_is_the_newest_package_whatever_comes_late(make, db_session):
    store = make.store()
    for e in (event("placed"), package("A"), package("B", tracking=DHL), package("A", "in_transit")):
        apply_event(db_session, store=store, event=e, source="test")
    order = db_session.scalar(select(Order))
    assert (order.tracking_number, order.tracking_company) == ("JJD01", "DHL")
