"""Read models for the API and the inbox: conversations as plain dicts (DESIGN §5)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, nulls_last, or_, select
from sqlalchemy.orm import Session, joinedload

from smsdesk.models import (
    Agent,
    Consent,
    Conversation,
    ConversationStatus,
    Customer,
    Message,
    Order,
    Shipment,
    Store,
)
from smsdesk.services.consent import consent_history
from smsdesk.services.links import web_link
from smsdesk.services.no_text import reason_fields
from smsdesk.services.shipments import is_partial

LIST_LIMIT = 500  # conversations per listing


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def list_conversations(session: Session, *, status: str = "open", store_slug: str | None = None,
                       search: str | None = None, assigned_to: int | None = None,
                       store_ids: list[int] | None = None) -> list[dict]:
    """Conversations, the ones waiting longest for an answer first; only of ``store_ids``
    when given (services/access.py: the user's stores; None for an admin)."""
    query = (select(Conversation).join(Customer).join(Store)
             .options(joinedload(Conversation.customer), joinedload(Conversation.store),
                      joinedload(Conversation.assigned_agent))
             .order_by(nulls_last(Conversation.waiting_since.asc()), Conversation.last_message_at.desc())
             .limit(LIST_LIMIT))
    if status != "all":
        query = query.where(Conversation.status == ConversationStatus(status))
    if store_slug:
        query = query.where(Store.slug == store_slug)
    if store_ids is not None:
        query = query.where(Conversation.store_id.in_(store_ids))
    if assigned_to is not None:
        query = query.where(Conversation.assigned_agent_id == assigned_to)
    if search:
        query = query.where(_matches(search))
    conversations = list(session.scalars(query).unique())
    last = _last_messages(session, [c.id for c in conversations])
    orders = _latest_orders(session, [c.customer_id for c in conversations])
    return [_summary(c, last.get(c.id), orders.get(c.customer_id)) for c in conversations]


def _matches(search: str):
    term = f"%{search.strip().lower()}%"
    digits = "".join(ch for ch in search if ch.isdigit())
    order_match = select(Order.id).where(Order.customer_id == Customer.id,
                                         func.lower(Order.number).like(term.replace("#", "")))
    conditions = [func.lower(Customer.first_name + " " + Customer.last_name).like(term), order_match.exists()]
    if digits:
        conditions.append(Customer.phone.like(f"%{digits}%"))
    return or_(*conditions)


def _last_messages(session: Session, conversation_ids: list[int]) -> dict[int, Message]:
    if not conversation_ids:
        return {}
    newest = (select(func.max(Message.id)).where(Message.conversation_id.in_(conversation_ids))
              .group_by(Message.conversation_id))
    return {m.conversation_id: m for m in session.scalars(select(Message).where(Message.id.in_(newest)))
            if m.conversation_id is not None}


def _latest_orders(session: Session, customer_ids: list[int]) -> dict[int, Order]:
    if not customer_ids:
        return {}
    newest = select(func.max(Order.id)).where(Order.customer_id.in_(customer_ids)).group_by(Order.customer_id)
    return {o.customer_id: o for o in session.scalars(select(Order).where(Order.id.in_(newest)))
            if o.customer_id is not None}


def _summary(conversation: Conversation, last: Message | None, order: Order | None) -> dict:
    customer = conversation.customer
    agent: Agent | None = conversation.assigned_agent
    return {
        "id": conversation.id,
        "store": conversation.store.slug,
        "customer_phone": customer.phone,
        "customer_name": customer.name,
        "opted_out": customer.opted_out,
        "marketing_consent": customer.marketing_consent,
        "status": conversation.status.value,
        "assigned_to": agent.email if agent else None,
        "unread": conversation.unread,
        "last_message": {"body": last.body, "direction": last.direction.value, "at": iso(last.created_at)}
        if last else None,
        "waiting_since": iso(conversation.waiting_since),
        "latest_order": order_dict(order) if order else None,
    }


def conversation_summary(session: Session, conversation: Conversation) -> dict:
    last = _last_messages(session, [conversation.id]).get(conversation.id)
    order = _latest_orders(session, [conversation.customer_id]).get(conversation.customer_id)
    return _summary(conversation, last, order)


def order_dict(order: Order, packages: list[Shipment] | None = None) -> dict:
    """An order; ``tracking_*`` are its latest package's. With ``packages``, every package too."""
    data: dict[str, Any] = {
        "number": order.number, "status": order.status, "total": order.total, "currency": order.currency,
        "tracking_number": order.tracking_number or None, "tracking_company": order.tracking_company or None,
        "tracking_url": web_link(order.tracking_url), "status_url": web_link(order.status_url),
        **reason_fields(order.no_text_reason)}
    if packages is not None:
        data["item_count"] = order.item_count or None
        data["shipments"] = [package_dict(p, order) for p in packages]
    return data


def package_dict(package: Shipment, order: Order) -> dict:
    """One package of an order, with its own tracking."""
    return {"id": package.external_id or None, "status": package.status,
            "tracking_number": package.tracking_number or None, "tracking_company": package.tracking_company or None,
            "tracking_url": web_link(package.tracking_url), "item_count": package.item_count or None,
            "items": package.items or [], "partial": is_partial(package, order),
            "created_at": iso(package.created_at), "updated_at": iso(package.updated_at)}


def _packages(session: Session, orders: list[Order]) -> dict[int, list[Shipment]]:
    """The packages of these orders (one query), oldest first."""
    found: dict[int, list[Shipment]] = {order.id: [] for order in orders}
    if orders:
        query = select(Shipment).where(Shipment.order_id.in_(found)).order_by(Shipment.id)
        for package in session.scalars(query):
            found[package.order_id].append(package)
    return found


def message_dict(message: Message) -> dict:
    data = {
        "id": message.id, "direction": message.direction.value, "kind": message.kind, "body": message.body,
        "status": message.status.value, "error_code": message.error_code,
        "reason": message.reason.value if message.reason else None,
        "reason_label": message.reason.label if message.reason else None,
        "reason_detail": message.reason_detail or None,
        "created_at": iso(message.created_at), "sent_at": iso(message.sent_at), "segments": message.segments,
        "encoding": message.encoding,
    }
    if message.status.value == "scheduled":
        data["due_at"] = iso(message.due_at)
    return data


def consent_dict(row: Consent) -> dict:
    """One row of a number's consent history."""
    return {"state": row.state.value, "level": row.level.value, "source": row.source.value,
            "platform_state": row.platform_state or None, "collected_from": row.collected_from or None,
            "delivery_id": row.delivery_id or None, "at": iso(row.at), "recorded_at": iso(row.recorded_at)}


def conversation_detail(session: Session, conversation: Conversation) -> dict:
    """A conversation with every message of that customer at that store, oldest first, orders,
    and the consent history of the customer's number."""
    messages = session.scalars(select(Message).where(
        Message.store_id == conversation.store_id, Message.customer_id == conversation.customer_id,
    ).order_by(Message.created_at, Message.id))
    orders = list(session.scalars(select(Order).where(Order.customer_id == conversation.customer_id)
                                  .order_by(Order.created_at.desc())))
    packages = _packages(session, orders)
    detail = conversation_summary(session, conversation)
    detail["messages"] = [message_dict(m) for m in messages]
    detail["orders"] = [order_dict(o, packages[o.id]) for o in orders]
    detail["consents"] = [consent_dict(row) for row in consent_history(session, conversation.customer)]
    return detail
