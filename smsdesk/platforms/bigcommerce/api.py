"""A small client for the BigCommerce V2 Orders API and the V3 checkouts: what the fetch job
reads for a thin callback, and what the catch-up poll lists (orders changed since a time)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

from smsdesk.platforms.http import CONNECT_TIMEOUT, READ_TIMEOUT, ApiClient, ApiError, Credentials, json_of

DEFAULT_API_BASE = "https://api.bigcommerce.com"
PAGE_SIZE = 50  # orders per page of a catch-up listing (the API allows up to 250)
MAX_PAGES = 20  # pages per catch-up poll; the rest waits for the next poll (the watermark moves on)


class BigCommerceClient(ApiClient):
    """GETs against ``{api_base}/stores/{store_hash}/v2|v3/...`` with the store's API token."""

    def __init__(self, credentials: Credentials, *, http: requests.Session | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        if not has_credentials(credentials):
            raise ApiError("the store has no BigCommerce store hash / API token configured", retryable=False)
        super().__init__(http=http, timeout=timeout)
        self.credentials = credentials
        self.page_limit = PAGE_SIZE * MAX_PAGES  # orders one catch-up listing reads at most

    def order(self, order_id: str) -> dict:
        order = self._get(f"v2/orders/{order_id}")
        if not isinstance(order, dict):
            raise ApiError(f"order {order_id}: the API answered something that is not an order", retryable=True)
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

    def changed_orders(self, since: datetime, until: datetime) -> list[dict]:
        """Orders modified in (since, until], oldest change first, up to MAX_PAGES pages."""
        window = {"min_date_modified": since.isoformat(), "max_date_modified": until.isoformat(),
                  "sort": "date_modified:asc", "limit": PAGE_SIZE}
        found: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            listed = [o for o in self._list("v2/orders", params=window | {"page": page}) if isinstance(o, dict)]
            found += listed
            if len(listed) < PAGE_SIZE:
                break
        return found

    def _list(self, path: str, *, params: dict | None = None) -> list:
        result = self._get(path, params=params)
        return result if isinstance(result, list) else []

    def _get(self, path: str, *, missing_ok: bool = False, params: dict | None = None) -> Any:
        base = (self.credentials.api_base or DEFAULT_API_BASE).rstrip("/")
        url = f"{base}/stores/{self.credentials.store_hash}/{path}"
        headers = {"X-Auth-Token": self.credentials.api_token, "Accept": "application/json"}
        what = f"GET /{path.split('?')[0]}"
        response = self.request("GET", url, what=what, missing_ok=missing_ok, headers=headers, params=params)
        return None if response is None else json_of(response, what)


def has_credentials(credentials: Credentials) -> bool:
    return bool(credentials.store_hash and credentials.api_token)


def _v3_data(result: Any, what: str) -> dict:
    """V3 answers wrap the resource in ``{"data": ...}``."""
    data = result.get("data") if isinstance(result, dict) else None
    if not isinstance(data, dict):
        raise ApiError(f"{what}: the API answered without a 'data' object", retryable=True)
    return data
