"""Calling a shop platform's API: credentials, one request with timeouts, and what a failed
answer means (retry or not, and after how long). Every platform's client is built on this."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from smsdesk.models import Store
from smsdesk.retry import retry_after_seconds

CONNECT_TIMEOUT = 5.0  # seconds
READ_TIMEOUT = 15.0  # seconds
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """The API did not give us the resource; ``retryable`` says whether asking again may help,
    ``retry_after`` (seconds) how long the platform asked us to wait."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retryable, self.retry_after = reason, retryable, retry_after


@dataclass(frozen=True)
class Credentials:
    """What a store needs to call its platform's API, copied out of the ORM row (jobs pass plain
    data). Which fields a platform uses: its package's ``has_credentials``."""

    api_base: str = ""  # BigCommerce: the API host; WooCommerce: the site's URL; Shopify: "" (the domain)
    store_hash: str = ""  # BigCommerce
    api_token: str = ""  # BigCommerce X-Auth-Token, Shopify Admin API access token, WooCommerce consumer secret
    api_key: str = ""  # WooCommerce consumer key
    domain: str = ""  # Shopify: the shop's myshopify.com domain

    @classmethod
    def of(cls, store: Store) -> Credentials:
        return cls(api_base=store.api_base or "", store_hash=store.store_hash or "", api_token=store.api_token or "",
                   api_key=store.api_key or "", domain=store.domain or "")


class ApiClient:
    """One HTTP session with timeouts; ``request`` turns every failure into an ApiError."""

    def __init__(self, *, http: requests.Session | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        self.http, self.timeout = http or requests.Session(), timeout

    def request(self, method: str, url: str, *, what: str, missing_ok: bool = False,
                **kwargs: Any) -> requests.Response | None:
        """The 2xx response (None for a 404 when ``missing_ok``); ApiError otherwise. ``what``
        names the call in errors (never a URL with credentials in it)."""
        try:
            response = self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:  # connection refused/reset, timeouts
            raise ApiError(f"{what}: {type(exc).__name__}", retryable=True) from None
        if missing_ok and response.status_code == 404:
            return None
        status = response.status_code
        if 200 <= status < 300:
            return response
        reason = f"{what}: HTTP {status}"
        if status in (401, 403):
            reason += " (the store's API token was refused)"
        raise ApiError(reason, retryable=status in RETRYABLE_STATUSES or status >= 500,
                       retry_after=retry_after_seconds(response.headers.get("Retry-After")))


def json_of(response: requests.Response, what: str) -> Any:
    """The decoded body of a 2xx answer (None for 204 No Content)."""
    if response.status_code == 204:
        return None
    try:
        return response.json()
    except ValueError:
        raise ApiError(f"{what}: {response.status_code} with a body that is not JSON", retryable=True) from None
