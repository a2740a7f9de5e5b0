"""Hostile input at every webhook: never a 5xx, and a refused request writes nothing.

Property-based (hypothesis, mutations of the real samples, VALID signatures so the payload is
really read), plus a table of every case once seen to give a 500.
"""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from smsdesk.models import Conversation, Message, Order, WebhookDelivery
from tests.conftest import PUBLIC_URL, TWILIO_TOKEN
from tests.factories import inbound_sms, shopify_headers, shopify_order, twilio_signature
from tests.support.hostile import (
    HOSTILE_SETTINGS,
    RowCounter,
    dumps,
    hostile_string,
    mutate,
    mutations,
    nested,
)
from tests.webhooks.payloads import (
    GENERIC_SECRET,
    bigcommerce_callback,
    bigcommerce_headers,
    generic_event,
    generic_headers,
    shopify_checkout,
    shopify_fulfillment,
    woo_headers,
    woo_order,
)

SHOPIFY_TOPICS = {"orders/create": shopify_order(), "fulfillments/create": shopify_fulfillment(),
                  "checkouts/create": shopify_checkout(),
                  "refunds/create": shopify_order()["refunds"][0]}
CUSTOMER = {"first_name": "Jonas", "last_name": "Berg", "email": "j@example.com", "phone": "+49 151 12345678",
            "country": "DE", "sms_marketing_consent": True}
ORDER = {"id": "1001", "number": "1001", "total": "10.00", "currency": "EUR", "item_count": 2}
GENERIC_EVENTS = [
    generic_event("order.placed", order=ORDER, customer=CUSTOMER),
    generic_event("shipment.updated", order=ORDER, customer=CUSTOMER,
                  shipment={"id": "s1", "status": "shipped", "tracking_number": "1Z", "items": [{"title": "Hat"}]}),
    generic_event("order.refunded", order=ORDER, refund={"id": "r1", "amount": "1.00", "partial": True}),
    generic_event("checkout.updated", customer=CUSTOMER,
                  checkout={"token": "c1", "total": "5", "currency": "EUR", "items": [{"name": "Hat", "quantity": 2}]}),
]
BIGCOMMERCE_SCOPES = ["store/order/created", "store/order/statusUpdated", "store/shipment/created"]


@pytest.fixture
def stores(make):
    """One store per source, made before the row counts are taken."""
    twilio = make.store(from_number="+15005550006")  # first: a sender belongs to one store
    return {"shopify": make.store(), "woocommerce": make.store(platform="woocommerce", domain=None),
            "bigcommerce": make.store(platform="bigcommerce", domain=None),
            "generic": make.store(platform="generic", domain=None, webhook_secret=GENERIC_SECRET),
            "twilio": twilio}


@pytest.fixture
def rows(engine, stores):
    return RowCounter(engine)


def shopify_post(client, store, topic, body: bytes):
    return client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body, topic=topic))


def woo_post(client, store, body: bytes, topic="order.updated"):
    return client.post(f"/webhooks/woocommerce/{store.slug}", data=body, headers=woo_headers(store, body, topic=topic))


def generic_post(client, store, body: bytes, **kw):
    return client.post(f"/webhooks/generic/{store.slug}", data=body, headers=generic_headers(body, **kw))


def bigcommerce_post(client, store, body: bytes):
    return client.post(f"/webhooks/bigcommerce/{store.slug}", data=body, headers=bigcommerce_headers(store))


def twilio_post(client, path: str, params: dict, query: str = ""):
    """A form post signed over what the server will decode (werkzeug leaves a %-escape that is
    no UTF-8, such as a lone surrogate's, as it is)."""
    body = urlencode(params, encoding="utf-8", errors="surrogatepass")
    environ = EnvironBuilder(method="POST", data=body, content_type="application/x-www-form-urlencoded").get_environ()
    seen = Request(environ).form.to_dict()
    url = path + (f"?{query}" if query else "")
    signature = twilio_signature(TWILIO_TOKEN, PUBLIC_URL + url, seen)
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": signature})


# -- property-based ---------------------------------------------------------------

@given(data=st.data())
@HOSTILE_SETTINGS
def test_shopify_never_500(client, stores, rows, data):
    store = stores["shopify"]
    topic = data.draw(st.sampled_from(sorted(SHOPIFY_TOPICS)))
    body = dumps(mutate(SHOPIFY_TOPICS[topic], data.draw(mutations(SHOPIFY_TOPICS[topic]))))
    rows.check(shopify_post(client, store, topic, body), f"shopify {topic} {body[:200]!r}")


WOO = woo_order()


@given(changes=mutations(WOO), topic=st.sampled_from(["order.created", "order.updated"]))
@HOSTILE_SETTINGS
def test_woocommerce_never_500(client, stores, rows, changes, topic):
    store = stores["woocommerce"]
    body = dumps(mutate(WOO, changes))
    rows.check(woo_post(client, store, body, topic), f"woocommerce {body[:200]!r}")


