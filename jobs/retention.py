"""Retention: webhook payloads (and the events taken from them) hold customers' names,
addresses and phones; keep them only as long as they are useful for debugging a delivery,
then drop them (the delivery row, its status and error stay, so dedupe and the
failed-deliveries view keep working)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import WebhookDelivery, utcnow

PAYLOAD_RETENTION = timedelta(days=30)
DONE_STATUSES = ("processed", "ignored", "failed")  # "pending"/"received" ones are still needed


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
