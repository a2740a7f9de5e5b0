"""Smart sending (services/compliance.py): a marketing text is skipped when the customer got
another one within the store's hours (default 16), checked at send time with a controlled clock."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from smsdesk.models import AuditEvent, Checkout, LinkSettings, MessageStatus
from smsdesk.reasons import Reason
from smsdesk.services import compliance
from tests.services.test_compliance import NOON, PHONE, decide, outbound

MINUTE = timedelta(minutes=1)
HOURS = timedelta(hours=16)


@pytest.fixture
def store(make):
    return make.store(rate_per_second=100.0)  # no settings row: the default, 16 h


@pytest.fixture
def customer(make, store):
    return make.customer(store, PHONE, marketing_consent=True)


def _checkout(db_session, store, customer, token: str) -> int:
    checkout = Checkout(store_id=store.id, customer_id=customer.id, token=token, status="open",
                        recovery_url="https://shop.example.com/cart", total="10.00", currency="USD")
    db_session.add(checkout)
    db_session.commit()
    return checkout.id


@pytest.mark.parametrize("ago, expected", [
    (HOURS - MINUTE, ("suppress", Reason.SMART_SENDING)),
    (HOURS + MINUTE, ("send", None)),
])
def test_a_reminder_at_the_edges_of_the_window(db_session, store, customer, ago, expected):
    outbound(db_session, store, customer, status=MessageStatus.SENT, attempted_at=NOON - ago)
    message = outbound(db_session, store, customer)
    decision = decide(db_session, store, customer, message)
    assert (decision.action, decision.reason) == expected
    if decision.reason is Reason.SMART_SENDING:
        assert decision.detail == "the last marketing text went 15 h 59 min ago; smart sending: 16 h"


def test_the_skip_is_recorded_on_the_text_with_its_reason(db_session, store, customer):
    outbound(db_session, store, customer, status=MessageStatus.DELIVERED, attempted_at=NOON - 2 * timedelta(hours=1))
    message = outbound(db_session, store, customer)
    compliance.apply(db_session, message, decide(db_session, store, customer, message))
    db_session.commit()
    assert (message.status, message.reason) == (MessageStatus.SUPPRESSED, Reason.SMART_SENDING)
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.reason) == ("suppressed", "smart_sending")


def test_the_store_sets_the_hours_and_zero_turns_it_off(db_session, store, customer):
    outbound(db_session, store, customer, status=MessageStatus.SENT, attempted_at=NOON - 3 * timedelta(hours=1))
    message = outbound(db_session, store, customer)
    db_session.add(LinkSettings(store_id=store.id, smart_sending_hours=2))
    db_session.commit()
    assert decide(db_session, store, customer, message).action == "send"
    db_session.get(LinkSettings, store.id).smart_sending_hours = 4
    db_session.commit()
    assert decide(db_session, store, customer, message).reason is Reason.SMART_SENDING
    db_session.get(LinkSettings, store.id).smart_sending_hours = 0
    db_session.commit()
    assert decide(db_session, store, customer, message).action == "send"


def test_transactional_texts_are_never_skipped(db_session, store, customer):
    outbound(db_session, store, customer, status=MessageStatus.SENT, attempted_at=NOON - MINUTE)
    shipped = outbound(db_session, store, customer, kind="order_shipped", marketing=False)
    assert decide(db_session, store, customer, shipped).action == "send"


def test_an_order_text_does_not_make_a_reminder_wait(db_session, store, make):
    customer = make.customer(store, "+12125550188", marketing_consent=True)
    outbound(db_session, store, customer, kind="order_shipped", marketing=False, status=MessageStatus.SENT,
             attempted_at=NOON - MINUTE)
    reminder = outbound(db_session, store, customer)
    assert decide(db_session, store, customer, reminder).action == "send"


def test_a_later_step_of_the_same_cart_still_goes(db_session, store, customer):
    same = _checkout(db_session, store, customer, "c1")
    other = _checkout(db_session, store, customer, "c2")
    outbound(db_session, store, customer, kind="cart_reminder_1", status=MessageStatus.SENT,
             attempted_at=NOON - timedelta(hours=3), checkout_id=same)
    step_two = outbound(db_session, store, customer, checkout_id=same)
    assert decide(db_session, store, customer, step_two).action == "send"
    another_cart = outbound(db_session, store, customer, checkout_id=other)
    assert decide(db_session, store, customer, another_cart).reason is Reason.SMART_SENDING


def test_of_two_reminders_claimed_together_exactly_one_goes(db_session, store, customer):
    first = outbound(db_session, store, customer, status=MessageStatus.SENDING, attempted_at=NOON)
    second = outbound(db_session, store, customer, status=MessageStatus.SENDING, attempted_at=NOON)
    decisions = []
    for message in (first, second):  # one after the other, as the customer's lock orders them
        decision = decide(db_session, store, customer, message)
        if decision.action != "send":
            compliance.apply(db_session, message, decision)
        db_session.commit()
        decisions.append(decision.action)
    assert sorted(decisions) == ["send", "suppress"]
