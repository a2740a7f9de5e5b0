"""Reporting for the owners' dashboard: texts per day and kind, opt-outs, the send queue,
replies waiting, first-response time.

Days are the store's own days: a text sent at 23:30 in Berlin counts on that Berlin date, not
on the next UTC one. Each time zone's stores are counted in one query whose CASE maps a
timestamp to its local day by that zone's day boundaries (in UTC, so daylight saving is
exact and the SQL is the same on SQLite and PostgreSQL).
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from smsdesk.models import (
    AuditEvent,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    Store,
)
from smsdesk.services.replies import AGENT_REPLY

DAYS = 14  # days shown in the chart and the tables
# How each outbound status counts: every text that left smsdesk is "sent".
SENT = {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}
DELIVERED = {MessageStatus.DELIVERED}
FAILED = {MessageStatus.UNDELIVERED, MessageStatus.FAILED}
WAITING_TO_SEND = (MessageStatus.QUEUED, MessageStatus.SCHEDULED)
SERIES = ("sent", "delivered", "failed", "opted_out")


def _of_store(column, store_ids: list[int] | None) -> list:
    """SQL conditions restricting ``column`` (a store_id column) to these stores; none for all stores."""
    return [] if store_ids is None else [column.in_(store_ids)]


def store_zones(session: Session, store_ids: list[int] | None) -> dict[str, list[int]]:
    """Time zone -> ids of those stores in it."""
    zones: dict[str, list[int]] = defaultdict(list)
    for store_id, zone in session.execute(select(Store.id, Store.timezone).where(*_of_store(Store.id, store_ids))):
        zones[zone if _known_zone(zone) else "UTC"].append(store_id)
    return dict(zones)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError; a malformed name a ValueError
        return False
    return True


def display_zone(zones: dict[str, list[int]]) -> str:
    """The zone the chart's days are named in: the stores' one zone, else their most common."""
    return max(zones, key=lambda zone: len(zones[zone])) if zones else "UTC"


def local_today(zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def _local_day(column, zone: str, days: list[date]) -> ColumnElement:
    """SQL: the local date (as "YYYY-MM-DD") in ``zone`` of ``column``, for the window ``days``."""
    starts = [datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
              for day in [*days, days[-1] + timedelta(days=1)]]
    return case(*[(and_(column >= starts[i], column < starts[i + 1]), day.isoformat())
                  for i, day in enumerate(days)], else_=None)


def _window(days: list[date], zone: str) -> tuple[datetime, datetime]:
    first = datetime.combine(days[0], time.min, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    return first, end


def _outbound_counts(session: Session, zone: str, store_ids: list[int], days: list[date]):
    """(local day, kind, status, count) of these stores' outbound texts within ``days``."""
    day = _local_day(Message.created_at, zone, days)
    first, end = _window(days, zone)
    return session.execute(
        select(day, Message.kind, Message.status, func.count())
        .where(Message.direction == Direction.OUT, Message.created_at >= first, Message.created_at < end,
               Message.store_id.in_(store_ids))
        .group_by(day, Message.kind, Message.status)).all()


def _opt_outs(session: Session, zone: str, store_ids: list[int], days: list[date]):
    """(local day, count) of these stores' opt-outs within ``days``."""
    day = _local_day(AuditEvent.at, zone, days)
    first, end = _window(days, zone)
    return session.execute(select(day, func.count()).where(
        AuditEvent.action == "opted_out", AuditEvent.at >= first, AuditEvent.at < end,
        AuditEvent.store_id.in_(store_ids)).group_by(day)).all()


