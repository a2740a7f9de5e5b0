"""What every shop-platform adapter looks like: find store -> verify -> parse -> events."""
from __future__ import annotations

import base64
import hashlib
import hmac
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Request
from sqlalchemy.orm import Session

from smsdesk.events import CartItem, CustomerInfo, Event
from smsdesk.models import Store
from smsdesk.services.phones import first_textable
from smsdesk.services.stores import get_store
from smsdesk.services.untrusted import UntrustedInput, parse_json


class BadPayload(ValueError):
    """The body can't be understood; the receiver answers 400 with this message."""


class WebhookAdapter(ABC):
    """One shop platform. Subclasses set ``source`` and implement ``verify`` and ``parse``."""

    source = ""
    path_has_slug = True  # /webhooks/<source>/<store_slug>; Shopify finds the store by header

    def store_key(self, request: Request, slug: str | None) -> str | None:
        """What ``find_store`` looks the store up by (the receiver caches stores by it)."""
        return slug

    def find_store(self, session: Session, request: Request, slug: str | None) -> Store | None:
        store = get_store(session, slug) if slug else None
        return store if store is not None and store.platform.value == self.source else None

    def verify(self, store: Store, request: Request, body: bytes) -> bool:
        """True when the request is signed with one of the store's webhook secrets: while a
        secret is being rotated the previous one verifies too, until the owner drops it."""
        return any(self.verify_secret(secret, request, body) for secret in webhook_secrets(store))

    @abstractmethod
    def verify_secret(self, secret: str, request: Request, body: bytes) -> bool:
        """True when the request carries a valid signature made with ``secret``."""

    def is_ping(self, request: Request, body: bytes) -> bool:
        """A platform's "hello" request that carries no event (answered 200, recorded nowhere).

        Checked before ``verify`` because a platform may send it unsigned, so it must match
        the exact ping body and nothing else.
        """
        return False

    def fetches_later(self, topic: str) -> bool:
        """True when this topic's payload only names what changed: the delivery is recorded
        ``pending`` and jobs/fetch_pending.py fetches the details from the platform's API."""
        return False

    def topic(self, request: Request, body: bytes) -> str:
        return ""

    def delivery_id(self, request: Request, body: bytes) -> str:
        """The platform's id for this delivery, used to drop retries; a body hash by default."""
        return "sha256:" + hashlib.sha256(body).hexdigest()

    @abstractmethod
    def parse(self, store: Store, topic: str, payload: Any) -> list[Event]:
        """The normalized events in this payload; [] for a topic smsdesk ignores."""

    def load(self, body: bytes) -> Any:
        """Decode the body (JSON by default); raises BadPayload."""
        return load_json(body)


def webhook_secrets(store: Store) -> list[str]:
    """The secrets a store's webhooks may be signed with: the current one, then the previous."""
    return [secret for secret in (store.webhook_secret, store.webhook_secret_previous) if secret]


def load_json(body: bytes) -> Any:
    try:
        payload = parse_json(body)
    except UntrustedInput as exc:
        raise BadPayload(str(exc)) from None
    if not isinstance(payload, dict):
        raise BadPayload("body must be a JSON object")
    return payload


def hmac_sha256_base64(secret: bytes, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of two signatures."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def text(value: Any) -> str:
    """A payload value as a stripped string ('' for None, and for an object or a list, whose
    Python repr would otherwise end up in a text)."""
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def object_list(value: Any, key: str) -> list[dict]:
    """The JSON objects of a list field ([] when absent); BadPayload when it is not a list."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise BadPayload(f"field {key!r} must be a list")
    return [item for item in value if isinstance(item, dict)]


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time of a payload (a zone-less one taken as UTC); None when absent or unreadable."""
    try:
        moment = datetime.fromisoformat(text(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def require(payload: dict, key: str) -> Any:
    value = payload.get(key)
    if value in (None, ""):
        raise BadPayload(f"missing field {key!r}")
    return value


MAX_ID_LENGTH = 64  # characters of a platform's order id (models.Order.external_id)
MAX_TOKEN_LENGTH = 255  # characters of a checkout token (models.Checkout.token)


def require_id(payload: dict, key: str, limit: int = MAX_ID_LENGTH) -> str:
    """A required id (a string or an integer) as text; BadPayload when of another type or longer
    than we store (cutting could merge two)."""
    raw = require(payload, key)
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise BadPayload(f"field {key!r} must be a string or an integer")
    value = text(raw)
    if len(value) > limit:
        raise BadPayload(f"field {key!r} is longer than {limit} characters")
    return value


def customer_from(*, phones: list[tuple[Any, Any]], countries: list[Any], default_country: str,
                  first_name: Any = "", last_name: Any = "", email: Any = "") -> CustomerInfo:
    """Build CustomerInfo from candidate (phone, its address's country) pairs: the first that
    can receive texts wins, a national number read in its own country, then in each of
    ``countries`` (billing and shipping), then the store's. None of them: phone_problem says why."""
    check = first_textable(phones, countries=[*countries, default_country])
    return CustomerInfo(phone=check.phone, phone_problem=check.problem, first_name=text(first_name),
                        last_name=text(last_name), email=text(email))


MAX_CART_ITEMS = 100  # line items kept per checkout; reminders only name the first one


def cart_items(line_items: Any, *, title_keys: tuple[str, ...] = ("title", "name")) -> tuple[CartItem, ...]:
    """A platform's line items as CartItems (the first title key present wins), capped."""
    items = object_list(line_items, "line_items")[:MAX_CART_ITEMS]
    return tuple(CartItem(title=next((text(i[k]) for k in title_keys if text(i.get(k))), ""),
                          quantity=quantity(i.get("quantity"))) for i in items)


MAX_QUANTITY = 100_000  # units of one line; more is a broken payload, and sums must fit an Integer column


def quantity(value: Any) -> int:
    """A line item's quantity, from 1 to MAX_QUANTITY (platforms send numbers, strings or nothing)."""
    try:
        return min(max(int(float(value)), 1), MAX_QUANTITY)
    except (TypeError, ValueError, OverflowError):
        return 1


MAX_AMOUNT = Decimal(10) ** 12  # money in one payment; a larger (or infinite) one is a broken payload


def amount(value: Any) -> Decimal:
    """A money amount of a payload (numbers or strings); 0 when unreadable, infinite or absurd."""
    try:
        number = Decimal(text(value))
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() and abs(number) < MAX_AMOUNT else Decimal(0)
