"""An A/B test's results (services/ab_results.py), counted from texts, clicks, checkouts and orders
made here: sent, delivered, clicked, carts recovered after the text, revenue per currency."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from smsdesk.models import (
    AbTest,
    AbVariant,
    Checkout,
    Direction,
    LinkClick,
    Message,
    MessageStatus,
    Order,
    ShortLink,
)
from smsdesk.services.ab_results import results, results_dict
from smsdesk.services.ab_stats import NOT_YET
from tests.services.test_checkouts import BASE

HOUR = timedelta(hours=1)


@pytest.fixture
def store(make):
    return make.store()


@pytest.fixture
def test(db_session, store):
    test = AbTest(store_id=store.id, kind="cart_reminder_1", language="en", body_b="B", split_percent=50,
                  started_at=BASE - HOUR)
    db_session.add(test)
    db_session.commit()
    return test


class Carts:
    """Reminders of the test, one cart and one customer each, with what became of them."""

    def __init__(self, db_session, make, store, test):
        self.db, self.make, self.store, self.test = db_session, make, store, test
        self.n = 0

    def reminder(self, variant: AbVariant, status=MessageStatus.DELIVERED, *, sent_at=BASE, test=None) -> Message:
        self.n += 1
        customer = self.make.customer(self.store, f"+1212555{self.n:04d}")
        checkout = Checkout(store_id=self.store.id, token=f"tok-{self.n}", customer_id=customer.id,
                            started_at=sent_at - HOUR, last_activity_at=sent_at - HOUR)
        self.db.add(checkout)
        self.db.flush()
        message = Message(store_id=self.store.id, customer_id=customer.id, direction=Direction.OUT,
                          kind="cart_reminder_1", body="x", status=status, marketing=True, checkout_id=checkout.id,
                          sent_at=sent_at if status is not MessageStatus.QUEUED else None,
                          ab_test_id=(test or self.test).id, ab_variant=variant)
        self.db.add(message)
        self.db.commit()
        return message

    def order(self, message: Message, total: str, currency: str = "USD", *, at=BASE + HOUR) -> None:
        checkout = self.db.get(Checkout, message.checkout_id)
        self.db.add(Order(store_id=self.store.id, external_id=f"o-{message.id}-{total}", checkout_token=checkout.token,
                          total=total, currency=currency, created_at=at))
        self.db.commit()

    def completed(self, message: Message, at=BASE + HOUR) -> None:
        checkout = self.db.get(Checkout, message.checkout_id)
        checkout.status, checkout.completed_at = "completed", at
        self.db.commit()

    def click(self, message: Message, times: int = 1) -> None:
        link = ShortLink(code=f"c{message.id:07d}", store_id=self.store.id, message_id=message.id,
                         customer_id=message.customer_id, url="https://shop.example.com/cart")
        self.db.add(link)
        self.db.flush()
        for _ in range(times):
            self.db.add(LinkClick(link_id=link.id, message_id=message.id, store_id=self.store.id,
                                  customer_id=message.customer_id, clicked_at=BASE + HOUR))
        self.db.commit()


@pytest.fixture
def carts(db_session, make, store, test):
    return Carts(db_session, make, store, test)


def test_counts_per_version(db_session, carts, test):
    a1, a2 = carts.reminder(AbVariant.A), carts.reminder(AbVariant.A, MessageStatus.SENT)
    carts.reminder(AbVariant.A, MessageStatus.UNDELIVERED)
    carts.reminder(AbVariant.A, MessageStatus.FAILED)  # refused by the provider: reached no one
    carts.reminder(AbVariant.A, MessageStatus.QUEUED)  # not sent yet
    b1, b2 = carts.reminder(AbVariant.B), carts.reminder(AbVariant.B)
    carts.click(a1, times=3)  # one text clicked three times is one clicked text
    carts.click(b1)
    carts.click(b2)
    carts.order(a2, "20.00")
    carts.order(b1, "54.00")
    carts.order(b1, "6.50")  # a second order of the same cart: one cart, both orders' money
    carts.order(b2, "30,00", "EUR")  # unreadable total: a recovered cart, no revenue
    found = results(db_session, test)
    a, b = found.a, found.b
    assert (a.sent, a.delivered, a.clicked, a.recovered) == (3, 1, 1, 1)
    assert (b.sent, b.delivered, b.clicked, b.recovered) == (2, 2, 2, 2)
    assert a.revenue == {"USD": Decimal("20.00")} and b.revenue == {"USD": Decimal("60.50")}
    assert a.recovery_rate == pytest.approx(1 / 3) and b.recovery_rate == 1.0
    assert (found.verdict.headline, found.verdict.significant) == (NOT_YET, False)
    assert "too few texts" in found.verdict.why


def test_revenue_per_currency(db_session, carts, test):
    for total, currency in (("10.00", "EUR"), ("5.25", "eur"), ("19.90", "USD")):
        carts.order(carts.reminder(AbVariant.B), total, currency)
    assert results(db_session, test).b.revenue == {"EUR": Decimal("15.25"), "USD": Decimal("19.90")}


def test_a_purchase_counts_only_after_the_text(db_session, carts, test):
    before = carts.reminder(AbVariant.A)
    carts.order(before, "10.00", at=BASE - timedelta(minutes=5))
    completed = carts.reminder(AbVariant.A)
    carts.completed(completed)  # bought without an order we know of (checkout completed)
    found = results(db_session, test)
    assert (found.a.recovered, found.a.revenue) == (1, {})


def test_only_the_tests_own_texts_count(db_session, carts, test, store):
    other = AbTest(store_id=store.id, kind="cart_reminder_2", language="en", body_b="B", split_percent=50)
    db_session.add(other)
    db_session.commit()
    carts.order(carts.reminder(AbVariant.B, test=other), "10.00")
    carts.reminder(AbVariant.A)
    found = results(db_session, test)
    assert (found.a.sent, found.b.sent, found.b.revenue) == (1, 0, {})


def test_enough_texts_and_a_clear_difference_name_the_winner(db_session, carts, test):
    # 120 texts each: A recovers 10, B 30 (8 % against 25 %).
    for variant, recovered in ((AbVariant.A, 10), (AbVariant.B, 30)):
        for n in range(120):
            message = carts.reminder(variant)
            if n < recovered:
                carts.order(message, "10.00")
    found = results(db_session, test)
    assert (found.a.sent, found.a.recovered, found.b.sent, found.b.recovered) == (120, 10, 120, 30)
    assert found.verdict.significant and found.verdict.headline.startswith("B recovers more carts than A (p ")
    data = results_dict(found)
    assert data["variants"]["B"] == {"sent": 120, "delivered": 120, "clicked": 0, "recovered": 30,
                                     "recovery_rate": 0.25, "revenue": {"USD": "300.00"}}
    assert data["verdict"]["metric"] == "cart recovery rate" and data["verdict"]["p_value"] < 0.05
