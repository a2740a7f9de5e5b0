"""`smsdesk demo`: a demo store and a few signed Shopify webhooks, posted through the app's
own HTTP stack, so the phone simulator shows real texts right away."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from flask import Flask
from sqlalchemy.orm import Session

from smsdesk.services.stores import create_store, get_store

DEMO_SLUG = "demo"
DEMO_DOMAIN = "demo-outfitters.myshopify.com"
CUSTOMERS = (  # fictional numbers (555-01xx is reserved for fiction)
    ("Maya", "Lopez", "(415) 555-0142", "1001"),
    ("Jonas", "Beck", "+1 212 555 0187", "1002"),
)


def ensure_demo_store(session: Session):
    """The demo store, created on first use."""
    store = get_store(session, DEMO_SLUG)
    if store is None:
        store = create_store(session, slug=DEMO_SLUG, name="Demo Outfitters", platform="shopify",
                             domain=DEMO_DOMAIN, webhook_secret=secrets.token_urlsafe(24),
                             from_number="+15005550006", help_text="help@demo-outfitters.example")
    return store


def demo_order(first: str, last: str, phone: str, number: str) -> dict:
    """A Shopify orders/create body with the fields smsdesk reads."""
    return {
        "id": int(number) * 1000 + 7, "order_number": int(number), "name": f"#{number}",
        "email": f"{first.lower()}@example.com", "phone": None, "currency": "USD", "total_price": "54.00",
        "order_status_url": f"https://{DEMO_DOMAIN}/orders/{number}",
        "customer": {"first_name": first, "last_name": last, "phone": None},
        "shipping_address": {"first_name": first, "last_name": last, "phone": phone, "country_code": "US"},
        "line_items": [{"title": "Wool mittens", "quantity": 1, "price": "54.00"}],
    }


def post_demo_orders(app: Flask, secret: str) -> list[int]:
    """Post one signed orders/create per demo customer; returns the HTTP statuses."""
    client = app.test_client()
    statuses = []
    for first, last, phone, number in CUSTOMERS:
        body = json.dumps(demo_order(first, last, phone, number)).encode()
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        response = client.post("/webhooks/shopify", data=body, headers={
            "Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
            "X-Shopify-Shop-Domain": DEMO_DOMAIN, "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Event-Id": f"demo-order-{number}"})
        statuses.append(response.status_code)
    return statuses
