"""Customers' data: export everything held on one customer, and erase their personal data.

Erasure keeps every row (messages keep their status, kind and segments; orders their totals;
consents their state and time), so the dashboard's counts and the fact of an opt-out stay,
while the phone, names, email, addresses, tracking, recovery links, message bodies and the
webhook payloads that mention the customer go. The customer's phone becomes ``erased:<id>``
(unique, and no number: nothing parses or texts it). A customer who had opted out leaves a
salted hash of the number (``suppressions``), so a later order from it starts opted out.
Texts still waiting to go out are
cancelled (``customer_erased``). Each erasure is recorded as an audit event without personal
data: which customer row, how many rows changed, and who asked.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from smsdesk.enums import PENDING_STATUSES, MessageStatus
from smsdesk.events import CustomerDataRequested, CustomerInfo, CustomerRedacted, ShopRedacted
from smsdesk.models import (
    AuditEvent,
    Checkout,
    Consent,
    Conversation,
    Customer,
    Feedback,
    Message,
    Order,
    Shipment,
    ShortLink,
    Store,
    WebhookDelivery,
)
from smsdesk.reasons import Reason
from smsdesk.services import audit
from smsdesk.services.customers import suppress
from smsdesk.services.media import erase_for_customer, export_for_customer
from smsdesk.services.phones import normalize_phone
from smsdesk.services.queries import consent_dict, iso, message_dict, order_dict

ERASED_PREFIX = "erased:"
ERASED_BODY = "[erased]"


class UnknownCustomer(LookupError):
    """No customer of that store has this phone (or it is no phone at all)."""


@dataclass
class ErasureResult:
    """What one erasure changed, in counts (no personal data: it goes into the audit trail)."""

    customers: int = 0
    orders: int = 0
    checkouts: int = 0
    consents: int = 0
    messages: int = 0
    cancelled: int = 0
    deliveries: int = 0
    pictures: int = 0

    def add(self, other: ErasureResult) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def find_by_phone(session: Session, store: Store, phone: str) -> Customer:
    """The store's customer with this phone (read in the store's country); UnknownCustomer otherwise."""
    e164 = normalize_phone(phone, store.country)
    customer = None if e164 is None else session.scalar(
        select(Customer).where(Customer.store_id == store.id, Customer.phone == e164))
    if customer is None:
        raise UnknownCustomer(f"no customer with phone {phone!r} at store {store.slug}")
    return customer


def is_erased(customer: Customer) -> bool:
    return customer.phone.startswith(ERASED_PREFIX)


# -- export ---------------------------------------------------------------------------


def export_customer(session: Session, store: Store, customer: Customer) -> dict[str, Any]:
    """Everything held on the customer at this store, JSON-ready."""
    orders = list(session.scalars(select(Order).where(Order.customer_id == customer.id).order_by(Order.id)))
    packages = _packages(session, [order.id for order in orders])
    return {
        "store": store.slug,
        "customer": {"id": customer.id, "phone": customer.phone, "first_name": customer.first_name,
                     "last_name": customer.last_name, "email": customer.email,
                     "marketing_consent": customer.marketing_consent, "opted_out": customer.opted_out,
                     "opted_out_at": iso(customer.opted_out_at), "created_at": iso(customer.created_at)},
        "orders": [{"external_id": o.external_id, "phone": o.phone, **order_dict(o, packages[o.id]),
                    "created_at": iso(o.created_at)} for o in orders],
        "checkouts": [_checkout_dict(c) for c in session.scalars(
            select(Checkout).where(Checkout.customer_id == customer.id).order_by(Checkout.id))],
        "consents": [{"phone": row.phone, **consent_dict(row)} for row in session.scalars(
            select(Consent).where(Consent.customer_id == customer.id).order_by(Consent.id))],
        "conversations": [{"id": c.id, "status": c.status.value, "created_at": iso(c.created_at),
                           "last_message_at": iso(c.last_message_at)} for c in session.scalars(
            select(Conversation).where(Conversation.customer_id == customer.id).order_by(Conversation.id))],
        "messages": [message_dict(m) for m in session.scalars(
            select(Message).where(Message.customer_id == customer.id).order_by(Message.id))],
        "pictures": export_for_customer(session, customer.id),
        "feedback": [{"score": f.score, "comment": f.comment, "order_id": f.order_id, "created_at": iso(f.created_at)}
                     for f in session.scalars(select(Feedback).where(Feedback.customer_id == customer.id)
                                              .order_by(Feedback.id))],
        "webhook_deliveries": [{"id": d.id, "source": d.source, "delivery_id": d.delivery_id, "topic": d.topic,
                                "received_at": iso(d.received_at), "payload": d.payload, "events": d.events}
                               for d in _deliveries_mentioning(session, store.id, _needles(session, [customer]))],
    }


def _checkout_dict(checkout: Checkout) -> dict[str, Any]:
    return {"token": checkout.token, "phone": checkout.phone, "status": checkout.status,
            "marketing_consent": checkout.marketing_consent, "recovery_url": checkout.recovery_url,
            "total": checkout.total, "currency": checkout.currency, "items": checkout.items,
            "started_at": iso(checkout.started_at), "completed_at": iso(checkout.completed_at)}


def _packages(session: Session, order_ids: list[int]) -> dict[int, list[Shipment]]:
    found: dict[int, list[Shipment]] = {order_id: [] for order_id in order_ids}
    for package in session.scalars(select(Shipment).where(Shipment.order_id.in_(order_ids)).order_by(Shipment.id)):
        found[package.order_id].append(package)
    return found


# -- erasure --------------------------------------------------------------------------


def erase_customer(session: Session, store: Store, customer: Customer, *, requested_by: str) -> ErasureResult:
    """Erase one customer's personal data (in the caller's transaction); see the module's doc."""
    return erase_customers(session, store, [customer], requested_by=requested_by)


