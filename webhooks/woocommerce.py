"""WooCommerce: HMAC-signed JSON (REST API v3 order objects), store by URL slug.

Order webhooks carry the whole order, so every delivery says where the order stands; its
``status`` is mapped to one normalized event. Replays and transitions already texted are
harmless: the order service texts each stage once and never backwards.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Request

from smsdesk.events import CustomerInfo, Event, OrderCancelled, OrderInfo, OrderPlaced, ShipmentUpdated, Tracking
from smsdesk.models import Store
from webhooks.base import WebhookAdapter, customer_from, hmac_sha256_base64, require_id, signature_matches, text

# WooCommerce POSTs exactly this, unsigned, when a webhook is created (WC_Webhook::deliver_ping).
PING_BODY = re.compile(rb"webhook_id=\d{1,20}")
ORDER_TOPICS = ("order.created", "order.updated")
# Order status -> what it means for the customer. pending/failed/checkout-draft: not paid, no text.
PLACED_STATUSES = ("processing", "on-hold")  # on-hold: ordered, paying by bank transfer (funds not in yet)
SHIPPED_STATUSES = ("completed",)  # WooCommerce's "fulfilled"
CANCELLED_STATUSES = ("cancelled", "refunded")
TRACKING_META_KEY = "_wc_shipment_tracking_items"  # WooCommerce Shipment Tracking extension
# A tracking item without a custom link names its carrier; these carriers' public tracking pages.
PROVIDER_LINKS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1={number}",
    "ups": "https://www.ups.com/track?loc=en_US&tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={number}",
}
PROVIDER_NAMES = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL"}


class WooCommerceAdapter(WebhookAdapter):
    source = "woocommerce"

    def verify(self, store: Store, request: Request, body: bytes) -> bool:
        expected = hmac_sha256_base64(store.webhook_secret.encode(), body)
        return signature_matches(expected, request.headers.get("X-WC-Webhook-Signature"))

    def is_ping(self, request: Request, body: bytes) -> bool:
        return PING_BODY.fullmatch(body.strip()) is not None

    def topic(self, request: Request, body: bytes) -> str:
        return request.headers.get("X-WC-Webhook-Topic", "")

    def delivery_id(self, request: Request, body: bytes) -> str:
        return request.headers.get("X-WC-Webhook-Delivery-ID") or super().delivery_id(request, body)

    def parse(self, store: Store, topic: str, payload: Any) -> list[Event]:
        return order_events(store, payload) if topic in ORDER_TOPICS else []


def order_events(store: Store, payload: dict) -> list[Event]:
    """The one event an order's current status stands for ([] for unpaid or unknown states)."""
    order, customer = order_info(payload), order_customer(store, payload)
    status = text(payload.get("status")).lower()
    if status in PLACED_STATUSES:
        return [OrderPlaced(order=order, customer=customer)]
    if status in SHIPPED_STATUSES:
        return [ShipmentUpdated(order=order, status="shipped", tracking=tracking(payload), customer=customer)]
    if status in CANCELLED_STATUSES:
        return [OrderCancelled(order=order, customer=customer)]
    return []


def order_info(payload: dict) -> OrderInfo:
    return OrderInfo(external_id=require_id(payload, "id"), number=text(payload.get("number")),
                     total=text(payload.get("total")), currency=text(payload.get("currency")))


def order_customer(store: Store, payload: dict) -> CustomerInfo:
    """The buyer: billing phone first (WooCommerce asks for it there), then the shipping one;
    national numbers read in their address's country, then the other's, then the store's."""
    billing, shipping = _dict(payload.get("billing")), _dict(payload.get("shipping"))
    phones = [(billing.get("phone"), billing.get("country")), (shipping.get("phone"), shipping.get("country"))]
    return customer_from(phones=phones, countries=[billing.get("country"), shipping.get("country")],
                         default_country=store.country,
                         first_name=billing.get("first_name") or shipping.get("first_name"),
                         last_name=billing.get("last_name") or shipping.get("last_name"),
                         email=billing.get("email"))


def tracking(payload: dict) -> Tracking:
    """The latest Shipment Tracking item of the order, if the extension is installed."""
    items = [item for meta in payload.get("meta_data") or [] if isinstance(meta, dict)
             and meta.get("key") == TRACKING_META_KEY and isinstance(meta.get("value"), list)
             for item in meta["value"] if isinstance(item, dict)]
    if not items:
        return Tracking()
    item = items[-1]
    number = text(item.get("tracking_number"))
    provider = text(item.get("tracking_provider"))
    link = text(item.get("custom_tracking_link"))
    if not link and number and provider.lower() in PROVIDER_LINKS:
        link = PROVIDER_LINKS[provider.lower()].format(number=number)
    company = text(item.get("custom_tracking_provider")) or PROVIDER_NAMES.get(provider.lower(), provider)
    return Tracking(number=number, company=company, url=link)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
