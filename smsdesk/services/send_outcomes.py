"""Recording what became of a claimed text: sent (with the provider's sid), put back, retried
with backoff, failed for good with a reason, or left for reconcile when the outcome is unknown.

Each function takes the claim and acts only if the claim still holds the row (``held``), so a
worker whose lease was taken over can no longer write its result.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk import retry
from smsdesk.models import PENDING_STATUSES, AuditEvent, ConsentSource, Customer, Message, MessageStatus, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import audit, checkouts
from smsdesk.services.consent import withdraw_for_stop
from smsdesk.services.customers import set_opted_out
from smsdesk.services.outbox import cancel_pending
from smsdesk.sms.base import SentMessage

if TYPE_CHECKING:  # sending imports this module to record what it could not send
    from smsdesk.services.sending import Claim

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # provider calls before a retryable failure becomes "failed"
BACKOFF_BASE = 2.0  # seconds; doubled per attempt, with full jitter
BACKOFF_CAP = 300.0  # seconds
PREPARE_RETRY_MIN = 30.0  # seconds before a text that could not be prepared is tried again (time to fix a store)
MAX_LOOKUPS = 5  # failed provider lookups before a text of unknown outcome ends failed
LOOKUP_RETRY_MIN = 1.0  # seconds between lookups of one text, at least
CONFLICT_ACTION = "conflicting_sid"  # audit action: a sid (mostly from a callback) named another text
UNSUBSCRIBED = 21610  # Twilio: the recipient replied STOP to this sender
# Reason codes for Twilio's permanent refusals; the API shows them with the error code.
REFUSAL_REASONS = {
    21211: Reason.INVALID_NUMBER, 21614: Reason.NOT_A_MOBILE_NUMBER, 21408: Reason.REGION_NOT_ENABLED,
    21610: Reason.RECIPIENT_UNSUBSCRIBED, 21612: Reason.UNREACHABLE_ROUTE, 21606: Reason.INVALID_SENDER,
}


def fail_unsendable(session: Session, claim: Claim, *, reason: Reason, detail: str) -> None:
    """A text that can never be sent as it is (e.g. too long): failed, no provider call."""
    message = held(session, claim)
    if message is not None:
        _fail(session, message, reason=reason, detail=detail, code=None, source="sender")


def record_not_prepared(session: Session, claim: Claim, *, reason: Reason, detail: str) -> None:
    """Preparing this text raised: an attempt used; back in the queue with backoff, or failed at the last."""
    message = held(session, claim)
    if message is None:
        return
    message.attempts += 1
    if message.attempts >= MAX_ATTEMPTS:
        _fail(session, message, reason=reason, detail=f"after {message.attempts} attempts: {detail}",
              code=None, source="sender")
        return
    delay = max(PREPARE_RETRY_MIN, backoff(message.attempts))
    _requeue(message, delay=delay, reason=reason, detail=detail, code=None)


def held(session: Session, claim: Claim) -> Message | None:
    """The message, locked, if ``claim`` still holds it; its lease may have run out since
    (a result is recorded after the call), but nobody reclaimed it."""
    return session.scalar(select(Message).where(*claim.held()).with_for_update()
                          .execution_options(populate_existing=True))



def mark_sent(session: Session, message_id: int, sent: SentMessage, *, source: str = "provider") -> None:
    """Record an accepted text, whoever holds the claim now: the provider has it."""
    message = session.get_one(Message, message_id, with_for_update=True, populate_existing=True)
    record_sent(session, message, sent, source=source)


def record_sent(session: Session, message: Message, sent: SentMessage, *, source: str = "provider",
                maybe_held: bool = True) -> None:
    """``mark_sent`` for a message already loaded and locked in this transaction
    (``maybe_held=False``: the caller checked that no row holds the sid)."""
    take_sid(session, message, sent.sid, source=source, maybe_held=maybe_held)
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


def take_sid(session: Session, message: Message, sid: str, *, source: str, maybe_held: bool = True) -> None:
    """Put the provider's sid on ``message``.

    The provider's own answer outranks a sid a status callback attached by our message id:
    such a sid (on this row or another) is dropped and the conflict recorded once.
    """
    holder = session.scalar(select(Message).where(Message.provider_sid == sid, Message.id != message.id)
                            .with_for_update()) if maybe_held else None
    if holder is not None:
        holder.provider_sid = None
        session.flush()  # free the unique sid before this row takes it
        record_conflict(session, holder, sid, source=source)
    if message.provider_sid not in (None, sid):
        record_conflict(session, message, message.provider_sid, source=source)
    message.provider_sid = sid


def record_conflict(session: Session, message: Message, sid: str, *, source: str) -> None:
    """A sid that does not belong to this message: logged and audited once per message."""
    seen = session.scalar(select(AuditEvent.id).where(AuditEvent.message_id == message.id,
                                                      AuditEvent.action == CONFLICT_ACTION).limit(1))
    if seen is not None:
        return
    log.error("message %s: provider sid %s conflicts with its own; kept out of its record", message.id, sid)
    audit.record(session, CONFLICT_ACTION, store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=Reason.CONFLICTING_CALLBACK.value, source=source,
                 detail={"sid": sid, "own_sid": message.provider_sid})


def mark_retry(session: Session, claim: Claim, *, error: str, retry_after: float | None = None,
               code: int | None = None) -> None:
    """Put a message back in the queue after a failure the provider certainly did not act on."""
    message = held(session, claim)
    if message is None:
        return  # no longer this claim's: whoever holds it now decides
    if message.attempts >= MAX_ATTEMPTS:
        _fail(session, message, reason=Reason.GAVE_UP, detail=f"after {message.attempts} attempts: {error}",
              code=code, source="provider")
        return
    delay = max(retry_after or 0.0, backoff(message.attempts))
    _requeue(message, delay=delay, reason=Reason.RETRYING, detail=error, code=code)


def put_back(session: Session, claim: Claim) -> None:
    """A prepared text that was never handed to the provider: back in the queue where it was,
    and its attempt not counted."""
    message = held(session, claim)
    if message is not None:
        message.status, message.claimed_until, message.slot_at = MessageStatus.QUEUED, None, None
        message.attempts = max(0, message.attempts - 1)


def _requeue(message: Message, *, delay: float, reason: Reason, detail: str, code: int | None) -> None:
    message.status, message.claimed_until, message.slot_at = MessageStatus.QUEUED, None, None
    message.due_at = utcnow() + timedelta(seconds=delay)
    message.reason, message.reason_detail, message.error_code = reason, detail[:500], code
    message.reconcile_tries = 0


def mark_failed(session: Session, claim: Claim, *, error: str, code: int | None = None) -> None:
    """Record a text the provider refused for good; 21610 also opts the customer out."""
    message = held(session, claim)
    if message is not None:
        reason = REFUSAL_REASONS.get(code, Reason.REJECTED)  # type: ignore[arg-type]
        _fail(session, message, reason=reason, detail=error, code=code, source="provider")


def _fail(session: Session, message: Message, *, reason: Reason, detail: str, code: int | None,
          source: str) -> None:
    message.status, message.claimed_until, message.slot_at = MessageStatus.FAILED, None, None
    message.reason, message.reason_detail, message.error_code = reason, detail[:500], code
    audit.record(session, "send_failed", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=reason.value, source=source,
                 detail={"code": code, "error": detail[:255]})
    if code == UNSUBSCRIBED:
        opt_out_unsubscribed(session, message.customer_id)


def opt_out_unsubscribed(session: Session, customer_id: int) -> None:
    """The carrier/provider holds a STOP from this phone: honour it here too."""
    customer = session.get_one(Customer, customer_id)
    if set_opted_out(session, customer, True, source=f"twilio_{UNSUBSCRIBED}", reason="recipient unsubscribed"):
        cancel_pending(session, reason=Reason.OPTED_OUT, customer_id=customer.id)
        withdraw_for_stop(session, customer, word=f"error {UNSUBSCRIBED}", source=ConsentSource.PROVIDER)


def mark_ambiguous(session: Session, claim: Claim, *, error: str, settle: float) -> None:
    """The provider may have the text: leave it ``sending`` and let reconcile decide after ``settle`` s."""
    message = held(session, claim)
    if message is None:
        return
    message.reason, message.reason_detail = Reason.AMBIGUOUS, error[:500]
    settled = utcnow() + timedelta(seconds=settle)
    message.claimed_until = min(message.claimed_until or settled, settled)


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter, in seconds (smsdesk.retry, with the sender's base and cap)."""
    return retry.backoff(attempts, base=BACKOFF_BASE, cap=BACKOFF_CAP)


def record_lookup_failed(session: Session, claim: Claim, *, error: str) -> None:
    """The provider could not say whether it has the text: look again later, or give up failed."""
    message = held(session, claim)
    if message is None:
        return
    message.reconcile_tries += 1
    if message.reconcile_tries >= MAX_LOOKUPS:
        _fail(session, message, reason=Reason.OUTCOME_UNKNOWN,
              detail=f"{message.reconcile_tries} lookups failed, last: {error}", code=None, source="reconcile")
        return
    message.reason, message.reason_detail = Reason.AMBIGUOUS, f"lookup failed: {error}"[:500]
    message.claimed_until = utcnow() + timedelta(seconds=max(LOOKUP_RETRY_MIN, backoff(message.reconcile_tries)))
