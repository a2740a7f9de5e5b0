"""SMS marketing consent: an append-only history per store and phone number (DESIGN §7).

Consent belongs to a number, not to a person or an order: every statement a platform,
the customer or an agent makes names the number it is about (``events.SmsConsent``), and
``record_consent`` is the one way it reaches the database. It appends a ``consents`` row
when the number's consent changes (or its opt-in level rises) and keeps
``Customer.marketing_consent`` (the cache compliance reads at send time) equal to the
latest row. Rules:

- A statement older than the latest row of its number is history already overtaken
  (a replayed or reordered webhook; a platform record saying "subscribed" since before
  the customer texted STOP): it changes nothing.
- Only ``granted`` is consent. Shopify's pending (confirmed opt-in not finished),
  not_subscribed, unsubscribed and redacted all mean "no marketing from now on".
- Pending marketing texts are not cancelled here: the send-time check reads the cache
  (compliance, NO_CONSENT), and a checkout update moves its reminder to a number that
  still consents (services/checkouts.py).
- A STOP withdraws (source ``keyword``). START only lifts the opt-out (services/inbound.py):
  the number gets transactional texts again, but marketing needs a new grant from the
  store, newer than the STOP.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.events import SmsConsent
from smsdesk.models import Consent, ConsentLevel, ConsentSource, ConsentState, Customer, utcnow
from smsdesk.services import audit

LEVEL_RANK = {ConsentLevel.UNKNOWN: 0, ConsentLevel.SINGLE_OPT_IN: 1, ConsentLevel.CONFIRMED_OPT_IN: 2}
FIELD_LIMITS = {"platform_state": 40, "collected_from": 100, "delivery_id": 255}  # models.Consent


def record_consent(session: Session, customer: Customer, statement: SmsConsent, *, source: str = "",
                   now: datetime | None = None) -> Consent | None:
    """Apply one statement to ``customer`` (the number it is about): the new history row,
    or None when it changes nothing. ``source`` names the caller in the audit trail."""
    at = _aware(statement.at) or now or utcnow()
    last = latest_consent(session, store_id=customer.store_id, phone=customer.phone)
    if last is not None and at < last.at:
        return None
    if not _changes(last, statement):
        return None
    row = Consent(store_id=customer.store_id, phone=customer.phone, customer_id=customer.id,
                  state=ConsentState.GRANTED if statement.granted else ConsentState.WITHDRAWN,
                  level=statement.level, source=statement.source, at=at,
                  **{name: getattr(statement, name)[:limit] for name, limit in FIELD_LIMITS.items()})
    session.add(row)
    customer.marketing_consent = statement.granted
    audit.record(session, "consent_granted" if statement.granted else "consent_withdrawn",
                 store_id=customer.store_id, customer_id=customer.id, source=source or statement.source.value,
                 reason=statement.platform_state[:255])
    return row


def withdraw_for_stop(session: Session, customer: Customer, *, word: str,
                      source: ConsentSource = ConsentSource.KEYWORD, now: datetime | None = None) -> None:
    """The customer texted STOP (to us, or to the provider: ``source`` PROVIDER): no marketing
    to this number until the store records a new grant."""
    record_consent(session, customer, SmsConsent(
        phone=customer.phone, granted=False, source=source, platform_state=word.strip(), collected_from="sms"),
        now=now)


def latest_consent(session: Session, *, store_id: int, phone: str) -> Consent | None:
    """The newest history row of this number at this store."""
    return session.scalar(select(Consent).where(Consent.store_id == store_id, Consent.phone == phone)
                          .order_by(Consent.at.desc(), Consent.id.desc()).limit(1))


def consent_history(session: Session, customer: Customer) -> list[Consent]:
    """Every consent row of the customer's number, oldest first."""
    return list(session.scalars(select(Consent).where(
        Consent.store_id == customer.store_id, Consent.phone == customer.phone).order_by(Consent.at, Consent.id)))


def _changes(last: Consent | None, statement: SmsConsent) -> bool:
    """True when the statement says something the latest row does not."""
    if last is None:
        return True  # even a first "no": it keeps an older "yes" delivered late from counting
    if statement.granted:
        return last.state == ConsentState.WITHDRAWN or LEVEL_RANK[statement.level] > LEVEL_RANK[last.level]
    return last.state == ConsentState.GRANTED


def _aware(value: datetime | None) -> datetime | None:
    """Platforms' times without a zone are taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
