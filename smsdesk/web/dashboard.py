"""The owners' dashboard: texts per day and kind, opt-outs, replies waiting, first-response time.

Every figure covers the stores the user owns (all of them for an admin), or one of those when
``?store=<slug>`` names it (filtered in SQL).
"""
from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta

from flask import render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smsdesk.db import get_session
from smsdesk.models import (
    AuditEvent,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    Role,
    Store,
    utcnow,
)
from smsdesk.services.access import store_for, store_ids_for, stores_for
from smsdesk.services.no_text import recent_untexted_orders
from smsdesk.services.replies import AGENT_REPLY
from smsdesk.web import bp
from smsdesk.web.auth import owner_required, signed_in_agent

DAYS = 14  # days shown in the chart and the tables
# How each outbound status counts: every text that left smsdesk is "sent".
SENT = {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED}
DELIVERED = {MessageStatus.DELIVERED}
FAILED = {MessageStatus.UNDELIVERED, MessageStatus.FAILED}
SERIES = ("sent", "delivered", "failed", "opted_out")


def _day(value) -> str:
    """A SQL date() result as YYYY-MM-DD (SQLite gives a string, PostgreSQL a date)."""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _of_store(column, store_ids: list[int] | None) -> list:
    """SQL conditions restricting ``column`` (a store_id column) to these stores; none for all stores."""
    return [] if store_ids is None else [column.in_(store_ids)]


def _outbound_counts(session: Session, since: datetime, store_ids: list[int] | None):
    """(day, kind, status, count) of outbound texts since ``since`` (of one store, or all)."""
    day = func.date(Message.created_at)
    return session.execute(
        select(day, Message.kind, Message.status, func.count())
        .where(Message.direction == Direction.OUT, Message.created_at >= since,
               *_of_store(Message.store_id, store_ids))
        .group_by(day, Message.kind, Message.status)).all()


def _opt_outs(session: Session, since: datetime, store_ids: list[int] | None) -> dict[str, int]:
    """Opt-outs per day (YYYY-MM-DD) since ``since`` (of one store, or all)."""
    day = func.date(AuditEvent.at)
    rows = session.execute(select(day, func.count()).where(AuditEvent.action == "opted_out", AuditEvent.at >= since,
                                                           *_of_store(AuditEvent.store_id, store_ids))
                           .group_by(day)).all()
    return {_day(d): n for d, n in rows}


def daily_stats(session: Session, *, today: date, days: int = DAYS,
                store_ids: list[int] | None = None) -> tuple[list[dict], list[dict]]:
    """Per-day rows (oldest first) and per-kind rows of sent/delivered/failed/opted-out counts.

    ``store_ids`` restricts the counts to those stores; None counts all stores.
    """
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    per_day = {(first + timedelta(days=i)).isoformat(): dict.fromkeys(SERIES, 0) for i in range(days)}
    per_kind: dict[str, dict[str, int]] = {}
    for day, kind, status, count in _outbound_counts(session, since, store_ids):
        for bucket in (per_day.setdefault(_day(day), dict.fromkeys(SERIES, 0)),
                       per_kind.setdefault(kind, dict.fromkeys(SERIES[:3], 0))):
            for name, statuses in (("sent", SENT), ("delivered", DELIVERED), ("failed", FAILED)):
                bucket[name] += count if status in statuses else 0
    for day, count in _opt_outs(session, since, store_ids).items():
        if day in per_day:
            per_day[day]["opted_out"] = count
    days_rows = [{"day": day} | counts for day, counts in sorted(per_day.items())]
    kind_rows = [{"kind": kind} | counts for kind, counts in sorted(per_kind.items())]
    return days_rows, kind_rows


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
    """Bar heights (percent of the busiest day) for the sent/delivered/failed chart."""
    peak = max([row["sent"] for row in days_rows] + [1])
    return {"peak": peak, "bars": [row | {"h_sent": 100 * row["sent"] / peak, "h_delivered":
                                          100 * row["delivered"] / peak, "h_failed": 100 * row["failed"] / peak}
                                   for row in days_rows]}


def _chosen_store(session: Session) -> Store | None:
    """The store named by ``?store=<slug>``; None for all; a 404 page for another store's slug
    (a 403 one where the user is only an agent)."""
    slug = request.args.get("store", "").strip()[:64]
    return store_for(session, signed_in_agent(), slug, role=Role.OWNER) if slug else None


@bp.get("/dashboard")
@owner_required
def dashboard():
    """Numbers and a chart of the last DAYS days, for all stores or the one chosen."""
    session = get_session()
    store = _chosen_store(session)
    store_ids = [store.id] if store else store_ids_for(session, signed_in_agent(), role=Role.OWNER)
    now = utcnow()
    days_rows, kind_rows = daily_stats(session, today=now.date(), store_ids=store_ids)
    median = median_first_response(session, since=now - timedelta(days=DAYS), store_ids=store_ids)
    totals = {name: sum(row[name] for row in days_rows) for name in SERIES}
    untexted = recent_untexted_orders(session, since=now - timedelta(days=DAYS), store_ids=store_ids)
    return render_template("dashboard.html", days=days_rows, kinds=kind_rows, totals=totals, chart=chart(days_rows),
                           waiting=replies_waiting(session, store_ids=store_ids), median=median, span=DAYS,
                           store=store, stores=stores_for(session, signed_in_agent(), role=Role.OWNER),
                           untexted=untexted)
