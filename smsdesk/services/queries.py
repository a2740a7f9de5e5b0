"""Read models for the API and the inbox: conversations as plain dicts (DESIGN §5)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, ScalarSelect, Select, func, null, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from smsdesk.models import (
    Agent,
    Consent,
    Conversation,
    Customer,
    Direction,
    Message,
    Order,
    Shipment,
    Store,
    utcnow,
)
from smsdesk.services.consent import consent_history
from smsdesk.services.conversations import FAILED_STATUSES
from smsdesk.services.failures import failure_text, is_retryable
from smsdesk.services.links import web_link
from smsdesk.services.media import media_of, media_summary, preview
from smsdesk.services.no_text import reason_fields
from smsdesk.services.paging import DEFAULT_LIMIT, decode_cursor, encode_cursor, next_since
from smsdesk.services.shipments import is_partial

OLDER, CHANGED = "mo", "mc"  # thread cursor kinds: paging back in time, walking changes


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# What the list reads and sorts: a conversation's own columns. What else a row shows is looked up
# for the page's rows only (``row_extras``): joined to the list, the customer, store and agent were
# joined to every candidate before the sort (1,000 of them for a search like "Emma Lar").
LIST_COLUMNS = (Conversation.id, Conversation.customer_id, Conversation.status, Conversation.unread,
                Conversation.waiting_since, Conversation.last_message_at, Conversation.updated_at)
# Plain columns, not objects: Conversation, Customer, Store and Agent objects for a page of 50 cost
# 3-4 ms of a 9-17 ms page (and decrypted the store's secrets once a row).
PEOPLE = (Store.slug.label("store_slug"), Customer.phone, Customer.first_name, Customer.last_name,
          Customer.opted_out, Customer.marketing_consent, Agent.email.label("agent_email"))
LAST_TEXT = (Message.id, Message.body, Message.direction, Message.created_at, Message.media_count, Message.status)


@dataclass
class RowExtras:
    """What list rows show beyond their conversation's own columns, per conversation id."""

    people: dict[int, Row] = field(default_factory=dict)  # store, customer and agent (PEOPLE)
    last: dict[int, Row] = field(default_factory=dict)  # the newest text (LAST_TEXT)
    failed: set[int] = field(default_factory=set)  # the newest text to the customer failed
    orders: dict[int, Order] = field(default_factory=dict)  # the customer's newest order


def row_extras(session: Session, conversation_ids: list[int], *, orders: bool = True) -> RowExtras:
    """Store, customer and agent, the newest text, whether the newest text to the customer failed,
    and (``orders``) the newest order of each conversation, in three statements: those with the
    newest ids, then the texts and orders by primary key. (As ``id IN (SELECT max(id) ... GROUP
    BY ...)`` PostgreSQL misjudged how many ids come back and hash-joined a sequential scan of
    every text: 9 of a 30 ms page at 30,000 texts.)"""
    if not conversation_ids:
        return RowExtras()
    newest_order = _newest(Order.customer_id == Conversation.customer_id, of=Order.id) if orders else null()
    query = (select(Conversation.id, *PEOPLE, _newest(Message.conversation_id == Conversation.id).label("text_id"),
                    _newest(Message.conversation_id == Conversation.id, Message.direction == Direction.OUT)
                    .label("out_id"), newest_order.label("order_id"))
             .join(Customer, Customer.id == Conversation.customer_id).join(Store, Store.id == Conversation.store_id)
             .outerjoin(Agent, Agent.id == Conversation.assigned_agent_id).where(Conversation.id.in_(conversation_ids)))
    rows = session.execute(query).all()
    text_ids = {text_id for row in rows for text_id in (row.text_id, row.out_id) if text_id is not None}
    order_ids = {row.order_id for row in rows if row.order_id is not None}
    texts = {row.id: row for row in session.execute(select(*LAST_TEXT).where(Message.id.in_(text_ids)))} \
        if text_ids else {}
    found = {order.id: order for order in session.scalars(select(Order).where(Order.id.in_(order_ids)))} \
        if order_ids else {}
    # (a text or order erased between the statements is left out)
    return RowExtras(people={row.id: row for row in rows},
                     last={row.id: texts[row.text_id] for row in rows if row.text_id in texts},
                     failed={row.id for row in rows
                             if row.out_id in texts and texts[row.out_id].status in FAILED_STATUSES},
                     orders={row.id: found[row.order_id] for row in rows if row.order_id in found})


def _newest(*where: ColumnElement[bool], of: InstrumentedAttribute[int] = Message.id) -> ScalarSelect[int]:
    """The highest id matching ``where``, per row of the enclosing query on conversations."""
    return select(func.max(of)).where(*where).correlate(Conversation).scalar_subquery()


def latest_orders(session: Session, customer_ids: list[int]) -> dict[int, Order]:
    if not customer_ids:
        return {}
    newest = select(func.max(Order.id)).where(Order.customer_id.in_(customer_ids)).group_by(Order.customer_id)
    return {o.customer_id: o for o in session.scalars(select(Order).where(Order.id.in_(newest)))
            if o.customer_id is not None}


def summary(row: Row | Conversation, extras: RowExtras) -> dict:
    """A list row from a conversation (LIST_COLUMNS or the object) and its ``row_extras``."""
    people, last, order = extras.people[row.id], extras.last.get(row.id), extras.orders.get(row.id)
    return {
        "id": row.id,
        "store": people.store_slug,
        "customer_phone": people.phone,
        "customer_name": Customer.full_name(people.first_name, people.last_name),
        "opted_out": people.opted_out,
        "marketing_consent": people.marketing_consent,
        "status": row.status.value,
        "assigned_to": people.agent_email,
        "unread": row.unread,
        "last_message": {"body": last.body, "direction": last.direction.value, "at": iso(last.created_at),
                         "media_count": last.media_count, "preview": preview(last.body, last.media_count)}
        if last else None,
        "waiting_since": iso(row.waiting_since),
        "latest_order": order_dict(order) if order else None,
        "last_out_failed": row.id in extras.failed,
    }


