"""Customers: one row per store and E.164 phone number."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.events import CustomerInfo
from smsdesk.models import Customer, utcnow
from smsdesk.services import audit


def find_customer(session: Session, *, store_id: int, phone: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.store_id == store_id, Customer.phone == phone))


def get_or_create_customer(session: Session, *, store_id: int, phone: str) -> Customer:
    """The customer for this phone at this store, created when new (race-safe)."""
    customer = find_customer(session, store_id=store_id, phone=phone)
    if customer is not None:
        return customer
    try:
        with session.begin_nested():
            customer = Customer(store_id=store_id, phone=phone)
            session.add(customer)
    except IntegrityError:  # another request created it between our select and insert
        customer = find_customer(session, store_id=store_id, phone=phone)
    return customer


def upsert_customer(session: Session, *, store_id: int, info: CustomerInfo, source: str) -> Customer | None:
    """Create or update the customer an event names; None when it has no usable phone."""
    if not info.phone:
        return None
    customer = get_or_create_customer(session, store_id=store_id, phone=info.phone)
    for attr in ("first_name", "last_name", "email"):
        value = getattr(info, attr)
        if value:
            setattr(customer, attr, value[:100] if attr != "email" else value[:255])
    if info.marketing_consent is not None and info.marketing_consent != customer.marketing_consent:
        set_marketing_consent(session, customer, info.marketing_consent, source=source)
    return customer


def set_marketing_consent(session: Session, customer: Customer, consent: bool, *, source: str) -> None:
    customer.marketing_consent = consent
    audit.record(session, "consent_granted" if consent else "consent_revoked",
                 store_id=customer.store_id, customer_id=customer.id, source=source)


def set_opted_out(session: Session, customer: Customer, opted_out: bool, *, source: str, reason: str = "") -> bool:
    """Opt a phone out of (or back into) every text from this store; True if it changed."""
    if customer.opted_out == opted_out:
        return False
    customer.opted_out = opted_out
    customer.opted_out_at = utcnow() if opted_out else None
    audit.record(session, "opted_out" if opted_out else "opted_in", store_id=customer.store_id,
                 customer_id=customer.id, source=source, reason=reason)
    return True
