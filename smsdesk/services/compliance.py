"""Send-time compliance (DESIGN §7): whether a claimed text may go out now.

Every outbound text passes ``decide`` right before the provider call, so a rule always
sees the latest state (an opt-out, a revoked consent, a purchase) however long the text
waited in the outbox. Order texts only need the phone not to be opted out. Marketing
texts (cart reminders) also need marketing consent, go out only at an hour allowed in
every time zone the number may be in, by both the store's quiet hours and the legal floor
(``legal_hours``: US federal and state rules, which the store can only narrow), and are
capped: one reminder sequence and ``MARKETING_CAP`` marketing texts per customer per
rolling 24 h, fewer where the recipient's state says so. Outside the allowed hours a text
is deferred to the earliest instant allowed everywhere.
``apply`` records every decision that stops a text, on the message (``reason``, shown by
the API) and in the audit trail.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from smsdesk.models import Checkout, Customer, Message, MessageStatus, Store
from smsdesk.reasons import Reason
from smsdesk.services import audit, legal_hours, short_links
from smsdesk.services.builtin_texts import opt_out_line
from smsdesk.services.legal_hours import LegalRule
from smsdesk.services.phones import phone_timezones

SEND, DEFER, SUPPRESS, CANCEL = "send", "defer", "suppress", "cancel"
DEFAULT_QUIET_HOURS = "20:00-08:00"  # local time; several US states forbid marketing texts after 20:00
HORIZON = timedelta(days=8)  # how far ahead to look for an allowed hour: weekly rules repeat after 7
WINDOW = timedelta(hours=24)  # the rolling window of both caps
MARKETING_CAP = 3  # marketing texts per customer per WINDOW
SEQUENCE_START = "cart_reminder_1"  # the text that starts a reminder sequence (one per WINDOW)
ALLOWED_WHEN_OPTED_OUT = frozenset({"opt_out_confirmation"})  # the one text a STOP allows
OPT_OUT_LINE = "Reply STOP to opt out."
# The last line already tells how to opt out: "Reply STOP to unsubscribe", "Txt STOP to end", and the
# same in the built-in languages ("Responde STOP ...", "Répondez STOP ...", "Antworten Sie STOP ...").
_OPT_OUT_TAIL = re.compile(r"(\b(reply|text|txt|send|responde|responda|envía|envia|répondez|repondez|envoyez|"
                           r"antworten\s+sie|antworte|senden\s+sie)\s+(STOP|BAJA|STOPP)\b|\bSTOP\s+to\s+\w+)[^\n]*$",
                           re.IGNORECASE)
_QUIET_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
# Rows that count as texted. A claimed row may be at the provider already, so it counts:
# when two reminders are claimed together, only one of them can start a sequence.
_TEXTED = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED)
_AUDIT_ACTION = {DEFER: "deferred", SUPPRESS: "suppressed", CANCEL: "cancelled"}


@dataclass(frozen=True)
class Decision:
    """What to do with a claimed text: SEND, DEFER (until ``until``), SUPPRESS or CANCEL."""

    action: str
    reason: Reason | None = None
    until: datetime | None = None
    detail: str = ""


SEND_NOW = Decision(SEND)


def decide(session: Session, *, message: Message, customer: Customer, store: Store, now: datetime) -> Decision:
    """The decision for any claimed outbound text at ``now``."""
    if customer.opted_out and message.kind not in ALLOWED_WHEN_OPTED_OUT:
        return Decision(SUPPRESS, Reason.OPTED_OUT)
    if not message.marketing:
        return SEND_NOW
    return marketing_decision(session, message=message, customer=customer, store=store, now=now)


def marketing_decision(
    session: Session, *, message: Message, customer: Customer, store: Store, now: datetime,
) -> Decision:
    """The rules of DESIGN §7 for a marketing text: consent, purchase, quiet hours, caps."""
    _lock_customer(session, customer)
    if customer.opted_out:
        return Decision(SUPPRESS, Reason.OPTED_OUT)
    if not customer.marketing_consent:
        return Decision(SUPPRESS, Reason.NO_CONSENT)
    if _cart_closed(session, message):
        return Decision(CANCEL, Reason.CHECKOUT_COMPLETED)
    hours = hours_decision(customer.phone, store=store, now=now)
    if hours is not None:
        return hours
    texted, sequences = _texted(session, message, now)
    if message.kind == SEQUENCE_START and sequences:
        return Decision(SUPPRESS, Reason.SEQUENCE_CAP)
    state = legal_hours.state_cap(customer.phone)
    if state is not None and state.cap_per_24h is not None and texted >= state.cap_per_24h:
        return Decision(SUPPRESS, Reason.STATE_CAP,
                        detail=f"{state.name}: at most {state.cap_per_24h} per 24 h ({state.citation})")
    if texted >= MARKETING_CAP:
        return Decision(SUPPRESS, Reason.MARKETING_CAP)
    return smart_sending(session, message=message, store=store, now=now)


def smart_sending(session: Session, *, message: Message, store: Store, now: datetime) -> Decision:
    """SUPPRESS (SMART_SENDING) when the customer got another marketing text less than the
    store's smart-sending hours before ``now``; 0 hours is off. An earlier step of the same
    cart's reminders does not count: the owner chose that sequence's spacing on purpose.

    Checked at send time under the customer's lock like the caps, so of two reminders claimed
    together (a claimed row counts as texted) exactly one goes."""
    hours = short_links.settings_for(session, store.id).smart_sending_hours
    if hours <= 0:
        return SEND_NOW
    others = [Message.customer_id == message.customer_id, Message.marketing.is_(True),
              Message.status.in_(_TEXTED), Message.attempted_at > now - timedelta(hours=hours),
              Message.id != message.id]
    if message.checkout_id is not None:
        others.append(or_(Message.checkout_id.is_(None), Message.checkout_id != message.checkout_id))
    last = session.scalar(select(func.max(Message.attempted_at)).where(*others))
    if last is None:
        return SEND_NOW
    ago = int((now - last).total_seconds() // 60)
    return Decision(SUPPRESS, Reason.SMART_SENDING,
                    detail=f"the last marketing text went {ago // 60} h {ago % 60} min ago; smart sending: {hours} h")


def apply(session: Session, message: Message, decision: Decision) -> None:
    """Take a claimed message out of ``sending`` as decided and record why."""
    # No provider call was made; a rate slot reserved earlier is stale by the next claim.
    message.claimed_until, message.slot_at = None, None
    message.reason, message.reason_detail = decision.reason, decision.detail
    detail = None
    if decision.action == DEFER and decision.until is not None:
        message.status, message.due_at = MessageStatus.SCHEDULED, decision.until
        detail = {"until": decision.until.isoformat()}
    elif decision.action == CANCEL:
        message.status = MessageStatus.CANCELLED
    else:
        message.status = MessageStatus.SUPPRESSED
    audit.record(session, _AUDIT_ACTION[decision.action], store_id=message.store_id,
                 customer_id=message.customer_id, message_id=message.id,
                 reason=decision.reason.value if decision.reason else "",
                 source="compliance", detail=detail)


def with_opt_out_line(body: str, *, language: str | None = None) -> str:
    """``body`` ending with an opt-out line in ``language`` (appended when the template has none)."""
    body = body.rstrip()
    if _OPT_OUT_TAIL.search(body):
        return body
    line = opt_out_line(language)
    return f"{body} {line}" if body else line


def recipient_zones(phone: str, store: Store) -> tuple[str, ...]:
    """Every time zone the recipient may be in: from the number, the store's where it tells nothing."""
    fallback = store.timezone if store.timezone and _valid_zone(store.timezone) else "UTC"
    return tuple(zone for zone in phone_timezones(phone, fallback) if _valid_zone(zone)) or (fallback,)


