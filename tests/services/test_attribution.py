"""Revenue attribution (services/attribution.py) with a controlled clock: the last marketing text
the customer clicked within the click window, else (when on) the last one received within the view
window; windows half-open, (order time - window, order time]."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from smsdesk.enums import Attribution
from smsdesk.events import CustomerInfo, OrderCancelled, OrderInfo, OrderPlaced, ShipmentUpdated, Tracking
from smsdesk.models import LinkSettings, MessageStatus, Order, utcnow
from smsdesk.services import attribution
from smsdesk.services.events import apply_event

T = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)  # the order's time in every test
H, S = timedelta(hours=1), timedelta(seconds=1)
PHONE = "+15025550123"


@pytest.fixture
def store(make):
    return make.store(name="Acme")


@pytest.fixture
def customer(make, store):
    return make.customer(store, PHONE)


def windows(db_session, store, *, click=120, view=24, view_on=False):
    db_session.add(LinkSettings(store_id=store.id, click_window_hours=click, view_attribution=view_on,
                                view_window_hours=view))
    db_session.commit()


def credit(db_session, store, customer, at=T):
    return attribution.credit_for(db_session, store_id=store.id, customer_id=customer.id, at=at)


@pytest.mark.parametrize("clicked, inside", [
    (T - 120 * H - S, False), (T - 120 * H, False), (T - 120 * H + S, True), (T - S, True), (T, True),
    (T + S, False)], ids=["before", "at-start", "just-inside", "just-before", "same-instant", "after"])
def test_the_default_click_window_is_120_hours_open_at_its_start(db_session, make, store, customer, clicked, inside):
    text = make.text(store, customer, at=clicked - H)
    make.click(text, at=clicked)
    found = credit(db_session, store, customer)
    assert (found == attribution.Credit(text.id, Attribution.CLICK, clicked)) if inside else found is None


@pytest.mark.parametrize("clicked, inside", [(T - 48 * H, False), (T - 48 * H + S, True)])
def test_the_click_window_is_the_stores_setting(db_session, make, store, customer, clicked, inside):
    windows(db_session, store, click=48)
    make.click(make.text(store, customer, at=clicked - H), at=clicked)
    assert (credit(db_session, store, customer) is not None) is inside


@pytest.mark.parametrize("sent, inside", [(T - 24 * H, False), (T - 24 * H + S, True), (T, True), (T + S, False)])
def test_a_text_received_within_the_view_window_counts_only_where_it_is_on(
        db_session, make, store, customer, sent, inside):
    text = make.text(store, customer, at=sent)
    assert credit(db_session, store, customer) is None  # off by default
    windows(db_session, store, view_on=True)
    found = credit(db_session, store, customer)
    assert (found == attribution.Credit(text.id, Attribution.VIEW, sent)) if inside else found is None


@pytest.mark.parametrize("status", [MessageStatus.QUEUED, MessageStatus.FAILED, MessageStatus.UNDELIVERED,
                                    MessageStatus.SUPPRESSED])
def test_a_text_that_never_reached_the_phone_is_no_view(db_session, make, store, customer, status):
    windows(db_session, store, view_on=True)
    make.text(store, customer, at=T - H, status=status)
    assert credit(db_session, store, customer) is None


def test_a_click_beats_a_later_view_and_the_latest_click_wins(db_session, make, store, customer):
    windows(db_session, store, view_on=True)
    first, second = make.text(store, customer, at=T - 100 * H), make.text(store, customer, at=T - 90 * H)
    make.click(second, at=T - 80 * H)
    make.click(first, at=T - 70 * H)  # an older text clicked again later: it is the last click
    make.text(store, customer, at=T - H)  # received an hour ago, never clicked
    assert credit(db_session, store, customer) == attribution.Credit(first.id, Attribution.CLICK, T - 70 * H)


def test_clicks_of_other_customers_stores_and_on_non_marketing_texts_are_ignored(db_session, make, store, customer):
    other_store = make.store(name="Other")
    neighbour = make.customer(store, "+15025550124")
    make.click(make.text(store, neighbour, at=T - 2 * H), at=T - H)
    make.click(make.text(other_store, make.customer(other_store, PHONE), at=T - 2 * H), at=T - H)
    make.click(make.text(store, customer, at=T - 2 * H, kind="order_shipped", marketing=False), at=T - H)
    windows(db_session, store, view_on=True)
    make.text(store, customer, at=T - H, kind="order_confirmed", marketing=False)
    assert credit(db_session, store, customer) is None


def test_a_new_order_is_attributed_when_recorded_and_a_cancellation_keeps_it(db_session, make, store, customer):
    text = make.text(store, customer, at=utcnow() - 3 * H)
    make.click(text, at=utcnow() - 2 * H)
    info = OrderInfo(external_id="5001", number="1001", total="42.00", currency="USD")
    apply_event(db_session, store=store, event=OrderPlaced(order=info, customer=CustomerInfo(phone=PHONE)),
                source="test")
    apply_event(db_session, store=store, event=OrderCancelled(order=info, customer=CustomerInfo(phone=PHONE)),
                source="test")
    db_session.commit()
    order = db_session.query(Order).one()
    assert (order.status, order.attributed_message_id, order.attribution) == ("cancelled", text.id, Attribution.CLICK)
    assert order.attributed_at is not None and order.attributed_at <= utcnow()


def test_an_order_first_recorded_without_its_customer_is_attributed_when_the_customer_is_known(
        db_session, make, store, customer):
    text = make.text(store, customer, at=utcnow() - 3 * H)
    make.click(text, at=utcnow() - 2 * H)
    info = OrderInfo(external_id="5002", number="1002", total="9.00", currency="EUR")
    apply_event(db_session, store=store, event=ShipmentUpdated(order=OrderInfo(external_id="5002"), status="shipped",
                                                               tracking=Tracking(), customer=CustomerInfo()),
                source="test")
    assert db_session.query(Order).one().attributed_message_id is None
    apply_event(db_session, store=store, event=OrderPlaced(order=info, customer=CustomerInfo(phone=PHONE)),
                source="test")
    db_session.commit()
    assert db_session.query(Order).one().attributed_message_id == text.id


def test_an_order_without_a_customer_is_not_attributed(db_session, make, store, customer):
    make.click(make.text(store, customer, at=utcnow() - 3 * H), at=utcnow() - 2 * H)
    apply_event(db_session, store=store, event=OrderPlaced(order=OrderInfo(external_id="5003"),
                                                           customer=CustomerInfo()), source="test")
    db_session.commit()
    assert db_session.query(Order).one().attributed_message_id is None
