"""A fake Shopify Admin GraphQL API as a real HTTP server: ``POST /admin/api/<version>/graphql.json``
answering the ``orders(query: "updated_at:>'X' AND updated_at:<='Y'", sortKey: UPDATED_AT)``
connection smsdesk asks for, with Shopify's cost-based throttle: every answer carries
``extensions.cost.throttleStatus``; a query that costs more than the points left is answered
200 with a THROTTLED error, as Shopify does. Orders are GraphQL nodes (``graphql_order``)."""
from __future__ import annotations

import copy
import json
import re
import time
from datetime import datetime
from typing import Any

from tests.support.fake_api import Answer, FakeApi, Recorded

_PATH = re.compile(r"^/admin/api/[0-9]{4}-[0-9]{2}/graphql\.json$")
_WINDOW = re.compile(r"updated_at:>'([^']+)' AND updated_at:<='([^']+)'")


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class ShopifyTestServer(FakeApi):
    name = "shopify-test-server"

    def __init__(self, *, access_token: str = "shpat_test_token") -> None:
        self.access_token = access_token
        super().__init__()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.orders: dict[str, dict] = {}
            self.maximum, self.available, self.restore_rate, self.cost = 2000.0, 2000.0, 100.0, 252.0
            self._restored_at = time.monotonic()

    def put_order(self, node: dict) -> None:
        with self.lock:
            self.orders[node["legacyResourceId"]] = copy.deepcopy(node)

    def route(self, request: Recorded) -> Answer:
        if request.method != "POST" or not _PATH.match(request.path):
            return Answer(404, {"errors": "Not Found"})
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return Answer(401, {"errors": "[API] Invalid API key or access token (unrecognized login or "
                                          "wrong password)"})
        variables = json.loads(request.body)["variables"]
        with self.lock:
            self._restore()
            if self.available < self.cost:
                return Answer(200, {"errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": self._extensions(actual=None)})
            self.available -= self.cost
            nodes = self._window(variables["query"])
        start = int(variables.get("after") or 0)
        page = nodes[start:start + variables["first"]]
        more = start + len(page) < len(nodes)
        return Answer(200, {"data": {"orders": {"nodes": page, "pageInfo": {
            "hasNextPage": more, "endCursor": str(start + len(page)) if page else None}}},
            "extensions": self._extensions(actual=self.cost)})

    def _window(self, search: str) -> list[dict]:
        after, until = (_when(v) for v in _WINDOW.search(search).groups())  # type: ignore[union-attr]
        found = [copy.deepcopy(o) for o in self.orders.values() if after < _when(o["updatedAt"]) <= until]
        return sorted(found, key=lambda o: _when(o["updatedAt"]))

    def _restore(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self._restored_at) * self.restore_rate)
        self._restored_at = now

    def _extensions(self, *, actual: float | None) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": self.cost, "actualQueryCost": actual, "throttleStatus": {
            "maximumAvailable": self.maximum, "currentlyAvailable": self.available,
            "restoreRate": self.restore_rate}}}


def graphql_order(order_id: int, *, updated_at: str, phone: str = "+15125550120", fulfillments: list | None = None,
                  cancelled_at: str | None = None, name: str = "#1001",
                  created_at: str | None = None) -> dict[str, Any]:
    """An Order node as the Admin GraphQL API (2024-10) returns it for smsdesk's query (created
    when it was last updated, unless ``created_at`` says otherwise)."""
    return {
        "id": f"gid://shopify/Order/{order_id}", "legacyResourceId": str(order_id), "name": name,
        "createdAt": created_at or updated_at, "updatedAt": updated_at, "cancelledAt": cancelled_at,
        "phone": phone, "email": "bob.norman@example.com",
        "currencyCode": "USD", "statusPageUrl": f"https://shop.example.com/orders/{order_id}/authenticate?key=k",
        "displayFulfillmentStatus": "FULFILLED" if fulfillments else "UNFULFILLED",
        "currentTotalPriceSet": {"shopMoney": {"amount": "199.65", "currencyCode": "USD"}},
        "customer": {"firstName": "Bob", "lastName": "Norman", "email": "bob.norman@example.com", "phone": None},
        "shippingAddress": {"phone": None, "countryCodeV2": "US", "firstName": "Bob", "lastName": "Norman"},
        "billingAddress": {"phone": None, "countryCodeV2": "US", "firstName": "Bob", "lastName": "Norman"},
        "lineItems": {"nodes": [{"name": "IPod Nano - 8gb", "quantity": 1, "currentQuantity": 1,
                                 "requiresShipping": True}]},
        "fulfillments": fulfillments or [],
        "refunds": [],
    }


def graphql_fulfillment(fulfillment_id: int, *, display_status: str = "FULFILLED", status: str = "SUCCESS",
                        number: str = "1Z2345", company: str = "UPS") -> dict[str, Any]:
    return {"legacyResourceId": str(fulfillment_id), "status": status, "displayStatus": display_status,
            "createdAt": "2026-12-01T10:00:00Z", "updatedAt": "2026-12-01T10:00:00Z",
            "trackingInfo": [{"number": number, "url": f"https://www.ups.com/track?tracknum={number}",
                              "company": company}],
            "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"name": "IPod Nano - 8gb"}}]}}
