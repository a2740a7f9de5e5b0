"""Apply normalized events (smsdesk.events) to the database, inside the caller's transaction."""
from __future__ import annotations

from sqlalchemy.orm import Session

from smsdesk import events
from smsdesk.models import Store
from smsdesk.services import checkouts, orders

HANDLERS = {
    events.OrderPlaced: orders.order_placed,
    events.OrderCancelled: orders.order_cancelled,
    events.OrderRefunded: orders.order_refunded,
    events.PaymentDeclined: orders.payment_declined,
    events.ShipmentUpdated: orders.shipment_updated,
    events.CheckoutUpdated: checkouts.checkout_updated,
    events.CheckoutCompleted: checkouts.checkout_completed,
}


def apply_event(session: Session, *, store: Store, event: events.Event, source: str) -> None:
    """Apply one event; applying the same event twice changes nothing."""
    HANDLERS[type(event)](session, store=store, event=event, source=source)
