"""Customers: one row per store and E.164 phone number."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.events import CustomerInfo, SmsConsent
from smsdesk.models import Conversation, Customer, Suppression, utcnow
from smsdesk.services import audit, preload
from smsdesk.services.consent import record_consent

NAME_LIMITS = {"first_name": 100, "last_name": 100, "email": 255}  # models.Customer


def find_customer(session: Session, *, store_id: int, phone: str) -> Customer | None:
    found = preload.known(session, "customer", store_id, phone)
    if found is not preload.UNKNOWN:
        return found
    return session.scalar(select(Customer).where(Customer.store_id == store_id, Customer.phone == phone))


def get_or_create_customer(session: Session, *, store_id: int, phone: str,
                           info: CustomerInfo | None = None) -> Customer:
    """The customer for this phone at this store, created when new (race-safe; with the names
    and email of ``info`` when given)."""
    customer = find_customer(session, store_id=store_id, phone=phone)
    if customer is not None:
        return customer
    customer = Customer(store_id=store_id, phone=phone)
    if info is not None:
        _update(customer, info)
    if is_suppressed(session, store_id=store_id, phone=phone):  # opted out, then erased
        customer.opted_out, customer.opted_out_at = True, utcnow()
    try:
        preload.insert(session, customer)
    except IntegrityError:  # another request created it between our select and insert
        found = find_customer(session, store_id=store_id, phone=phone)
        assert found is not None  # it exists now: the concurrent writer created it
        return found
    preload.remember(session, "customer", store_id, phone, row=customer)
    preload.remember(session, "conversation", store_id, customer.id, row=None)  # a new customer has none
    # Nor a click or a text to credit an order to: no other transaction can refer to it before this one commits.
    preload.remember(session, "credit", store_id, customer.id, row=None)
    return customer


def preload_customers(session: Session, *, store_id: int, phones: set[str]) -> None:
    """Load the customers of ``phones`` with their conversations, and whether each number
    without a customer is suppressed, for a batch of events (services/preload.py)."""
    customers = {c.phone: c for c in session.scalars(
        select(Customer).where(Customer.store_id == store_id, Customer.phone.in_(phones)))}
    rows: dict[tuple, object] = {("customer", store_id, phone): customers.get(phone) for phone in phones}
    conversations = {c.customer_id: c for c in session.scalars(select(Conversation).where(
        Conversation.store_id == store_id, Conversation.customer_id.in_([c.id for c in customers.values()])))}
    rows.update({("conversation", store_id, c.id): conversations.get(c.id) for c in customers.values()})
    hashes = {phone_hash(store_id, phone): phone for phone in phones - customers.keys()}
    suppressed = set(session.scalars(select(Suppression.phone_hash).where(
        Suppression.store_id == store_id, Suppression.phone_hash.in_(hashes))))
    rows.update({("suppressed", store_id, phone): digest in suppressed for digest, phone in hashes.items()})
    preload.remember_all(session, rows)


def phone_hash(store_id: int, phone: str) -> str:
    """The salted hash a suppression keeps instead of the number (salted per store, so two
    stores' lists can't be joined)."""
    return hashlib.sha256(f"smsdesk-suppression:{store_id}:{phone}".encode()).hexdigest()


def suppress(session: Session, customer: Customer) -> None:
    """Keep the customer's opt-out past an erasure, as a hash of the number only."""
    digest = phone_hash(customer.store_id, customer.phone)
    if not session.scalar(select(Suppression.id).where(Suppression.store_id == customer.store_id,
                                                       Suppression.phone_hash == digest)):
        session.add(Suppression(store_id=customer.store_id, phone_hash=digest))


def is_suppressed(session: Session, *, store_id: int, phone: str) -> bool:
    found = preload.known(session, "suppressed", store_id, phone)
    if found is not preload.UNKNOWN:
        return found
    digest = phone_hash(store_id, phone)
    return session.scalar(select(Suppression.id).where(Suppression.store_id == store_id,
                                                       Suppression.phone_hash == digest)) is not None


def upsert_customer(session: Session, *, store_id: int, info: CustomerInfo, source: str,
                    now: datetime | None = None) -> Customer | None:
    """Create or update the customer an event names, and record each consent statement on
    the number it is about (which may be another number: that customer is created too).
    Returns the contact customer; None when the event has no usable phone."""
    customer = None
    if info.phone:
        customer = _update(get_or_create_customer(session, store_id=store_id, phone=info.phone, info=info), info)
    for statement in info.consents:
        own = customer is not None and customer.phone == statement.phone
        holder = customer if own else _other_number(session, store_id=store_id, info=info, statement=statement)
        if holder is not None:
            record_consent(session, holder, statement, source=source, now=now)
    return customer


def _other_number(session: Session, *, store_id: int, info: CustomerInfo, statement: SmsConsent) -> Customer | None:
    """The customer of a consent number that is not the contact phone: created for a grant
    (the same shopper: names copied), only looked up for a "no" (nothing to withdraw if new)."""
    if not statement.granted:
        return find_customer(session, store_id=store_id, phone=statement.phone)
    customer = get_or_create_customer(session, store_id=store_id, phone=statement.phone)
    return _update(customer, info, missing_only=True)


def consenting_customers(session: Session, *, store_id: int, info: CustomerInfo) -> list[Customer]:
    """The customers of the numbers ``info`` says consented, in the payload's order."""
    found = (find_customer(session, store_id=store_id, phone=phone) for phone in info.granted_phones())
    return [customer for customer in found if customer is not None]


def _update(customer: Customer, info: CustomerInfo, *, missing_only: bool = False) -> Customer:
    """Copy the names and email an event gives (only into empty fields with ``missing_only``)."""
    for attr, limit in NAME_LIMITS.items():
        value = getattr(info, attr)
        if value and not (missing_only and getattr(customer, attr)):
            setattr(customer, attr, value[:limit])
    # The platform's latest word on the language wins; an event that says nothing keeps what we know.
    if info.language and not (missing_only and customer.language) and customer.language != info.language:
        customer.language = info.language
    return customer


def set_opted_out(session: Session, customer: Customer, opted_out: bool, *, source: str, reason: str = "") -> bool:
    """Opt a phone out of (or back into) every text from this store; True if it changed."""
    if customer.opted_out == opted_out:
        return False
    customer.opted_out = opted_out
    customer.opted_out_at = utcnow() if opted_out else None
    audit.record(session, "opted_out" if opted_out else "opted_in", store_id=customer.store_id,
                 customer_id=customer.id, source=source, reason=reason)
    return True
