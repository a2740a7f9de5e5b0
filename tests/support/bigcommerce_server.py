"""A real, BigCommerce-compatible HTTP server for tests: the reads smsdesk makes, read-only.

It serves ``GET /stores/{store_hash}/v2/orders/{id}`` (and ``/shipping_addresses``,
``/shipments``, ``/products``) in the shapes of tests/samples/bigcommerce, the catch-up listing
``GET /v2/orders?min_date_modified=&max_date_modified=&page=&limit=``, plus the V3
``/checkouts/{id}`` and ``/carts/{id}?include=redirect_urls`` of an abandoned cart (wrapped
in ``{"data": ...}`` as V3 answers are; 404 once the cart is gone), checks ``X-Auth-Token``,
and answers an empty collection with 204 No Content like BigCommerce does. Recording,
``fail_next`` and ``down`` come from tests/support/fake_api.py.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from tests.support.fake_api import Answer, FakeApi, Recorded

_ORDER_PATH = re.compile(r"^/stores/([^/]+)/v2/orders/(\d+)(?:/(shipping_addresses|shipments|products))?/?$")
_LIST_PATH = re.compile(r"^/stores/([^/]+)/v2/orders/?$")
_V3_PATH = re.compile(r"^/stores/([^/]+)/v3/(checkouts|carts)/([0-9a-fA-F-]+)$")
_NOT_FOUND = Answer(404, [{"status": 404, "message": "The requested resource was not found."}])


class BigCommerceTestServer(FakeApi):
    """Serve orders put in with ``put_order`` for one store hash and API token."""

    name = "bigcommerce-test-server"

    def __init__(self, *, store_hash: str = "abc123", api_token: str = "bc-test-token") -> None:
        self.store_hash, self.api_token = store_hash, api_token
        super().__init__()

    def reset(self) -> None:
        """Forget orders, requests and queued failures; come back up."""
        super().reset()
        with self.lock:
            self._orders: dict[int, dict] = {}
            self._addresses: dict[int, list] = {}
            self._shipments: dict[int, list] = {}
            self._products: dict[int, list] = {}
            self._checkouts: dict[str, dict] = {}

    def route(self, request: Recorded) -> Answer:
        route = _ORDER_PATH.match(request.path) or _LIST_PATH.match(request.path) or _V3_PATH.match(request.path)
        if route is None or route.group(1) != self.store_hash:
            return _NOT_FOUND
        if request.headers.get("X-Auth-Token") != self.api_token:
            return Answer(401, [{"status": 401, "message": "You are not authorized."}])
        if route.re is _LIST_PATH:
            found: Any = self._list_orders(request.query)
        elif route.re is _V3_PATH:
            found = self._lookup_cart(route.group(3), route.group(2))
        else:
            found = self._lookup(int(route.group(2)), route.group(3))
        if found is None:
            return _NOT_FOUND
        return Answer(204) if found == [] else Answer(200, found)

    def put_order(self, order: dict, *, shipping_addresses: list | None = None, products: list | None = None) -> None:
        """Serve ``order`` (as GET /v2/orders/{id} returns it) from now on, replacing any earlier state."""
        with self.lock:
            self._orders[int(order["id"])] = copy.deepcopy(order)
            if shipping_addresses is not None:
                self._addresses[int(order["id"])] = copy.deepcopy(shipping_addresses)
            if products is not None:
                self._products[int(order["id"])] = copy.deepcopy(products)

    def put_checkout(self, checkout: dict) -> None:
        """Serve a V3 checkout (its id is the cart id) and its cart's redirect URLs."""
        with self.lock:
            self._checkouts[checkout["id"]] = copy.deepcopy(checkout)

    def remove_checkout(self, cart_id: str) -> None:
        """The cart was bought or deleted: 404 from now on."""
        with self.lock:
            self._checkouts.pop(cart_id, None)

    def add_shipment(self, order_id: int, shipment: dict) -> None:
        with self.lock:
            self._shipments.setdefault(order_id, []).append(copy.deepcopy(shipment))

    def _lookup_cart(self, cart_id: str, resource: str) -> dict | None:
        with self.lock:
            checkout = copy.deepcopy(self._checkouts.get(cart_id))
        if checkout is None:
            return None
        if resource == "checkouts":
            return {"data": checkout, "meta": {}}
        cart = checkout["cart"] | {"redirect_urls": {
            "cart_url": f"https://shop.example.com/cart.php?action=load&id={cart_id}&token=rc-{cart_id[:8]}",
            "checkout_url": f"https://shop.example.com/cart.php?action=loadInCheckout&id={cart_id}"}}
        return {"data": cart, "meta": {}}

    def _lookup(self, order_id: int, collection: str | None) -> Any:
        with self.lock:
            if order_id not in self._orders:
                return None
            if collection == "shipping_addresses":
                return copy.deepcopy(self._addresses.get(order_id, []))
            if collection == "shipments":
                return copy.deepcopy(self._shipments.get(order_id, []))
            if collection == "products":
                return copy.deepcopy(self._products.get(order_id, []))
            return copy.deepcopy(self._orders[order_id])

    def _list_orders(self, query: dict[str, str]) -> list[dict]:
        """GET /v2/orders?min_date_modified=&max_date_modified=&sort=date_modified:asc&page=&limit=."""
        low, high = (datetime.fromisoformat(query[k]) for k in ("min_date_modified", "max_date_modified"))
        with self.lock:
            found = sorted((copy.deepcopy(o) for o in self._orders.values()
                            if low <= parsedate_to_datetime(o["date_modified"]) <= high),
                           key=lambda o: parsedate_to_datetime(o["date_modified"]))
        limit, page = int(query.get("limit", 50)), int(query.get("page", 1))
        return found[(page - 1) * limit:page * limit]
