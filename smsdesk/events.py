"""Normalized events: what every webhook adapter turns a platform's payload into (DESIGN §6).

Adapters fill these from their own formats; ``smsdesk.services.events.apply_event``
applies them. Applying one twice changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from smsdesk.models import ConsentLevel, ConsentSource


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
class CustomerInfo:
    phone: str | None = None  # E.164, or None when the payload had no usable number
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    consents: tuple[SmsConsent, ...] = ()  # empty: the payload said nothing about SMS consent

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
