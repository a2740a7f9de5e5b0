"""Claiming due outbox rows and recording what the provider said (DESIGN §1).

A message is ``sending`` under a lease before the provider call and ``sent`` (with the
provider sid) after it, each in its own short transaction, so a crash in between leaves a
row that reconcile looks up at the provider before any resend.

Every provider call also takes a slot from its sender's rate limit (``sender_slots``, one
row per from-number / messaging service, locked for the instant of the reservation), so
any number of workers together keep to ``Store.rate_per_second``. A text whose slot lies
further ahead goes back to the queue with the slot reserved (``Message.slot_at``) instead
of holding a worker.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from smsdesk.db import claim_rows
from smsdesk.models import PENDING_STATUSES, ConsentSource, Customer, Message, MessageStatus, SenderSlot, Store, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import audit, checkouts, compliance
from smsdesk.services.consent import withdraw_for_stop
from smsdesk.services.customers import set_opted_out
from smsdesk.services.outbox import cancel_pending
from smsdesk.sms.base import Sender, SentMessage

log = logging.getLogger(__name__)

LEASE = 60.0  # seconds a claimed message belongs to one worker (``[scheduler] lease_seconds``)
MAX_ATTEMPTS = 6  # provider calls before a retryable failure becomes "failed"
BACKOFF_BASE = 2.0  # seconds; doubled per attempt, with full jitter
BACKOFF_CAP = 300.0  # seconds
DEFAULT_RATE = 1.0  # texts per second: one long code (Twilio queues anything faster)
SLOT_WAIT = 0.5  # seconds a worker may wait for its sender's next slot; later slots are deferred
DEFAULT_VALIDITY = 4 * 3600  # seconds; texts without a kind-specific validity (agent replies)
MAX_VALIDITY = 36_000  # seconds: Twilio's upper bound for ValidityPeriod
UNSUBSCRIBED = 21610  # Twilio: the recipient replied STOP to this sender
# Twilio said "slow down": account rate limit, or this sender's queue is full.
SLOW_DOWN_CODES = frozenset({20429, 21611, 30001})
# Reason codes for Twilio's permanent refusals; the API shows them with the error code.
REFUSAL_REASONS = {
    21211: Reason.INVALID_NUMBER, 21614: Reason.NOT_A_MOBILE_NUMBER, 21408: Reason.REGION_NOT_ENABLED,
    21610: Reason.RECIPIENT_UNSUBSCRIBED, 21612: Reason.UNREACHABLE_ROUTE, 21606: Reason.INVALID_SENDER,
}


@dataclass(frozen=True)
class Outgoing:
    """Everything the provider call needs, loaded inside the prepare transaction."""

    message_id: int
    to: str
    body: str
    sender: Sender
    validity_seconds: int
    send_at: datetime  # the reserved rate-limit slot; at most SLOT_WAIT ahead


def claim_due(session: Session, *, limit: int, lease: float = LEASE, now: datetime | None = None) -> list[int]:
    """Mark up to ``limit`` due rows ``sending`` under a lease and return their ids.

    ``attempted_at`` is set here already: reconcile looks for the text from this moment.
    """
    now = now or utcnow()
    return claim_rows(
        session, Message, where=[Message.status.in_(PENDING_STATUSES), Message.due_at <= now],
        order_by=[Message.due_at, Message.id], limit=limit,
        values={"status": MessageStatus.SENDING, "claimed_until": now + timedelta(seconds=lease),
                "attempted_at": now, "updated_at": now},
    )


def prepare(session: Session, message_id: int, *, lease: float = LEASE, now: datetime | None = None) -> Outgoing | None:
    """The send to make for a claimed message, or None when it must not go out now.

    None means: suppressed by compliance (recorded), deferred to its sender's next rate
    slot, or no longer ours (reconcile took it). The row is locked so reconcile and this
    call never both act on it; the lease is renewed for the coming provider call.
    """
    now = now or utcnow()
    loaded = _load_for_send(session, message_id)
    if loaded is None:
        return None  # reconcile or another worker took it
    message, customer, store = loaded
    decision = compliance.decide(session, message=message, customer=customer, store=store, now=now)
    if decision.action != compliance.SEND:
        compliance.apply(session, message, decision)  # suppressed, cancelled or deferred: recorded
        return None
    sender = Sender(store.from_number, store.messaging_service_sid)
    send_at = take_slot(session, message, sender_key=sender.key, rate=store.rate_per_second, now=now)
    if send_at > now + timedelta(seconds=SLOT_WAIT):
        defer(message, send_at)
        return None
    message.attempts += 1
    message.attempted_at, message.claimed_until = now, send_at + timedelta(seconds=lease)
    return Outgoing(message_id=message.id, to=customer.phone, body=message.body, sender=sender,
                    validity_seconds=validity_for(message), send_at=send_at)


def _load_for_send(session: Session, message_id: int) -> tuple[Message, Customer, Store] | None:
    """The claimed message (row-locked) with its customer and store, in one round trip."""
    row = session.execute(
        select(Message, Customer, Store)
        .join(Customer, Customer.id == Message.customer_id)
        .join(Store, Store.id == Message.store_id)
        .where(Message.id == message_id, Message.status == MessageStatus.SENDING)
        .with_for_update(of=Message)
        .execution_options(populate_existing=True)
    ).first()
    return tuple(row) if row is not None else None


def validity_for(message: Message) -> int:
    """Seconds the text may wait in the provider's queue before it is dropped as stale."""
    return max(1, min(message.validity_seconds or DEFAULT_VALIDITY, MAX_VALIDITY))


