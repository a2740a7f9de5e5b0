"""Why an order or a checkout got no text (DESIGN §7: every suppression carries a reason).

A text that was never created leaves no message row to carry its reason, so the reason is
kept on the order or checkout itself (``no_text_reason``, cleared when a later event does
queue a text), written to the audit trail, and shown beside the order: in the API's order
dict, the inbox order panel and, for orders without any phone (and so without any
conversation), the owner dashboard's list of orders that got no text.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.events import CustomerInfo
from smsdesk.models import Checkout, Customer, Message, Order, Store
from smsdesk.reasons import Reason
from smsdesk.services import audit
from smsdesk.services.outbox import find_by_dedupe_key
from smsdesk.services.template_store import language_of, resolve_template
from smsdesk.services.templates import TemplateError, render_message

AUDIT_ACTION = "no_text"
PHONE_REASONS = (Reason.NO_PHONE, Reason.INVALID_NUMBER, Reason.LANDLINE)
RECENT_LIMIT = 20  # orders listed on the dashboard

Target = Order | Checkout


def record(session: Session, target: Target, reason: Reason, *, kind: str, customer_id: int | None = None) -> None:
    """Note that ``target`` got no ``kind`` text because of ``reason``.

    Audited when the reason changes, so a replayed event adds no second audit row.
    """
    if target.no_text_reason == reason:
        return
    target.no_text_reason = reason
    audit.record(session, AUDIT_ACTION, store_id=target.store_id, customer_id=customer_id, reason=reason.value,
                 detail={**_name(target), "kind": kind})


def clear(target: Target) -> None:
    """A text was queued for ``target``: no reason to show any more."""
    target.no_text_reason = None


def phone_reason(target: Target, info: CustomerInfo) -> Reason:
    """Why there is no number to text: what this event said about the phone, else what an
    earlier event said (a fulfillment naming its order by id says nothing), else NO_PHONE."""
    if info.phone_problem is not None:
        return info.phone_problem
    if target.no_text_reason in PHONE_REASONS:
        return target.no_text_reason
    return Reason.NO_PHONE


def after_enqueue(session: Session, target: Target, message: Message | None, *, store: Store, customer: Customer,
                  kind: str, context: Mapping[str, Any], dedupe_key: str | None) -> None:
    """Record the outcome of queuing ``kind`` for ``target`` (``message`` is what the outbox returned)."""
    if message is not None and customer.opted_out:
        # Queued, but an opted-out phone's text is suppressed at send time (compliance).
        record(session, target, Reason.OPTED_OUT, kind=kind, customer_id=customer.id)
    elif message is not None:
        clear(target)
    else:
        reason = not_queued_reason(session, store=store, kind=kind, context=context, dedupe_key=dedupe_key,
                                   language=language_of(store, customer))
        if reason is not None:
            record(session, target, reason, kind=kind, customer_id=customer.id)


def not_queued_reason(session: Session, *, store: Store, kind: str, context: Mapping[str, Any],
                      dedupe_key: str | None, language: str | None = None) -> Reason | None:
    """Why the outbox queued nothing: the store turned ``kind`` off, or its template cannot be
    rendered; None when the text already exists (a replay, or a concurrent delivery)."""
    if dedupe_key and find_by_dedupe_key(session, dedupe_key) is not None:
        return None
    template = resolve_template(session, store_id=store.id, kind=kind, language=language,
                                default_language=store.default_language)
    if not template.enabled:
        return Reason.TEMPLATE_DISABLED
    try:
        render_message(template.body, context)
    except TemplateError:
        return Reason.TEMPLATE_ERROR
    return None


def recent_untexted_orders(session: Session, *, since: datetime, store_ids: list[int] | None = None,
                           limit: int = RECENT_LIMIT) -> list[dict]:
    """Orders whose latest stage got no text, changed since ``since``, newest first.

    ``store_ids`` limits them to those stores; None means every store.
    """
    query = (select(Order, Store.name).join(Store, Store.id == Order.store_id)
             .where(Order.no_text_reason.is_not(None), Order.updated_at >= since)
             .order_by(Order.updated_at.desc(), Order.id.desc()).limit(limit))
    if store_ids is not None:
        query = query.where(Order.store_id.in_(store_ids))
    return [untexted_order_dict(order, store_name) for order, store_name in session.execute(query)]


def untexted_order_dict(order: Order, store_name: str) -> dict:
    return {"id": order.id, "store": store_name, "number": order.number or order.external_id,
            "status": order.status, "phone": order.phone, "at": order.updated_at} | reason_fields(order.no_text_reason)


def reason_fields(reason: Reason | None) -> dict:
    """``no_text_reason`` (the code) and ``no_text_reason_label`` (its words), as shown beside an order."""
    if reason is None:
        return {"no_text_reason": None, "no_text_reason_label": None}
    return {"no_text_reason": reason.value, "no_text_reason_label": reason.label}


def _name(target: Target) -> dict:
    if isinstance(target, Order):
        return {"order": target.number or target.external_id}
    return {"checkout": target.token}