def daily_stats(session: Session, *, today: date, days: int = DAYS,
                store_ids: list[int] | None = None) -> tuple[list[dict], list[dict]]:
    """Per-day rows (oldest first, ending ``today``) and per-kind rows of sent/delivered/failed/
    opted-out counts, each store's texts on its own local day. None ``store_ids``: all stores."""
    window = [today - timedelta(days=days - 1 - i) for i in range(days)]
    per_day = {day.isoformat(): dict.fromkeys(SERIES, 0) for day in window}
    per_kind: dict[str, dict[str, int]] = {}
    for zone, ids in store_zones(session, store_ids).items():
        for day, kind, status, count in _outbound_counts(session, zone, ids, window):
            for bucket in (per_day[day], per_kind.setdefault(kind, dict.fromkeys(SERIES[:3], 0))):
                for name, statuses in (("sent", SENT), ("delivered", DELIVERED), ("failed", FAILED)):
                    bucket[name] += count if status in statuses else 0
        for day, count in _opt_outs(session, zone, ids, window):
            per_day[day]["opted_out"] += count
    days_rows = [{"day": day} | counts for day, counts in sorted(per_day.items())]
    kind_rows = [{"kind": kind} | counts for kind, counts in sorted(per_kind.items())]
    return days_rows, kind_rows


@dataclass(frozen=True)
class SendQueue:
    """Texts waiting to go out, and when the next one is due."""

    count: int
    next_due: datetime | None


def send_queue(session: Session, *, store_ids: list[int] | None = None) -> SendQueue:
    """Queued and scheduled texts of these stores (all for None) and the earliest due time."""
    count, next_due = session.execute(select(func.count(), func.min(Message.due_at)).where(
        Message.direction == Direction.OUT, Message.status.in_(WAITING_TO_SEND),
        *_of_store(Message.store_id, store_ids))).one()
    if isinstance(next_due, str):  # in case a driver hands MIN() back as text
        next_due = datetime.fromisoformat(next_due)
    if isinstance(next_due, datetime):  # naive is UTC (SQLite); PostgreSQL answers in its session's zone
        next_due = next_due.replace(tzinfo=timezone.utc) if next_due.tzinfo is None else \
            next_due.astimezone(timezone.utc)
    return SendQueue(count or 0, next_due)


def median_first_response(session: Session, *, since: datetime, store_ids: list[int] | None = None) -> float | None:
    """Median seconds from a customer's text to the next agent reply in that conversation.

    ``store_ids`` restricts it to those stores' conversations; None covers all stores.
    """
    rows = session.execute(
        select(Message.conversation_id, Message.direction, Message.created_at)
        .where(Message.created_at >= since, Message.conversation_id.is_not(None),
               (Message.direction == Direction.IN) | (Message.kind == AGENT_REPLY),
               *_of_store(Message.store_id, store_ids))
        .order_by(Message.conversation_id, Message.created_at, Message.id)).all()
    waiting: dict[int, datetime] = {}
    waits: list[float] = []
    for conversation_id, direction, at in rows:
        if direction == Direction.IN:
            waiting.setdefault(conversation_id, at)
        elif conversation_id in waiting:
            waits.append((at - waiting.pop(conversation_id)).total_seconds())
    return statistics.median(waits) if waits else None


def replies_waiting(session: Session, *, store_ids: list[int] | None = None) -> int:
    """Open conversations with a customer text not yet answered (of one store, or all)."""
    return session.scalar(select(func.count()).select_from(Conversation).where(
        Conversation.status == ConversationStatus.OPEN, Conversation.waiting_since.is_not(None),
        *_of_store(Conversation.store_id, store_ids))) or 0


def chart(days_rows: list[dict]) -> dict:
    """Bar heights (percent of the busiest day) for the sent/delivered/failed chart, and the
    busiest day (None when nothing was sent)."""
    busiest = max(days_rows, key=lambda row: row["sent"], default=None)
    peak = busiest["sent"] if busiest else 0
    scale = max(peak, 1)
    return {"peak": peak, "busiest_day": busiest["day"] if busiest and peak else None,
            "bars": [row | {"h_sent": 100 * row["sent"] / scale, "h_delivered": 100 * row["delivered"] / scale,
                            "h_failed": 100 * row["failed"] / scale} for row in days_rows]}
