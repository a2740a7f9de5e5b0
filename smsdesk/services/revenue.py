"""Recovered revenue for the owners' dashboard: per store and marketing kind (a cart reminder's
step), and per template version, over a range of days; and the rows behind it as CSV.

Definitions (the dashboard says them too):
- Texts count by when they were queued (``messages.created_at``, as the dashboard's other
  figures): *sent* is every marketing text that left smsdesk (dashboard.SENT), *delivered* those
  the carrier confirmed, *clicked* those with at least one counted click on a short link, and the
  *click rate* is clicked / sent (delivery receipts are not sent by every carrier).
- Orders count by when they were placed (recorded), under the text they are attributed to
  (services/attribution.py), whenever that text was sent. Revenue is the sum of their totals per
  currency (Decimal); a total that is no number is left out of the sum (the order still counts).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from smsdesk.models import Direction, LinkClick, Message, Order, Store, TemplateVersion
from smsdesk.services.dashboard import DELIVERED, SENT
from smsdesk.services.feedback_admin import csv_cell
from smsdesk.services.template_kinds import KINDS
from smsdesk.services.template_versions import first_line, versions

CSV_COLUMNS = ("order_number", "store", "placed_at", "total", "currency", "attribution", "message_id", "kind",
               "template_version", "clicked_or_sent_at")


@dataclass
class Row:
    """One line of a table: a store's kind (``version`` None) or one version of it."""

    store: str
    kind: str
    version: int | None = None
    language: str = ""
    first_line: str = ""
    sent: int = 0
    delivered: int = 0
    clicked: int = 0
    orders: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)  # currency -> sum

    @property
    def label(self) -> str:
        spec = KINDS.get(self.kind)
        return spec.label if spec else self.kind

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.sent if self.sent else None


@dataclass(frozen=True)
class Report:
    steps: list[Row]
    versions: list[Row]

    @property
    def totals(self) -> dict[str, Decimal]:
        """Recovered revenue of every step, per currency."""
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for row in self.steps:
            for currency, amount in row.revenue.items():
                sums[currency] += amount
        return dict(sorted(sums.items()))


def bounds(first_day: date, last_day: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the local days ``first_day``..``last_day`` in ``zone`` (as the dashboard's)."""
    return (datetime.combine(first_day, time.min, tzinfo=ZoneInfo(zone)),
            datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=ZoneInfo(zone)))


def amount(total: str) -> Decimal | None:
    """An order's total as a number; None when it is none ("", "n/a", "NaN", "1e999")."""
    try:
        value = Decimal(total.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


def report(session: Session, *, stores: dict[int, str], start: datetime, end: datetime) -> Report:
    """The figures of ``stores`` (id -> name) for texts queued and orders placed in [start, end)."""
    rows: dict[tuple[int, str, int | None], Row] = {}

    def row(store_id: int, kind: str, version_id: int | None) -> Row:
        return rows.setdefault((store_id, kind, version_id), Row(stores[store_id], kind))

    clicked = case((exists().where(LinkClick.message_id == Message.id), 1), else_=0)
    texts = session.execute(
        select(Message.store_id, Message.kind, Message.template_version_id, Message.status, func.count(),
               func.sum(clicked))
        .where(Message.store_id.in_(stores), Message.direction == Direction.OUT, Message.marketing.is_(True),
               Message.created_at >= start, Message.created_at < end)
        .group_by(Message.store_id, Message.kind, Message.template_version_id, Message.status))
    for store_id, kind, version_id, status, count, clicks in texts:
        line = row(store_id, kind, version_id)
        line.sent += count if status in SENT else 0
        line.delivered += count if status in DELIVERED else 0
        line.clicked += int(clicks or 0) if status in SENT else 0
    for order, kind, version_id in session.execute(_attributed(stores, start, end)):
        line = row(order.store_id, kind, version_id)
        line.orders += 1
        value = amount(order.total)
        if value is not None:
            currency = order.currency.upper() or "?"
            line.revenue[currency] = line.revenue.get(currency, Decimal(0)) + value
    return _tables(session, rows)


def _attributed(stores: dict[int, str], start: datetime, end: datetime):
    return (select(Order, Message.kind, Message.template_version_id)
            .join(Message, Message.id == Order.attributed_message_id)
            .where(Order.store_id.in_(stores), Order.created_at >= start, Order.created_at < end)
            .order_by(Order.created_at, Order.id))


def _tables(session: Session, rows: dict[tuple[int, str, int | None], Row]) -> Report:
    """Rows per (store, kind) summed over versions, and the version rows named."""
    known = versions(session, {version_id for _, _, version_id in rows if version_id is not None})
    steps: dict[tuple[int, str], Row] = {}
    for (store_id, kind, version_id), line in sorted(rows.items(), key=lambda item: (item[1].store, item[0][1:2])):
        step = steps.setdefault((store_id, kind), Row(line.store, kind))
        _add(step, line)
        version = known.get(version_id) if version_id is not None else None
        if version is not None:
            line.version, line.language, line.first_line = version.number, version.language, first_line(version.body)
    by_version = sorted((line for line in rows.values() if line.version is not None),
                        key=lambda line: (line.store, line.kind, line.language, line.version or 0))
    return Report(steps=list(steps.values()), versions=by_version)


def _add(total: Row, line: Row) -> None:
    total.sent += line.sent
    total.delivered += line.delivered
    total.clicked += line.clicked
    total.orders += line.orders
    for currency, value in line.revenue.items():
        total.revenue[currency] = total.revenue.get(currency, Decimal(0)) + value


def export_rows(session: Session, *, stores: dict[int, str], start: datetime, end: datetime) -> Iterator[str]:
    """The attributed orders of ``stores`` placed in [start, end) as CSV lines (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = (select(Order, Message.id, Message.kind, TemplateVersion.number, Store.name)
             .join(Message, Message.id == Order.attributed_message_id)
             .join(Store, Store.id == Order.store_id)
             .outerjoin(TemplateVersion, TemplateVersion.id == Message.template_version_id)
             .where(Order.store_id.in_(stores), Order.created_at >= start, Order.created_at < end)
             .order_by(Order.created_at, Order.id))
    for order, message_id, kind, number, store_name in session.execute(query.execution_options(yield_per=500)):
        writer.writerow([csv_cell(value) for value in (
            order.number or order.external_id, store_name, order.created_at.isoformat(), order.total,
            order.currency, order.attribution.value if order.attribution else "", message_id, kind,
            number if number is not None else "", order.attributed_at.isoformat() if order.attributed_at else "")])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
