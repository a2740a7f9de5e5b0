"""POST /webhooks/woocommerce/<slug>: signature, ping, status transitions, tracking, replays."""
import json
import random

import pytest
from sqlalchemy import func, select

from smsdesk.models import Customer, Message, Order, WebhookDelivery
from tests.webhooks.payloads import UNPACED, woo_headers, woo_order, woo_tracking_meta

STORE = "Acme Outfitters"
USPS = "9400111899223100000000"
CONFIRMED = f"{STORE}: Hi John, thanks for your order #727! We'll text you when it ships."
SHIPPED = (f"{STORE}: Hi John, your order #727 has shipped with USPS! Tracking number: {USPS} "
           f"https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1={USPS}")
CANCELLED = f"{STORE}: Hi John, your order #727 has been cancelled. Questions? Just reply to this text."
STAGE_OF_KIND = {"order_confirmed": 0, "order_shipped": 1, "order_cancelled": 9}


@pytest.fixture
def store(make):
    return make.store(name=STORE, platform="woocommerce", domain=None, rate_per_second=UNPACED)


def post(client, store, payload, *, topic="order.updated", **kw):
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return client.post(f"/webhooks/woocommerce/{store.slug}", data=body,
                       headers=woo_headers(store, body, topic=topic, **kw))


def count(db_session, model) -> int:
    db_session.fresh()
    return db_session.scalar(select(func.count()).select_from(model))


def texts(twilio_server) -> list[str]:
    return [m["body"] for m in twilio_server.messages]


def completed() -> dict:
    return woo_order(status="completed", meta_data=woo_order()["meta_data"] + [woo_tracking_meta()])


def test_created_then_completed_texts_confirmation_then_shipping(client, store, drain, twilio_server):
    assert post(client, store, woo_order(), topic="order.created").json == {"status": "accepted"}
    drain()
    assert post(client, store, completed()).json == {"status": "accepted"}
    drain()
    assert texts(twilio_server) == [CONFIRMED, SHIPPED]
    assert {m["to"] for m in twilio_server.messages} == {"+15555555555"}


def test_cancelled_order_is_texted_once(client, store, drain, twilio_server):
    post(client, store, woo_order(), topic="order.created")
    post(client, store, woo_order(status="cancelled"))
    post(client, store, woo_order(status="cancelled"))  # WooCommerce fires order.updated on every save
    drain()
    assert texts(twilio_server) == [CONFIRMED, CANCELLED]


def test_refund_of_a_completed_order_is_not_a_cancellation(client, store, drain, twilio_server):
    post(client, store, woo_order(), topic="order.created")
    post(client, store, completed())
    post(client, store, woo_order(status="refunded", refunds=[{"id": 730, "reason": "", "total": "-29.35"}]))
    drain()
    assert texts(twilio_server) == [CONFIRMED, SHIPPED]  # order_refunded is off by default


def test_transition_already_texted_is_not_texted_again(client, store, drain, twilio_server):
    for payload in (woo_order(), completed(), woo_order(status="processing"), completed()):
        post(client, store, payload)  # each with a new delivery id
        drain()
    assert texts(twilio_server) == [CONFIRMED, SHIPPED]


@pytest.mark.parametrize("seed", range(4))
def test_replayed_and_shuffled_deliveries_never_text_twice_or_backwards(client, store, db_session, drain,
                                                                         twilio_server, seed):
    deliveries = [("order.created", woo_order(), "d-1"), ("order.updated", woo_order(status="on-hold"), "d-2"),
                  ("order.updated", completed(), "d-3")]
    deliveries = deliveries * 2 + [(topic, payload, None) for topic, payload, _ in deliveries]
    random.Random(seed).shuffle(deliveries)
    for topic, payload, delivery_id in deliveries:
        assert post(client, store, payload, topic=topic, delivery_id=delivery_id).status_code == 200
        drain()
    db_session.fresh()
    kinds = list(db_session.scalars(select(Message.kind).order_by(Message.id)))
    assert len(kinds) == len(set(kinds)) == len(twilio_server.messages)
    assert [STAGE_OF_KIND[k] for k in kinds] == sorted(STAGE_OF_KIND[k] for k in kinds)
    assert kinds[-1] == "order_shipped"


