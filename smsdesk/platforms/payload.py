"""Reading shop platforms' payloads (webhook bodies and API answers alike): the helpers every
platform's mapping shares, so each rule (how a phone is picked, how long an id may be, what an
unreadable amount is) exists once."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from smsdesk.events import CartItem, CustomerInfo, PhoneCandidate, UnreadPhones
from smsdesk.services.phones import first_textable


class BadPayload(ValueError):
    """The body can't be understood; the receiver answers 400 with this message."""


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


MAX_PHONE_LENGTH = 250  # characters of a raw phone kept to read later (phonenumbers refuses longer input)


def customer_from(*, phones: list[tuple[Any, Any]], countries: list[Any], default_country: str,
                  first_name: Any = "", last_name: Any = "", email: Any = "") -> CustomerInfo:
    """Build CustomerInfo from candidate (phone, its address's country) pairs, unread: the apply
    job's ``read_phone`` picks the first that can receive texts, a national number read in its
    own country, then in each of ``countries`` (billing and shipping), then the store's."""
    unread = UnreadPhones(candidates=tuple(PhoneCandidate(_raw(phone), _raw(country)) for phone, country in phones),
                          countries=tuple(_raw(country) for country in [*countries, default_country]))
    return CustomerInfo(first_name=text(first_name), last_name=text(last_name), email=text(email), unread=unread)


def _raw(value: Any) -> str | None:
    """A payload value kept as text to read later (what ``str`` makes of it, as the reader would)."""
    return None if value is None else str(value)[:MAX_PHONE_LENGTH]


def read_phone(info: CustomerInfo) -> CustomerInfo:
    """``info`` with its unread phones read: ``phone`` the first that can receive texts, else
    ``phone_problem`` says why none can (NO_PHONE when the payload gave none)."""
    if info.unread is None:
        return info
    check = first_textable(((c.raw, c.country) for c in info.unread.candidates), countries=info.unread.countries)
    return replace(info, phone=check.phone, phone_problem=check.problem, unread=None)


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


def as_dict(value: Any) -> dict:
    """A payload value that should be an object; {} when it is anything else."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
