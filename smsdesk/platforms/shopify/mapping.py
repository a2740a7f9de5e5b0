"""Shopify payloads -> normalized events: webhook bodies (REST shapes) by topic, and the
Admin GraphQL orders the catch-up poll reads (smsdesk/platforms/shopify/poll.py)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from smsdesk.events import (
    CartItem,
    CheckoutCompleted,
    CheckoutUpdated,
    CustomerDataRequested,
    CustomerInfo,
    CustomerRedacted,
    Event,
    OrderCancelled,
    OrderInfo,
    OrderPlaced,
    OrderRefunded,
    ShipmentUpdated,
    ShopRedacted,
    SmsConsent,
    Tracking,
)
from smsdesk.models import ConsentLevel, ConsentSource, Store
from smsdesk.platforms.payload import (
    MAX_ID_LENGTH,
    MAX_TOKEN_LENGTH,
    amount,
    as_dict,
    cart_items,
    customer_from,
    object_list,
    quantity,
    require_id,
    text,
    timestamp,
)
from smsdesk.services.languages import normalize as normalize_language
from smsdesk.services.phones import normalize_phone

# Fulfillment.shipment_status (the carrier's word) -> ShipmentUpdated.status. A fulfillment
# without one (null, label_printed, confirmed ...) has left the warehouse: "shipped".
# attempted_delivery is a failed attempt: agents hear of it, the customer gets no text.
SHIPMENT_STATUS = {"in_transit": "in_transit", "out_for_delivery": "out_for_delivery",
                   "ready_for_pickup": "ready_for_pickup", "delivered": "delivered",
                   "failure": "failure", "attempted_delivery": "failure"}
# customer.sms_marketing_consent.state: subscribed, not_subscribed, pending, unsubscribed, redacted.
SUBSCRIBED = "subscribed"
NOT_YET = ("not_subscribed", "pending")  # no consent, but nothing withdrawn either
OPT_IN_LEVELS = {"single_opt_in": ConsentLevel.SINGLE_OPT_IN, "confirmed_opt_in": ConsentLevel.CONFIRMED_OPT_IN}
MAX_ITEMS = 250  # line items read per order or fulfillment
SHIPPED_FULFILLMENT = "success"  # Fulfillment.status; pending/open/cancelled/error/failure never shipped


def order_info(payload: dict) -> OrderInfo:
    return OrderInfo(
        external_id=require_id(payload, "id"),
        number=text(payload.get("order_number") or payload.get("name", "")).lstrip("#"),
        total=text(payload.get("current_total_price") or payload.get("total_price")),
        currency=text(payload.get("currency")),
        status_url=text(payload.get("order_status_url")),
        checkout_token=text(payload.get("checkout_token")) or None,
        item_count=sum(item.quantity for item in line_items(payload, ordered=True)),
        items=line_items(payload, ordered=True, shipping_only=False),
    )


def line_items(payload: dict, *, ordered: bool = False, shipping_only: bool = True) -> tuple[CartItem, ...]:
    """The items that ship, with their quantities; a line that needs no shipping (a gift card, a
    download) never makes a package look partial. A fulfillment's ``quantity`` is what it holds;
    for the order (``ordered``) ``current_quantity``, what is left after edits and removals, wins
    over the quantity first ordered, and 0 drops the line. ``shipping_only=False``: every line
    (what the agents' order panel lists)."""
    items = [i for i in object_list(payload.get("line_items"), "line_items")
             if not shipping_only or i.get("requires_shipping") is not False][:MAX_ITEMS]
    counted = [(i, i["current_quantity"] if ordered and isinstance(i.get("current_quantity"), int)
                else i.get("quantity")) for i in items]
    return tuple(CartItem(title=text(i.get("name") or i.get("title")), quantity=quantity(count))
                 for i, count in counted if count != 0)


def order_customer(store: Store, payload: dict) -> CustomerInfo:
    """The shopper: the first textable phone of order, shipping, billing and customer records.

    The buyer's own phone may belong to the billing country while the parcel goes elsewhere
    (a gift), so national numbers are tried in both countries (the store's last)."""
    customer = as_dict(payload.get("customer"))
    shipping, billing = as_dict(payload.get("shipping_address")), as_dict(payload.get("billing_address"))
    default = as_dict(customer.get("default_address"))
    country = billing.get("country_code") or shipping.get("country_code") or store.country  # for consent phones
    phones = [(payload.get("phone"), None), (payload.get("sms_marketing_phone"), None),
              (shipping.get("phone"), shipping.get("country_code")),
              (billing.get("phone"), billing.get("country_code")),
              (customer.get("phone"), None), (default.get("phone"), default.get("country_code"))]
    info = customer_from(
        phones=phones, countries=[billing.get("country_code"), shipping.get("country_code")],
        default_country=store.country,
        first_name=customer.get("first_name") or shipping.get("first_name") or billing.get("first_name"),
        last_name=customer.get("last_name") or shipping.get("last_name") or billing.get("last_name"),
        email=payload.get("email") or customer.get("email"),
    )
    # customer_locale: the storefront language the buyer used ("es", "fr-CA"), on orders and checkouts.
    return replace(info, consents=sms_consents(payload, customer, country=country),
                   language=normalize_language(payload.get("customer_locale")))


def sms_consents(payload: dict, customer: dict, *, country: str) -> tuple[SmsConsent, ...]:
    """What the payload says about SMS marketing consent, each on the number it is about:
    the checkout's box on ``sms_marketing_phone`` (else the checkout's own phone), and the
    customer record's ``sms_marketing_consent`` on the customer record's phone."""
    statements = [checkbox_consent(payload, country=country), record_consent(customer, country=country)]
    return tuple(statement for statement in statements if statement is not None)


def checkbox_consent(payload: dict, *, country: str) -> SmsConsent | None:
    """The checkout's "text me" box: a single opt-in by the number entered with it. An
    unticked box says nothing (a subscribed shopper may not be shown it)."""
    if payload.get("buyer_accepts_sms_marketing") is not True:
        return None
    phone = _phone(payload.get("sms_marketing_phone"), country) or _phone(payload.get("phone"), country)
    if phone is None:
        return None  # a consent we cannot pin on a number is no consent
    return SmsConsent(phone=phone, granted=True, source=ConsentSource.SHOPIFY, level=ConsentLevel.SINGLE_OPT_IN,
                      platform_state="buyer_accepts_sms_marketing", collected_from="checkout",
                      at=timestamp(payload.get("updated_at")))


def record_consent(customer: dict, *, country: str) -> SmsConsent | None:
    """The customer record's ``sms_marketing_consent`` ({state, opt_in_level, consent_updated_at,
    consent_collected_from}), which belongs to that record's phone. Only ``subscribed`` is
    consent; ``pending`` means a confirmed opt-in is not finished yet."""
    consent = as_dict(customer.get("sms_marketing_consent"))
    state, at = text(consent.get("state")).lower(), timestamp(consent.get("consent_updated_at"))
    phone = _phone(customer.get("phone"), country)
    if not state or phone is None:
        return None
    if state in NOT_YET and at is None:  # "never subscribed" as of no time: no news against a ticked box
        return None
    return SmsConsent(phone=phone, granted=state == SUBSCRIBED, source=ConsentSource.SHOPIFY,
                      level=OPT_IN_LEVELS.get(text(consent.get("opt_in_level")).lower(), ConsentLevel.UNKNOWN),
                      platform_state=state, collected_from=text(consent.get("consent_collected_from")), at=at)


def _phone(raw: Any, country: Any) -> str | None:
    return normalize_phone(text(raw) or None, text(country))



def orders_create(store: Store, payload: dict) -> list[Event]:
    return [OrderPlaced(order=order_info(payload), customer=order_customer(store, payload))]


def orders_cancelled(store: Store, payload: dict) -> list[Event]:
    return [OrderCancelled(order=order_info(payload), customer=order_customer(store, payload))]


def orders_fulfilled(store: Store, payload: dict) -> list[Event]:
    """orders/fulfilled and orders/partially_fulfilled: one shipment event per shipped fulfillment."""
    order, customer = order_info(payload), order_customer(store, payload)
    fulfillments = object_list(payload.get("fulfillments"), "fulfillments")
    return [event for f in fulfillments for event in shipment_events(f, order=order, customer=customer)]


def fulfillment_changed(store: Store, payload: dict) -> list[Event]:
    """fulfillments/create and /update: the payload names its order by id only, with no phone."""
    order = OrderInfo(external_id=require_id(payload, "order_id"))
    return shipment_events(payload, order=order, customer=CustomerInfo())


def shipment_events(fulfillment: dict, *, order: OrderInfo, customer: CustomerInfo) -> list[Event]:
    """The shipment event of one fulfillment ([] unless it shipped: pending, cancelled, error ...)."""
    if text(fulfillment.get("status")) not in (SHIPPED_FULFILLMENT, ""):
        return []
    status = SHIPMENT_STATUS.get(text(fulfillment.get("shipment_status")), "shipped")
    return [ShipmentUpdated(order=order, status=status, tracking=tracking(fulfillment), customer=customer,
                            shipment_id=text(fulfillment.get("id"))[:MAX_ID_LENGTH], items=line_items(fulfillment))]


def tracking(fulfillment: dict) -> Tracking:
    """The fulfillment's first tracking number and URL (Shopify repeats them in plural lists)."""
    return Tracking(number=text(fulfillment.get("tracking_number") or _first(fulfillment.get("tracking_numbers"))),
                    company=text(fulfillment.get("tracking_company")),
                    url=text(fulfillment.get("tracking_url") or _first(fulfillment.get("tracking_urls"))))


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, list) and values else None


