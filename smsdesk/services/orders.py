"""Orders and their life-cycle texts: each stage texted once, never out of order."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.events import CustomerInfo, OrderCancelled, OrderInfo, OrderPlaced, ShipmentUpdated, Tracking
from smsdesk.models import Customer, Order, Store
from smsdesk.services import audit, checkouts, no_text
from smsdesk.services.conversations import add_note
from smsdesk.services.customers import upsert_customer
from smsdesk.services.outbox import enqueue_kind
from smsdesk.services.templates import build_context

# An order only moves forward; a late "shipped" after "delivered" changes nothing. "new" is a
# stub recorded from an event that came before its order (a shipment without a phone).
STAGES = {"new": -1, "placed": 0, "shipped": 1, "in_transit": 1, "out_for_delivery": 2,
          "ready_for_pickup": 2, "delivered": 3, "cancelled": 9}
KIND_FOR_STATUS = {"placed": "order_confirmed", "shipped": "order_shipped", "in_transit": "order_shipped",
                   "out_for_delivery": "out_for_delivery", "ready_for_pickup": "ready_for_pickup",
                   "delivered": "delivered", "cancelled": "order_cancelled"}


# Column sizes (models.Order): a platform's over-long value is cut, never a failed insert.
FIELD_LIMITS = {"number": 64, "total": 32, "currency": 3, "status_url": 4000, "checkout_token": 255}
TRACKING_LIMIT = 255  # characters of tracking number / company kept


def order_placed(session: Session, *, store: Store, event: OrderPlaced, source: str) -> Order:
    """Record the order and confirm it; an order that earlier events already moved on gets the
    text for where it is now instead (never "confirmed" after "shipped")."""
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    order = _upsert_order(session, store=store, info=event.order, customer=customer)
    checkouts.order_placed_cancels(session, store=store, order=order, customer=_customer_of(session, order))
    if STAGES.get(order.status, -1) > STAGES["placed"]:
        _text_stage(session, store=store, order=order, customer=_customer_of(session, order), status=order.status,
                    info=event.customer)
    else:
        _advance(session, store=store, order=order, customer=customer, status="placed", info=event.customer)
    return order


def order_cancelled(session: Session, *, store: Store, event: OrderCancelled, source: str) -> Order:
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    order = _upsert_order(session, store=store, info=event.order, customer=customer)
    _advance(session, store=store, order=order, customer=_customer_of(session, order), status="cancelled",
             info=event.customer)
    return order


def shipment_updated(session: Session, *, store: Store, event: ShipmentUpdated, source: str) -> Order:
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    order = _upsert_order(session, store=store, info=event.order, customer=customer)
    _set_tracking(order, event.tracking)
    customer = _customer_of(session, order)
    if event.status == "failure":
        _note_delivery_failure(session, store=store, order=order, customer=customer)
        return order
    _advance(session, store=store, order=order, customer=customer, status=event.status, info=event.customer)
    return order


def _upsert_order(session: Session, *, store: Store, info: OrderInfo, customer: Customer | None) -> Order:
    order = _find_order(session, store.id, info.external_id)
    if order is None:
        try:
            with session.begin_nested():
                order = Order(store_id=store.id, external_id=info.external_id, status="new")
                session.add(order)
        except IntegrityError:  # the same order raced us from another delivery
            order = _find_order(session, store.id, info.external_id)
    for attr, limit in FIELD_LIMITS.items():
        value = getattr(info, attr)
        if value:
            setattr(order, attr, value[:limit])
    if customer is not None:
        order.customer_id = customer.id
        order.phone = customer.phone
    return order


def _find_order(session: Session, store_id: int, external_id: str) -> Order | None:
    return session.scalar(select(Order).where(Order.store_id == store_id, Order.external_id == external_id))


def _customer_of(session: Session, order: Order) -> Customer | None:
    return session.get(Customer, order.customer_id) if order.customer_id else None


def _set_tracking(order: Order, tracking: Tracking) -> None:
    order.tracking_number = tracking.number[:TRACKING_LIMIT] or order.tracking_number
    order.tracking_company = tracking.company[:TRACKING_LIMIT] or order.tracking_company
    order.tracking_url = tracking.url or order.tracking_url


def _advance(session: Session, *, store: Store, order: Order, customer: Customer | None, status: str,
             info: CustomerInfo) -> None:
    """Move the order to ``status`` if that is forward, and text the customer once for it."""
    current = STAGES.get(order.status, -1)
    if STAGES[status] < current or (status != "cancelled" and order.status == "cancelled"):
        return  # stale or out-of-order event: nothing to say
    delivered_before = order.status == "delivered"
    if STAGES[status] > current:
        order.status = "shipped" if status == "in_transit" else status
    if status == "cancelled" and delivered_before:
        return  # a refund after delivery: "your order has been cancelled" would be nonsense now
    _text_stage(session, store=store, order=order, customer=customer, status=status, info=info)


def _text_stage(session: Session, *, store: Store, order: Order, customer: Customer | None, status: str,
                info: CustomerInfo) -> None:
    """Queue the text for one stage (its dedupe key makes it once per order and stage), or
    record on the order why there is none (``info``: what the event said about the phone)."""
    kind = KIND_FOR_STATUS[status]
    if customer is None:
        no_text.record(session, order, no_text.phone_reason(order, info), kind=kind)
        return
    context, key = order_context(store, order, customer), f"order:{store.id}:{order.external_id}:{kind}"
    message = enqueue_kind(session, store=store, customer=customer, kind=kind, context=context, dedupe_key=key,
                           order_id=order.id)
    no_text.after_enqueue(session, order, message, store=store, customer=customer, kind=kind, context=context,
                          dedupe_key=key)


def order_context(store: Store, order: Order, customer: Customer) -> dict:
    """Template variables for an order text."""
    return build_context(
        store={"name": store.name, "support_contact": store.help_text},
        customer={"first_name": customer.first_name},
        # A platform that sent no order number still names the order: "#" alone would read as a bug.
        order={"number": order.number or order.external_id, "total": order.total, "currency": order.currency,
               "status_url": order.status_url},
        tracking={"number": order.tracking_number, "company": order.tracking_company, "url": order.tracking_url},
    )


def _note_delivery_failure(session: Session, *, store: Store, order: Order, customer: Customer | None) -> None:
    """A failed delivery goes to the agents (a note in the conversation), not to the customer."""
    audit.record(session, "delivery_failure", store_id=store.id,
                 customer_id=customer.id if customer else None, reason=f"order {order.number or order.external_id}")
    if customer is not None:
        carrier = f" ({order.tracking_company} {order.tracking_number})".replace(" ( )", "").rstrip()
        add_note(session, store=store, customer=customer,
                 body=f"Carrier reported a delivery failure for order #{order.number or order.external_id}{carrier}.",
                 dedupe_key=f"order:{store.id}:{order.external_id}:delivery_failure")