# -- per-sender rate limit ---------------------------------------------------------


def take_slot(session: Session, message: Message, *, sender_key: str, rate: float | None, now: datetime) -> datetime:
    """When this message may be handed to the provider: its reserved slot, else a new one."""
    slot = _locked_slot(session, sender_key, now)
    paused_until = slot.paused_until or now
    if message.slot_at is not None and paused_until <= max(now, message.slot_at):
        return max(now, message.slot_at)  # reserved earlier and the sender was not paused since
    start = max(now, slot.next_free_at, paused_until)
    slot.next_free_at = start + timedelta(seconds=1.0 / (rate if rate and rate > 0 else DEFAULT_RATE))
    return start


def defer(message: Message, send_at: datetime) -> None:
    """Back to the queue until its reserved slot; not an attempt."""
    message.status, message.claimed_until = MessageStatus.QUEUED, None
    message.due_at = message.slot_at = send_at


def slow_sender(session: Session, *, sender_key: str, seconds: float, now: datetime | None = None) -> None:
    """Pause a sender (the provider asked us to slow down); reserved slots move past the pause."""
    now = now or utcnow()
    slot = _locked_slot(session, sender_key, now)
    until = now + timedelta(seconds=seconds)
    slot.paused_until = max(slot.paused_until or until, until)
    slot.next_free_at = max(slot.next_free_at, until)


def _locked_slot(session: Session, sender_key: str, now: datetime) -> SenderSlot:
    """The sender's slot row, created when new, locked until the transaction ends."""
    slot = session.get(SenderSlot, sender_key, with_for_update=True, populate_existing=True)
    if slot is not None:
        return slot
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Two workers may meet a new sender at once: one insert wins, both then lock that row.
    session.execute(insert(SenderSlot).values(sender_key=sender_key, next_free_at=now)
                    .on_conflict_do_nothing(index_elements=["sender_key"]))
    return session.get(SenderSlot, sender_key, with_for_update=True, populate_existing=True)


# -- recording the provider's answer ----------------------------------------------


