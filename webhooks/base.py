"""What every shop-platform adapter looks like: find store -> verify -> parse -> events."""
from __future__ import annotations

import base64
import hashlib
import hmac
from abc import ABC, abstractmethod
from typing import Any

from flask import Request
from sqlalchemy.orm import Session

from smsdesk.events import Event
from smsdesk.models import Store
from smsdesk.platforms.payload import BadPayload
from smsdesk.services.stores import get_store
from smsdesk.services.untrusted import UntrustedInput, parse_json

__all__ = ["BadPayload", "WebhookAdapter", "hmac_sha256_base64", "load_json", "signature_matches", "webhook_secrets"]


class WebhookAdapter(ABC):
    """One shop platform. Subclasses set ``source`` and implement ``verify`` and ``parse``."""

    source = ""
    path_has_slug = True  # /webhooks/<source>/<store_slug>; Shopify finds the store by header

    def store_key(self, request: Request, slug: str | None) -> str | None:
        """What ``find_store`` looks the store up by (the receiver caches stores by it)."""
        return slug

    def find_store(self, session: Session, request: Request, slug: str | None) -> Store | None:
        store = get_store(session, slug) if slug else None
        return store if store is not None and store.platform.value == self.source else None

    def verify(self, store: Store, request: Request, body: bytes) -> bool:
        """True when the request is signed with one of the store's webhook secrets: while a
        secret is being rotated the previous one verifies too, until the owner drops it."""
        return any(self.verify_secret(secret, request, body) for secret in webhook_secrets(store))

    @abstractmethod
    def verify_secret(self, secret: str, request: Request, body: bytes) -> bool:
        """True when the request carries a valid signature made with ``secret``."""

    def is_ping(self, request: Request, body: bytes) -> bool:
        """A platform's "hello" request that carries no event (answered 200, recorded nowhere).

        Checked before ``verify`` because a platform may send it unsigned, so it must match
        the exact ping body and nothing else.
        """
        return False

    def fetches_later(self, topic: str) -> bool:
        """True when this topic's payload only names what changed: the delivery is recorded
        ``pending`` and jobs/fetch_pending.py fetches the details from the platform's API."""
        return False

    def topic(self, request: Request, body: bytes) -> str:
        return ""

    def delivery_id(self, request: Request, body: bytes) -> str:
        """The platform's id for this delivery, used to drop retries; a body hash by default."""
        return "sha256:" + hashlib.sha256(body).hexdigest()

    @abstractmethod
    def parse(self, store: Store, topic: str, payload: Any) -> list[Event]:
        """The normalized events in this payload; [] for a topic smsdesk ignores."""

    def load(self, body: bytes) -> Any:
        """Decode the body (JSON by default); raises BadPayload."""
        return load_json(body)


def webhook_secrets(store: Store) -> list[str]:
    """The secrets a store's webhooks may be signed with: the current one, then the previous."""
    return [secret for secret in (store.webhook_secret, store.webhook_secret_previous) if secret]


def load_json(body: bytes) -> Any:
    try:
        payload = parse_json(body)
    except UntrustedInput as exc:
        raise BadPayload(str(exc)) from None
    if not isinstance(payload, dict):
        raise BadPayload("body must be a JSON object")
    return payload


def hmac_sha256_base64(secret: bytes, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of two signatures."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())
