"""Stores: the shops smsdesk texts for."""
from __future__ import annotations

import base64
import binascii
import math
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from smsdesk.models import Platform, Store
from smsdesk.services.phones import normalize_phone
from smsdesk.sms.base import Sender

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


STANDARD_WEBHOOKS_PREFIX = "whsec_"  # a Standard Webhooks secret: whsec_ + base64 of the HMAC key
MAX_SECRET_LENGTH = 1000  # characters of a webhook secret or an API token


MIN_RATE = 0.01  # texts per second: one per 100 s; slower would hold a text for longer than a lease
MAX_RATE = 1000.0  # texts per second: beyond any sender Twilio offers (short codes take 100)


class InvalidStore(ValueError):
    """A store setting is not acceptable; the message says which and why, ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class SenderTaken(InvalidStore):
    """The sender number or messaging service is another store's (a 409): inbound texts find
    their store by it, so sharing one would land one store's customers in the other's inbox."""


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


def add_webhook_secret(session: Session, store: Store, secret: str) -> Store:
    """Start a rotation: ``secret`` becomes current, the current one stays valid as the previous
    until ``drop_previous_secret``. A store holds two at most."""
    if store.webhook_secret_previous:
        raise InvalidStore("this store already holds two webhook secrets: drop the old one first",
                           field="webhook_secret")
    store.webhook_secret_previous, store.webhook_secret = store.webhook_secret, secret
    return update_store(session, store, {})


def drop_previous_secret(session: Session, store: Store) -> bool:
    """End a rotation: only the current secret verifies from now on. False when there was none."""
    if not store.webhook_secret_previous:
        return False
    store.webhook_secret_previous = None
    session.flush()
    return True


def set_api_credentials(session: Session, store: Store, *, api_token: str, api_key: str | None = None,
                        api_base: str | None = None, store_hash: str | None = None) -> Store:
    """Store what the platform's API needs (fetching thin callbacks, catch-up polls); the
    token and key are encrypted at rest. Values left None stay as they are."""
    for name, value in (("api_token", api_token), ("api_key", api_key)):
        if value is not None and len(value) > MAX_SECRET_LENGTH:
            raise InvalidStore(f"{name} is longer than {MAX_SECRET_LENGTH} characters", field=name)
    if api_base is not None and api_base and not api_base.startswith(("http://", "https://")):
        raise InvalidStore("api_base must be an http(s) URL", field="api_base")
    changes = {"api_token": api_token, "api_key": api_key, "api_base": api_base, "store_hash": store_hash}
    return update_store(session, store, {key: value or None for key, value in changes.items() if value is not None})


ENCRYPTED_FIELDS = ("webhook_secret", "webhook_secret_previous", "api_token", "api_key")


def reencrypt_stores(session: Session) -> int:
    """Write every store's secrets again, so they are encrypted with the newest key; how many stores."""
    stores = list_stores(session)
    for store in stores:
        for attr in ENCRYPTED_FIELDS:
            flag_modified(store, attr)  # the same plain text: force the write
    session.flush()
    return len(stores)


def sender_of(store: Store) -> Sender:
    """Who the store's texts are sent from (and whose rate limit they take)."""
    return Sender(store.from_number, store.messaging_service_sid)


def sending_settings_problem(store: Store) -> InvalidStore | None:
    """What makes a store's saved settings unusable for sending (written past validation), or None."""
    try:
        _check_sending_settings(store, normalize=False)
    except InvalidStore as exc:
        return exc
    return None


def _platform(value) -> Platform:
    try:
        return Platform(value)
    except ValueError:
        raise InvalidStore(f"platform must be one of {', '.join(p.value for p in Platform)}",
                           field="platform") from None


def _validate(session: Session, store: Store) -> None:
    if not store.slug or not SLUG.match(store.slug):
        raise InvalidStore("slug must be lowercase letters, digits and dashes (at most 64)", field="slug")
    if not (store.name or "").strip():
        raise InvalidStore("name must not be empty", field="name")
    for attr in ("webhook_secret", "webhook_secret_previous"):
        _check_secret(store, attr, required=attr == "webhook_secret")
    _check_sending_settings(store, normalize=True)
    if store.domain:
        store.domain = store.domain.strip().lower()
    _check_unique(session, store)