@given(data=st.data())
@HOSTILE_SETTINGS
def test_bigcommerce_never_500(client, stores, rows, data):
    store = stores["bigcommerce"]
    sample = bigcommerce_callback(data.draw(st.sampled_from(BIGCOMMERCE_SCOPES)), 250, order_id=250)
    body = dumps(mutate(sample, data.draw(mutations(sample))))
    rows.check(bigcommerce_post(client, store, body), f"bigcommerce {body[:200]!r}")


@given(data=st.data())
@HOSTILE_SETTINGS
def test_generic_never_500(client, stores, rows, data):
    store = stores["generic"]
    sample = data.draw(st.sampled_from(GENERIC_EVENTS))
    body = dumps(mutate(sample, data.draw(mutations(sample))))
    rows.check(generic_post(client, store, body), f"generic {body[:200]!r}")


def form_changes(sample: dict) -> st.SearchStrategy:
    return st.lists(st.tuples(st.sampled_from(sorted(sample)), hostile_string), min_size=1, max_size=3)


@given(data=st.data())
@HOSTILE_SETTINGS
def test_twilio_sms_never_500(client, stores, rows, data):
    store = stores["twilio"]
    params = inbound_sms(store, from_="+15025550123", body="Where is my parcel?")
    params.update(data.draw(form_changes(params)))
    rows.check(twilio_post(client, "/webhooks/twilio/sms", params), f"twilio sms {params!r}"[:300])


@given(data=st.data())
@HOSTILE_SETTINGS
def test_twilio_status_never_500(client, rows, data):
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "ErrorCode": "",
              "AccountSid": "AC" + "1" * 32}
    params.update(data.draw(form_changes(params)))
    query = "message_id=" + data.draw(st.sampled_from(["1", "99999999999999999999", "١٢", "²", "-1", "x"]))
    rows.check(twilio_post(client, "/webhooks/twilio/status", params, query), f"twilio status {params!r}"[:300])


# -- the cases once seen as a 500 ---------------------------------------------------

def raw_order(**overrides: str) -> bytes:
    """The Shopify order sample with some fields written as raw JSON text."""
    body = dumps(shopify_order(**{key: f"@@{key}@@" for key in overrides}))
    for key, token in overrides.items():
        body = body.replace(f'"@@{key}@@"'.encode(), token.encode())
    return body


SHOPIFY_CASES = [
    ("NUL in a name", raw_order(email='"a\\u0000@example.com"'), "bad_payload"),
    ("lone surrogate", raw_order(note='"\\ud800"'), "bad_payload"),
    ("NUL in a key", b'{"id": 1, "x\\u0000": 1}', "bad_payload"),
    ("deep nesting", raw_order(note=dumps(nested(40)).decode()), "bad_payload"),
    ("very deep nesting", b"[" * 30_000 + b"]" * 30_000, "bad_payload"),
    ("NaN", raw_order(total_price="NaN"), "bad_payload"),
    ("Infinity", raw_order(total_price="-Infinity"), "bad_payload"),
    ("huge int", raw_order(id="9" * 400), "bad_payload"),
    ("huge float", raw_order(id="1e400"), "bad_payload"),
    ("line items a number", raw_order(line_items="5"), "bad_payload"),
    ("line items an object", raw_order(line_items='{"a": 1}'), "bad_payload"),
    ("id an object", raw_order(id='{"a": 1}'), "bad_payload"),
    ("id a list", raw_order(id="[1]"), "bad_payload"),
    ("id a boolean", raw_order(id="true"), "bad_payload"),
    ("id a float", raw_order(id="1.5"), "bad_payload"),
    ("not UTF-8", b'{"id": "\xff"}', "bad_payload"),
    ("a list", b"[1, 2]", "bad_payload"),
]


@pytest.mark.parametrize(("case", "body", "code"), SHOPIFY_CASES, ids=[case[0] for case in SHOPIFY_CASES])
def test_shopify_hostile_cases_are_400(client, stores, rows, case, body, code):
    response = shopify_post(client, stores["shopify"], "orders/create", body)
    assert response.status_code == 400 and response.json["error"] == code and response.json["message"]
    rows.check(response, case)


@pytest.mark.parametrize(("platform", "body"), [
    ("woocommerce", b'{"id": 727, "status": "processing", "billing": {"first_name": "\\u0000"}}'),
    ("woocommerce", b'{"id": 727, "status": "processing", "line_items": 7}'),
    ("woocommerce", b'{"id": {"a": 1}, "status": "processing"}'),
    ("bigcommerce", b'{"scope": "store/order/created", "data": {"type": "order", "id": NaN}, "hash": "h"}'),
    ("bigcommerce", b'{"scope": "store/order/created", "data": {"type": "order", "id": "\\ud800"}, "hash": "h"}'),
    ("bigcommerce", b'{"scope": "store/order/created", "data": {"type": "order", "id": true}, "hash": "h"}'),
    ("generic", b'{"type": "order.placed", "data": {"order": {"id": "1", "item_count": 99999999999}}}'),
    ("generic", b'{"type": "order.placed", "data": {"order": {"id": 1.5}, "customer": {}}}'),
    ("generic", b'{"type": "order.placed", "data": {"order": {"id": "1"}, "customer": {"first_name": "a\\u0000"}}}'),
])
def test_platform_hostile_cases_are_400(client, stores, rows, platform, body):
    post = {"generic": generic_post, "woocommerce": woo_post, "bigcommerce": bigcommerce_post}[platform]
    response = post(client, stores[platform], body)
    assert response.status_code == 400 and response.json["error"] == "bad_payload"
    rows.check(response, platform)


