"""An A/B test's results, version beside version, read from the texts the test chose
(``messages.ab_test_id``) and what their carts became.

Per version: texts sent (the provider accepted them: sent, delivered or undelivered — a text the
provider refused reached no one), delivered, clicked (texts with at least one click on a short
link), carts recovered (the text's checkout was bought after the text went: an order with its
token, or the checkout completed), the recovery rate (recovered / sent) and the revenue of those
orders per currency. The verdict (services/ab_stats.py) compares the recovery rates.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import AbTest, AbVariant, Checkout, LinkClick, Message, MessageStatus, Order
from smsdesk.platforms.payload import amount
from smsdesk.services.ab_stats import Verdict, verdict
from smsdesk.services.ab_tests import store_tests

SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED)


@dataclass
class VariantResult:
    variant: AbVariant
    sent: int = 0
    delivered: int = 0
    clicked: int = 0
    recovered: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)  # currency -> total, "" when unknown

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.sent if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.sent if self.sent else None


@dataclass(frozen=True)
class TestResults:
    test: AbTest
    a: VariantResult
    b: VariantResult
    verdict: Verdict

    __test__ = False  # not a pytest class, for all its name

    @property
    def variants(self) -> tuple[VariantResult, VariantResult]:
        return self.a, self.b


@dataclass(frozen=True)
class _Sent:
    """One text of the test that went out, and its cart."""

    message_id: int
    variant: AbVariant
    status: MessageStatus
    sent_at: datetime | None
    token: str | None
    completed_at: datetime | None


def results(session: Session, test: AbTest) -> TestResults:
    """The test's results so far (or final, for an ended test)."""
    texts = _sent_texts(session, test)
    clicked = _clicked(session, test)
    orders = _orders_by_token(session, test)
    by_variant = {variant: VariantResult(variant) for variant in AbVariant}
    for text in texts:
        result = by_variant[text.variant]
        result.sent += 1
        result.delivered += text.status is MessageStatus.DELIVERED
        result.clicked += text.message_id in clicked
        bought = [order for order in orders.get(text.token or "", []) if _after(order.created_at, text.sent_at)]
        result.recovered += bool(bought) or _after(text.completed_at, text.sent_at)
        for order in bought:
            _add(result.revenue, order)
    a, b = by_variant[AbVariant.A], by_variant[AbVariant.B]
    return TestResults(test, a, b, verdict(a.recovered, a.sent, b.recovered, b.sent))


def _sent_texts(session: Session, test: AbTest) -> list[_Sent]:
    rows = session.execute(
        select(Message.id, Message.ab_variant, Message.status, Message.sent_at, Message.attempted_at,
               Checkout.token, Checkout.completed_at)
        .outerjoin(Checkout, Checkout.id == Message.checkout_id)
        .where(Message.ab_test_id == test.id, Message.status.in_(SENT)))
    return [_Sent(row.id, row.ab_variant, row.status, row.sent_at or row.attempted_at, row.token, row.completed_at)
            for row in rows if row.ab_variant is not None]


def _clicked(session: Session, test: AbTest) -> set[int]:
    """The test's texts with at least one click."""
    texts = select(Message.id).where(Message.ab_test_id == test.id)
    return set(session.scalars(select(LinkClick.message_id).where(LinkClick.message_id.in_(texts)).distinct()))


def _orders_by_token(session: Session, test: AbTest) -> dict[str, list[Order]]:
    """The store's orders of the test's carts, by checkout token."""
    tokens = (select(Checkout.token).join(Message, Message.checkout_id == Checkout.id)
              .where(Message.ab_test_id == test.id))
    found: dict[str, list[Order]] = defaultdict(list)
    for order in session.scalars(select(Order).where(Order.store_id == test.store_id,
                                                     Order.checkout_token.in_(tokens))):
        found[order.checkout_token or ""].append(order)
    return found


def _after(moment: datetime | None, sent_at: datetime | None) -> bool:
    """Whether a purchase at ``moment`` came after the text (one never sent counts nothing)."""
    return moment is not None and sent_at is not None and moment >= sent_at


def _add(revenue: dict[str, Decimal], order: Order) -> None:
    """Add the order's total (unreadable ones are skipped: ``amount`` reads them as 0)."""
    total = amount(order.total)
    if total:
        currency = (order.currency or "").upper()
        revenue[currency] = revenue.get(currency, Decimal(0)) + total


def results_dict(found: TestResults) -> dict:
    """The results as the JSON API answers them (money as strings, as orders carry it)."""
    test = found.test
    return {"id": test.id, "kind": test.kind, "language": test.language, "name": test.name,
            "split_percent": test.split_percent, "started_at": test.started_at.isoformat(),
            "ended_at": test.ended_at.isoformat() if test.ended_at else None,
            "ended_reason": test.ended_reason.value if test.ended_reason else None,
            "winner": test.winner.value if test.winner else None,
            "variants": {result.variant.value: _variant_dict(result) for result in found.variants},
            "verdict": {"significant": found.verdict.significant, "headline": found.verdict.headline,
                        "why": found.verdict.why, "metric": found.verdict.metric,
                        "z": found.verdict.z, "p_value": found.verdict.p_value}}


def _variant_dict(result: VariantResult) -> dict:
    return {"sent": result.sent, "delivered": result.delivered, "clicked": result.clicked,
            "recovered": result.recovered, "recovery_rate": result.recovery_rate,
            "revenue": {currency: str(total) for currency, total in sorted(result.revenue.items())}}


@dataclass(frozen=True)
class KindTests:
    """What the A/B page of one reminder kind shows: the running test of the language, and the
    kind's past tests (every language), each with its results."""

    running: TestResults | None
    past: list[TestResults]


def kind_tests(session: Session, *, store_id: int, kind: str, language: str) -> KindTests:
    """The kind's tests with their results, newest first."""
    tests = store_tests(session, store_id=store_id, kind=kind)
    running = next((test for test in tests if test.ended_at is None and test.language == language), None)
    return KindTests(results(session, running) if running else None,
                     [results(session, test) for test in tests if test.ended_at is not None])


def store_results(session: Session, *, store_id: int) -> list[TestResults]:
    """Every test of the store with its results, newest first."""
    return [results(session, test) for test in store_tests(session, store_id=store_id)]
