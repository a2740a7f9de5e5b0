"""One harness over the four shop platforms: a store of that platform and a way to deliver its
webhooks (for BigCommerce: put the order on the fake API, post the callback, run the fetch job),
so a test can run the same story on every platform from one table."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smsdesk.platforms.bigcommerce.mapping import SHIPMENT_SCOPE
from tests.factories import shopify_headers
from tests.webhooks.payloads import (
    GENERIC_SECRET,
    UNPACED,
    as_body,
    bigcommerce_callback,
    bigcommerce_headers,
    generic_headers,
    woo_headers,
)


@dataclass
class Shop:
    """One platform's store and a way to deliver its webhooks (and, for BigCommerce, its API)."""

    platform: str
    client: Any
    store: Any
    request: Any

    def post(self, topic: str, payload: dict) -> None:
        response = getattr(self, f"_post_{self.platform}")(topic, payload)
        assert response.status_code == 200, response.get_data(as_text=True)

    def _post_shopify(self, topic, payload):
        body = json.dumps(payload).encode()
        return self.client.post("/webhooks/shopify", data=body, headers=shopify_headers(self.store, body, topic=topic))

    def _post_woocommerce(self, topic, payload):
        body = json.dumps(payload).encode()
        return self.client.post(f"/webhooks/woocommerce/{self.store.slug}", data=body,
                                headers=woo_headers(self.store, body, topic=topic))

    def _post_generic(self, topic, payload):
        body = as_body(payload)
        return self.client.post(f"/webhooks/generic/{self.store.slug}", data=body, headers=generic_headers(body))

    def bigcommerce(self, order: dict, scope: str = "store/order/statusUpdated", *,
                    shipment: dict | None = None, products: list | None = None) -> None:
        """Put the order (and a new shipment) on the fake API, post the callback and run the fetch job."""
        api = self.request.getfixturevalue("bigcommerce_api")
        api.put_order(order, products=products)
        callback = bigcommerce_callback(scope, order["id"])
        if shipment is not None:
            api.add_shipment(order["id"], shipment)
            callback = bigcommerce_callback(SHIPMENT_SCOPE, shipment["id"], order_id=order["id"])
        body = json.dumps(callback).encode()
        response = self.client.post(f"/webhooks/bigcommerce/{self.store.slug}", data=body,
                                    headers=bigcommerce_headers(self.store))
        assert response.status_code == 200
        self.request.getfixturevalue("fetch")()


def shop_for(platform: str, request, make, client) -> Shop:
    if platform == "bigcommerce":
        store = request.getfixturevalue("bigcommerce_store")
    elif platform == "generic":
        store = make.store(platform="generic", domain=None, webhook_secret=GENERIC_SECRET, rate_per_second=UNPACED)
    else:
        store = make.store(platform=platform, rate_per_second=UNPACED,
                           **({"domain": None} if platform == "woocommerce" else {}))
    return Shop(platform, client, store, request)
