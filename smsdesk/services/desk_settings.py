"""A store's "Hours & assignment" settings (the owner's /hours page): the weekly schedule, the
away message and automatic assignment switches, the per-agent limit and the answer time.

A store that never saved the page has no row: no schedule (always open), both switches off.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.models import Conversation, ConversationRouting, DeskSettings, Store
from smsdesk.models.desk import DEFAULT_AGENT_LIMIT, DEFAULT_ANSWER_MINUTES
from smsdesk.services.back_time import back_at_text
from smsdesk.services.business_hours import (
    WEEKDAYS,
    InvalidSchedule,
    Schedule,
    day_text,
    is_open,
    next_open,
    open_seconds_between,
    parse_day,
)

# Countries whose customers read a 12-hour clock ("9:00 AM"); elsewhere "9:00" / "17:30".
TWELVE_HOUR_COUNTRIES = frozenset({"US", "CA", "AU", "NZ", "PH", "IN"})
AGENT_LIMITS = (1, 1000)  # waiting conversations assigned to one agent at a time
ANSWER_MINUTES = (1, 7 * 24 * 60)  # minutes an assignee has to answer


def settings_for(session: Session, store_id: int) -> DeskSettings | None:
    """The store's settings row, or None when it never saved any."""
    return session.get(DeskSettings, store_id)


def settings_row(session: Session, store_id: int) -> DeskSettings:
    """The store's settings row, created with the defaults when missing."""
    return _get_or_add(session, DeskSettings, store_id, store_id=store_id)


def routing_row(session: Session, conversation: Conversation) -> ConversationRouting:
    """The conversation's routing state (away message, assignment), created when missing."""
    return _get_or_add(session, ConversationRouting, conversation.id, conversation_id=conversation.id,
                       store_id=conversation.store_id)


Row = TypeVar("Row", DeskSettings, ConversationRouting)


def _get_or_add(session: Session, model: type[Row], key: int, **fields: int) -> Row:
    row = session.get(model, key)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**fields)
            session.add(row)
    except IntegrityError:  # added concurrently: theirs
        row = session.get_one(model, key, populate_existing=True)
    return row


def schedule_of(store: Store, row: DeskSettings | None) -> Schedule | None:
    """The store's schedule in its time zone; None (always open) without one or with business hours
    off. A stored schedule that no longer checks out (edited by hand) counts as none rather than
    closing the store."""
    if row is None or not row.use_hours or row.schedule is None:
        return None
    try:
        return Schedule.from_rows(store.timezone, row.schedule)
    except InvalidSchedule:
        return None


def twelve_hour(store: Store) -> bool:
    return (store.country or "").upper() in TWELVE_HOUR_COUNTRIES


def back_text(store: Store, schedule: Schedule | None, now: datetime, language: str = "en") -> str:
    """When the team is back ("Monday at 9:00 AM", or in ``language``: services/back_time.py);
    "" when it is open or never opens."""
    back = next_open(schedule, now)
    if back is None or back <= now:
        return ""
    return back_at_text(schedule, back, now, twelve_hour=twelve_hour(store), language=language)


def status_text(store: Store, schedule: Schedule | None, now: datetime) -> str:
    """What the page says: "Open now", "Closed — back Monday at 9:00 AM" or "Closed (no open hours)"."""
    if schedule is None:
        return "Open now (no business hours set: always open)"
    if is_open(schedule, now):
        return "Open now"
    back = back_text(store, schedule, now)
    return f"Closed — back {back}" if back else "Closed (no open hours)"


# --------------------------------------------------------------------------
# The page's form
# --------------------------------------------------------------------------


@dataclass
class FormResult:
    """The values the page shows again and, per field, why it was refused."""

    values: dict[str, object]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def saved(self) -> bool:
        return not self.errors

    @property
    def status(self) -> int:
        return 422 if self.errors else 200


def day_field(weekday: int) -> str:
    return f"day_{weekday}"


def current_values(store: Store, row: DeskSettings | None) -> dict[str, object]:
    """The form as the store's settings are now."""
    schedule = _kept_schedule(store, row)
    values: dict[str, object] = {day_field(day): day_text(schedule, day) for day in range(7)}
    values |= {"use_hours": bool(row and row.use_hours),
               "away_message": bool(row and row.away_message), "assignment": bool(row and row.assignment),
               "agent_limit": str(row.agent_limit if row else DEFAULT_AGENT_LIMIT),
               "answer_minutes": str(row.answer_minutes if row else DEFAULT_ANSWER_MINUTES)}
    return values


def save_form(session: Session, store: Store, form: Mapping[str, str]) -> FormResult:
    """Check a submitted form and, when every field is acceptable, save it (the caller commits)."""
    values = _submitted(form)
    result = FormResult(values=values)
    intervals = _intervals(values, result)
    limit = _number(values, "agent_limit", AGENT_LIMITS, "per-agent limit", result)
    minutes = _number(values, "answer_minutes", ANSWER_MINUTES, "answer time", result)
    if values["use_hours"] and not intervals and not result.errors:
        result.errors["schedule"] = ("add at least one open interval, or switch business hours off "
                                     "(no business hours: always open)")
    if result.errors:
        return result
    row = settings_row(session, store.id)
    row.use_hours = bool(values["use_hours"])
    row.schedule = Schedule(store.timezone, tuple(intervals)).rows()  # kept while switched off
    row.away_message, row.assignment = bool(values["away_message"]), bool(values["assignment"])
    row.agent_limit, row.answer_minutes = limit, minutes
    session.flush()
    return result


def _kept_schedule(store: Store, row: DeskSettings | None) -> Schedule | None:
    """The saved schedule, whether business hours are on or off (the form shows it either way)."""
    if row is None or row.schedule is None:
        return None
    try:
        return Schedule.from_rows(store.timezone, row.schedule)
    except InvalidSchedule:
        return None


def _submitted(form: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {day_field(day): form.get(day_field(day), "").strip()[:200] for day in range(7)}
    values |= {key: form.get(key) == "on" for key in ("use_hours", "away_message", "assignment")}
    values |= {key: form.get(key, "").strip()[:20] for key in ("agent_limit", "answer_minutes")}
    return values


def _intervals(values: dict[str, object], result: FormResult) -> list:
    intervals = []
    for day in range(7):
        try:
            intervals += parse_day(day, str(values[day_field(day)]))
        except InvalidSchedule as exc:
            result.errors[day_field(day)] = f"{WEEKDAYS[day]}: {exc}"
    return intervals


def _number(values: dict[str, object], key: str, bounds: tuple[int, int], label: str, result: FormResult) -> int:
    low, high = bounds
    text = str(values[key])
    if not text.isdigit() or not low <= int(text) <= high:
        result.errors[key] = f"the {label} must be a whole number from {low} to {high}"
        return low
    return int(text)


def business_elapsed(session: Session) -> Callable[[int, datetime, datetime], float]:
    """``(store_id, start, end) -> seconds`` of each store's business time (wall-clock time for a
    store without business hours): the ``elapsed`` the dashboard's response metrics take. Each
    store's schedule is read once per call of this function."""
    schedules: dict[int, Schedule | None] = {}

    def elapsed(store_id: int, start: datetime, end: datetime) -> float:
        if store_id not in schedules:
            store = session.get_one(Store, store_id)
            schedules[store_id] = schedule_of(store, settings_for(session, store_id))
        return open_seconds_between(schedules[store_id], start, end)
    return elapsed
