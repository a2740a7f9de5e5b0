"""The recovered-revenue report (services/revenue.py): per store and reminder step, and per
template version: sent, delivered, clicked, click rate, attributed orders and revenue per
currency; and the CSV rows behind it."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from smsdesk.enums import Attribution
from smsdesk.models import MessageStatus
from smsdesk.services import revenue, template_versions

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
END = datetime(2026, 12, 1, tzinfo=timezone.utc)
AT = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)
H = timedelta(hours=1)


@pytest.fixture
def world(db_session, make):
    store, other = make.store(name="Acme"), make.store(name="Other")
    v1 = template_versions.version_id(db_session, store_id=store.id, kind="cart_reminder_1", language="en",
                                      body="Come back!\n{{ cart.recovery_url }}")
    v2 = template_versions.version_id(db_session, store_id=store.id, kind="cart_reminder_1", language="en",
                                      body="Still thinking?")
    db_session.commit()
    people = [make.customer(store, f"+1502555{n:04d}") for n in range(6)]
    texts = [make.text(store, people[n], at=AT, template_version_id=v1 if n < 3 else v2, status=status)
             for n, status in enumerate([MessageStatus.DELIVERED, MessageStatus.DELIVERED, MessageStatus.SENT,
                                         MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.QUEUED])]
    make.click(texts[0], at=AT + H)
    make.click(texts[0], at=AT + 2 * H)  # twice: one clicked text
    make.click(texts[3], at=AT + H)
    second = make.text(store, people[0], at=AT + 24 * H, kind="cart_reminder_2")
    make.text(store, people[0], at=AT, kind="order_confirmed", marketing=False)  # no reminder step
    make.text(store, people[1], at=START - H)  # before the range
    credit = {"attribution": Attribution.CLICK, "attributed_at": AT + H}
    make.order(store, people[0], at=AT + 3 * H, total="25.00", attributed_message_id=texts[0].id, number="1001",
               **credit)
    make.order(store, people[3], at=AT + 3 * H, total="10.50", attributed_message_id=texts[3].id, number="1002",
               **credit)
    make.order(store, people[1], at=AT + 4 * H, total="5", currency="EUR", attributed_message_id=texts[1].id,
               number="=1003", attribution=Attribution.VIEW, attributed_at=AT)
    make.order(store, people[0], at=AT + 30 * H, total="n/a", attributed_message_id=second.id, number="1004",
               **credit)
    make.order(store, people[2], at=AT + 5 * H, total="99.00")  # not attributed
    make.order(store, people[0], at=END + H, total="7.00", attributed_message_id=texts[0].id, **credit)  # after
    make.text(other, make.customer(other), at=AT)
    return store, other, texts


def test_per_step_and_per_version_figures(db_session, world):
    store, _other, _ = world
    report = revenue.report(db_session, stores={store.id: store.name}, start=START, end=END)
    steps = {row.kind: row for row in report.steps}
    assert set(steps) == {"cart_reminder_1", "cart_reminder_2"}
    first = steps["cart_reminder_1"]
    assert (first.sent, first.delivered, first.clicked, first.orders) == (5, 3, 2, 3)
    assert first.click_rate == pytest.approx(2 / 5)
    assert first.revenue == {"USD": Decimal("35.50"), "EUR": Decimal("5")}
    second = steps["cart_reminder_2"]
    assert (second.sent, second.clicked, second.orders, second.revenue) == (1, 0, 1, {})  # "n/a" is no amount
    versions = [(row.version, row.first_line, row.sent, row.clicked, row.orders, row.revenue)
                for row in report.versions]
    assert versions == [(1, "Come back!", 3, 1, 2, {"USD": Decimal("25.00"), "EUR": Decimal("5")}),
                        (2, "Still thinking?", 2, 1, 1, {"USD": Decimal("10.50")})]
    assert report.totals == {"EUR": Decimal("5"), "USD": Decimal("35.50")}


def test_other_stores_are_left_out_and_shown_when_asked(db_session, world):
    store, other, _ = world
    only_other = revenue.report(db_session, stores={other.id: other.name}, start=START, end=END)
    assert [(row.store, row.sent, row.orders) for row in only_other.steps] == [("Other", 1, 0)]
    both = revenue.report(db_session, stores={store.id: store.name, other.id: other.name}, start=START, end=END)
    assert [(row.store, row.kind) for row in both.steps] == [
        ("Acme", "cart_reminder_1"), ("Acme", "cart_reminder_2"), ("Other", "cart_reminder_1")]


def test_the_csv_has_one_row_per_attributed_order_in_the_range(db_session, world):
    store, _other, texts = world
    body = "".join(revenue.export_rows(db_session, stores={store.id: store.name}, start=START, end=END))
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["order_number"] for row in rows] == ["1001", "1002", "'=1003", "1004"]  # a formula is quoted
    first = rows[0]
    assert (first["store"], first["total"], first["currency"], first["attribution"], first["message_id"],
            first["kind"], first["template_version"]) == ("Acme", "25.00", "USD", "click", str(texts[0].id),
                                                          "cart_reminder_1", "1")
    assert datetime.fromisoformat(first["clicked_or_sent_at"]) == AT + H
    assert datetime.fromisoformat(first["placed_at"]) == AT + 3 * H
    assert rows[2]["attribution"] == "view"


@pytest.mark.parametrize("total, value", [("25.00", Decimal("25.00")), (" 7 ", Decimal(7)), ("", None),
                                          ("n/a", None), ("NaN", None), ("Infinity", None), ("1,5", None)])
def test_amounts_are_parsed_safely(total, value):
    assert revenue.amount(total) == value
