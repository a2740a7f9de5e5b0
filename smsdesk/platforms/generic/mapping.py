"""smsdesk's own event JSON (README.md, "Generic webhook events") -> normalized events."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from smsdesk.events import (
    SHIPMENT_STATUSES,
    CheckoutCompleted,
    CheckoutUpdated,
    CustomerInfo,
    Event,
    OrderCancelled,
    OrderInfo,
    OrderPlaced,
    OrderRefunded,
    ShipmentUpdated,
    SmsConsent,
    Tracking,
)
from smsdesk.models import ConsentLevel, ConsentSource, Store
from smsdesk.platforms.payload import (
    MAX_TOKEN_LENGTH,
    BadPayload,
    cart_items,
    customer_from,
    read_phone,
    require_id,
    text,
)
from smsdesk.services.languages import normalize as normalize_language

MAX_ITEM_COUNT = 1_000_000  # units of one order; Order.item_count is an Integer column


def section(payload: dict, key: str, *, required: bool = True) -> dict:
    """A nested object of the event; BadPayload when a required one is missing or not an object."""
    value = payload.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadPayload(f"{key!r} must be a JSON object")
    return value


def order_info(data: dict) -> OrderInfo:
    order = section(data, "order")
    return OrderInfo(external_id=require_id(order, "id"), number=text(order.get("number")),
                     total=text(order.get("total")), currency=text(order.get("currency")).upper(),
                     status_url=text(order.get("status_url")), item_count=item_count(order),
                     items=cart_items(order.get("items")))


def item_count(order: dict) -> int:
    """``order.item_count``: units ordered (0 when left out); BadPayload unless a whole number >= 0."""
    value = order.get("item_count")
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ITEM_COUNT:
        raise BadPayload(f"order.item_count must be a whole number from 0 to {MAX_ITEM_COUNT}")
    return value


def optional_id(payload: dict, key: str) -> str:
    """An optional id as text ("" when left out), within what we store."""
    return require_id(payload, key) if text(payload.get(key)) else ""


def customer_info(store: Store, data: dict, *, required: bool = True) -> CustomerInfo:
    customer = section(data, "customer", required=required)
    if not customer:  # the event says nothing about the customer (optional for some types)
        return CustomerInfo()
    info = customer_from(phones=[(customer.get("phone"), customer.get("country"))], countries=[],
                         default_country=store.country, first_name=customer.get("first_name"),
                         last_name=customer.get("last_name"), email=customer.get("email"))
    # DESIGN: an optional BCP-47 ``locale`` on the event ("fr", "pt-BR"); the customer's own is taken too.
    info = replace(info, language=normalize_language(data.get("locale")) or normalize_language(customer.get("locale")))
    if not isinstance(customer.get("sms_marketing_consent"), bool):
        return info  # its phone is read by the apply job
    info = read_phone(info)  # a consent belongs to a number: read it now
    return replace(info, consents=sms_consent(customer, phone=info.phone))


def sms_consent(customer: dict, *, phone: str | None) -> tuple[SmsConsent, ...]:
    """``sms_marketing_consent``: true is a single opt-in of the customer's phone, given as of
    this delivery; false withdraws it; absent (or not a boolean) says nothing."""
    consent = customer.get("sms_marketing_consent")
    if not isinstance(consent, bool) or phone is None:
        return ()
    level = ConsentLevel.SINGLE_OPT_IN if consent else ConsentLevel.UNKNOWN
    return (SmsConsent(phone=phone, granted=consent, source=ConsentSource.GENERIC, level=level,
                       platform_state=f"sms_marketing_consent={str(consent).lower()}"),)


def order_placed(store: Store, data: dict) -> Event:
    return OrderPlaced(order=order_info(data), customer=customer_info(store, data))


def order_cancelled(store: Store, data: dict) -> Event:
    return OrderCancelled(order=order_info(data), customer=customer_info(store, data))


def shipment_updated(store: Store, data: dict) -> Event:
    shipment = section(data, "shipment")
    status = text(shipment.get("status")) or "shipped"
    if status not in SHIPMENT_STATUSES:
        raise BadPayload(f"shipment.status must be one of {', '.join(SHIPMENT_STATUSES)}")
    tracking = Tracking(number=text(shipment.get("tracking_number")), company=text(shipment.get("tracking_company")),
                        url=text(shipment.get("tracking_url")))
    return ShipmentUpdated(order=order_info(data), status=status, tracking=tracking,
                           customer=customer_info(store, data, required=False), shipment_id=optional_id(shipment, "id"),
                           items=cart_items(shipment.get("items")))


def order_refunded(store: Store, data: dict) -> Event:
    refund = section(data, "refund", required=False)
    partial = refund.get("partial", False)
    if not isinstance(partial, bool):
        raise BadPayload("refund.partial must be true or false")
    return OrderRefunded(order=order_info(data), customer=customer_info(store, data, required=False),
                         refund_id=optional_id(refund, "id"), amount=text(refund.get("amount"))[:32], partial=partial)


def checkout_updated(store: Store, data: dict) -> Event:
    checkout = section(data, "checkout")
    return CheckoutUpdated(token=require_id(checkout, "token", MAX_TOKEN_LENGTH), customer=customer_info(store, data),
                           recovery_url=text(checkout.get("recovery_url")), total=text(checkout.get("total"))[:32],
                           currency=text(checkout.get("currency"))[:3].upper(),
                           items=cart_items(checkout.get("items")))


def checkout_completed(store: Store, data: dict) -> Event:
    checkout = section(data, "checkout")
    return CheckoutCompleted(token=require_id(checkout, "token", MAX_TOKEN_LENGTH),
                             customer=customer_info(store, data, required=False))


TYPES: dict[str, Callable[[Store, dict], Event]] = {
    "order.placed": order_placed,
    "order.cancelled": order_cancelled,
    "order.refunded": order_refunded,
    "shipment.updated": shipment_updated,
    "checkout.updated": checkout_updated,
    "checkout.completed": checkout_completed,
}
