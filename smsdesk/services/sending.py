"""Claiming due outbox rows and recording what the provider said (DESIGN §1).

A message is ``sending`` under a lease before the provider call and ``sent`` (with the
provider sid) after it, each in its own short transaction, so a crash in between leaves a
row that reconcile looks up at the provider before any resend.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smsdesk.models import PENDING_STATUSES, Customer, Message, MessageStatus, Store, utcnow
from smsdesk.services import audit
from smsdesk.services.customers import set_opted_out
from smsdesk.sms.base import Sender, SentMessage

LEASE = 60  # seconds a claimed message belongs to one worker
MAX_ATTEMPTS = 6  # provider calls before a retryable failure becomes "failed"
BACKOFF_BASE = 2.0  # seconds; doubled per attempt, with full jitter
BACKOFF_CAP = 300.0  # seconds
UNSUBSCRIBED = 21610  # Twilio: the recipient replied STOP to this sender


@dataclass(frozen=True)
class Outgoing:
    """Everything the provider call needs, loaded inside the claim transaction."""

    message_id: int
    to: str
    body: str
    sender: Sender
    validity_seconds: int | None


def claim_due(session: Session, *, limit: int, now: datetime | None = None) -> list[int]:
    """Mark up to ``limit`` due rows ``sending`` under a lease and return their ids.

    On PostgreSQL the select skips rows another worker holds (FOR UPDATE SKIP LOCKED);
    SQLite serializes writers, and the status check in the UPDATE keeps a claim single.
    """
    now = now or utcnow()
    ids = list(session.scalars(
        select(Message.id)
        .where(Message.status.in_(PENDING_STATUSES), Message.due_at <= now)
        .order_by(Message.due_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status.in_(PENDING_STATUSES))
            .values(status=MessageStatus.SENDING, claimed_until=now + timedelta(seconds=LEASE),
                    attempts=Message.attempts + 1, attempted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def prepare(session: Session, message_id: int) -> Outgoing | None:
    """The send to make for a claimed message, or None when compliance says no (recorded)."""
    message = session.get(Message, message_id)
    if message is None or message.status != MessageStatus.SENDING:
        return None
    customer, store = session.get(Customer, message.customer_id), session.get(Store, message.store_id)
    reason = suppression_reason(message, customer)
    if reason:
        suppress(session, message, reason)
        return None
    return Outgoing(message_id=message.id, to=customer.phone, body=message.body,
                    sender=Sender(store.from_number, store.messaging_service_sid),
                    validity_seconds=message.validity_seconds)


def suppression_reason(message: Message, customer: Customer) -> str:
    """Why this text must not go out now ('' when it may)."""
    if customer.opted_out and message.kind != "opt_out_confirmation":
        return "opted_out"
    if message.marketing and not customer.marketing_consent:
        return "no_consent"
    return ""


def suppress(session: Session, message: Message, reason: str) -> None:
    message.status, message.reason, message.claimed_until = MessageStatus.SUPPRESSED, reason, None
    audit.record(session, "suppressed", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=reason)


def mark_sent(session: Session, message_id: int, sent: SentMessage) -> None:
    message = session.get(Message, message_id)
    message.provider_sid = sent.sid
    message.status = MessageStatus.DELIVERED if sent.status == "delivered" else MessageStatus.SENT
    message.sent_at, message.claimed_until, message.reason, message.error_code = utcnow(), None, "", None
    if sent.segments:
        message.segments = sent.segments


def mark_retry(session: Session, message_id: int, *, error: str, retry_after: float | None = None,
               code: int | None = None) -> None:
    """Put a message back in the queue after a failure the provider certainly did not act on."""
    message = session.get(Message, message_id)
    if message.attempts >= MAX_ATTEMPTS:
        mark_failed(session, message_id, error=f"gave up after {message.attempts} attempts: {error}", code=code)
        return
    delay = max(retry_after or 0.0, backoff(message.attempts))
    message.status, message.claimed_until = MessageStatus.QUEUED, None
    message.due_at = utcnow() + timedelta(seconds=delay)
    message.reason, message.error_code = error[:500], code


def mark_failed(session: Session, message_id: int, *, error: str, code: int | None = None) -> None:
    message = session.get(Message, message_id)
    message.status, message.claimed_until = MessageStatus.FAILED, None
    message.reason, message.error_code = error[:500], code
    audit.record(session, "send_failed", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=error[:255], detail={"code": code})
    if code == UNSUBSCRIBED:
        customer = session.get(Customer, message.customer_id)
        set_opted_out(session, customer, True, source="twilio_21610", reason="recipient unsubscribed")


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter, in seconds."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0)))


def expired_sending(session: Session, *, limit: int, now: datetime | None = None) -> list[int]:
    """Rows left ``sending`` past their lease (a crashed or timed-out send), to reconcile."""
    now = now or utcnow()
    return list(session.scalars(
        select(Message.id)
        .where(Message.status == MessageStatus.SENDING, Message.claimed_until < now)
        .order_by(Message.claimed_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
