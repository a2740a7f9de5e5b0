"""Normalized events: what every webhook adapter turns a platform's payload into (DESIGN §6).

Adapters fill these from their own formats; the webhook request stores them with its
delivery (``encode``) and jobs/apply_events.py applies them (``decode``, then
``smsdesk.services.events.apply_event``). Applying one twice changes nothing.
"""
from __future__ import annotations

import enum
import types
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from functools import cache, partial
from typing import Any, Union, get_args, get_origin, get_type_hints

from smsdesk.models import ConsentLevel, ConsentSource
from smsdesk.reasons import Reason


@dataclass(frozen=True)
class SmsConsent:
    """What a payload says about SMS marketing consent of one phone number.

    The number is the one that consented (Shopify's ``sms_marketing_phone``, the phone of the
    customer record that carries ``sms_marketing_consent``), which need not be the contact
    phone the event's other texts go to.
    """

    phone: str  # E.164
    granted: bool  # False: not (or no longer) consent: unsubscribed, pending, not subscribed, redacted
    source: ConsentSource
    level: ConsentLevel = ConsentLevel.UNKNOWN
    platform_state: str = ""  # the platform's own word ("subscribed", "pending", "checkbox" ...)
    collected_from: str = ""
    at: datetime | None = None  # when the customer gave or withdrew it; None: when we receive it
    delivery_id: str = ""  # filled in by services.events.apply_event


@dataclass(frozen=True)
class PhoneCandidate:
    """A phone as a payload gave it, not read yet, with the country of the address it came with."""

    raw: str | None
    country: str | None = None


@dataclass(frozen=True)
class UnreadPhones:
    """The payload's phones in order of preference, and the countries a national number is read
    in after its own (the store's last). The webhook request keeps them as given (reading numbers
    costs milliseconds, and a bad one is no reason to refuse the webhook); the apply job reads
    them (``smsdesk.platforms.payload.read_phone``) into ``phone`` / ``phone_problem``."""

    candidates: tuple[PhoneCandidate, ...] = ()
    countries: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class CustomerInfo:
    phone: str | None = None  # E.164 of a number that can receive texts, else None
    # Why ``phone`` is None: NO_PHONE, INVALID_NUMBER or LANDLINE; None when the payload
    # had nothing to say about the phone (e.g. a fulfillment naming its order by id).
    phone_problem: Reason | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    consents: tuple[SmsConsent, ...] = ()  # empty: the payload said nothing about SMS consent
    unread: UnreadPhones | None = None  # phones still to read into ``phone`` (None: read, or none given)
    # The customer's language as the platform tells it, a BCP-47 primary subtag ("es"); None: not told.
    language: str | None = None

    def granted_phones(self) -> list[str]:
        """The numbers this payload says consented to SMS marketing."""
        return [consent.phone for consent in self.consents if consent.granted]

    def from_delivery(self, delivery_id: str) -> CustomerInfo:
        """The same info with every consent statement naming the delivery it came in."""
        if not self.consents:
            return self
        return replace(self, consents=tuple(replace(c, delivery_id=delivery_id[:255]) for c in self.consents))


@dataclass(frozen=True)
class OrderInfo:
    external_id: str
    number: str = ""
    total: str = ""
    currency: str = ""
    status_url: str = ""
    checkout_token: str | None = None
    item_count: int = 0  # units ordered (sum of quantities); 0 when the payload does not say
    items: tuple[CartItem, ...] = ()  # the order's lines, when the payload lists them


@dataclass(frozen=True)
class Tracking:
    number: str = ""
    company: str = ""
    url: str = ""


@dataclass(frozen=True)
class OrderPlaced:
    order: OrderInfo
    customer: CustomerInfo


@dataclass(frozen=True)
class OrderCancelled:
    order: OrderInfo
    customer: CustomerInfo = field(default_factory=CustomerInfo)


@dataclass(frozen=True)
class OrderRefunded:
    """Money went back to the customer: not a cancellation (the goods may be on their way or home).

    ``refund_id`` is the platform's id of this refund ("" when it only tells the order's state);
    ``partial``: True when some of the order stands (it may still ship), False when all of it
    was refunded (the order ends), None when the platform does not say (Shopify's refunds/create).
    """

    order: OrderInfo
    customer: CustomerInfo = field(default_factory=CustomerInfo)
    refund_id: str = ""
    amount: str = ""
    partial: bool | None = None


