"""POST /webhooks/bigcommerce/<slug>: Bearer auth, thin callbacks recorded, then fetched and texted."""
import json
import random

import pytest
from sqlalchemy import func, select

from smsdesk.models import Checkout, Message, Order, WebhookDelivery
from tests.webhooks.payloads import (
    CART_ID,
    bigcommerce_callback,
    bigcommerce_checkout,
    bigcommerce_headers,
    bigcommerce_order,
    bigcommerce_shipment,
    bigcommerce_shipping_address,
)

STORE = "Acme Outfitters"
USPS_URL = "http://trkcnfrm1.smi.usps.com/PTSInternetWeb/InterLabelInquiry.do?strOrigTrackNum=EJ958083578US"
CONFIRMED = f"{STORE}: Hi Jane, thanks for your order #250! We'll text you when it ships."
SHIPPED = f"{STORE}: Hi Jane, your order #250 has shipped with USPS! Tracking number: EJ958083578US {USPS_URL}"
DELIVERED = f"{STORE}: Hi Jane, your order #250 has been delivered. Enjoy! Questions? Just reply to this text."
CANCELLED = f"{STORE}: Hi Jane, your order #250 has been cancelled. Questions? Just reply to this text."
CREATED, STATUS, SHIPMENT = "store/order/created", "store/order/statusUpdated", "store/shipment/created"
ABANDONED = "store/cart/abandoned"


@pytest.fixture
def store(bigcommerce_store):
    return bigcommerce_store


def post(client, store, payload, **kw):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(f"/webhooks/bigcommerce/{store.slug}", data=body, headers=bigcommerce_headers(store, **kw))


def count(db_session, model) -> int:
    db_session.fresh()
    return db_session.scalar(select(func.count()).select_from(model))


def texts(twilio_server) -> list[str]:
    return [m["body"] for m in twilio_server.messages]


def timeline(api) -> list:
    """(server change, callback) for placed -> shipped -> delivered of order 250."""
    return [
        (lambda: api.put_order(bigcommerce_order(status_id=11)), bigcommerce_callback(CREATED, 250)),
        (lambda: (api.add_shipment(250, bigcommerce_shipment(250)), api.put_order(bigcommerce_order(status_id=2))),
         bigcommerce_callback(SHIPMENT, 12, order_id=250)),
        (lambda: None, bigcommerce_callback(STATUS, 250)),  # the status change to Shipped, after the shipment
        (lambda: api.put_order(bigcommerce_order(status_id=10)), bigcommerce_callback(STATUS, 250)),
    ]


def test_callback_is_recorded_pending_and_fetched_by_the_job(client, store, db_session, bigcommerce_api, fetch):
    bigcommerce_api.put_order(bigcommerce_order(status_id=11))
    callback = bigcommerce_callback(CREATED, 250)
    assert post(client, store, callback).json == {"status": "accepted"}
    assert bigcommerce_api.requests == []  # no network call inside the webhook request
    db_session.fresh()
    delivery = db_session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.payload, delivery.topic) == ("pending", callback, CREATED)
    assert fetch() == 1
    db_session.fresh()
    assert db_session.scalar(select(WebhookDelivery.status)) == "processed"
    assert [r.path for r in bigcommerce_api.requests] == ["/stores/abc123/v2/orders/250",
                                                          "/stores/abc123/v2/orders/250/shipping_addresses"]
    assert {r.headers["X-Auth-Token"] for r in bigcommerce_api.requests} == {"bc-test-token"}


def test_life_cycle_texts_each_stage_once(client, store, bigcommerce_api, fetch, drain, twilio_server):
    for change, callback in timeline(bigcommerce_api):
        change()
        assert post(client, store, callback).json == {"status": "accepted"}
        fetch()
        drain()
    assert texts(twilio_server) == [CONFIRMED, SHIPPED, DELIVERED]
    assert {m["to"] for m in twilio_server.messages} == {"+15125550120"}


