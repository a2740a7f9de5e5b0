"""Normalized events: what every webhook adapter turns a platform's payload into (DESIGN §6).

Adapters fill these from their own formats; ``smsdesk.services.events.apply_event``
applies them. Applying one twice changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from smsdesk.reasons import Reason


@dataclass(frozen=True)
class CustomerInfo:
    phone: str | None = None  # E.164 of a number that can receive texts, else None
    # Why ``phone`` is None: NO_PHONE, INVALID_NUMBER or LANDLINE; None when the payload
    # had nothing to say about the phone (e.g. a fulfillment naming its order by id).
    phone_problem: Reason | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    marketing_consent: bool | None = None  # None: the payload said nothing about SMS consent


@dataclass(frozen=True)
class OrderInfo:
    external_id: str
    number: str = ""
    total: str = ""
    currency: str = ""
    status_url: str = ""
    checkout_token: str | None = None


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


SHIPMENT_STATUSES = ("shipped", "in_transit", "out_for_delivery", "ready_for_pickup", "delivered", "failure")


@dataclass(frozen=True)
class ShipmentUpdated:
    order: OrderInfo
    status: str  # one of SHIPMENT_STATUSES
    tracking: Tracking = field(default_factory=Tracking)
    customer: CustomerInfo = field(default_factory=CustomerInfo)
    shipment_id: str = ""


@dataclass(frozen=True)
class CartItem:
    title: str
    quantity: int = 1


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


Event = OrderPlaced | OrderCancelled | ShipmentUpdated | CheckoutUpdated | CheckoutCompleted
