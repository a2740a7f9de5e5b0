"""GET /api/stores/<slug>/deliveries: recent webhook deliveries with status, error and attempts."""
import json

import pytest

from tests.webhooks.payloads import bigcommerce_callback, bigcommerce_headers, bigcommerce_order


@pytest.fixture
def owner(make):
    return {"Authorization": f"Bearer {make.token(role='owner')}"}


def post_callback(client, store, order_id: int):
    body = json.dumps(bigcommerce_callback("store/order/created", order_id)).encode()
    assert client.post(f"/webhooks/bigcommerce/{store.slug}", data=body,
                       headers=bigcommerce_headers(store)).status_code == 200


def test_failed_delivery_is_listed_with_its_reason(client, owner, bigcommerce_store, bigcommerce_api, fetch):
    bigcommerce_api.put_order(bigcommerce_order(250, status_id=11))
    post_callback(client, bigcommerce_store, 250)
    post_callback(client, bigcommerce_store, 404)  # an order the API does not know
    fetch()
    response = client.get(f"/api/stores/{bigcommerce_store.slug}/deliveries?status=failed", headers=owner)
    assert response.status_code == 200
    [failed] = response.json["deliveries"]
    assert (failed["status"], failed["attempts"], failed["error"], failed["topic"]) == (
        "failed", 1, "GET /v2/orders/404: HTTP 404", "store/order/created")
    everything = client.get(f"/api/stores/{bigcommerce_store.slug}/deliveries", headers=owner).json["deliveries"]
    assert sorted(d["status"] for d in everything) == ["failed", "processed"]
    assert "payload" not in everything[0]


@pytest.mark.parametrize(("query", "code"), [("status=broken", "invalid_status"), ("limit=0", "invalid_limit"),
                                             ("limit=abc", "invalid_limit"), ("limit=100000", "invalid_limit")])
def test_bad_filters_are_400(client, owner, make, query, code):
    store = make.store()
    response = client.get(f"/api/stores/{store.slug}/deliveries?{query}", headers=owner)
    assert response.status_code == 400 and response.json["error"] == code


def test_unknown_store_is_404(client, owner):
    assert client.get("/api/stores/nope/deliveries", headers=owner).status_code == 404


def test_needs_an_owner_token(client, make):
    store = make.store()
    agent = {"Authorization": f"Bearer {make.token(role='agent')}"}
    assert client.get(f"/api/stores/{store.slug}/deliveries", headers=agent).status_code == 403
    assert client.get(f"/api/stores/{store.slug}/deliveries").status_code == 401


def test_deliveries_page_newest_first(client, owner, bigcommerce_store, bigcommerce_api):
    for order_id in (301, 302, 303):
        post_callback(client, bigcommerce_store, order_id)
    url = f"/api/stores/{bigcommerce_store.slug}/deliveries?limit=2"
    first = client.get(url, headers=owner).json
    second = client.get(f"{url}&cursor={first['next_cursor']}", headers=owner).json
    ids = [d["id"] for d in first["deliveries"] + second["deliveries"]]
    assert len(first["deliveries"]) == 2 and second["next_cursor"] is None
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    bad = client.get(f"{url}&cursor=nope", headers=owner)
    assert (bad.status_code, bad.json["error"]) == (400, "invalid_cursor")