@pytest.mark.parametrize("status_id", [5])  # 4 Refunded, 6 Declined: test_refund_words.py
def test_cancelled_order_is_texted_once(client, store, bigcommerce_api, fetch, drain, twilio_server, status_id):
    bigcommerce_api.put_order(bigcommerce_order(status_id=11))
    post(client, store, bigcommerce_callback(CREATED, 250))
    fetch()
    bigcommerce_api.put_order(bigcommerce_order(status_id=status_id))
    post(client, store, bigcommerce_callback(STATUS, 250))
    post(client, store, bigcommerce_callback(STATUS, 250))
    fetch()
    drain()
    assert texts(twilio_server) == [CONFIRMED, CANCELLED]


@pytest.mark.parametrize("seed", range(4))
def test_replayed_and_late_callbacks_never_text_twice_or_backwards(client, store, bigcommerce_api, fetch, drain,
                                                                   twilio_server, seed):
    rng, posted = random.Random(seed), []
    for change, callback in timeline(bigcommerce_api):
        change()
        late = rng.sample(posted, k=min(2, len(posted)))
        renewed = [dict(c, hash=f"{c['hash']}-again") for c in late]  # the same event sent as a new one
        batch = [callback, callback] + late + renewed
        rng.shuffle(batch)
        for payload in batch:
            assert post(client, store, payload).status_code == 200
        fetch()
        drain()
        posted.append(callback)
    assert texts(twilio_server) == [CONFIRMED, SHIPPED, DELIVERED]


def test_shipment_before_the_order_callback_texts_shipped_only(client, store, bigcommerce_api, fetch, drain,
                                                               twilio_server):
    bigcommerce_api.add_shipment(250, bigcommerce_shipment(250))
    bigcommerce_api.put_order(bigcommerce_order(status_id=2))
    post(client, store, bigcommerce_callback(SHIPMENT, 12, order_id=250))
    post(client, store, bigcommerce_callback(CREATED, 250))  # arrives late, order already shipped
    fetch()
    drain()
    assert texts(twilio_server) == [SHIPPED]


def test_awaiting_pickup_texts_ready_for_pickup(client, store, bigcommerce_api, fetch, drain, twilio_server):
    bigcommerce_api.put_order(bigcommerce_order(status_id=8))
    post(client, store, bigcommerce_callback(STATUS, 250))
    fetch()
    drain()
    assert texts(twilio_server) == [f"{STORE}: Hi Jane, your order #250 is ready for pickup. "
                                    "Please show this text when you collect it."]


@pytest.mark.parametrize("status_id", [0, 1, 12, 13])
def test_statuses_that_say_nothing_to_the_customer(client, store, db_session, bigcommerce_api, fetch, status_id):
    bigcommerce_api.put_order(bigcommerce_order(status_id=status_id))
    post(client, store, bigcommerce_callback(STATUS, 250))
    fetch()
    assert count(db_session, Message) == 0
    assert db_session.scalar(select(WebhookDelivery.status)) == "processed"


def test_phone_from_the_shipping_address_when_billing_has_none(client, store, db_session, bigcommerce_api, fetch,
                                                               drain, twilio_server):
    order = bigcommerce_order(status_id=11)
    order["billing_address"]["phone"] = ""
    bigcommerce_api.put_order(order, shipping_addresses=[
        bigcommerce_shipping_address(250, phone="07700 900123", country_iso2="GB")])
    post(client, store, bigcommerce_callback(CREATED, 250))
    fetch()
    drain()
    assert [m["to"] for m in twilio_server.messages] == ["+447700900123"]


def test_order_without_usable_phone_is_recorded_without_text(client, store, db_session, bigcommerce_api, fetch):
    order = bigcommerce_order(status_id=11)
    order["billing_address"]["phone"] = "n/a"
    bigcommerce_api.put_order(order)  # no shipping addresses: the API answers 204
    post(client, store, bigcommerce_callback(CREATED, 250))
    fetch()
    assert count(db_session, Order) == 1 and count(db_session, Message) == 0


