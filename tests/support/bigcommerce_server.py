"""A real, BigCommerce-compatible HTTP server for tests: the reads smsdesk makes, read-only.

It serves ``GET /stores/{store_hash}/v2/orders/{id}`` (and ``/shipping_addresses``,
``/shipments``, ``/products``) in the shapes of tests/samples/bigcommerce, plus the V3
``/checkouts/{id}`` and ``/carts/{id}?include=redirect_urls`` of an abandoned cart (wrapped
in ``{"data": ...}`` as V3 answers are; 404 once the cart is gone), checks ``X-Auth-Token``,
answers an empty collection with 204 No Content like BigCommerce does, records every
request, and fails on demand: ``fail_next(status, count)`` answers errors (with an optional
Retry-After), ``down = True`` drops every connection without an answer.
"""
from __future__ import annotations

import copy
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_ORDER_PATH = re.compile(r"^/stores/([^/]+)/v2/orders/(\d+)(?:/(shipping_addresses|shipments|products))?/?$")
_LIST_PATH = re.compile(r"^/stores/([^/]+)/v2/orders/?$")
_V3_PATH = re.compile(r"^/stores/([^/]+)/v3/(checkouts|carts)/([0-9a-fA-F-]+)$")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: float | None


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    app: BigCommerceTestServer

    def handle_error(self, request, client_address):
        pass  # dropped connections (down mode) are on purpose


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _HttpServer

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        app = self.server.app
        app._record(RecordedRequest(self.command, self.path, dict(self.headers)))
        if app.down:
            self.close_connection = True
            return  # no status line at all: the client sees the connection drop
        failure = app._pop_failure()
        if failure is not None:
            extra = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            return self._send(failure.status, [{"status": failure.status, "title": "Injected failure"}], extra)
        path = urlsplit(self.path).path
        listing = _LIST_PATH.match(path)
        authorized = self.headers.get("X-Auth-Token") == app.api_token
        if listing is not None and listing.group(1) == app.store_hash and authorized:
            found = app._list_orders(dict(parse_qsl(urlsplit(self.path).query)))
            return self._send(204, None) if not found else self._send(200, found)
        route = _ORDER_PATH.match(path) or _V3_PATH.match(path)
        if route is None or route.group(1) != app.store_hash:
            return self._send(404, [{"status": 404, "message": "The requested resource was not found."}])
        if self.headers.get("X-Auth-Token") != app.api_token:
            return self._send(401, [{"status": 401, "message": "You are not authorized."}])
        if route.re is _V3_PATH:
            found = app._lookup_cart(route.group(3), route.group(2))
        else:
            found = app._lookup(int(route.group(2)), route.group(3))
        if found is None:
            return self._send(404, [{"status": 404, "message": "The requested resource was not found."}])
        if found == []:
            return self._send(204, None)
        return self._send(200, found)

    do_POST = do_PUT = do_DELETE = do_GET

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class BigCommerceTestServer:
    """Serve orders put in with ``put_order`` for one store hash and API token."""

    def __init__(self, *, store_hash: str = "abc123", api_token: str = "bc-test-token") -> None:
        self.store_hash, self.api_token = store_hash, api_token
        self.down = False
        self._lock = threading.Lock()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    def start(self) -> BigCommerceTestServer:
        self._httpd = _HttpServer(("127.0.0.1", 0), _Handler)
        self._httpd.app = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="bigcommerce-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> BigCommerceTestServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API base to configure on a store (``Store.api_base``)."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget orders, requests and queued failures; come back up."""
        with self._lock:
            self._orders: dict[int, dict] = {}
            self._addresses: dict[int, list] = {}
            self._shipments: dict[int, list] = {}
            self._products: dict[int, list] = {}
            self._checkouts: dict[str, dict] = {}
            self._requests: list[RecordedRequest] = []
            self._failures: deque[_Failure] = deque()
            self.down = False

    def put_order(self, order: dict, *, shipping_addresses: list | None = None, products: list | None = None) -> None:
        """Serve ``order`` (as GET /v2/orders/{id} returns it) from now on, replacing any earlier state."""
        with self._lock:
            self._orders[int(order["id"])] = copy.deepcopy(order)
            if shipping_addresses is not None:
                self._addresses[int(order["id"])] = copy.deepcopy(shipping_addresses)
            if products is not None:
                self._products[int(order["id"])] = copy.deepcopy(products)

    def put_checkout(self, checkout: dict) -> None:
        """Serve a V3 checkout (its id is the cart id) and its cart's redirect URLs."""
        with self._lock:
            self._checkouts[checkout["id"]] = copy.deepcopy(checkout)

    def remove_checkout(self, cart_id: str) -> None:
        """The cart was bought or deleted: 404 from now on."""
        with self._lock:
            self._checkouts.pop(cart_id, None)

    def add_shipment(self, order_id: int, shipment: dict) -> None:
        with self._lock:
            self._shipments.setdefault(order_id, []).append(copy.deepcopy(shipment))

    def fail_next(self, status: int, count: int = 1, *, retry_after: float | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (and Retry-After, if given)."""
        with self._lock:
            self._failures.extend(_Failure(status, retry_after) for _ in range(count))

    def _pop_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _lookup_cart(self, cart_id: str, resource: str) -> dict | None:
        with self._lock:
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
        with self._lock:
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
        with self._lock:
            found = sorted((copy.deepcopy(o) for o in self._orders.values()
                            if low <= parsedate_to_datetime(o["date_modified"]) <= high),
                           key=lambda o: parsedate_to_datetime(o["date_modified"]))
        limit, page = int(query.get("limit", 50)), int(query.get("page", 1))
        return found[(page - 1) * limit:page * limit]

