"""Orders and their life-cycle texts: each stage texted once, never out of order."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.events import (
    CustomerInfo,
    OrderCancelled,
    OrderInfo,
    OrderPlaced,
    OrderRefunded,
    PaymentDeclined,
    ShipmentUpdated,
)
from smsdesk.models import Customer, Order, Shipment, Store, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import attribution, audit, checkouts, feedback, no_text, preload, shipments
from smsdesk.services.conversations import add_note
from smsdesk.services.customers import upsert_customer
from smsdesk.services.links import text_link
from smsdesk.services.outbox import enqueue_kind
from smsdesk.services.templates import build_context

# An order only moves forward; a late "shipped" after "delivered" changes nothing. "new" is a
# stub recorded from an event that came before its order (a shipment without a phone);
# "declined" is an order whose payment failed (the customer may still pay and move it on).
# Each package moves forward the same way on its own.
STAGES = {"new": -1, "declined": -1, "placed": 0, "shipped": 1, "in_transit": 1, "out_for_delivery": 2,
          "ready_for_pickup": 2, "delivered": 3, "cancelled": 9, "refunded": 9}
ENDED = ("cancelled", "refunded")  # no shipping texts after these
KIND_FOR_STATUS = {"placed": "order_confirmed", "shipped": "order_shipped", "in_transit": "order_shipped",
                   "out_for_delivery": "out_for_delivery", "ready_for_pickup": "ready_for_pickup",
                   "delivered": "delivered", "cancelled": "order_cancelled"}
SHIPPING_STATUSES = ("shipped", "in_transit", "out_for_delivery", "ready_for_pickup", "delivered")


# Column sizes (models.Order): a platform's over-long value is cut, never a failed insert.
FIELD_LIMITS = {"number": 64, "total": 32, "currency": 3, "status_url": 4000, "checkout_token": 255}


def order_placed(session: Session, *, store: Store, event: OrderPlaced, source: str) -> Order:
    """Record the order and confirm it; an order that earlier events already moved on gets the
    text for where it is now instead (never "confirmed" after "shipped")."""
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    # A new order is inserted placed already: one INSERT, no UPDATE of its status right after.
    order = _upsert_order(session, store=store, info=event.order, customer=customer, new_status="placed")
    checkouts.order_placed_cancels(session, store=store, order=order, customer=_customer_of(session, order))
    if STAGES.get(order.status, -1) <= STAGES["placed"]:
        _advance(session, store=store, order=order, customer=customer, status="placed", info=event.customer)
    elif order.status in SHIPPING_STATUSES:
        _text_packages(session, store=store, order=order, customer=_customer_of(session, order), info=event.customer)
    elif order.status == "cancelled":
        _text_stage(session, store=store, order=order, customer=_customer_of(session, order), status="cancelled",
                    info=event.customer)
    return order


def order_cancelled(session: Session, *, store: Store, event: OrderCancelled, source: str) -> Order:
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    order = _upsert_order(session, store=store, info=event.order, customer=customer)
    _advance(session, store=store, order=order, customer=_customer_of(session, order), status="cancelled",
             info=event.customer)
    return order


def order_refunded(session: Session, *, store: Store, event: OrderRefunded, source: str) -> Order:
    """A refund is not a cancellation: its own text (``order_refunded``, off unless the owner
    turns it on), once per refund. Only a refund known to be full ends the order's shipping texts."""
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    order = _upsert_order(session, store=store, info=event.order, customer=customer)
    if event.partial is False and order.status != "cancelled":
        order.status = "refunded"  # all of it: no shipping texts after this
    customer = _customer_of(session, order)
    if customer is None:
        return order
    context = order_context(store, order, customer, refund={"amount": event.amount, "partial": bool(event.partial)})
    enqueue_kind(session, store=store, customer=customer, kind="order_refunded", context=context,
                 dedupe_key=refund_key(store, order, event), order_id=order.id)
    return order


def refund_key(store: Store, order: Order, event: OrderRefunded) -> str:
    """Once per refund the platform names; else once for "partially" and once for "fully" refunded."""
    base = f"order:{store.id}:{order.external_id}"
    if event.refund_id:
        return f"{base}:refund:{event.refund_id[:64]}"
    return f"{base}:order_refunded:partial" if event.partial else f"{base}:order_refunded"


def payment_declined(session: Session, *, store: Store, event: PaymentDeclined, source: str) -> Order:
    """A declined payment is neither a cancellation nor a refund: nothing was bought, so no text;
    the audit trail says why."""
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    order = _upsert_order(session, store=store, info=event.order, customer=customer)
    if order.status == "declined":
        return order  # said and recorded before (WooCommerce re-sends the order on every save)
    if STAGES.get(order.status, -1) < STAGES["placed"]:
        order.status = "declined"
    customer = _customer_of(session, order)
    no_text.record(session, order, Reason.PAYMENT_DECLINED, kind="order_confirmed",
                   customer_id=customer.id if customer else None)
    return order


