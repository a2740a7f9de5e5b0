"""A small client for the BigCommerce V2 Orders API (used by jobs/fetch_pending.py only)."""
from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from smsdesk.models import utcnow

DEFAULT_API_BASE = "https://api.bigcommerce.com"
CONNECT_TIMEOUT = 5.0  # seconds
READ_TIMEOUT = 15.0  # seconds
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class FetchError(Exception):
    """The API did not give us the resource; ``retryable`` says whether asking again may help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retryable, self.retry_after = reason, retryable, retry_after


@dataclass(frozen=True)
class Credentials:
    """What a store needs to call its API, copied out of the ORM row (jobs pass plain data)."""

    api_base: str
    store_hash: str
    api_token: str


class BigCommerceClient:
    """GETs against ``{api_base}/stores/{store_hash}/v2|v3/...`` with the store's API token."""

    def __init__(self, credentials: Credentials, *, http: requests.Session | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        if not (credentials.store_hash and credentials.api_token):
            raise FetchError("the store has no BigCommerce store hash / API token configured", retryable=False)
        self.credentials, self.http, self.timeout = credentials, http or requests.Session(), timeout

    def order(self, order_id: str) -> dict:
        order = self._get(f"v2/orders/{order_id}")
        if not isinstance(order, dict):
            raise FetchError(f"order {order_id}: the API answered something that is not an order", retryable=True)
        return order

    def shipping_addresses(self, order_id: str) -> list:
        return self._list(f"v2/orders/{order_id}/shipping_addresses")

    def shipments(self, order_id: str) -> list:
        return self._list(f"v2/orders/{order_id}/shipments")

    def products(self, order_id: str) -> list:
        """The order's line items (``id`` is what a shipment's items call ``order_product_id``)."""
        return self._list(f"v2/orders/{order_id}/products")

    def checkout(self, checkout_id: str) -> dict | None:
        """The V3 checkout of a cart (same id), or None once the cart is gone (bought or deleted)."""
        result = self._get(f"v3/checkouts/{checkout_id}", missing_ok=True)
        return _v3_data(result, f"checkout {checkout_id}") if result is not None else None

    def cart_recovery_url(self, cart_id: str) -> str:
        """The link that restores the cart in the shopper's browser ('' if the cart is gone)."""
        result = self._get(f"v3/carts/{cart_id}?include=redirect_urls", missing_ok=True)
        if result is None:
            return ""
        urls = _v3_data(result, f"cart {cart_id}").get("redirect_urls") or {}
        return str(urls.get("cart_url") or urls.get("checkout_url") or "")

    def _list(self, path: str) -> list:
        result = self._get(path)
        return result if isinstance(result, list) else []

    def _get(self, path: str, *, missing_ok: bool = False) -> Any:
        base = (self.credentials.api_base or DEFAULT_API_BASE).rstrip("/")
        url = f"{base}/stores/{self.credentials.store_hash}/{path}"
        headers = {"X-Auth-Token": self.credentials.api_token, "Accept": "application/json"}
        try:
            response = self.http.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:  # connection refused/reset, timeouts
            raise FetchError(f"GET /{path}: {type(exc).__name__}", retryable=True) from None
        if missing_ok and response.status_code == 404:
            return None
        return _answer(response, path)


def _answer(response: requests.Response, path: str) -> Any:
    """The decoded body of a 2xx answer (None for 204 No Content); FetchError otherwise."""
    status = response.status_code
    if status == 204:
        return None  # BigCommerce's V2 API answers an empty collection this way
    if 200 <= status < 300:
        try:
            return response.json()
        except ValueError:
            raise FetchError(f"GET /{path}: {status} with a body that is not JSON", retryable=True) from None
    reason = f"GET /{path}: HTTP {status}"
    if status in (401, 403):
        reason += " (the store's API token was refused)"
    raise FetchError(reason, retryable=status in RETRYABLE_STATUSES or status >= 500,
                     retry_after=retry_after_seconds(response.headers.get("Retry-After")))


def _v3_data(result: Any, what: str) -> dict:
    """V3 answers wrap the resource in ``{"data": ...}``."""
    data = result.get("data") if isinstance(result, dict) else None
    if not isinstance(data, dict):
        raise FetchError(f"{what}: the API answered without a 'data' object", retryable=True)
    return data


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds from now; None if absent or bad."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - utcnow()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None
