"""The owners' dashboard: texts per day and kind, opt-outs, replies waiting, first-response time."""
from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smsdesk.db import get_session
from smsdesk.models import AuditEvent, Conversation, ConversationStatus, Direction, Message, MessageStatus, utcnow
from smsdesk.services.replies import AGENT_REPLY
from smsdesk.web import bp
from smsdesk.web.auth import owner_required

DAYS = 14  # days shown in the chart and the tables
# How each outbound status counts: every text that left smsdesk is "sent".
SENT = {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}
DELIVERED = {MessageStatus.DELIVERED}
FAILED = {MessageStatus.UNDELIVERED, MessageStatus.FAILED}
SERIES = ("sent", "delivered", "failed", "opted_out")


def _day(value) -> str:
    """A SQL date() result as YYYY-MM-DD (SQLite gives a string, PostgreSQL a date)."""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _outbound_counts(session: Session, since: datetime):
    """(day, kind, status, count) of outbound texts since ``since``."""
    day = func.date(Message.created_at)
    return session.execute(
        select(day, Message.kind, Message.status, func.count())
        .where(Message.direction == Direction.OUT, Message.created_at >= since)
        .group_by(day, Message.kind, Message.status)).all()


def _opt_outs(session: Session, since: datetime) -> dict[str, int]:
    day = func.date(AuditEvent.at)
    rows = session.execute(select(day, func.count()).where(AuditEvent.action == "opted_out", AuditEvent.at >= since)
                           .group_by(day)).all()
    return {_day(d): n for d, n in rows}


def daily_stats(session: Session, *, today: date, days: int = DAYS) -> tuple[list[dict], list[dict]]:
    """Per-day rows (oldest first) and per-kind rows of sent/delivered/failed/opted-out counts."""
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    per_day = {(first + timedelta(days=i)).isoformat(): dict.fromkeys(SERIES, 0) for i in range(days)}
    per_kind: dict[str, dict[str, int]] = {}
    for day, kind, status, count in _outbound_counts(session, since):
        for bucket in (per_day.setdefault(_day(day), dict.fromkeys(SERIES, 0)),
                       per_kind.setdefault(kind, dict.fromkeys(SERIES[:3], 0))):
            for name, statuses in (("sent", SENT), ("delivered", DELIVERED), ("failed", FAILED)):
                bucket[name] += count if status in statuses else 0
    for day, count in _opt_outs(session, since).items():
        if day in per_day:
            per_day[day]["opted_out"] = count
    days_rows = [{"day": day} | counts for day, counts in sorted(per_day.items())]
    kind_rows = [{"kind": kind} | counts for kind, counts in sorted(per_kind.items())]
    return days_rows, kind_rows


def median_first_response(session: Session, *, since: datetime) -> float | None:
    """Median seconds from a customer's text to the next agent reply in that conversation."""
    rows = session.execute(
        select(Message.conversation_id, Message.direction, Message.created_at)
        .where(Message.created_at >= since, Message.conversation_id.is_not(None),
               (Message.direction == Direction.IN) | (Message.kind == AGENT_REPLY))
        .order_by(Message.conversation_id, Message.created_at, Message.id)).all()
    waiting: dict[int, datetime] = {}
    waits: list[float] = []
    for conversation_id, direction, at in rows:
        if direction == Direction.IN:
            waiting.setdefault(conversation_id, at)
        elif conversation_id in waiting:
            waits.append((at - waiting.pop(conversation_id)).total_seconds())
    return statistics.median(waits) if waits else None


def replies_waiting(session: Session) -> int:
    """Open conversations with a customer text not yet answered."""
    return session.scalar(select(func.count()).select_from(Conversation).where(
        Conversation.status == ConversationStatus.OPEN, Conversation.waiting_since.is_not(None))) or 0


def chart(days_rows: list[dict]) -> dict:
    """Bar heights (percent of the busiest day) for the sent/delivered/failed chart."""
    peak = max([row["sent"] for row in days_rows] + [1])
    return {"peak": peak, "bars": [row | {"h_sent": 100 * row["sent"] / peak, "h_delivered":
                                          100 * row["delivered"] / peak, "h_failed": 100 * row["failed"] / peak}
                                   for row in days_rows]}


@bp.get("/dashboard")
@owner_required
def dashboard():
    """Numbers and a chart of the last DAYS days."""
    session = get_session()
    now = utcnow()
    days_rows, kind_rows = daily_stats(session, today=now.date())
    median = median_first_response(session, since=now - timedelta(days=DAYS))
    totals = {name: sum(row[name] for row in days_rows) for name in SERIES}
    return render_template("dashboard.html", days=days_rows, kinds=kind_rows, totals=totals, chart=chart(days_rows),
                           waiting=replies_waiting(session), median=median, span=DAYS)