def refund_created(store: Store, payload: dict) -> list[Event]:
    """refunds/create: money back for some or all of an order; it names its order by id only."""
    order = OrderInfo(external_id=require_id(payload, "order_id"))
    return [OrderRefunded(order=order, refund_id=require_id(payload, "id"), amount=refunded_amount(payload))]


def refunded_amount(refund: dict) -> str:
    """The sum of the refund's successful refund transactions ("" when it moved no money)."""
    total = Decimal(0)
    for transaction in object_list(refund.get("transactions"), "transactions"):
        if transaction.get("kind") == "refund" \
                and transaction.get("status") == "success":
            total += amount(transaction.get("amount"))
    return str(total.quantize(Decimal("0.01"))) if total > 0 else ""


def checkout_changed(store: Store, payload: dict) -> list[Event]:
    """checkouts/create and /update; a checkout with ``completed_at`` became an order."""
    token = require_id(payload, "token", MAX_TOKEN_LENGTH)
    customer = order_customer(store, payload)
    if payload.get("completed_at"):
        return [CheckoutCompleted(token=token, customer=customer)]
    return [CheckoutUpdated(
        token=token, customer=customer, recovery_url=text(payload.get("abandoned_checkout_url")),
        total=text(payload.get("total_price")),
        currency=text(payload.get("presentment_currency") or payload.get("currency")),
        items=cart_items(payload.get("line_items"), title_keys=("presentment_title", "title")),
    )]


