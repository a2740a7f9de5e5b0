"""Owner API: a store's recent webhook deliveries, to see what failed and why.

``GET /api/stores/<slug>/deliveries?status=failed&limit=50`` lists newest first with
status, error and attempts (payloads stay out: they may hold customer data); ``cursor`` pages
on, ``since`` keeps the ones received after it.
"""
from __future__ import annotations

from datetime import datetime

from flask import request
from sqlalchemy import select, tuple_

from smsdesk.api import bp, error, owner_required, page_args, store_or_404
from smsdesk.db import get_session
from smsdesk.models import WebhookDelivery, utcnow
from smsdesk.services.paging import decode_cursor, encode_cursor, next_since

STATUSES = ("received", "processed", "ignored", "pending", "failed", "all")
CURSOR = "d"  # cursor kind: newest first by (received_at, id)


@bp.get("/stores/<slug>/deliveries")
@owner_required
def list_deliveries(slug: str):
    """Recent deliveries of one store, filtered by status."""
    store = store_or_404(slug)
    status = request.args.get("status", "all")
    if status not in STATUSES:
        return error("invalid_status", f"status must be one of {', '.join(STATUSES)}", 400)
    limit, cursor, since = page_args()
    query = select(WebhookDelivery).where(WebhookDelivery.store_id == store.id)
    if status != "all":
        query = query.where(WebhookDelivery.status == status)
    if since is not None:
        query = query.where(WebhookDelivery.received_at > since)
    if cursor is not None:
        at, last_id = decode_cursor(cursor, CURSOR, (datetime, int))
        query = query.where(tuple_(WebhookDelivery.received_at, WebhookDelivery.id) < tuple_(at, last_id))
    started = utcnow()
    found = list(get_session().scalars(
        query.order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc()).limit(limit + 1)))
    page = found[:limit]
    return {"deliveries": [delivery_dict(row) for row in page],
            "next_cursor": encode_cursor(CURSOR, page[-1].received_at, page[-1].id) if len(found) > limit else None,
            "next_since": next_since(started)}


def delivery_dict(delivery: WebhookDelivery) -> dict:
    return {"id": delivery.id, "source": delivery.source, "delivery_id": delivery.delivery_id,
            "topic": delivery.topic, "status": delivery.status, "error": delivery.error,
            "attempts": delivery.attempts, "received_at": _iso(delivery.received_at),
            "next_attempt_at": _iso(delivery.next_attempt_at)}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
