"""Owner API: a store's recent webhook deliveries, to see what failed and why.

``GET /api/stores/<slug>/deliveries?status=failed&limit=50`` lists newest first with
status, error and attempts (payloads stay out: they may hold customer data).
"""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from smsdesk.api import bp, error, owner_required, store_or_404
from smsdesk.db import get_session
from smsdesk.models import WebhookDelivery
from smsdesk.services.untrusted import small_int

STATUSES = ("received", "processed", "ignored", "pending", "failed", "all")
DEFAULT_LIMIT = 50  # deliveries per answer
MAX_LIMIT = 500


@bp.get("/stores/<slug>/deliveries")
@owner_required
def list_deliveries(slug: str):
    """Recent deliveries of one store, filtered by status."""
    store = store_or_404(slug)
    status = request.args.get("status", "all")
    if status not in STATUSES:
        return error("invalid_status", f"status must be one of {', '.join(STATUSES)}", 400)
    limit = small_int(request.args.get("limit", str(DEFAULT_LIMIT)))
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        return error("invalid_limit", f"limit must be a number from 1 to {MAX_LIMIT}", 400)
    query = select(WebhookDelivery).where(WebhookDelivery.store_id == store.id)
    if status != "all":
        query = query.where(WebhookDelivery.status == status)
    rows = get_session().scalars(query.order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc())
                                 .limit(limit))
    return {"deliveries": [delivery_dict(row) for row in rows]}


def delivery_dict(delivery: WebhookDelivery) -> dict:
    return {"id": delivery.id, "source": delivery.source, "delivery_id": delivery.delivery_id,
            "topic": delivery.topic, "status": delivery.status, "error": delivery.error,
            "attempts": delivery.attempts, "received_at": _iso(delivery.received_at),
            "next_attempt_at": _iso(delivery.next_attempt_at)}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