@dataclass(frozen=True)
class PaymentDeclined:
    """The payment failed: nothing was bought, so the customer gets no text (it is recorded)."""

    order: OrderInfo
    customer: CustomerInfo = field(default_factory=CustomerInfo)


@dataclass(frozen=True)
class CartItem:
    title: str
    quantity: int = 1


SHIPMENT_STATUSES = ("shipped", "in_transit", "out_for_delivery", "ready_for_pickup", "delivered", "failure")


@dataclass(frozen=True)
class ShipmentUpdated:
    """One package (a platform's fulfillment / shipment) of an order.

    ``shipment_id`` names the package; "" means the platform only speaks of the whole order.
    ``items`` are what this package holds, when the platform says (a partial shipment holds
    fewer units than ``order.item_count``).
    """

    order: OrderInfo
    status: str  # one of SHIPMENT_STATUSES
    tracking: Tracking = field(default_factory=Tracking)
    customer: CustomerInfo = field(default_factory=CustomerInfo)
    shipment_id: str = ""
    items: tuple[CartItem, ...] = ()


@dataclass(frozen=True)
class CheckoutUpdated:
    token: str
    customer: CustomerInfo
    recovery_url: str = ""
    total: str = ""
    currency: str = ""
    items: tuple[CartItem, ...] = ()


@dataclass(frozen=True)
class CheckoutCompleted:
    token: str
    customer: CustomerInfo = field(default_factory=CustomerInfo)


@dataclass(frozen=True)
class CustomerRedacted:
    """The platform asks us to erase one customer's personal data (Shopify's customers/redact).

    The customer is found by ``customer.phone``, then ``customer.email``, then the orders
    named (``order_ids``, the platform's ids); every match is erased (services/privacy.py).
    """

    customer: CustomerInfo = field(default_factory=CustomerInfo)
    order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerDataRequested:
    """The customer asked the platform for their data (Shopify's customers/data_request): the
    owner is told, in the audit trail, which customer rows to export (``smsdesk customer export``)."""

    customer: CustomerInfo = field(default_factory=CustomerInfo)
    order_ids: tuple[str, ...] = ()
    request_id: str = ""


@dataclass(frozen=True)
class ShopRedacted:
    """The shop uninstalled the app long enough ago that all its customers' data must go."""

    customer: CustomerInfo = field(default_factory=CustomerInfo)  # empty: every customer


Event = (OrderPlaced | OrderCancelled | OrderRefunded | PaymentDeclined | ShipmentUpdated | CheckoutUpdated
         | CheckoutCompleted | CustomerRedacted | CustomerDataRequested | ShopRedacted)


EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in get_args(Event)}


def encode(event: Event) -> dict[str, Any]:
    """The event as JSON-ready data: its fields plus ``type``, the class name."""
    return {"type": type(event).__name__, **_plain(event)}


def decode(data: dict[str, Any]) -> Event:
    """The event ``encode`` made; KeyError/TypeError/ValueError when the data is not one."""
    fields_ = dict(data)
    return _build(EVENT_TYPES[fields_.pop("type")], fields_)


SCALARS = frozenset({str, int, float, bool, type(None)})  # JSON-ready as they are


def _plain(value: Any) -> Any:
    # Most values of an event are scalars, so they are answered first: encoding runs in every
    # webhook request (an order has ~60 values).
    kind: type = type(value)
    if kind in SCALARS:
        return value
    names = _field_names(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _build(cls: type, data: dict[str, Any]) -> Any:
    converters = _converters(cls)  # a KeyError for a field the class does not have
    return cls(**{name: value if (convert := converters[name]) is None else convert(value)
                  for name, value in data.items()})


@cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None for any other type)."""
    return tuple(f.name for f in fields(cls)) if is_dataclass(cls) else None


@cache
def _converters(cls: type) -> dict[str, Callable[[Any], Any] | None]:
    """For each field of the dataclass, what turns its plain JSON value into the field's type."""
    return {name: _converter(hint) for name, hint in get_type_hints(cls).items()}


@cache
def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """What turns plain JSON data into the type ``hint`` names; None: the value as it is. Made
    once per type: decoding runs for every event the apply job reads."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = _converter(next(a for a in get_args(hint) if a is not type(None)))
        return None if inner is None else (lambda value: None if value is None else inner(value))
    if origin is tuple:
        item = _converter(get_args(hint)[0])
        return tuple if item is None else (lambda value: tuple(item(each) for each in value))
    if is_dataclass(hint):
        return partial(_build, hint)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if hint is datetime:
        return datetime.fromisoformat
    return None