@pytest.mark.parametrize("stamp", ["9" * 300, "١٢", "1e9", "-1", ""])
def test_generic_timestamp_of_hundreds_of_digits_is_401(client, stores, rows, stamp):
    """No signature is needed to send it, so it must fail cheaply and cleanly."""
    store = stores["generic"]
    body = dumps(GENERIC_EVENTS[0])
    headers = generic_headers(body) | {"webhook-timestamp": stamp}
    response = client.post(f"/webhooks/generic/{store.slug}", data=body, headers=headers)
    assert response.status_code == 401 and response.json["error"] == "invalid_signature"
    rows.check(response, "timestamp")


def test_generic_fresh_timestamp_still_accepted(client, make):
    store = make.store(platform="generic", domain=None, webhook_secret=GENERIC_SECRET)
    body = dumps(GENERIC_EVENTS[0])
    assert generic_post(client, store, body, timestamp=int(time.time())).json == {"status": "accepted"}


def test_webhook_errors_are_json_with_a_code(client, make):
    store = make.store()
    body = dumps(shopify_order())
    wrong = client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body, secret="wrong"))
    unknown = client.post("/webhooks/nowhere", data=body)
    assert (wrong.status_code, wrong.json["error"]) == (401, "invalid_signature") and wrong.json["message"]
    assert (unknown.status_code, unknown.json["error"]) == (404, "not_found") and unknown.json["message"]


def test_nul_in_a_slug_is_404(client, make, rows):
    response = client.post("/webhooks/woocommerce/shop%00x", data=b"{}")
    assert response.status_code == 404 and response.json["error"] == "not_found"
    rows.check(response, "slug")


def test_infinite_refund_total_is_no_500(client, stores, db_session):
    body = b'{"id": 727, "status": "refunded", "refunds": [{"id": 1, "total": "-Infinity"}]}'
    assert woo_post(client, stores["woocommerce"], body).status_code == 200
    db_session.fresh()
    assert db_session.scalar(select(Order)).status == "refunded"


@pytest.mark.parametrize(("body", "stored"), [
    ("Where\x00 is it?", "Where is it?"),
    ("\x00STOP\x00", "STOP"),
    ("caf\udce9 ok", "caf%ED%B3%A9 ok"),  # no UTF-8: werkzeug keeps the escape as text
])
def test_inbound_sms_with_nul_or_surrogates_reaches_the_inbox(client, make, db_session, body, stored):
    store = make.store(from_number="+15005550006")
    response = twilio_post(client, "/webhooks/twilio/sms", inbound_sms(store, from_="+15025550123", body=body))
    assert response.status_code == 200
    db_session.fresh()
    message = db_session.scalar(select(Message).where(Message.body != "").order_by(Message.id))
    assert message.body == stored
    assert db_session.scalar(select(Conversation)) is not None


@pytest.mark.parametrize(("path", "params"), [
    ("/webhooks/twilio/sms", {"MessageSid": "SM" + "a" * 100, "From": "+15025550123", "Body": "hi"}),
    ("/webhooks/twilio/status", {"MessageSid": "SM" + "a" * 100, "MessageStatus": "delivered"}),
])
def test_twilio_sid_longer_than_its_column_is_400(client, rows, path, params):
    response = twilio_post(client, path, dict(params, To="+15005550006"))
    assert response.status_code == 400 and response.json["error"] == "invalid_sid"
    rows.check(response, path)


@pytest.mark.parametrize("params", [
    {"MessageSid": "SM\x00x", "MessageStatus": "delivered"},
    {"MessageSid": "SMx", "MessageStatus": "deliv\x00ered", "ErrorCode": "²"},
])
def test_twilio_status_with_nul_is_not_500(client, rows, params):
    response = twilio_post(client, "/webhooks/twilio/status", params, "message_id=99999999999999999999")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    rows.check(response, "status")


def test_accepted_shopify_order_still_stored(client, make, db_session):
    """The bounds do not refuse a real order."""
    response = shopify_post(client, make.store(), "orders/create", dumps(shopify_order()))
    assert response.json == {"status": "accepted"}
    db_session.fresh()
    assert db_session.scalar(select(Order)) is not None and db_session.scalar(select(WebhookDelivery)) is not None
