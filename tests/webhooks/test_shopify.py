"""POST /webhooks/shopify: signature, store lookup, dedupe, and the order_confirmed text."""
import json

import pytest
from sqlalchemy import func, select

from smsdesk.models import Customer, Message, Order, WebhookDelivery
from tests.factories import shopify_headers, shopify_order


def post_order(client, store, order, **kw):
    body = json.dumps(order).encode()
    return client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body, **kw))


def count(db_session, model) -> int:
    db_session.fresh()
    return db_session.scalar(select(func.count()).select_from(model))


def test_order_create_queues_confirmation_for_e164_phone(client, make, db_session):
    store = make.store(name="Acme Outfitters")
    response = post_order(client, store, shopify_order(phone=None))
    assert response.status_code == 200 and response.json == {"status": "accepted"}
    message = db_session.scalar(select(Message))
    assert message.kind == "order_confirmed" and message.status.value == "queued"
    assert "1001" in message.body and message.body.startswith("Acme Outfitters")
    # shipping_address.phone "+1(502)-459-2181" normalized with the address country
    assert db_session.get(Customer, message.customer_id).phone == "+15024592181"
    order = db_session.scalar(select(Order))
    assert (order.external_id, order.number, order.status) == ("450789469", "1001", "placed")


def test_same_event_twice_queues_one_text(client, make, db_session):
    store = make.store()
    first = post_order(client, store, shopify_order(), event_id="evt-same")
    second = post_order(client, store, shopify_order(), event_id="evt-same")
    assert first.json["status"] == "accepted" and second.json["status"] == "duplicate"
    assert count(db_session, Message) == 1 and count(db_session, WebhookDelivery) == 1


def test_redelivery_with_new_event_id_still_one_text(client, make, db_session):
    store = make.store()
    post_order(client, store, shopify_order())
    assert post_order(client, store, shopify_order()).json["status"] == "accepted"
    assert count(db_session, Message) == 1  # message dedupe_key catches a re-sent event


def test_wrong_hmac_is_401_and_writes_nothing(client, make, db_session):
    store = make.store()
    response = post_order(client, store, shopify_order(), secret="not-the-secret")
    assert response.status_code == 401 and response.json["status"] == "error"
    assert count(db_session, Message) == 0 and count(db_session, Order) == 0
    assert count(db_session, WebhookDelivery) == 0


def test_missing_hmac_is_401(client, make):
    store = make.store()
    body = json.dumps(shopify_order()).encode()
    headers = shopify_headers(store, body)
    del headers["X-Shopify-Hmac-Sha256"]
    assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 401


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_malformed_body_is_400(client, make, db_session, body):
    store = make.store()
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body))
    assert response.status_code == 400 and response.json["message"]
    assert count(db_session, WebhookDelivery) == 0


def test_order_without_id_is_400(client, make):
    store = make.store()
    order = shopify_order()
    del order["id"]
    assert post_order(client, store, order).status_code == 400


def test_unknown_shop_is_404(client, make):
    store = make.store()
    body = json.dumps(shopify_order()).encode()
    headers = shopify_headers(store, body) | {"X-Shopify-Shop-Domain": "nobody.myshopify.com"}
    assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 404


def test_body_over_limit_is_413(client, make, db_session):
    store = make.store()
    order = shopify_order(note="x" * 70_000)  # the test app allows 64 KiB
    response = post_order(client, store, order)
    assert response.status_code == 413 and response.json["status"] == "error"
    assert count(db_session, Order) == 0


def test_order_without_usable_phone_is_recorded_without_text(client, make, db_session):
    store = make.store()
    order = shopify_order(phone=None, customer=None, billing_address=None,
                          shipping_address={"phone": "555-555-SHIP", "country_code": "US"})
    assert post_order(client, store, order).json["status"] == "accepted"
    assert count(db_session, Order) == 1 and count(db_session, Message) == 0


def test_other_topic_is_ignored(client, make, db_session):
    store = make.store()
    response = post_order(client, store, {"id": 1}, topic="products/create")
    assert response.json == {"status": "ignored"}
    assert count(db_session, Message) == 0
