"""Stores: the shops smsdesk texts for."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk.models import Platform, Store
from smsdesk.services.phones import normalize_phone

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class InvalidStore(ValueError):
    """A store setting is not acceptable; the message says which and why."""


def create_store(session: Session, **fields) -> Store:
    """Validate and add a store."""
    store = Store(**fields)
    store.platform = _platform(fields.get("platform"))
    _validate(session, store)
    session.add(store)
    session.flush()
    return store


def update_store(session: Session, store: Store, changes: dict) -> Store:
    """Apply settings changes (owner API/UI); raises InvalidStore on a bad value."""
    for key, value in changes.items():
        setattr(store, key, value)
    _validate(session, store)
    session.flush()
    return store


def _platform(value) -> Platform:
    try:
        return Platform(value)
    except ValueError:
        raise InvalidStore(f"platform must be one of {', '.join(p.value for p in Platform)}") from None


def _validate(session: Session, store: Store) -> None:
    if not store.slug or not SLUG.match(store.slug):
        raise InvalidStore("slug must be lowercase letters, digits and dashes (at most 64)")
    if not (store.name or "").strip():
        raise InvalidStore("name must not be empty")
    if not store.webhook_secret:
        raise InvalidStore("webhook secret must not be empty")
    _check_timezone(store.timezone or "America/New_York")
    if store.quiet_hours and not QUIET_HOURS.match(store.quiet_hours):
        raise InvalidStore("quiet_hours must look like 20:00-08:00")
    if store.from_number:
        e164 = normalize_phone(store.from_number, store.country or "US")
        if e164 is None:
            raise InvalidStore(f"from number {store.from_number!r} is not a phone number")
        store.from_number = e164
    if store.rate_per_second is not None and not 0 < float(store.rate_per_second) <= 1000:
        raise InvalidStore("rate_per_second must be between 0 and 1000")
    if store.domain:
        store.domain = store.domain.strip().lower()
    _check_unique(session, store)


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidStore(f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)") from None


def _check_unique(session: Session, store: Store) -> None:
    for attr in ("slug", "domain"):
        value = getattr(store, attr)
        if value is None:
            continue
        clash = session.scalar(select(Store.id).where(getattr(Store, attr) == value, Store.id != store.id)
                               if store.id else select(Store.id).where(getattr(Store, attr) == value))
        if clash is not None:
            raise InvalidStore(f"a store with {attr} {value!r} already exists")


def get_store(session: Session, slug: str) -> Store | None:
    return session.scalar(select(Store).where(Store.slug == slug))


def store_by_domain(session: Session, domain: str) -> Store | None:
    return session.scalar(select(Store).where(Store.domain == domain.strip().lower()))


def list_stores(session: Session) -> list[Store]:
    return list(session.scalars(select(Store).order_by(Store.slug)))