def relax_durability(session: Session) -> None:
    """Let this transaction commit without waiting for PostgreSQL's WAL flush.

    Only for recording a provider's answer: if the database loses that commit in a crash,
    the row is still ``sending`` and reconcile looks the text up (DESIGN §1). The claim
    and the prepare commit before the provider call stay fully durable.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def mark_sent(session: Session, message_id: int, sent: SentMessage, *, source: str = "provider") -> None:
    """Record an accepted text. Also after reconcile re-queued it: the provider has it."""
    message = session.get(Message, message_id, with_for_update=True, populate_existing=True)
    if message.provider_sid and message.provider_sid != sent.sid:
        log.error("message %s was accepted twice (%s, %s)", message_id, message.provider_sid, sent.sid)
        audit.record(session, "sent_twice", store_id=message.store_id, customer_id=message.customer_id,
                     message_id=message.id, source=source, detail={"sids": [message.provider_sid, sent.sid]})
        return
    message.provider_sid = sent.sid
    if message.status in (MessageStatus.SENDING, *PENDING_STATUSES):  # a callback may have moved it on
        message.status = MessageStatus.DELIVERED if sent.status == "delivered" else MessageStatus.SENT
        message.reason = None
        message.reason_detail = "" if source == "provider" else f"found at the provider by {source}"
        message.error_code = None
    message.sent_at, message.claimed_until, message.slot_at = message.sent_at or utcnow(), None, None
    if sent.segments:
        message.segments = sent.segments
    audit.record(session, "sent", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, source=source, detail={"sid": sent.sid})
    checkouts.reminder_sent(session, message)  # a sent first cart reminder schedules the second


def mark_retry(session: Session, message_id: int, *, error: str, retry_after: float | None = None,
               code: int | None = None) -> None:
    """Put a message back in the queue after a failure the provider certainly did not act on."""
    message = session.get(Message, message_id, with_for_update=True, populate_existing=True)
    if message.status != MessageStatus.SENDING:
        return
    if message.attempts >= MAX_ATTEMPTS:
        mark_failed(session, message_id, error=f"after {message.attempts} attempts: {error}", code=code,
                    reason=Reason.GAVE_UP)
        return
    delay = max(retry_after or 0.0, backoff(message.attempts))
    message.status, message.claimed_until, message.slot_at = MessageStatus.QUEUED, None, None
    message.due_at = utcnow() + timedelta(seconds=delay)
    message.reason, message.reason_detail, message.error_code = Reason.RETRYING, error[:500], code


def mark_failed(session: Session, message_id: int, *, error: str, code: int | None = None,
                reason: Reason | None = None) -> None:
    """Record a text the provider refused for good; 21610 also opts the customer out."""
    message = session.get(Message, message_id, with_for_update=True, populate_existing=True)
    if message.status != MessageStatus.SENDING:
        return
    reason = reason or REFUSAL_REASONS.get(code, Reason.REJECTED)  # type: ignore[arg-type]
    message.status, message.claimed_until, message.slot_at = MessageStatus.FAILED, None, None
    message.reason, message.reason_detail, message.error_code = reason, error[:500], code
    audit.record(session, "send_failed", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=reason.value, source="provider",
                 detail={"code": code, "error": error[:255]})
    if code == UNSUBSCRIBED:
        opt_out_unsubscribed(session, message.customer_id)


def opt_out_unsubscribed(session: Session, customer_id: int) -> None:
    """The carrier/provider holds a STOP from this phone: honour it here too."""
    customer = session.get_one(Customer, customer_id)
    if set_opted_out(session, customer, True, source=f"twilio_{UNSUBSCRIBED}", reason="recipient unsubscribed"):
        cancel_pending(session, reason=Reason.OPTED_OUT, customer_id=customer.id)
        withdraw_for_stop(session, customer, word=f"error {UNSUBSCRIBED}", source=ConsentSource.PROVIDER)


def mark_ambiguous(session: Session, message_id: int, *, error: str, settle: float) -> None:
    """The provider may have the text: leave it ``sending`` and let reconcile decide after ``settle`` s."""
    message = session.get(Message, message_id, with_for_update=True, populate_existing=True)
    if message.status != MessageStatus.SENDING:
        return
    message.reason, message.reason_detail = Reason.AMBIGUOUS, error[:500]
    message.claimed_until = min(message.claimed_until, utcnow() + timedelta(seconds=settle))


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter, in seconds."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0)))


def expired_sending(session: Session, *, limit: int, now: datetime | None = None) -> list[tuple[int, datetime]]:
    """(id, claimed_until) of rows left ``sending`` past their lease, to reconcile.

    The lease end is the fence: reconcile acts only if it is unchanged when it decides.
    """
    now = now or utcnow()
    return list(session.execute(
        select(Message.id, Message.claimed_until)
        .where(Message.status == MessageStatus.SENDING, Message.claimed_until < now)
        .order_by(Message.claimed_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).tuples())