def erase_customers(session: Session, store: Store, customers: list[Customer], *, requested_by: str,
                    extra_needles: Iterable[str] = ()) -> ErasureResult:
    """Erase these customers of one store; ``extra_needles`` (a redact request's own phone or
    email) also clear the webhook deliveries that mention them, the request's own included."""
    needles = _needles(session, customers) | {n for n in extra_needles if len(n) >= 5}
    total = ErasureResult(deliveries=_erase_deliveries(session, store.id, needles))
    _erase_audit_details(session, store.id, needles)
    for customer in customers:
        result = _erase_one(session, customer)
        audit.record(session, "customer_erased", store_id=store.id, customer_id=customer.id,
                     source=requested_by[:40], detail={"requested_by": requested_by, **asdict(result)})
        total.add(result)
    session.flush()
    return total


def erase_store_customers(session: Session, store: Store, *, requested_by: str) -> ErasureResult:
    """Erase every customer of the store (Shopify's shop/redact, 48 hours after an uninstall),
    and every webhook payload of the store. The store row, its settings and the counts stay."""
    # Every payload goes first, in one statement: the erasure of each customer then has none to search.
    cleared = _rowcount(session, update(WebhookDelivery).where(
        WebhookDelivery.store_id == store.id,
        or_(WebhookDelivery.payload.is_not(None), WebhookDelivery.events.is_not(None))).values(
        payload=None, events=None))
    customers = list(session.scalars(select(Customer).where(Customer.store_id == store.id).order_by(Customer.id)))
    result = erase_customers(session, store, [c for c in customers if not is_erased(c)], requested_by=requested_by)
    result.deliveries += cleared
    audit.record(session, "store_erased", store_id=store.id, source=requested_by[:40],
                 detail={"requested_by": requested_by, **asdict(result)})
    return result


def _erase_one(session: Session, customer: Customer) -> ErasureResult:
    phone, store_id = customer.phone, customer.store_id
    if customer.opted_out:
        suppress(session, customer)  # the law's "no" outlives the erasure (a salted hash only)
    result = ErasureResult(customers=1)
    orders = select(Order.id).where(Order.customer_id == customer.id)
    result.orders = _rowcount(session, update(Order).where(
        Order.store_id == store_id, or_(Order.customer_id == customer.id, Order.phone == phone)).values(
        phone=None, status_url="", tracking_number="", tracking_url=""))
    _rowcount(session, update(Shipment).where(Shipment.order_id.in_(orders)).values(tracking_number="",
                                                                                    tracking_url=""))
    result.checkouts = _rowcount(session, update(Checkout).where(
        Checkout.store_id == store_id, or_(Checkout.customer_id == customer.id, Checkout.phone == phone)).values(
        phone=None, recovery_url=""))
    placeholder = ERASED_PREFIX + str(customer.id)
    result.consents = _rowcount(session, update(Consent).where(
        Consent.store_id == store_id, or_(Consent.customer_id == customer.id, Consent.phone == phone)).values(
        phone=placeholder))
    result.cancelled = _rowcount(session, update(Message).where(
        Message.customer_id == customer.id, Message.status.in_(PENDING_STATUSES)).values(
        status=MessageStatus.CANCELLED, reason=Reason.CUSTOMER_ERASED, due_at=None))
    result.messages = _rowcount(session, update(Message).where(Message.customer_id == customer.id).values(
        body=ERASED_BODY, reason_detail=""))
    result.pictures = erase_for_customer(session, customer.id)  # their photos are personal data too
    # A rating's comment is the customer's words again; the score stays (counts and CSAT).
    _rowcount(session, update(Feedback).where(Feedback.customer_id == customer.id, Feedback.comment != "").values(
        comment=""))
    # A short link's target (a recovery or order-status URL) names the customer's cart or order.
    _rowcount(session, update(ShortLink).where(ShortLink.customer_id == customer.id).values(url=""))
    customer.phone, customer.first_name, customer.last_name, customer.email = placeholder, "", "", ""
    return result


