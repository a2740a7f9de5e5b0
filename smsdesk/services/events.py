"""Apply normalized events (smsdesk.events) to the database, inside the caller's transaction."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.orm import Session

from smsdesk import events
from smsdesk.models import Store
from smsdesk.platforms.payload import read_phone
from smsdesk.services import checkouts, orders, privacy

# Each handler takes its own event type; the table keys them by that type.
HANDLERS: dict[type, Callable[..., object]] = {
    events.OrderPlaced: orders.order_placed,
    events.OrderCancelled: orders.order_cancelled,
    events.OrderRefunded: orders.order_refunded,
    events.PaymentDeclined: orders.payment_declined,
    events.ShipmentUpdated: orders.shipment_updated,
    events.CheckoutUpdated: checkouts.checkout_updated,
    events.CheckoutCompleted: checkouts.checkout_completed,
    events.CustomerRedacted: privacy.customer_redacted,
    events.CustomerDataRequested: privacy.customer_data_requested,
    events.ShopRedacted: privacy.shop_redacted,
}


def apply_event(session: Session, *, store: Store, event: events.Event, source: str, delivery_id: str = "") -> None:
    """Apply one event; applying the same event twice changes nothing.

    ``delivery_id`` (the webhook delivery the event came in) is kept on every consent the
    event records, so each consent row names its evidence. The event's phones are read here
    (``read_phone``), not in the webhook request.
    """
    customer = read_phone(event.customer)
    if delivery_id:
        customer = customer.from_delivery(delivery_id)
    if customer is not event.customer:
        event = replace(event, customer=customer)
    HANDLERS[type(event)](session, store=store, event=event, source=source)
