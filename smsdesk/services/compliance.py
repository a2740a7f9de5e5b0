"""Send-time compliance (DESIGN §7): whether a claimed text may go out now.

Every outbound text passes ``decide`` right before the provider call, so a rule always
sees the latest state (an opt-out, a revoked consent, a purchase) however long the text
waited in the outbox. Order texts only need the phone not to be opted out. Marketing
texts (cart reminders) also need marketing consent, never land inside quiet hours (they
are deferred to the end of quiet hours in the recipient's time zone) and are capped: one
reminder sequence and ``MARKETING_CAP`` marketing texts per customer per rolling 24 h.
``apply`` records every decision that stops a text, on the message (``reason``, shown by
the API) and in the audit trail.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from smsdesk.models import Checkout, Customer, Message, MessageStatus, Store
from smsdesk.reasons import Reason
from smsdesk.services import audit
from smsdesk.services.phones import phone_timezone

SEND, DEFER, SUPPRESS, CANCEL = "send", "defer", "suppress", "cancel"
DEFAULT_QUIET_HOURS = "20:00-08:00"  # local time; some US states forbid marketing texts after 20:00
WINDOW = timedelta(hours=24)  # the rolling window of both caps
MARKETING_CAP = 3  # marketing texts per customer per WINDOW
SEQUENCE_START = "cart_reminder_1"  # the text that starts a reminder sequence (one per WINDOW)
ALLOWED_WHEN_OPTED_OUT = frozenset({"opt_out_confirmation"})  # the one text a STOP allows
OPT_OUT_LINE = "Reply STOP to opt out."
# The last line already tells how to opt out: "Reply STOP to unsubscribe", "Txt STOP to end".
_OPT_OUT_TAIL = re.compile(r"(\b(reply|text|txt|send)\s+STOP\b|\bSTOP\s+to\s+\w+)[^\n]*$", re.IGNORECASE)
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
    until = quiet_hours_end(now, zone=recipient_zone(customer, store), window=store.quiet_hours)
    if until is not None:
        return Decision(DEFER, Reason.QUIET_HOURS, until)
    texted, sequences = _texted(session, message, now)
    if message.kind == SEQUENCE_START and sequences:
        return Decision(SUPPRESS, Reason.SEQUENCE_CAP)
    if texted >= MARKETING_CAP:
        return Decision(SUPPRESS, Reason.MARKETING_CAP)
    return SEND_NOW


def apply(session: Session, message: Message, decision: Decision) -> None:
    """Take a claimed message out of ``sending`` as decided and record why."""
    # No provider call was made; a rate slot reserved earlier is stale by the next claim.
    message.claimed_until, message.slot_at = None, None
    message.reason, message.reason_detail = decision.reason, decision.detail
    detail = None
    if decision.action == DEFER:
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


def with_opt_out_line(body: str) -> str:
    """``body`` ending with an opt-out line (appended when the template has none)."""
    body = body.rstrip()
    if _OPT_OUT_TAIL.search(body):
        return body
    return f"{body} {OPT_OUT_LINE}" if body else OPT_OUT_LINE


def recipient_zone(customer: Customer, store: Store) -> str:
    """The customer's time zone: from the number, else the store's, else UTC."""
    for zone in (phone_timezone(customer.phone, store.timezone or "UTC"), store.timezone):
        if zone and _valid_zone(zone):
            return zone
    return "UTC"


def quiet_hours_end(now: datetime, *, zone: str, window: str | None) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC), or None when ``now`` is outside them.

    ``window`` is "HH:MM-HH:MM" local time and may wrap midnight ("20:00-08:00"); an
    empty or malformed window means the default; equal ends mean no quiet hours.
    """
    start, end = parse_quiet_hours(window)
    if start == end:
        return None
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside, ends_today = start <= clock < end, True
    else:
        inside, ends_today = clock >= start or clock < end, clock < end
    if not inside:
        return None
    day: date = local.date() if ends_today else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(timezone.utc)


def parse_quiet_hours(window: str | None) -> tuple[time, time]:
    """(start, end) of a "HH:MM-HH:MM" window; the default when missing or malformed."""
    match = _QUIET_HOURS.match((window or "").strip()) or _QUIET_HOURS.match(DEFAULT_QUIET_HOURS)
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