@pytest.mark.parametrize("status", ["pending", "checkout-draft"])
def test_unpaid_order_is_not_texted(client, store, db_session, status):
    assert post(client, store, woo_order(status=status), topic="order.created").json == {"status": "ignored"}
    assert count(db_session, Message) == 0


def test_failed_payment_is_recorded_without_text(client, store, db_session):
    assert post(client, store, woo_order(status="failed"), topic="order.created").json == {"status": "accepted"}
    assert count(db_session, Message) == 0
    assert db_session.scalar(select(Order.status)) == "declined"


def test_custom_tracking_provider_and_link(client, store, drain, twilio_server):
    meta = woo_tracking_meta("AB123", provider="", custom_tracking_provider="Pöstli Express 🚚",
                             custom_tracking_link="https://track.example.ch/AB123")
    post(client, store, woo_order(status="completed", meta_data=[meta]))
    drain()
    assert texts(twilio_server) == [f"{STORE}: Hi John, your order #727 has shipped with Pöstli Express 🚚! "
                                    "Tracking number: AB123 https://track.example.ch/AB123"]


def test_completed_without_tracking_still_says_shipped(client, store, drain, twilio_server):
    post(client, store, woo_order(status="completed"))
    drain()
    assert texts(twilio_server) == [f"{STORE}: Hi John, your order #727 has shipped!"]


def test_ping_without_signature_is_answered_and_records_nothing(client, store, db_session):
    response = client.post(f"/webhooks/woocommerce/{store.slug}", data=b"webhook_id=12",
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)"})
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert count(db_session, WebhookDelivery) == 0


@pytest.mark.parametrize("body", [b"webhook_id=12&status=completed", b"webhook_id=abc", b'{"webhook_id": 12}'])
def test_anything_but_the_exact_ping_needs_a_signature(client, store, body):
    response = client.post(f"/webhooks/woocommerce/{store.slug}", data=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401


def test_bad_signature_is_401_and_writes_nothing(client, store, db_session):
    assert post(client, store, woo_order(), secret="not-the-secret").status_code == 401
    assert count(db_session, WebhookDelivery) == 0 and count(db_session, Order) == 0


def test_same_delivery_twice_is_a_duplicate(client, store, db_session):
    assert post(client, store, woo_order(), delivery_id="same").json["status"] == "accepted"
    assert post(client, store, woo_order(), delivery_id="same").json["status"] == "duplicate"
    assert count(db_session, Message) == 1


def test_order_without_usable_phone_is_recorded_without_text(client, store, db_session):
    order = woo_order(billing=dict(woo_order()["billing"], phone=""))
    assert post(client, store, order).json["status"] == "accepted"
    assert count(db_session, Order) == 1 and count(db_session, Message) == 0


def test_foreign_number_uses_the_billing_country(client, store, db_session):
    billing = dict(woo_order()["billing"], phone="0151 12345678", country="DE", first_name="Jürgen")
    post(client, store, woo_order(billing=billing))
    db_session.fresh()
    customer = db_session.scalar(select(Customer))
    assert (customer.phone, customer.first_name) == ("+4915112345678", "Jürgen")


def test_unknown_store_is_404(client, make):
    body = b"{}"
    store = make.store(platform="woocommerce", domain=None)
    response = client.post("/webhooks/woocommerce/no-such-shop", data=body, headers=woo_headers(store, body))
    assert response.status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"[]"])
def test_malformed_body_is_400(client, store, body):
    assert post(client, store, body).status_code == 400


def test_order_without_id_is_400(client, store):
    order = woo_order()
    del order["id"]
    assert post(client, store, order).status_code == 400


def test_other_topic_is_ignored(client, store, db_session):
    assert post(client, store, {"id": 1}, topic="product.created").json == {"status": "ignored"}
    assert count(db_session, Message) == 0


def test_order_id_longer_than_we_store_is_400(client, store, db_session):
    response = post(client, store, woo_order(id=10 ** 70))
    assert response.status_code == 400 and "longer" in response.json["message"]
    assert count(db_session, Order) == 0