def test_same_hash_twice_is_a_duplicate(client, store, db_session):
    callback = bigcommerce_callback(CREATED, 250)
    assert post(client, store, callback).json["status"] == "accepted"
    assert post(client, store, callback).json["status"] == "duplicate"
    assert count(db_session, WebhookDelivery) == 1


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer wrong-secret"},
    {"Authorization": ""},
    {"Authorization": "Basic c2VjcmV0"},
])
def test_bad_auth_is_401_and_writes_nothing(client, store, db_session, headers):
    body = json.dumps(bigcommerce_callback(CREATED, 250)).encode()
    response = client.post(f"/webhooks/bigcommerce/{store.slug}", data=body,
                           headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    assert count(db_session, WebhookDelivery) == 0


@pytest.mark.parametrize("payload", [
    b"{oops",
    {"store_id": "1025646", "data": {"type": "order", "id": 250}},
    {"scope": CREATED, "data": {"type": "order"}, "hash": "h1"},
    {"scope": CREATED, "data": "250", "hash": "h2"},
    {"scope": SHIPMENT, "data": {"type": "shipment", "id": 12}, "hash": "h3"},
    {"scope": CREATED, "data": {"type": "order", "id": "250/../../v3/catalog"}, "hash": "h4"},
    {"scope": ABANDONED, "data": {"type": "cart", "id": "../v2/orders"}, "hash": "h5"},
])
def test_malformed_callback_is_400(client, store, db_session, payload):
    response = post(client, store, payload)
    assert response.status_code == 400 and response.json["message"]
    assert count(db_session, WebhookDelivery) == 0


def test_other_scope_is_ignored_and_never_fetched(client, store, db_session, fetch, bigcommerce_api):
    assert post(client, store, bigcommerce_callback("store/product/updated", 7)).json == {"status": "ignored"}
    assert fetch() == 0 and bigcommerce_api.requests == []


# -- abandoned carts (the events only; services/checkouts.py decides what to send) -----------

def test_abandoned_cart_is_recorded_as_a_checkout(client, store, db_session, bigcommerce_api, fetch):
    bigcommerce_api.put_checkout(bigcommerce_checkout())
    assert post(client, store, bigcommerce_callback(ABANDONED, CART_ID)).json == {"status": "accepted"}
    fetch()
    db_session.fresh()
    checkout = db_session.scalar(select(Checkout))
    assert (checkout.token, checkout.phone, checkout.total, checkout.currency) == (
        CART_ID, "+15125550134", "54.00", "USD")
    assert checkout.recovery_url == f"https://shop.example.com/cart.php?action=load&id={CART_ID}&token=rc-09346904"
    assert checkout.items == [{"title": "Wool Mittens", "quantity": 1}, {"title": "Knit Scarf", "quantity": 2}]
    assert checkout.marketing_consent is False  # BigCommerce has no SMS consent to pass on


def test_abandoned_cart_phone_from_the_shipping_consignment(client, store, db_session, bigcommerce_api, fetch):
    checkout = bigcommerce_checkout(consignments=[{"id": "c1", "address": {"phone": "07700 900123",
                                                                           "country_code": "GB"}}])
    checkout["billing_address"]["phone"] = ""
    bigcommerce_api.put_checkout(checkout)
    post(client, store, bigcommerce_callback(ABANDONED, CART_ID))
    fetch()
    db_session.fresh()
    assert db_session.scalar(select(Checkout.phone)) == "+447700900123"


def test_cart_gone_before_the_fetch_gives_nothing(client, store, db_session, bigcommerce_api, fetch):
    post(client, store, bigcommerce_callback(ABANDONED, CART_ID))  # bought in the meantime: 404
    fetch()
    assert count(db_session, Checkout) == 0
    assert db_session.scalar(select(WebhookDelivery.status)) == "processed"


def test_order_remembers_its_cart(client, store, db_session, bigcommerce_api, fetch):
    bigcommerce_api.put_order(bigcommerce_order(status_id=11, cart_id=CART_ID))
    post(client, store, bigcommerce_callback(CREATED, 250))
    fetch()
    db_session.fresh()
    assert db_session.scalar(select(Order.checkout_token)) == CART_ID