def _check_secret(store: Store, attr: str, *, required: bool) -> None:
    secret = getattr(store, attr)
    if not secret:
        if required:
            raise InvalidStore("webhook secret must not be empty", field=attr)
        return
    if len(secret) > MAX_SECRET_LENGTH:
        raise InvalidStore(f"webhook secret is longer than {MAX_SECRET_LENGTH} characters", field=attr)
    if store.platform == Platform.GENERIC and standard_webhooks_key(secret) is None:
        raise InvalidStore("a generic store's webhook secret must be a Standard Webhooks secret: "
                           "'whsec_' followed by base64", field=attr)


def standard_webhooks_key(secret: str) -> bytes | None:
    """The HMAC key of a ``whsec_<base64>`` secret; None when the secret is not one.

    The padding is optional, as in the Standard Webhooks reference library (which strips the
    prefix and decodes whatever base64 follows): some platforms show the secret without ``=``."""
    if not secret.startswith(STANDARD_WEBHOOKS_PREFIX):
        return None
    encoded = secret[len(STANDARD_WEBHOOKS_PREFIX):].rstrip("=")
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True) or None
    except (binascii.Error, ValueError):
        return None


def _check_sending_settings(store: Store, *, normalize: bool) -> None:
    """The settings every send reads: time zone, quiet hours, sender number, rate."""
    _check_timezone("America/New_York" if store.timezone is None else store.timezone)
    if store.country is not None and store.country not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidStore(f"country {store.country!r} is not a two-letter country code like US or DE",
                           field="country")
    if store.quiet_hours and not QUIET_HOURS.match(store.quiet_hours):
        raise InvalidStore("quiet_hours must look like 20:00-08:00", field="quiet_hours")
    if store.from_number:
        e164 = normalize_phone(store.from_number, store.country or "US")
        if e164 is None or (not normalize and e164 != store.from_number):
            raise InvalidStore(f"from_number {store.from_number!r} is not a phone number in E.164 form",
                               field="from_number")
        if normalize:
            store.from_number = e164
    if store.rate_per_second is not None:
        _check_rate(store.rate_per_second)


def _check_rate(value) -> None:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = math.nan
    if not (math.isfinite(rate) and MIN_RATE <= rate <= MAX_RATE):
        raise InvalidStore(f"rate_per_second must be a number from {MIN_RATE:g} to {MAX_RATE:g} (texts per second)",
                           field="rate_per_second")


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidStore(f"timezone {name!r} is not a known time zone (use an IANA name like Europe/Berlin)",
                           field="timezone") from None


def _check_unique(session: Session, store: Store) -> None:
    with session.no_autoflush:  # the change itself must not be flushed (and refused by the unique index) first
        _check_unique_values(session, store)


def _check_unique_values(session: Session, store: Store) -> None:
    for attr in ("slug", "domain", "from_number", "messaging_service_sid"):
        value = getattr(store, attr)
        if value is None:
            continue
        clash = session.scalar(select(Store.id).where(getattr(Store, attr) == value, Store.id != store.id)
                               if store.id else select(Store.id).where(getattr(Store, attr) == value))
        if clash is None:
            continue
        if attr in ("from_number", "messaging_service_sid"):  # never say whose: that is another tenant's
            raise SenderTaken(f"{attr} {value} is already another store's sender", field=attr)
        raise InvalidStore(f"a store with {attr} {value!r} already exists", field=attr)


def get_store(session: Session, slug: str) -> Store | None:
    return session.scalar(select(Store).where(Store.slug == slug))


def store_by_domain(session: Session, domain: str) -> Store | None:
    return session.scalar(select(Store).where(Store.domain == domain.strip().lower()))


def list_stores(session: Session) -> list[Store]:
    return list(session.scalars(select(Store).order_by(Store.slug)))
