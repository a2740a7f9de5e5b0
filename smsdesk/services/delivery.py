"""Delivery state of outbound texts: provider answers and status callbacks."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import Message, MessageStatus, utcnow

# Twilio's statuses mapped onto ours, with a rank: a message only moves up.
TWILIO_STATUS = {
    "accepted": MessageStatus.SENT, "scheduled": MessageStatus.SENT, "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT, "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED, "partially_delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED, "failed": MessageStatus.FAILED, "canceled": MessageStatus.CANCELLED,
}
RANK = {MessageStatus.SENDING: 1, MessageStatus.SENT: 2, MessageStatus.DELIVERED: 3,
        MessageStatus.UNDELIVERED: 3, MessageStatus.FAILED: 3, MessageStatus.CANCELLED: 3}
TERMINAL = {MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED, MessageStatus.CANCELLED}


def apply_status(session: Session, *, sid: str, status: str, error_code: str | None = None) -> bool:
    """Move a message forward on a provider status; False when the sid is unknown."""
    message = session.scalar(select(Message).where(Message.provider_sid == sid))
    if message is None:
        return False
    new = TWILIO_STATUS.get(status.strip().lower())
    if new is None or message.status in TERMINAL or RANK.get(new, 0) <= RANK.get(message.status, 0):
        return True  # unknown, stale or out-of-order callback: never move backwards
    message.status = new
    if error_code and error_code.isdigit():
        message.error_code = int(error_code)
        message.reason = f"carrier error {error_code}"
    message.updated_at = utcnow()
    return True