def conversation_summary(session: Session, conversation: Conversation, *, orders: list[Order] | None = None) -> dict:
    """One conversation's list row; ``orders``: all the customer's orders, when already loaded."""
    extras = row_extras(session, [conversation.id], orders=orders is None)
    if orders:
        extras.orders[conversation.id] = max(orders, key=lambda o: o.id)  # row_extras' choice: the newest id
    return summary(conversation, extras)


def order_dict(order: Order, packages: list[Shipment] | None = None) -> dict:
    """An order; ``tracking_*`` are its latest package's. With ``packages``, every package too."""
    data: dict[str, Any] = {
        "number": order.number, "status": order.status, "total": order.total, "currency": order.currency,
        "tracking_number": order.tracking_number or None, "tracking_company": order.tracking_company or None,
        "tracking_url": web_link(order.tracking_url), "status_url": web_link(order.status_url),
        **reason_fields(order.no_text_reason)}
    if packages is not None:
        data["item_count"] = order.item_count or None
        data["items"] = order.items or []
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


def message_dict(message: Message, media: list | None = None) -> dict:
    """A text; ``media``: its pictures (services/media.py), listed without their bytes."""
    data = {
        "id": message.id, "direction": message.direction.value, "kind": message.kind, "body": message.body,
        "status": message.status.value, "error_code": message.error_code,
        "reason": message.reason.value if message.reason else None,
        "reason_label": message.reason.label if message.reason else None,
        "reason_detail": message.reason_detail or None,
        "reason_text": failure_text(message.reason, message.error_code), "retryable": is_retryable(message),
        "created_at": iso(message.created_at), "sent_at": iso(message.sent_at), "segments": message.segments,
        "encoding": message.encoding, "media": [media_summary(item) for item in media or []],
    }
    if message.status.value == "scheduled":
        data["due_at"] = iso(message.due_at)
    return data


def consent_dict(row: Consent) -> dict:
    """One row of a number's consent history."""
    return {"state": row.state.value, "level": row.level.value, "source": row.source.value,
            "platform_state": row.platform_state or None, "collected_from": row.collected_from or None,
            "delivery_id": row.delivery_id or None, "at": iso(row.at), "recorded_at": iso(row.recorded_at)}


def conversation_detail(session: Session, conversation: Conversation, *, limit: int = DEFAULT_LIMIT,
                        cursor: str | None = None, since: datetime | None = None) -> dict:
    """A conversation with its latest texts (every message of that customer at that store, oldest
    first; ``next_cursor`` pages back to older ones), orders, and the consent history of the
    customer's number. With ``since``: only the texts changed after it, oldest change first."""
    started = utcnow()
    if since is None:
        messages, older = thread_page(session, conversation, limit=limit, cursor=cursor)
    else:
        messages, older = thread_changes(session, conversation, since=since, limit=limit, cursor=cursor)
    orders = list(session.scalars(select(Order).where(Order.customer_id == conversation.customer_id)
                                  .order_by(Order.created_at.desc())))
    packages = _packages(session, orders)
    detail = conversation_summary(session, conversation, orders=orders)
    pictures = media_of(session, [m.id for m in messages if m.media_count])
    detail["messages"] = [message_dict(m, pictures.get(m.id)) for m in messages]
    detail["next_cursor"] = older
    detail["next_since"] = next_since(started)
    detail["orders"] = [order_dict(o, packages[o.id]) for o in orders]
    detail["consents"] = [consent_dict(row) for row in consent_history(session, conversation.customer)]
    return detail


def _thread(conversation: Conversation) -> Select:
    return select(Message).where(Message.customer_id == conversation.customer_id,
                                 Message.store_id == conversation.store_id)


def thread_page(session: Session, conversation: Conversation, *, limit: int = DEFAULT_LIMIT,
                cursor: str | None = None) -> tuple[list[Message], str | None]:
    """The newest ``limit`` texts before ``cursor`` (oldest first), and the cursor to older ones."""
    query = _thread(conversation)
    if cursor is not None:
        at, last_id = decode_cursor(cursor, OLDER, (datetime, int))
        query = query.where(tuple_(Message.created_at, Message.id) < tuple_(at, last_id))
    found = list(session.scalars(query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)))
    page = found[:limit][::-1]
    return page, encode_cursor(OLDER, page[0].created_at, page[0].id) if len(found) > limit else None


def thread_changes(session: Session, conversation: Conversation, *, since: datetime, limit: int = DEFAULT_LIMIT,
                   cursor: str | None = None) -> tuple[list[Message], str | None]:
    """Texts of the thread changed after ``since`` (new ones, new statuses), oldest change first."""
    query = _thread(conversation).where(Message.updated_at > since)
    if cursor is not None:
        at, last_id = decode_cursor(cursor, CHANGED, (datetime, int))
        query = query.where(tuple_(Message.updated_at, Message.id) > tuple_(at, last_id))
    found = list(session.scalars(query.order_by(Message.updated_at, Message.id).limit(limit + 1)))
    page = found[:limit]
    return page, encode_cursor(CHANGED, page[-1].updated_at, page[-1].id) if len(found) > limit else None