def hours_decision(phone: str, *, store: Store, now: datetime) -> Decision | None:
    """None when ``now`` is allowed for a marketing text to ``phone``, else DEFER to the earliest
    allowed instant (SUPPRESS when no hour in HORIZON is allowed in all its zones).

    QUIET_HOURS when the store's window blocks ``now`` in some zone, LEGAL_HOURS when only
    the law does; the detail names the window or rule and the zone.
    """
    zones = recipient_zones(phone, store)
    rules = legal_hours.rules_for_phone(phone)
    until = allowed_from(now, zones=zones, window=store.quiet_hours, rules=rules)
    if until == now:
        return None
    reason, detail = _blocker(now, zones=zones, window=store.quiet_hours, rules=rules)
    if until is None:
        return Decision(SUPPRESS, reason, detail=f"{detail}; no hour in the next {HORIZON.days} days is "
                                                 f"allowed in all of {', '.join(zones)}")
    return Decision(DEFER, reason, until, detail)


def allowed_from(now: datetime, *, zones: Sequence[str], window: str | None,
                 rules: Sequence[LegalRule] = ()) -> datetime | None:
    """The earliest instant at or after ``now`` when the store's quiet-hours ``window`` and
    every rule allow a marketing text in every zone; None if there is none within HORIZON."""
    allowed = _until_horizon(now)
    for zone in zones:
        allowed = _intersect(allowed, _store_intervals(zone, window, now))
        for rule in rules:
            allowed = _intersect(allowed, _intervals(zone, rule.window, now))
    return next((max(start, now) for start, end in allowed if end > now), None)