def shipment_updated(session: Session, *, store: Store, event: ShipmentUpdated, source: str) -> Order:
    """Move one package (or, without a package id, the whole order) forward and text it once per stage."""
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    order = _upsert_order(session, store=store, info=event.order, customer=customer)
    customer = _customer_of(session, order)
    if order.status in ENDED:
        return order  # a cancelled or refunded order: later shipment events change nothing
    package, was_unnamed = None, False
    if event.shipment_id:
        package, was_unnamed = shipments.named_package(session, order, event)
        shipments.record_details(package, event)
        shipments.mirror_newest(session, order, package)
    else:
        shipments.set_tracking(order, event.tracking)
    if event.status == "failure":
        if package is not None and package.status == "new":
            package.status = "shipped"  # a delivery attempt means it left; no "shipped" text for it now
        _note_delivery_failure(session, store=store, order=order, customer=customer, package=package)
    elif package is not None:
        _ship_package(session, store=store, order=order, customer=customer, package=package, event=event,
                      was_unnamed=was_unnamed)
    else:
        _ship_order(session, store=store, order=order, customer=customer, event=event)
    if event.status == "delivered" and order.status == "delivered" and customer is not None:
        feedback.after_delivered(session, store=store, order=order, customer=customer)  # when the store asks
    return order


def _ship_package(session: Session, *, store: Store, order: Order, customer: Customer | None, package: Shipment,
                  event: ShipmentUpdated, was_unnamed: bool) -> None:
    forward = STAGES[event.status] > STAGES.get(package.status, -1)
    if not _move(package, event.status):
        return  # stale or out-of-order event for this package
    _move_order(order, event.status)
    if was_unnamed and not forward:
        return  # texted for this stage already, as the whole order
    _text_package(session, store=store, order=order, customer=customer, package=package, status=event.status,
                  info=event.customer)


def _ship_order(session: Session, *, store: Store, order: Order, customer: Customer | None,
                event: ShipmentUpdated) -> None:
    """An update about the whole order: every package not yet further along moves, one text."""
    packages = shipments.packages_of(session, order) or [shipments.get_package(session, order, "")]
    for package in packages:
        if not package.external_id:
            shipments.record_details(package, event)
    moved = [package for package in packages if _move(package, event.status)]
    if moved:
        _move_order(order, event.status)
        _text_stage(session, store=store, order=order, customer=customer, status=event.status, info=event.customer)


def _move(package: Shipment, status: str) -> bool:
    """Move a package to ``status`` unless that is backwards; False for a stale event."""
    if STAGES[status] < STAGES.get(package.status, -1):
        return False
    if STAGES[status] > STAGES.get(package.status, -1):
        package.status = "shipped" if status == "in_transit" else status
    return True


def _move_order(order: Order, status: str) -> None:
    if STAGES[status] > STAGES.get(order.status, -1):
        order.status = "shipped" if status == "in_transit" else status


def _upsert_order(session: Session, *, store: Store, info: OrderInfo, customer: Customer | None,
                  new_status: str = "new") -> Order:
    order = _find_order(session, store.id, info.external_id)
    if order is None:
        # no_text_reason given (None): clearing it after the text is queued then changes nothing to write.
        order = _fill(Order(store_id=store.id, external_id=info.external_id, status=new_status, no_text_reason=None,
                            created_at=utcnow()), info, customer)
        attribution.attribute(session, order, at=order.created_at)  # before the INSERT: no UPDATE for it
        try:  # filled first: one INSERT, no UPDATE after it
            preload.insert(session, order)
        except IntegrityError:  # the same order raced us from another delivery: it exists now
            order = session.scalars(select(Order).where(Order.store_id == store.id,
                                                        Order.external_id == info.external_id)).one()
        preload.remember(session, "order", store.id, info.external_id, row=order)
    first_customer = order.customer_id is None and customer is not None  # recorded before without its customer
    _fill(order, info, customer)
    if first_customer:
        attribution.attribute(session, order, at=order.created_at)  # credited from when it was first recorded
    return order


def _fill(order: Order, info: OrderInfo, customer: Customer | None) -> Order:
    """Copy what the event says about the order (and its customer) onto it."""
    for attr, limit in FIELD_LIMITS.items():
        value = getattr(info, attr)
        if value:
            setattr(order, attr, value[:limit])
    if info.item_count > 0:
        order.item_count = info.item_count
    if info.items:
        order.items = shipments.items_kept(info.items)
    if customer is not None:
        order.customer_id = customer.id
        order.phone = customer.phone
    return order


def _find_order(session: Session, store_id: int, external_id: str) -> Order | None:
    found = preload.known(session, "order", store_id, external_id)
    if found is not preload.UNKNOWN:
        return found
    return session.scalar(select(Order).where(Order.store_id == store_id, Order.external_id == external_id))