def privacy_subject(store: Store, payload: dict, orders_key: str) -> tuple[CustomerInfo, tuple[str, ...]]:
    """Who a privacy webhook is about: {"customer": {"id", "email", "phone"}, "orders_to_redact" or
    "orders_requested": [ids]}. The phone is kept as given when it can't be read as a number."""
    customer = as_dict(payload.get("customer"))
    raw_phone = text(customer.get("phone"))[:40]
    info = CustomerInfo(phone=_phone(raw_phone, store.country) or raw_phone or None, email=text(customer.get("email")))
    ids = payload.get(orders_key)
    order_ids = tuple(text(i)[:MAX_ID_LENGTH] for i in ids[:MAX_ITEMS] if text(i)) if isinstance(ids, list) else ()
    return info, order_ids


def customer_redact(store: Store, payload: dict) -> list[Event]:
    customer, order_ids = privacy_subject(store, payload, "orders_to_redact")
    return [CustomerRedacted(customer=customer, order_ids=order_ids)]


def customer_data_request(store: Store, payload: dict) -> list[Event]:
    customer, order_ids = privacy_subject(store, payload, "orders_requested")
    request_id = text(as_dict(payload.get("data_request")).get("id"))[:MAX_ID_LENGTH]
    return [CustomerDataRequested(customer=customer, order_ids=order_ids, request_id=request_id)]


def shop_redact(store: Store, payload: dict) -> list[Event]:
    return [ShopRedacted()]


TOPICS = {
    "orders/create": orders_create,
    "orders/cancelled": orders_cancelled,
    "refunds/create": refund_created,
    "orders/fulfilled": orders_fulfilled,
    "orders/partially_fulfilled": orders_fulfilled,
    "fulfillments/create": fulfillment_changed,
    "fulfillments/update": fulfillment_changed,
    "checkouts/create": checkout_changed,
    "checkouts/update": checkout_changed,
    # The mandatory privacy webhooks (GDPR/CCPA), applied by services/privacy.py.
    "customers/redact": customer_redact,
    "customers/data_request": customer_data_request,
    "shop/redact": shop_redact,
}
PRIVACY_TOPICS = ("customers/redact", "customers/data_request", "shop/redact")
