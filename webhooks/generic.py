"""Generic: smsdesk's own event JSON (README.md, "Generic webhook events"), signed per Standard Webhooks.

For shops on any other platform: their backend posts ``{"type", "data"}`` with the
``webhook-id`` / ``webhook-timestamp`` / ``webhook-signature`` headers of the Standard
Webhooks spec; the store's secret is ``whsec_`` + base64 and the HMAC key is its bytes.
"""
from __future__ import annotations

import re
import time
from typing import Any

from flask import Request

from smsdesk.enums import Platform
from smsdesk.events import Event
from smsdesk.models import Store
from smsdesk.platforms.generic.mapping import TYPES, section
from smsdesk.platforms.payload import require, text
from smsdesk.services.stores import standard_webhooks_key
from webhooks.base import WebhookAdapter, hmac_sha256_base64, load_json, signature_matches

SIGNATURE_VERSION = "v1"
TOLERANCE = 5 * 60  # seconds a webhook-timestamp may be off from our clock (replay window)
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() also reads "١٢" and huge ones overflow


class GenericAdapter(WebhookAdapter):
    source = Platform.GENERIC.value

    def verify_secret(self, secret: str, request: Request, body: bytes) -> bool:
        msg_id, stamp = request.headers.get("webhook-id", ""), request.headers.get("webhook-timestamp", "")
        key = standard_webhooks_key(secret)
        if not msg_id or key is None or not self._fresh(stamp):
            return False
        expected = hmac_sha256_base64(key, f"{msg_id}.{stamp}.".encode() + body)
        given = v1_signatures(request.headers.get("webhook-signature", ""))
        return any(signature_matches(expected, signature) for signature in given)

    def _fresh(self, stamp: str) -> bool:
        return UNIX_SECONDS.fullmatch(stamp) is not None and abs(time.time() - int(stamp)) <= TOLERANCE

    def topic(self, request: Request, body: bytes) -> str:
        return text(require(load_json(body), "type"))

    def delivery_id(self, request: Request, body: bytes) -> str:
        return request.headers.get("webhook-id") or super().delivery_id(request, body)

    def parse(self, store: Store, topic: str, payload: Any) -> list[Event]:
        handler = TYPES.get(topic)
        return [handler(store, section(payload, "data"))] if handler else []


def v1_signatures(header: str) -> list[str]:
    """The ``v1`` signatures of a ``webhook-signature`` header ("v1,abc= v1,def= v2,..." )."""
    pairs = (part.partition(",") for part in header.split())
    return [signature for version, _, signature in pairs if version == SIGNATURE_VERSION]
