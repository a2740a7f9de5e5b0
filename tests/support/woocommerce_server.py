"""A fake WooCommerce REST API v3 as a real HTTP server: ``GET /wp-json/wc/v3/orders`` with
``modified_after`` / ``modified_before`` (GMT with ``dates_are_gmt``), ``page`` and ``per_page``,
the ``X-WP-Total`` / ``X-WP-TotalPages`` headers, and HTTP Basic consumer key/secret."""
from __future__ import annotations

import base64
import copy
from datetime import datetime

from tests.support.fake_api import Answer, FakeApi, Recorded


class WooCommerceTestServer(FakeApi):
    name = "woocommerce-test-server"

    def __init__(self, *, key: str = "ck_test_key", secret: str = "cs_test_secret") -> None:
        self.key, self.secret = key, secret
        super().__init__()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.orders: dict[int, dict] = {}

    def put_order(self, order: dict) -> None:
        with self.lock:
            self.orders[int(order["id"])] = copy.deepcopy(order)

    def route(self, request: Recorded) -> Answer:
        if request.path.rstrip("/") != "/wp-json/wc/v3/orders":
            return Answer(404, {"code": "rest_no_route", "message": "No route was found", "data": {"status": 404}})
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Answer(401, {"code": "woocommerce_rest_authentication_error", "message": "Invalid signature",
                                "data": {"status": 401}})
        after = datetime.fromisoformat(request.query["modified_after"])
        before = datetime.fromisoformat(request.query["modified_before"])
        with self.lock:
            found = sorted((copy.deepcopy(o) for o in self.orders.values()
                            if after < datetime.fromisoformat(o["date_modified_gmt"]) <= before),
                           key=lambda o: o["date_modified_gmt"])
        per_page, page = int(request.query.get("per_page", 10)), int(request.query.get("page", 1))
        pages = max(-(-len(found) // per_page), 1)
        return Answer(200, found[(page - 1) * per_page:page * per_page],
                      {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(pages)})
