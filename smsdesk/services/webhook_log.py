"""A store's recent webhook deliveries, newest first, for the owner to see what failed and why
(payloads stay out: they may hold customer data)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from smsdesk.enums import DeliveryStatus
from smsdesk.models import Store, WebhookDelivery, utcnow
from smsdesk.services.paging import decode_cursor, encode_cursor, next_since

STATUSES = (*(status.value for status in DeliveryStatus), "all")
CURSOR = "d"  # cursor kind: newest first by (received_at, id)


@dataclass
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    next_cursor: str | None
    next_since: str


def list_deliveries(session: Session, store: Store, *, status: str, limit: int, cursor: str | None,
                    since: datetime | None) -> DeliveryPage:
    """One page of ``store``'s deliveries with ``status`` (one of STATUSES), after ``cursor``
    (raises paging.BadPage when it is not one of ours), received after ``since``."""
    query = select(WebhookDelivery).where(WebhookDelivery.store_id == store.id)
    if status != "all":
        query = query.where(WebhookDelivery.status == DeliveryStatus(status))
    if since is not None:
        query = query.where(WebhookDelivery.received_at > since)
    if cursor is not None:
        at, last_id = decode_cursor(cursor, CURSOR, (datetime, int))
        query = query.where(tuple_(WebhookDelivery.received_at, WebhookDelivery.id) < tuple_(at, last_id))
    started = utcnow()
    found = list(session.scalars(
        query.order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc()).limit(limit + 1)))
    page = found[:limit]
    more = len(found) > limit
    return DeliveryPage(page, encode_cursor(CURSOR, page[-1].received_at, page[-1].id) if more else None,
                        next_since(started))


def delivery_dict(delivery: WebhookDelivery) -> dict:
    return {"id": delivery.id, "source": delivery.source, "delivery_id": delivery.delivery_id,
            "topic": delivery.topic, "status": delivery.status, "error": delivery.error,
            "attempts": delivery.attempts, "received_at": _iso(delivery.received_at),
            "next_attempt_at": _iso(delivery.next_attempt_at)}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
