"""A small client for the Shopify Admin GraphQL API: the orders updated in a time window.

Shopify limits GraphQL by query cost: each answer's ``extensions.cost.throttleStatus`` says how
many points are left (``currentlyAvailable``) and how fast they come back (``restoreRate`` per
second). Before a page that would not fit, the client waits for the points (through ``sleep``);
a wait longer than MAX_WAIT, a THROTTLED error or a 429 ends the poll with an ApiError whose
``retry_after`` the job honours, so a throttled store is left alone, not hammered.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import requests

from smsdesk.platforms.http import CONNECT_TIMEOUT, READ_TIMEOUT, ApiClient, ApiError, Credentials, json_of

API_VERSION = "2024-10"
PAGE_SIZE = 50  # orders per page
MAX_PAGES = 20  # pages per poll; the rest waits for the next poll
MAX_WAIT = 10.0  # seconds the client sleeps for query points within one poll; longer: retry later
DEFAULT_COST = 100.0  # points a page is assumed to need before Shopify told us its cost

ORDERS_QUERY = """
query ChangedOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId name createdAt updatedAt cancelledAt phone email currencyCode statusPageUrl
      displayFulfillmentStatus
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      customer { firstName lastName email phone }
      shippingAddress { phone countryCodeV2 firstName lastName }
      billingAddress { phone countryCodeV2 firstName lastName }
      lineItems(first: 50) { nodes { name quantity currentQuantity requiresShipping } }
      fulfillments(first: 20) {
        legacyResourceId status displayStatus createdAt updatedAt
        trackingInfo(first: 1) { number url company }
        fulfillmentLineItems(first: 50) { nodes { quantity lineItem { name } } }
      }
      refunds(first: 10) { legacyResourceId totalRefundedSet { shopMoney { amount } } }
    }
  }
}
"""


class ShopifyClient(ApiClient):
    def __init__(self, credentials: Credentials, *, http: requests.Session | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not has_credentials(credentials):
            raise ApiError("the store has no Shopify domain / Admin API access token configured", retryable=False)
        super().__init__(http=http, timeout=timeout)
        self.credentials, self.sleep = credentials, sleep
        self.page_limit = PAGE_SIZE * MAX_PAGES
        self.available: float | None = None  # query points left, as of the last answer
        self.restore_rate = 50.0  # points per second (Shopify's standard plan)
        self.cost = DEFAULT_COST

    def changed_orders(self, since: datetime, until: datetime) -> list[dict]:
        """Orders updated in (since, until], oldest change first."""
        search = f"updated_at:>'{_iso(since)}' AND updated_at:<='{_iso(until)}'"
        found: list[dict] = []
        after = None
        for _ in range(MAX_PAGES):
            orders = self._query({"first": PAGE_SIZE, "after": after, "query": search})["orders"]
            found += [node for node in orders.get("nodes") or [] if isinstance(node, dict)]
            page = orders.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            after = page.get("endCursor")
        return found

    def _query(self, variables: dict) -> dict:
        self._wait_for_points()
        url = f"{self._base()}/admin/api/{API_VERSION}/graphql.json"
        what = "POST graphql orders"
        response = self.request("POST", url, what=what, json={"query": ORDERS_QUERY, "variables": variables},
                                headers={"X-Shopify-Access-Token": self.credentials.api_token,
                                         "Accept": "application/json"})
        assert response is not None  # not missing_ok
        body = json_of(response, what)
        if not isinstance(body, dict):
            raise ApiError(f"{what}: the answer is not a JSON object", retryable=True)
        self._note_cost(body.get("extensions"))
        errors = body.get("errors") or []
        if any(_code(error) == "THROTTLED" for error in errors):
            raise ApiError(f"{what}: THROTTLED", retryable=True, retry_after=self._seconds_to_refill())
        data = body.get("data")
        if errors or not isinstance(data, dict) or not isinstance(data.get("orders"), dict):
            messages = "; ".join(str(e.get("message", ""))[:100] for e in errors if isinstance(e, dict))
            raise ApiError(f"{what}: {messages or 'no orders in the answer'}", retryable=False)
        return data

    def _wait_for_points(self) -> None:
        wait = self._seconds_to_refill()
        if wait > MAX_WAIT:
            raise ApiError(f"query points low ({self.available:.0f} left)", retryable=True, retry_after=wait)
        if wait > 0:
            self.sleep(wait)

    def _seconds_to_refill(self) -> float:
        if self.available is None or self.available >= self.cost:
            return 0.0
        return (self.cost - self.available) / max(self.restore_rate, 1.0)

    def _note_cost(self, extensions: Any) -> None:
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            return
        status = cost.get("throttleStatus") or {}
        self.available = _number(status.get("currentlyAvailable"), self.available)
        self.restore_rate = _number(status.get("restoreRate"), self.restore_rate) or self.restore_rate
        self.cost = _number(cost.get("requestedQueryCost"), self.cost) or self.cost

    def _base(self) -> str:
        return (self.credentials.api_base or f"https://{self.credentials.domain}").rstrip("/")


def has_credentials(credentials: Credentials) -> bool:
    return bool((credentials.domain or credentials.api_base) and credentials.api_token)


def _code(error: Any) -> str:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return str(extensions.get("code", "")) if isinstance(extensions, dict) else ""


def _number(value: Any, default: Any) -> Any:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
