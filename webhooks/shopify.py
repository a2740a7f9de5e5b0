"""Shopify: HMAC-signed JSON, store by shop domain, topic and ids in headers."""
from __future__ import annotations

from typing import Any

from flask import Request
from sqlalchemy.orm import Session

from smsdesk.events import CustomerInfo, Event, OrderInfo, OrderPlaced
from smsdesk.models import Store
from smsdesk.services.stores import store_by_domain
from webhooks.base import WebhookAdapter, customer_from, hmac_sha256_base64, require, signature_matches, text


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
        external_id=text(require(payload, "id")),
        number=text(payload.get("order_number") or payload.get("name", "")).lstrip("#"),
        total=text(payload.get("current_total_price") or payload.get("total_price")),
        currency=text(payload.get("currency")),
        status_url=text(payload.get("order_status_url")),
        checkout_token=text(payload.get("checkout_token")) or None,
    )


def order_customer(store: Store, payload: dict) -> CustomerInfo:
    """The shopper: the first usable phone of order, shipping, billing and customer records."""
    customer = _dict(payload.get("customer"))
    shipping, billing = _dict(payload.get("shipping_address")), _dict(payload.get("billing_address"))
    default = _dict(customer.get("default_address"))
    country = shipping.get("country_code") or billing.get("country_code") or store.country
    phones = [(payload.get("phone"), country), (shipping.get("phone"), shipping.get("country_code") or country),
              (billing.get("phone"), billing.get("country_code") or country), (customer.get("phone"), country),
              (default.get("phone"), default.get("country_code") or country)]
    return customer_from(
        phones=phones, default_country=store.country,
        first_name=customer.get("first_name") or shipping.get("first_name") or billing.get("first_name"),
        last_name=customer.get("last_name") or shipping.get("last_name") or billing.get("last_name"),
        email=payload.get("email") or customer.get("email"), consent=sms_consent(customer),
    )


def sms_consent(customer: dict) -> bool | None:
    consent = customer.get("sms_marketing_consent")
    if not isinstance(consent, dict) or not consent.get("state"):
        return None
    return consent["state"] == "subscribed"


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def orders_create(store: Store, payload: dict) -> list[Event]:
    return [OrderPlaced(order=order_info(payload), customer=order_customer(store, payload))]


TOPICS = {
    "orders/create": orders_create,
}