def _blocker(now: datetime, *, zones: Sequence[str], window: str | None,
             rules: Sequence[LegalRule]) -> tuple[Reason, str]:
    """Why ``now`` is not allowed: the store's window in some zone, else the first rule that blocks."""
    for zone in zones:
        if not _contains(_store_intervals(zone, window, now), now):
            start, end = parse_quiet_hours(window)
            return Reason.QUIET_HOURS, f"quiet hours {start:%H:%M}-{end:%H:%M} in {zone}"
    for rule in rules:
        for zone in zones:
            if not _contains(_intervals(zone, rule.window, now), now):
                return Reason.LEGAL_HOURS, f"{rule.name} allows {rule.describe()} ({rule.citation}) in {zone}"
    return Reason.QUIET_HOURS, ""  # not reached: allowed_from found ``now`` blocked


Interval = tuple[datetime, datetime]  # [start, end) in UTC-aware datetimes


def _store_intervals(zone: str, window: str | None, now: datetime) -> list[Interval]:
    """When the store allows marketing texts in ``zone``: outside its quiet hours."""
    quiet_start, quiet_end = parse_quiet_hours(window)
    if quiet_start == quiet_end:
        return _until_horizon(now)  # equal ends: no quiet hours
    return _intervals(zone, lambda day: (quiet_end, quiet_start), now)


def _intervals(zone: str, window_on: Callable[[date], tuple[time, time] | None], now: datetime) -> list[Interval]:
    """The allowed intervals from the day before ``now`` to HORIZON, ``window_on(local date)``
    giving each day's allowed (start, end) local time; an end not after the start is the next day's."""
    tz = ZoneInfo(zone)
    first = now.astimezone(tz).date() - timedelta(days=1)
    intervals = []
    for offset in range(HORIZON.days + 2):
        day = first + timedelta(days=offset)
        window = window_on(day)
        if window is None:
            continue
        start, end = window
        end_day = day if end > start else day + timedelta(days=1)
        intervals.append((_instant(day, start, tz), _instant(end_day, end, tz)))
    return _merge(intervals)


def _instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (one skipped by DST is read with the offset before the change)."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(timezone.utc)


def _until_horizon(now: datetime) -> list[Interval]:
    return [(now - timedelta(days=1), now + HORIZON)]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """Both sorted, non-overlapping lists: the instants in both."""
    result, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def _contains(intervals: list[Interval], instant: datetime) -> bool:
    return any(start <= instant < end for start, end in intervals)


def parse_quiet_hours(window: str | None) -> tuple[time, time]:
    """(start, end) of a "HH:MM-HH:MM" window; the default when missing or malformed."""
    match = _QUIET_HOURS.match((window or "").strip())
    if match is None:
        return parse_quiet_hours(DEFAULT_QUIET_HOURS)
    hours_start, minutes_start, hours_end, minutes_end = (int(part) for part in match.groups())
    try:
        return time(hours_start, minutes_start), time(hours_end, minutes_end)
    except ValueError:  # "25:00": stores.py validates, but never trust a stored string here
        return parse_quiet_hours(DEFAULT_QUIET_HOURS)


def _lock_customer(session: Session, customer: Customer) -> None:
    """Serialize marketing decisions per customer, so two workers cannot both pass a cap,
    and reload the customer under the lock (an opt-out may have committed meanwhile).

    PostgreSQL takes a row lock; SQLite ignores FOR UPDATE and serializes writers anyway.
    """
    session.refresh(customer, with_for_update=True)


def _cart_closed(session: Session, message: Message) -> bool:
    """True when the reminder's checkout was bought meanwhile (a race with cancel_pending)."""
    if message.checkout_id is None:
        return False
    checkout = session.get(Checkout, message.checkout_id)
    return checkout is not None and checkout.status != "open"


def _texted(session: Session, message: Message, now: datetime) -> tuple[int, int]:
    """(marketing texts, reminder sequences started) for this customer in the WINDOW
    before ``now``, other than ``message``; one indexed query (by customer)."""
    starts = func.coalesce(func.sum(case((Message.kind == SEQUENCE_START, 1), else_=0)), 0)
    texted, sequences = session.execute(select(func.count(), starts).where(
        Message.customer_id == message.customer_id, Message.marketing.is_(True),
        Message.status.in_(_TEXTED), Message.attempted_at > now - WINDOW, Message.id != message.id,
    )).one()
    return texted, sequences


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
