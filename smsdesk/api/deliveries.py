"""Owner API: a store's recent webhook deliveries, to see what failed and why.

``GET /api/stores/<slug>/deliveries?status=failed&limit=50`` lists newest first with
status, error and attempts (payloads stay out: they may hold customer data); ``cursor`` pages
on, ``since`` keeps the ones received after it.
"""
from __future__ import annotations

from flask import request

from smsdesk.api import bp, error, owner_required, page_args, store_or_404
from smsdesk.db import get_session
from smsdesk.services import webhook_log
from smsdesk.services.webhook_log import STATUSES, delivery_dict


@bp.get("/stores/<slug>/deliveries")
@owner_required
def list_deliveries(slug: str):
    """Recent deliveries of one store, filtered by status."""
    store = store_or_404(slug)
    status = request.args.get("status", "all")
    if status not in STATUSES:
        return error("invalid_status", f"status must be one of {', '.join(STATUSES)}", 400)
    limit, cursor, since = page_args()
    page = webhook_log.list_deliveries(get_session(), store, status=status, limit=limit, cursor=cursor, since=since)
    return {"deliveries": [delivery_dict(row) for row in page.deliveries], "next_cursor": page.next_cursor,
            "next_since": page.next_since}
