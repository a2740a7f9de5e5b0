"""WooCommerce: HMAC-signed JSON (REST API v3 order objects), store by URL slug; the orders are
read by smsdesk/platforms/woocommerce/mapping.py."""
from __future__ import annotations

import re
from typing import Any

from flask import Request

from smsdesk.enums import Platform
from smsdesk.events import Event
from smsdesk.models import Store
from smsdesk.platforms.woocommerce.mapping import ORDER_TOPICS, order_events
from webhooks.base import WebhookAdapter, hmac_sha256_base64, signature_matches

# WooCommerce POSTs exactly this, unsigned, when a webhook is created (WC_Webhook::deliver_ping).
PING_BODY = re.compile(rb"webhook_id=\d{1,20}")


class WooCommerceAdapter(WebhookAdapter):
    source = Platform.WOOCOMMERCE.value

    def verify_secret(self, secret: str, request: Request, body: bytes) -> bool:
        expected = hmac_sha256_base64(secret.encode(), body)
        return signature_matches(expected, request.headers.get("X-WC-Webhook-Signature"))

    def is_ping(self, request: Request, body: bytes) -> bool:
        return PING_BODY.fullmatch(body.strip()) is not None

    def topic(self, request: Request, body: bytes) -> str:
        return request.headers.get("X-WC-Webhook-Topic", "")

    def delivery_id(self, request: Request, body: bytes) -> str:
        return request.headers.get("X-WC-Webhook-Delivery-ID") or super().delivery_id(request, body)

    def parse(self, store: Store, topic: str, payload: Any) -> list[Event]:
        return order_events(store, payload) if topic in ORDER_TOPICS else []
