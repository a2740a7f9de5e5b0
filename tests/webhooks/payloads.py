"""Real-format webhook payloads and correctly signed requests for every shop platform.

Payloads start from the real samples in tests/samples (see SOURCES.md there); a
webhook sends the bare object that a REST response wraps.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

from smsdesk.models import Store
from tests.factories import sample
from webhooks.base import hmac_sha256_base64

_seq = itertools.count(1)
UNPACED = 1000.0  # texts/second for a test store, so a life cycle's texts are all due at once
GENERIC_KEY = b"generic-test-key-0123456789abcdef"
GENERIC_SECRET = "whsec_" + base64.b64encode(GENERIC_KEY).decode()


def next_id() -> int:
    return next(_seq)


# -- Shopify -----------------------------------------------------------------

def shopify_fulfillment(**changes: Any) -> dict:
    """The fulfillments/create sample (tracking number and URL, no company), unwrapped."""
    fulfillment = copy.deepcopy(sample("shopify/fulfillment_create_rest_2025-07.json")["fulfillment"])
    fulfillment.update(changes)
    return fulfillment


def shopify_fulfillment_update(shipment_status: str | None, **changes: Any) -> dict:
    """The update_tracking sample (UPS) as a fulfillments/update webhook with ``shipment_status``.

    The two samples come from separate API stubs with different fulfillment ids; the update gets
    the create sample's id so that a life cycle speaks of one package."""
    fulfillment = copy.deepcopy(sample("shopify/fulfillment_update_tracking_rest_2025-07.json")["fulfillment"])
    fulfillment.update(id=shopify_fulfillment()["id"], shipment_status=shipment_status, **changes)
    return fulfillment


def shopify_cancelled_order(**changes: Any) -> dict:
    order = copy.deepcopy(sample("shopify/order_cancel_rest_2025-07.json")["order"])
    order.update(changes)
    return order


def shopify_checkout(**changes: Any) -> dict:
    checkout = copy.deepcopy(sample("shopify/abandoned_checkouts_rest_2025-07.json")["checkouts"][0])
    checkout.update(changes)
    return checkout


# -- WooCommerce ---------------------------------------------------------------

def woo_order(**changes: Any) -> dict:
    """The wc/v3 order sample (id 727, processing, billing phone "(555) 555-5555")."""
    order = copy.deepcopy(sample("woocommerce/order_v3_retrieve.json"))
    order.update(changes)
    return order


def woo_tracking_meta(number: str = "9400111899223100000000", provider: str = "USPS", **item: Any) -> dict:
    """The WooCommerce Shipment Tracking extension's order meta entry."""
    entry = {"tracking_provider": provider, "custom_tracking_provider": "", "tracking_number": number,
             "custom_tracking_link": "", "date_shipped": "1711065600", "tracking_id": "5e1b"}
    entry.update(item)
    return {"id": next_id(), "key": "_wc_shipment_tracking_items", "value": [entry]}


def woo_headers(store: Store, body: bytes, *, topic: str = "order.updated", delivery_id: str | None = None,
                secret: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-Signature": hmac_sha256_base64((secret or store.webhook_secret).encode(), body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id or f"dlv-{next_id()}",
    }


# -- BigCommerce ----------------------------------------------------------------

def bigcommerce_callback(scope: str, resource_id: int | str, *, order_id: int | None = None,
                         event_hash: str | None = None) -> dict:
    """A callback body shaped like the samples (shipment callbacks name their order as orderId,
    cart callbacks carry the cart's UUID and the Abandoned Cart Saver token)."""
    name = {"store/order/created": "webhook_store_order_created.json",
            "store/order/statusUpdated": "webhook_store_order_statusUpdated.json",
            "store/shipment/created": "webhook_store_shipment_created.json"}.get(scope,
                                                                                 "webhook_store_order_updated.json")
    payload = copy.deepcopy(sample(f"bigcommerce/{name}"))
    payload["scope"] = scope
    payload["data"]["id"] = resource_id
    if order_id is not None:
        payload["data"]["orderId"] = order_id
    if scope == "store/cart/abandoned":
        payload["data"] = {"type": "cart", "id": resource_id, "token": "1eed6d2d979776ff18e695ceeb10ea61"}
    payload["hash"] = event_hash or hashlib.sha1(f"{scope}-{next_id()}".encode()).hexdigest()
    return payload


BIGCOMMERCE_PHONE = "(512) 555-0120"  # fictional US mobile-capable number (+15125550120)


def bigcommerce_order(order_id: int = 250, **changes: Any) -> dict:
    """The V2 order sample with our id. The sample's billing phone "1234567890" is no
    number at all (area code 123), so it would get no text: the buyer's phone here is a
    fictional 555 one instead (smsdesk.services.phones.is_fictional).

    ``items_total`` is 2 unless given, the two items of the shipment sample, so by default the
    order ships whole in one package (the sample order says 4: pass it for a partial shipment)."""
    order = copy.deepcopy(sample("bigcommerce/v2_order.json"))
    order["billing_address"]["phone"] = BIGCOMMERCE_PHONE
    order.update(id=order_id, items_total=2)
    order.update(**changes)
    return order


def bigcommerce_shipment(order_id: int, shipment_id: int = 12, **changes: Any) -> dict:
    shipment = copy.deepcopy(sample("bigcommerce/v2_order_shipment.json"))
    shipment.update(id=shipment_id, order_id=order_id, **changes)
    return shipment


def bigcommerce_shipping_address(order_id: int, **changes: Any) -> dict:
    address = copy.deepcopy(sample("bigcommerce/v2_order_shipping_address.json"))
    address.update(order_id=order_id, **changes)
    return address


CART_ID = "09346904-4175-44fd-be53-f7e598531b6c"


def bigcommerce_checkout(cart_id: str = CART_ID, **changes: Any) -> dict:
    """A V3 checkout (GET /v3/checkouts/{id}, the ``data`` object) shaped after BigCommerce's
    Checkouts API reference; there is no sample file for it."""
    item = {"id": "6e193ce6-f327-4dcc-b75e-72cf6738525e", "product_id": 118, "name": "Wool Mittens",
            "quantity": 1, "list_price": 27, "extended_sale_price": 27}
    checkout = {
        "id": cart_id,
        "cart": {"id": cart_id, "customer_id": 0, "email": "jane@example.com", "currency": {"code": "USD"},
                 "base_amount": 59, "discount_amount": 0, "cart_amount": 54,
                 "line_items": {"physical_items": [item, dict(item, name="Knit Scarf", quantity=2)],
                                "digital_items": [], "gift_certificates": [], "custom_items": []}},
        "billing_address": {"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com",
                            "phone": "512-555-0134", "country_code": "US"},
        "consignments": [], "grand_total": 54, "order_id": None,
    }
    checkout.update(changes)
    return checkout


def bigcommerce_headers(store: Store, *, secret: str | None = None) -> dict:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {secret or store.webhook_secret}"}


# -- Generic (Standard Webhooks) ------------------------------------------------

def generic_event(kind: str, **data: Any) -> dict:
    return {"type": kind, "data": data}


def generic_headers(body: bytes, *, msg_id: str | None = None, timestamp: int | None = None,
                    key: bytes = GENERIC_KEY, extra_signatures: tuple[str, ...] = ()) -> dict:
    msg_id = msg_id or f"msg_{next_id()}"
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    signatures = " ".join((*extra_signatures, "v1," + base64.b64encode(digest).decode()))
    return {"Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": stamp,
            "webhook-signature": signatures}


def as_body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()
