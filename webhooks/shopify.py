"""Shopify: HMAC-signed JSON, store by shop domain, topic and ids in headers; the payloads
are read by smsdesk/platforms/shopify/mapping.py."""
from __future__ import annotations

from typing import Any

from flask import Request
from sqlalchemy.orm import Session

from smsdesk.enums import Platform
from smsdesk.events import Event
from smsdesk.models import Store
from smsdesk.platforms.shopify.mapping import TOPICS
from smsdesk.services.stores import store_by_domain
from webhooks.base import WebhookAdapter, hmac_sha256_base64, signature_matches


class ShopifyAdapter(WebhookAdapter):
    source = Platform.SHOPIFY.value
    path_has_slug = False

    def store_key(self, request: Request, slug: str | None) -> str | None:
        return request.headers.get("X-Shopify-Shop-Domain", "") or None

    def find_store(self, session: Session, request: Request, slug: str | None) -> Store | None:
        domain = request.headers.get("X-Shopify-Shop-Domain", "")
        return store_by_domain(session, domain) if domain else None

    def verify_secret(self, secret: str, request: Request, body: bytes) -> bool:
        expected = hmac_sha256_base64(secret.encode(), body)
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