def _rowcount(session: Session, statement) -> int:
    """Rows an UPDATE changed (the session's loaded objects see the new values)."""
    result = session.execute(statement.execution_options(synchronize_session="fetch"))
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


def _needles(session: Session, customers: list[Customer]) -> set[str]:
    """Strings whose presence in a stored payload means it is about one of these customers:
    phones (E.164 and digits), emails, and their orders' and checkouts' ids as the events hold them."""
    needles: set[str] = set()
    for customer in customers:
        if not is_erased(customer):
            needles |= {customer.phone, customer.phone.lstrip("+")}
        if customer.email:
            needles.add(customer.email.lower())
        ids = session.scalars(select(Order.external_id).where(Order.customer_id == customer.id))
        needles |= {json.dumps({"external_id": external_id})[1:-1] for external_id in ids}
        tokens = session.scalars(select(Checkout.token).where(Checkout.customer_id == customer.id))
        needles |= {json.dumps({"token": token})[1:-1] for token in tokens}
    return {needle for needle in needles if needle}


def _mentions(data: Any, needles: set[str]) -> bool:
    if data is None:
        return False
    text = json.dumps(data).lower()
    return any(needle.lower() in text for needle in needles)


def _deliveries_mentioning(session: Session, store_id: int, needles: set[str]) -> list[WebhookDelivery]:
    if not needles:
        return []
    # Read in Python: payloads are JSON (no portable text search), and retention keeps them few.
    rows = session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.store_id == store_id,
        or_(WebhookDelivery.payload.is_not(None), WebhookDelivery.events.is_not(None))).order_by(WebhookDelivery.id))
    return [row for row in rows if _mentions(row.payload, needles) or _mentions(row.events, needles)]


def _erase_deliveries(session: Session, store_id: int, needles: set[str]) -> int:
    found = _deliveries_mentioning(session, store_id, needles)
    for delivery in found:
        delivery.payload, delivery.events = None, None
    return len(found)


def _erase_audit_details(session: Session, store_id: int, needles: set[str]) -> None:
    """Audit details that quote the customer (a consent's phone, an inbound number) lose the detail."""
    if not needles:
        return
    rows = session.scalars(select(AuditEvent).where(AuditEvent.store_id == store_id, AuditEvent.detail.is_not(None)))
    for row in rows:
        if _mentions(row.detail, needles) or any(n.lower() in row.reason.lower() for n in needles):
            row.detail, row.reason = None, ""


# -- the platforms' privacy requests (normalized events, applied by jobs/apply_events.py) --------


def customers_named(session: Session, store: Store, info: CustomerInfo, order_ids: Iterable[str]) -> list[Customer]:
    """The store's customers a privacy request names: by phone, by email, or by their orders."""
    conditions = []
    if info.phone:
        conditions.append(Customer.phone == info.phone)
    if info.email:
        conditions.append(func.lower(Customer.email) == info.email.lower())
    ids = list(order_ids)
    if ids:
        conditions.append(Customer.id.in_(select(Order.customer_id).where(
            Order.store_id == store.id, Order.external_id.in_(ids))))
    if not conditions:
        return []
    return list(session.scalars(select(Customer).where(Customer.store_id == store.id, or_(*conditions))
                                .order_by(Customer.id)))


def customer_redacted(session: Session, *, store: Store, event: CustomerRedacted, source: str) -> None:
    customers = customers_named(session, store, event.customer, event.order_ids)
    erase_customers(session, store, customers, requested_by=f"{source} customers/redact",
                    extra_needles=[value for value in (event.customer.phone, event.customer.email) if value])


def customer_data_requested(session: Session, *, store: Store, event: CustomerDataRequested, source: str) -> None:
    """The owner finds the request in the audit trail (action ``data_request``) with the customer
    rows it names, and exports each with ``smsdesk customer export`` or the API."""
    customers = customers_named(session, store, event.customer, event.order_ids)
    audit.record(session, "data_request", store_id=store.id, customer_id=customers[0].id if customers else None,
                 source=source, detail={"request_id": event.request_id, "customer_ids": [c.id for c in customers]})


def shop_redacted(session: Session, *, store: Store, event: ShopRedacted, source: str) -> None:
    erase_store_customers(session, store, requested_by=f"{source} shop/redact")
