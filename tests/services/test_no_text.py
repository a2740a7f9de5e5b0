"""services/no_text: every order or checkout that gets no text says why, on the row and in the
audit trail, and the reason goes away when a later event does text it."""
import pytest
from sqlalchemy import select

from smsdesk.events import CheckoutUpdated, CustomerInfo, OrderInfo, OrderPlaced, ShipmentUpdated, SmsConsent
from smsdesk.models import AuditEvent, Checkout, ConsentLevel, ConsentSource, Message, Order, Template, utcnow
from smsdesk.reasons import Reason
from smsdesk.services.customers import get_or_create_customer
from smsdesk.services.events import apply_event
from smsdesk.services.no_text import recent_untexted_orders
from smsdesk.services.template_store import save_template

PHONE = "+15025550123"
ORDER = OrderInfo(external_id="5001", number="5001")


def buyer(phone=PHONE, problem=None, consent=None) -> CustomerInfo:
    consents = () if consent is None or phone is None else (
        SmsConsent(phone=phone, granted=consent, source=ConsentSource.GENERIC, level=ConsentLevel.SINGLE_OPT_IN),)
    return CustomerInfo(phone=phone, phone_problem=problem, first_name="Ada", consents=consents)


def opted_out(db_session, store):
    get_or_create_customer(db_session, store_id=store.id, phone=PHONE).opted_out = True


def disabled(kind):
    def setup(db_session, store):
        save_template(db_session, store_id=store.id, kind=kind, enabled=False)
    return setup


def broken(kind):
    def setup(db_session, store):  # saved before a variable went away: save_template would refuse it
        db_session.add(Template(store_id=store.id, kind=kind, body="Hi {{ customer.nickname }}", enabled=True))
    return setup


def apply(db_session, store, event):
    apply_event(db_session, store=store, event=event, source="test")
    db_session.commit()


def audited(db_session) -> list[tuple[str, dict]]:
    return [(a.reason, a.detail) for a in db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "no_text").order_by(AuditEvent.id))]


@pytest.mark.parametrize(("customer", "setup", "reason"), [
    (buyer(None, Reason.NO_PHONE), None, Reason.NO_PHONE),
    (buyer(None, Reason.INVALID_NUMBER), None, Reason.INVALID_NUMBER),
    (buyer(None, Reason.LANDLINE), None, Reason.LANDLINE),
    (CustomerInfo(), None, Reason.NO_PHONE),  # the event said nothing about a phone
    (buyer(), opted_out, Reason.OPTED_OUT),
    (buyer(), disabled("order_confirmed"), Reason.TEMPLATE_DISABLED),
    (buyer(), broken("order_confirmed"), Reason.TEMPLATE_ERROR),
    (buyer(), None, None),  # texted: nothing to explain
])
def test_order_records_why_it_got_no_text(make, db_session, customer, setup, reason):
    store = make.store()
    if setup:
        setup(db_session, store)
    apply(db_session, store, OrderPlaced(order=ORDER, customer=customer))
    apply(db_session, store, OrderPlaced(order=ORDER, customer=customer))  # a replay adds no audit row
    assert db_session.scalar(select(Order.no_text_reason)) == reason
    expected = [(reason.value, {"order": "5001", "kind": "order_confirmed"})] if reason else []
    assert audited(db_session) == expected


@pytest.mark.parametrize(("customer", "setup", "reason"), [
    (buyer(None, Reason.NO_PHONE, consent=True), None, Reason.NO_PHONE),
    (buyer(None, Reason.INVALID_NUMBER, consent=True), None, Reason.INVALID_NUMBER),
    (buyer(None, Reason.LANDLINE, consent=True), None, Reason.LANDLINE),
    (buyer(consent=False), None, Reason.NO_CONSENT),
    (buyer(consent=None), None, Reason.NO_CONSENT),
    (buyer(consent=True), opted_out, Reason.OPTED_OUT),
    (buyer(consent=True), disabled("cart_reminder_1"), Reason.TEMPLATE_DISABLED),
    (buyer(consent=True), broken("cart_reminder_1"), Reason.TEMPLATE_ERROR),
    (buyer(consent=True), None, None),
])
def test_checkout_records_why_no_reminder_is_scheduled(make, db_session, customer, setup, reason):
    store = make.store()
    if setup:
        setup(db_session, store)
    apply(db_session, store, CheckoutUpdated(token="cart-1", customer=customer))
    assert db_session.scalar(select(Checkout.no_text_reason)) == reason
    assert audited(db_session) == ([(reason.value, {"checkout": "cart-1", "kind": "cart_reminder_1"})]
                                   if reason else [])


def test_reason_is_cleared_when_a_later_event_texts_the_order(make, db_session):
    store = make.store()
    apply(db_session, store, OrderPlaced(order=ORDER, customer=buyer(None, Reason.LANDLINE)))
    assert db_session.scalar(select(Order.no_text_reason)) == Reason.LANDLINE
    apply(db_session, store, ShipmentUpdated(order=ORDER, status="shipped", customer=buyer()))
    assert db_session.scalar(select(Order.no_text_reason)) is None
    assert list(db_session.scalars(select(Message.kind))) == ["order_shipped"]


def test_a_shipment_naming_no_customer_keeps_the_phone_reason(make, db_session):
    store = make.store()
    apply(db_session, store, OrderPlaced(order=ORDER, customer=buyer(None, Reason.INVALID_NUMBER)))
    apply(db_session, store, ShipmentUpdated(order=ORDER, status="shipped"))  # Shopify's fulfillments/create
    assert db_session.scalar(select(Order.no_text_reason)) == Reason.INVALID_NUMBER
    assert audited(db_session) == [("invalid_number", {"order": "5001", "kind": "order_confirmed"})]


def test_checkout_reason_is_cleared_when_consent_arrives(make, db_session):
    store = make.store()
    apply(db_session, store, CheckoutUpdated(token="cart-1", customer=buyer(consent=False)))
    apply(db_session, store, CheckoutUpdated(token="cart-1", customer=buyer(consent=True)))
    assert db_session.scalar(select(Checkout.no_text_reason)) is None
    assert list(db_session.scalars(select(Message.kind))) == ["cart_reminder_1"]


def test_recent_untexted_orders_lists_the_reason_per_store(make, db_session):
    store, other = make.store(name="Acme"), make.store(name="Other")
    apply(db_session, store, OrderPlaced(order=ORDER, customer=buyer(None, Reason.LANDLINE)))
    apply(db_session, store, OrderPlaced(order=OrderInfo(external_id="5002", number="5002"), customer=buyer()))
    apply(db_session, other, OrderPlaced(order=OrderInfo(external_id="7001", number="7001"),
                                         customer=buyer(None, Reason.NO_PHONE)))
    since = utcnow().replace(year=2000)
    rows = recent_untexted_orders(db_session, since=since, store_ids=[store.id])
    assert [(r["store"], r["number"], r["no_text_reason"], r["no_text_reason_label"]) for r in rows] == [
        ("Acme", "5001", "landline", Reason.LANDLINE.label)]
    assert {r["number"] for r in recent_untexted_orders(db_session, since=since)} == {"5001", "7001"}
    assert recent_untexted_orders(db_session, since=utcnow()) == []
