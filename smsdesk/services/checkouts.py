"""Checkouts and abandoned-cart reminders (marketing texts, DESIGN §7)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.events import CheckoutCompleted, CheckoutUpdated
from smsdesk.models import Checkout, Store, utcnow
from smsdesk.services.customers import upsert_customer
from smsdesk.services.outbox import cancel_pending


def checkout_updated(session: Session, *, store: Store, event: CheckoutUpdated, source: str) -> Checkout:
    """Record the checkout's latest state."""
    customer = upsert_customer(session, store_id=store.id, info=event.customer, source=source)
    checkout = _get_or_create(session, store.id, event.token)
    if checkout.status == "completed":
        return checkout
    checkout.customer_id = customer.id if customer else checkout.customer_id
    checkout.phone = customer.phone if customer else checkout.phone
    if event.customer.marketing_consent is not None:
        checkout.marketing_consent = event.customer.marketing_consent
    checkout.recovery_url = event.recovery_url or checkout.recovery_url
    checkout.total, checkout.currency = event.total or checkout.total, event.currency or checkout.currency
    if event.items:
        checkout.items = [{"title": i.title, "quantity": i.quantity} for i in event.items]
    checkout.last_activity_at = utcnow()
    return checkout


def checkout_completed(session: Session, *, store: Store, event: CheckoutCompleted, source: str) -> Checkout:
    """The customer bought: the cart is closed and its reminders cancelled."""
    checkout = _get_or_create(session, store.id, event.token)
    complete(session, checkout, reason="checkout completed")
    return checkout


def complete(session: Session, checkout: Checkout, *, reason: str) -> None:
    if checkout.status != "completed":
        checkout.status = "completed"
        checkout.completed_at = utcnow()
    cancel_pending(session, reason=reason, checkout_id=checkout.id)


def _get_or_create(session: Session, store_id: int, token: str) -> Checkout:
    checkout = _find(session, store_id, token)
    if checkout is None:
        try:
            with session.begin_nested():
                checkout = Checkout(store_id=store_id, token=token)
                session.add(checkout)
        except IntegrityError:  # created concurrently by another delivery
            checkout = _find(session, store_id, token)
    return checkout


def _find(session: Session, store_id: int, token: str) -> Checkout | None:
    return session.scalar(select(Checkout).where(Checkout.store_id == store_id, Checkout.token == token))
