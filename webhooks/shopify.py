"""Shopify: HMAC-signed JSON, store by shop domain, topic and ids in headers."""
from __future__ import annotations

from typing import Any

from flask import Request
from sqlalchemy.orm import Session

from smsdesk.events import (
    CheckoutCompleted,
    CheckoutUpdated,
    CustomerInfo,
    Event,
    OrderCancelled,
    OrderInfo,
    OrderPlaced,
    ShipmentUpdated,
    Tracking,
)
from smsdesk.models import Store
from smsdesk.services.stores import store_by_domain
from webhooks.base import (
    MAX_TOKEN_LENGTH,
    WebhookAdapter,
    cart_items,
    customer_from,
    hmac_sha256_base64,
    require_id,
    signature_matches,
    text,
)

# Fulfillment.shipment_status (the carrier's word) -> ShipmentUpdated.status. A fulfillment
# without one (null, label_printed, confirmed ...) has left the warehouse: "shipped".
# attempted_delivery is a failed attempt: agents hear of it, the customer gets no text.
SHIPMENT_STATUS = {"in_transit": "in_transit", "out_for_delivery": "out_for_delivery",
                   "ready_for_pickup": "ready_for_pickup", "delivered": "delivered",
                   "failure": "failure", "attempted_delivery": "failure"}
SHIPPED_FULFILLMENT = "success"  # Fulfillment.status; pending/open/cancelled/error/failure never shipped


class ShopifyAdapter(WebhookAdapter):
    source = "shopify"
    path_has_slug = False

    def find_store(self, session: Session, request: Request, slug: str | None) -> Store | None:
        domain = request.headers.get("X-Shopify-Shop-Domain", "")
        return store_by_domain(session, domain) if domain else None

    def verify(self, store: Store, request: Request, body: bytes) -> bool:
        expected = hmac_sha256_base64(store.webhook_secret.encode(), body)
        return signature_matches(expected, request.headers.get("X-Shopify-Hmac-Sha256"))

    def topic(self, request: Request, body: bytes) -> str:
        return request.headers.get("X-Shopify-Topic", "")

    def delivery_id(self, request: Request, body: bytes) -> str:
        # The event id is the same on every retry of one event; the webhook id may differ.
        event_id = request.headers.get("X-Shopify-Event-Id") or request.headers.get("X-Shopify-Webhook-Id")
        return event_id or super().delivery_id(request, body)

    def parse(self, store: Store, topic: str, payload: Any) -> list[Event]:
        handler = TOPICS.get(topic)
        return handler(store, payload) if handler else []


def order_info(payload: dict) -> OrderInfo:
    return OrderInfo(
        external_id=require_id(payload, "id"),
        number=text(payload.get("order_number") or payload.get("name", "")).lstrip("#"),
        total=text(payload.get("current_total_price") or payload.get("total_price")),
        currency=text(payload.get("currency")),
        status_url=text(payload.get("order_status_url")),
        checkout_token=text(payload.get("checkout_token")) or None,
    )


def order_customer(store: Store, payload: dict) -> CustomerInfo:
    """The shopper: the first textable phone of order, shipping, billing and customer records.

    The buyer's own phone may belong to the billing country while the parcel goes elsewhere
    (a gift), so national numbers are tried in both countries (the store's last)."""
    customer = _dict(payload.get("customer"))
    shipping, billing = _dict(payload.get("shipping_address")), _dict(payload.get("billing_address"))
    default = _dict(customer.get("default_address"))
    phones = [(payload.get("phone"), None), (payload.get("sms_marketing_phone"), None),
              (shipping.get("phone"), shipping.get("country_code")),
              (billing.get("phone"), billing.get("country_code")),
              (customer.get("phone"), None), (default.get("phone"), default.get("country_code"))]
    return customer_from(
        phones=phones, countries=[billing.get("country_code"), shipping.get("country_code")],
        default_country=store.country,
        first_name=customer.get("first_name") or shipping.get("first_name") or billing.get("first_name"),
        last_name=customer.get("last_name") or shipping.get("last_name") or billing.get("last_name"),
        email=payload.get("email") or customer.get("email"), consent=sms_consent(payload, customer),
    )


def sms_consent(payload: dict, customer: dict) -> bool | None:
    """SMS marketing consent: yes if the checkout box or the customer record says so, None if
    neither says anything."""
    answers = [payload.get("buyer_accepts_sms_marketing")]
    consent = customer.get("sms_marketing_consent")
    if isinstance(consent, dict) and consent.get("state"):
        answers.append(consent["state"] == "subscribed")
    said = [answer for answer in answers if isinstance(answer, bool)]
    return any(said) if said else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def orders_create(store: Store, payload: dict) -> list[Event]:
    return [OrderPlaced(order=order_info(payload), customer=order_customer(store, payload))]


def orders_cancelled(store: Store, payload: dict) -> list[Event]:
    return [OrderCancelled(order=order_info(payload), customer=order_customer(store, payload))]


def orders_fulfilled(store: Store, payload: dict) -> list[Event]:
    """orders/fulfilled and orders/partially_fulfilled: one shipment event per shipped fulfillment."""
    order, customer = order_info(payload), order_customer(store, payload)
    fulfillments = [f for f in payload.get("fulfillments") or [] if isinstance(f, dict)]
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
                            shipment_id=text(fulfillment.get("id")))]


def tracking(fulfillment: dict) -> Tracking:
    """The fulfillment's first tracking number and URL (Shopify repeats them in plural lists)."""
    return Tracking(number=text(fulfillment.get("tracking_number") or _first(fulfillment.get("tracking_numbers"))),
                    company=text(fulfillment.get("tracking_company")),
                    url=text(fulfillment.get("tracking_url") or _first(fulfillment.get("tracking_urls"))))


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, list) and values else None


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


TOPICS = {
    "orders/create": orders_create,
    "orders/cancelled": orders_cancelled,
    "orders/fulfilled": orders_fulfilled,
    "orders/partially_fulfilled": orders_fulfilled,
    "fulfillments/create": fulfillment_changed,
    "fulfillments/update": fulfillment_changed,
    "checkouts/create": checkout_changed,
    "checkouts/update": checkout_changed,
}
