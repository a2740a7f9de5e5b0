"""Delivery state of outbound texts: provider status callbacks.

A callback only ever moves a message forward (queued < sent < delivered/undelivered/
failed), so callbacks arriving out of order or twice change nothing. The callback URL
carries our message id, so a callback that beats our own "sent" commit (or a crash
before it) still finds its message and proves the provider took the text.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import Direction, Message, MessageStatus, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import audit
from smsdesk.services.send_outcomes import UNSUBSCRIBED, opt_out_unsubscribed, record_conflict

log = logging.getLogger(__name__)

# Twilio's statuses mapped onto ours.
TWILIO_STATUS = {
    "accepted": MessageStatus.SENT, "scheduled": MessageStatus.SENT, "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT, "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED, "partially_delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED, "failed": MessageStatus.FAILED, "canceled": MessageStatus.CANCELLED,
}
# A message only moves to a higher rank; rank 3 is terminal.
RANK = {MessageStatus.SCHEDULED: 0, MessageStatus.QUEUED: 0, MessageStatus.SENDING: 1, MessageStatus.SENT: 2,
        MessageStatus.DELIVERED: 3, MessageStatus.UNDELIVERED: 3, MessageStatus.FAILED: 3,
        MessageStatus.CANCELLED: 3, MessageStatus.SUPPRESSED: 3}
FAILED = {MessageStatus.UNDELIVERED, MessageStatus.FAILED}
FAILED_WORDS = frozenset(word for word, status in TWILIO_STATUS.items() if status in FAILED)
MAX_CODE_DIGITS = 6  # Twilio's codes have five; anything longer is not one (and would overflow)
MAX_ID = 2**31 - 1  # message ids are 32-bit integers
# Twilio's delivery error codes, as reason codes for the API and the audit trail.
CARRIER_ERRORS = {
    30001: Reason.QUEUE_OVERFLOW, 30002: Reason.ACCOUNT_SUSPENDED, 30003: Reason.UNREACHABLE_HANDSET,
    30004: Reason.MESSAGE_BLOCKED, 30005: Reason.UNKNOWN_DESTINATION, 30006: Reason.LANDLINE_OR_UNREACHABLE_CARRIER,
    30007: Reason.CARRIER_FILTERED, 30008: Reason.CARRIER_ERROR, 30034: Reason.UNREGISTERED_A2P_10DLC,
    UNSUBSCRIBED: Reason.RECIPIENT_UNSUBSCRIBED,
}


def apply_status(session: Session, *, sid: str, status: str, error_code: str | None = None,
                 message_id: int | None = None) -> bool:
    """Move a message forward on a provider status; False when no message matches.

    A callback naming a message (by our id) that already holds another sid is refused, and
    the conflict recorded once on that message; the message itself is left as it was.
    """
    message = find_message(session, sid=sid, message_id=message_id)
    if message is None:
        return False
    if message.provider_sid not in (None, sid):
        record_conflict(session, message, sid, source="status_callback")
        return False
    new = TWILIO_STATUS.get(status.strip().lower())
    if new is None:
        log.warning("message %s: unknown provider status %r ignored", message.id, status[:40])
        return True
    message.provider_sid = sid
    if RANK[new] <= RANK.get(message.status, 3):
        return True  # stale or out-of-order callback: never move backwards
    _advance(session, message, new, _code(error_code))
    return True


def find_message(session: Session, *, sid: str, message_id: int | None) -> Message | None:
    """Our outbound message by provider sid, else by the id in its callback URL."""
    message = session.scalar(select(Message).where(Message.provider_sid == sid).with_for_update())
    if message is not None or message_id is None or not 0 < message_id <= MAX_ID:
        return message
    message = session.get(Message, message_id, with_for_update=True)
    return message if message is not None and message.direction == Direction.OUT else None


def _advance(session: Session, message: Message, new: MessageStatus, code: int | None) -> None:
    message.status, message.claimed_until, message.slot_at = new, None, None
    message.sent_at = message.sent_at or utcnow()
    if new not in FAILED:
        if RANK[new] == 2:
            message.reason, message.reason_detail = None, ""  # the provider has it: earlier retry notes are moot
        return
    message.error_code = code
    message.reason = CARRIER_ERRORS.get(code, Reason.CARRIER_ERROR) if code else Reason.CARRIER_ERROR
    message.reason_detail = ""  # the code is in error_code; pages show it beside the reason
    audit.record(session, "delivery_failed", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=message.reason.value, source="status_callback",
                 detail={"code": code, "status": new.value})
    if code == UNSUBSCRIBED:
        opt_out_unsubscribed(session, message.customer_id)


def _code(error_code: str | None) -> int | None:
    """Twilio's error code (five digits) from a callback; None when absent or not a code."""
    text = (error_code or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_CODE_DIGITS and int(text) > 0 else None
