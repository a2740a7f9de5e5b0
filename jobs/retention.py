"""Retention: message bodies (and pictures) older than ``retention.message_body_days`` (when set) are erased;
webhook payloads (and the events taken from them) hold customers' names,
addresses and phones; keep them only as long as they are useful for debugging a delivery,
then drop them (the delivery row, its status and error stay, so dedupe and the
failed-deliveries view keep working)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from smsdesk.enums import PENDING_STATUSES, DeliveryStatus, MessageStatus
from smsdesk.models import Feedback, Message, WebhookDelivery, utcnow
from smsdesk.services.media import erase_of
from smsdesk.services.privacy import ERASED_BODY

PAYLOAD_RETENTION = timedelta(days=30)
DONE_STATUSES = (DeliveryStatus.PROCESSED, DeliveryStatus.IGNORED, DeliveryStatus.FAILED)  # due ones are needed


def purge_payloads(sessions: sessionmaker[Session], *, now: datetime | None = None,
                   keep: timedelta = PAYLOAD_RETENTION) -> int:
    """Drop the payloads and events of finished deliveries older than ``keep``; returns how many."""
    cutoff = (now or utcnow()) - keep
    with sessions.begin() as session:
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.received_at < cutoff, WebhookDelivery.status.in_(DONE_STATUSES),
                   or_(WebhookDelivery.payload.is_not(None), WebhookDelivery.events.is_not(None)))
            .values(payload=None, events=None)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


def purge_message_bodies(sessions: sessionmaker[Session], *, days: int, now: datetime | None = None) -> int:
    """Erase the bodies of texts older than ``days`` (0: keep all); returns how many.

    A text still to be sent keeps its body until it is sent (or not): it is what goes out."""
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    done = (Message.created_at < cutoff, Message.status.not_in([*PENDING_STATUSES, MessageStatus.SENDING]))
    with sessions.begin() as session:
        result = session.execute(
            update(Message)
            .where(*done, Message.body != ERASED_BODY)
            .values(body=ERASED_BODY)
            .execution_options(synchronize_session=False)
        )
        erase_of(session, select(Message.id).where(*done, Message.media_count > 0))  # pictures go with the words
        # A rating's comment repeats the customer's text: it goes with it (the score stays).
        session.execute(update(Feedback).where(Feedback.created_at < cutoff, Feedback.comment != "")
                        .values(comment="").execution_options(synchronize_session=False))
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