def _customer_of(session: Session, order: Order) -> Customer | None:
    return preload.get(session, Customer, order.customer_id) if order.customer_id else None


def _advance(session: Session, *, store: Store, order: Order, customer: Customer | None, status: str,
             info: CustomerInfo) -> None:
    """Move the order to "placed" or "cancelled" if that is forward, and text the customer once for it."""
    current = STAGES.get(order.status, -1)
    if STAGES[status] < current or (status != "cancelled" and order.status in ENDED):
        return  # stale or out-of-order event: nothing to say
    delivered_before = order.status == "delivered"
    if STAGES[status] > current:
        order.status = status
    if status == "cancelled" and delivered_before:
        return  # "your order has been cancelled" after "delivered" would be nonsense
    _text_stage(session, store=store, order=order, customer=customer, status=status, info=info)


def _text_stage(session: Session, *, store: Store, order: Order, customer: Customer | None, status: str,
                info: CustomerInfo) -> None:
    """Queue the text for one stage of the whole order (its dedupe key makes it once per order and
    stage), or record on the order why there is none (``info``: what the event said about the phone)."""
    kind = KIND_FOR_STATUS[status]
    _queue(session, store=store, order=order, customer=customer, kind=kind, info=info,
           key=stage_key(store.id, order.external_id, kind), package=None)


def stage_key(store_id: int, external_id: str, kind: str) -> str:
    """The dedupe key of an order's text of one ``kind`` about the whole order."""
    return f"order:{store_id}:{external_id}:{kind}"


def _queue(session: Session, *, store: Store, order: Order, customer: Customer | None, kind: str, key: str,
           info: CustomerInfo, package: Shipment | None) -> None:
    """Queue one order text once (``key``), or record on the order why it got none."""
    if customer is None:
        no_text.record(session, order, no_text.phone_reason(order, info), kind=kind)
        return
    context = order_context(store, order, customer, package=package)
    message = enqueue_kind(session, store=store, customer=customer, kind=kind, context=context, dedupe_key=key,
                           order_id=order.id)
    no_text.after_enqueue(session, order, message, store=store, customer=customer, kind=kind, context=context,
                          dedupe_key=key)


def _text_package(session: Session, *, store: Store, order: Order, customer: Customer | None, package: Shipment,
                  status: str, info: CustomerInfo) -> None:
    """Queue the text for one stage of one package, with that package's tracking, once."""
    if not package.external_id:
        _text_stage(session, store=store, order=order, customer=customer, status=status, info=info)
        return
    stage = "shipped" if status == "in_transit" else status
    _queue(session, store=store, order=order, customer=customer, kind=KIND_FOR_STATUS[status], info=info,
           key=f"order:{store.id}:{order.external_id}:shipment:{package.external_id}:{stage}", package=package)


def _text_packages(session: Session, *, store: Store, order: Order, customer: Customer | None,
                   info: CustomerInfo) -> None:
    """Text every package where it stands now (the customer became known after it shipped)."""
    packages = [p for p in shipments.packages_of(session, order) if p.status in SHIPPING_STATUSES]
    if not packages:
        _text_stage(session, store=store, order=order, customer=customer, status=order.status, info=info)
    for package in packages:
        _text_package(session, store=store, order=order, customer=customer, package=package, status=package.status,
                      info=info)


def order_context(store: Store, order: Order, customer: Customer, *, package: Shipment | None = None,
                  refund: dict | None = None) -> dict:
    """Template variables for an order text; ``package`` for a text about one package."""
    return build_context(
        store={"name": store.name, "support_contact": store.help_text},
        customer={"first_name": customer.first_name},
        # A platform that sent no order number still names the order: "#" alone would read as a bug.
        order={"number": order.number or order.external_id, "total": order.total, "currency": order.currency,
               "status_url": text_link(order.status_url)},
        tracking=shipments.tracking_vars(package, order),
        shipment=shipments.shipment_vars(package, order),
        refund=refund,
    )


def _note_delivery_failure(session: Session, *, store: Store, order: Order, customer: Customer | None,
                           package: Shipment | None) -> None:
    """A failed delivery goes to the agents (a note in the conversation), not to the customer."""
    audit.record(session, "delivery_failure", store_id=store.id,
                 customer_id=customer.id if customer else None, reason=f"order {order.number or order.external_id}")
    if customer is not None:
        tracking = shipments.tracking_vars(package, order)
        carrier = f" ({tracking['company']} {tracking['number']})".replace(" ( )", "").rstrip()
        which = f":shipment:{package.external_id}" if package is not None and package.external_id else ""
        add_note(session, store=store, customer=customer,
                 body=f"Carrier reported a delivery failure for order #{order.number or order.external_id}{carrier}.",
                 dedupe_key=f"order:{store.id}:{order.external_id}{which}:delivery_failure")
