"""A small client for the WooCommerce REST API v3: the orders modified in a time window.

Authenticated with the store's consumer key and secret (HTTP Basic, as WooCommerce asks over
HTTPS); pages of ``per_page`` orders, as many as ``X-WP-TotalPages`` says, up to MAX_PAGES.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import requests

from smsdesk.platforms.http import CONNECT_TIMEOUT, READ_TIMEOUT, ApiClient, ApiError, Credentials, json_of
from smsdesk.platforms.payload import as_int

PER_PAGE = 50  # orders per page (WooCommerce allows up to 100)
MAX_PAGES = 20  # pages per poll; the rest waits for the next poll
ORDERS_PATH = "/wp-json/wc/v3/orders"


class WooCommerceClient(ApiClient):
    def __init__(self, credentials: Credentials, *, http: requests.Session | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)) -> None:
        if not has_credentials(credentials):
            raise ApiError("the store has no WooCommerce site URL / consumer key and secret configured",
                           retryable=False)
        super().__init__(http=http, timeout=timeout)
        self.credentials = credentials
        self.page_limit = PER_PAGE * MAX_PAGES

    def changed_orders(self, since: datetime, until: datetime) -> list[dict]:
        """Orders modified in (since, until], oldest change first."""
        # WooCommerce's bounds are exclusive: a second more keeps a change at ``until`` (read twice at
        # worst, which its delivery id makes harmless).
        window = {"modified_after": _gmt(since), "modified_before": _gmt(until + timedelta(seconds=1)),
                  "dates_are_gmt": "true",
                  "orderby": "modified", "order": "asc", "per_page": PER_PAGE}
        found: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            response = self._get(window | {"page": page})
            listed = json_of(response, "GET orders")
            found += [order for order in listed or [] if isinstance(order, dict)] if isinstance(listed, list) else []
            if page >= (as_int(response.headers.get("X-WP-TotalPages")) or page):
                break
        return found

    def _get(self, params: dict) -> requests.Response:
        url = self.credentials.api_base.rstrip("/") + ORDERS_PATH
        response = self.request("GET", url, what=f"GET {ORDERS_PATH}", params=params,
                                auth=(self.credentials.api_key, self.credentials.api_token),
                                headers={"Accept": "application/json"})
        assert response is not None  # not missing_ok
        return response


def has_credentials(credentials: Credentials) -> bool:
    return bool(credentials.api_base and credentials.api_key and credentials.api_token)


def _gmt(moment: datetime) -> str:
    """ISO 8601 in UTC without an offset, as WooCommerce reads dates with dates_are_gmt."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
