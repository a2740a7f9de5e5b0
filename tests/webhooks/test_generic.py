"""POST /webhooks/generic/<slug>: Standard Webhooks signatures over smsdesk's own event JSON."""
import base64
import random
import time

import pytest
from sqlalchemy import func, select

from smsdesk.models import Checkout, Customer, Message, MessageStatus, Order, WebhookDelivery
from smsdesk.services.stores import InvalidStore
from tests.webhooks.payloads import GENERIC_KEY, GENERIC_SECRET, UNPACED, as_body, generic_event, generic_headers

STORE = "Beck & Söhne"
STATUS_URL = "https://shop.example.de/orders/1001"
DHL_URL = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434161094042557"
CUSTOMER = {"first_name": "Jonas", "last_name": "Beck", "email": "j@example.org", "phone": "0151 12345678",
            "country": "DE", "sms_marketing_consent": True}
ORDER = {"id": "1001", "number": "1001", "total": "19.90", "currency": "EUR", "status_url": STATUS_URL}
SHIPPED = (f"{STORE}: Hi Jonas, your order #1001 has shipped with DHL! Tracking number: 00340434161094042557 "
           f"{DHL_URL}")
TEXTS = {
    "placed": f"{STORE}: Hi Jonas, thanks for your order #1001! We'll text you when it ships. Details: {STATUS_URL}",
    "shipped": SHIPPED,
    "out_for_delivery": f"{STORE}: Hi Jonas, your order #1001 is out for delivery and should arrive today. "
                        f"Track it: {DHL_URL}",
    "delivered": f"{STORE}: Hi Jonas, your order #1001 has been delivered. Enjoy! Questions? Just reply to this text.",
    "cancelled": f"{STORE}: Hi Jonas, your order #1001 has been cancelled. Questions? Just reply to this text.",
}


@pytest.fixture
def store(make):
    return make.store(name=STORE, platform="generic", domain=None, webhook_secret=GENERIC_SECRET, country="DE",
                      timezone="Europe/Berlin", rate_per_second=UNPACED)


def post(client, store, payload, **kw):
    body = as_body(payload)
    return client.post(f"/webhooks/generic/{store.slug}", data=body, headers=generic_headers(body, **kw))


def count(db_session, model) -> int:
    db_session.fresh()
    return db_session.scalar(select(func.count()).select_from(model))


def texts(twilio_server) -> list[str]:
    return [m["body"] for m in twilio_server.messages]


def shipment(status: str) -> dict:
    return generic_event("shipment.updated", order={"id": "1001"}, shipment={
        "status": status, "tracking_number": "00340434161094042557", "tracking_company": "DHL",
        "tracking_url": DHL_URL})


def life_cycle() -> list[dict]:
    return [generic_event("order.placed", order=ORDER, customer=CUSTOMER), shipment("shipped"),
            shipment("in_transit"), shipment("out_for_delivery"), shipment("delivered")]


def test_life_cycle_texts_each_stage_once(client, store, drain, twilio_server):
    for event in life_cycle():
        assert post(client, store, event).json == {"status": "accepted"}
        drain()
    assert texts(twilio_server) == [TEXTS[s] for s in ("placed", "shipped", "out_for_delivery", "delivered")]
    assert {m["to"] for m in twilio_server.messages} == {"+4915112345678"}


@pytest.mark.parametrize("scheme", ["javascript:alert(1)//", "data:text/html,x", "ftp://files.example/"])
def test_links_in_texts_are_http_only(client, store, drain, twilio_server, scheme):
    order = dict(ORDER, status_url=scheme + "status")
    assert post(client, store, generic_event("order.placed", order=order, customer=CUSTOMER)).status_code == 200
    event = shipment("shipped")
    event["data"]["shipment"]["tracking_url"] = scheme + "track"
    assert post(client, store, event).status_code == 200
    drain()
    placed, shipped = texts(twilio_server)
    assert placed == TEXTS["placed"].replace(f" Details: {STATUS_URL}", "")
    assert shipped == SHIPPED.replace(f" {DHL_URL}", "")


def test_cancelled_order_is_texted_once(client, store, drain, twilio_server):
    post(client, store, generic_event("order.placed", order=ORDER, customer=CUSTOMER))
    cancelled = generic_event("order.cancelled", order=ORDER, customer=CUSTOMER)
    post(client, store, cancelled)
    post(client, store, cancelled)
    drain()
    assert texts(twilio_server) == [TEXTS["placed"], TEXTS["cancelled"]]


@pytest.mark.parametrize("seed", range(4))
def test_replayed_and_shuffled_events_never_text_twice_or_backwards(client, store, db_session, drain,
                                                                    twilio_server, seed):
    deliveries = [(event, f"msg_{i}") for i, event in enumerate(life_cycle())]
    deliveries = deliveries * 2 + [(event, None) for event, _ in deliveries]
    random.Random(seed).shuffle(deliveries)
    for event, msg_id in deliveries:
        assert post(client, store, event, msg_id=msg_id).status_code == 200
        drain()
    order_of = {text: n for n, text in enumerate(TEXTS[s] for s in ("placed", "shipped", "out_for_delivery",
                                                                    "delivered"))}
    sent = texts(twilio_server)
    assert len(sent) == len(set(sent)) and sent[-1] == TEXTS["delivered"]
    assert [order_of[t] for t in sent] == sorted(order_of[t] for t in sent)


def test_delivery_failure_is_a_note(client, store, db_session, drain, twilio_server):
    post(client, store, generic_event("order.placed", order=ORDER, customer=CUSTOMER))
    post(client, store, shipment("failure"))
    drain()
    assert texts(twilio_server) == [TEXTS["placed"]]
    assert count(db_session, Message) == 2
    assert db_session.scalar(select(Message.status).where(Message.kind != "order_confirmed")) == MessageStatus.NOTE


def test_checkout_events_record_the_checkout(client, store, db_session):
    checkout = {"token": "abc", "recovery_url": "https://shop.example.de/cart/abc", "total": "54.00",
                "currency": "eur", "items": [{"title": "Fäustlinge 🧤", "quantity": 2}, {"title": "Mütze"}]}
    assert post(client, store, generic_event("checkout.updated", checkout=checkout,
                                             customer=CUSTOMER)).json["status"] == "accepted"
    db_session.fresh()
    row = db_session.scalar(select(Checkout))
    assert (row.token, row.phone, row.marketing_consent, row.currency) == ("abc", "+4915112345678", True, "EUR")
    assert row.items == [{"title": "Fäustlinge 🧤", "quantity": 2}, {"title": "Mütze", "quantity": 1}]
    post(client, store, generic_event("checkout.completed", checkout={"token": "abc"}))
    db_session.fresh()
    assert db_session.scalar(select(Checkout.status)) == "completed"


def test_several_signatures_one_valid_is_accepted(client, store):
    event = generic_event("order.placed", order=ORDER, customer=CUSTOMER)
    response = post(client, store, event, extra_signatures=("v1,bm90LXRoZS1zaWduYXR1cmU=", "v2,whatever"))
    assert response.json == {"status": "accepted"}


@pytest.mark.parametrize(("key", "skew"), [
    (b"another-key", 0),
    (GENERIC_KEY, -6 * 60),  # seconds: sent 6 minutes ago (a replay)
    (GENERIC_KEY, 6 * 60),
])
def test_bad_signature_or_stale_timestamp_is_401_and_writes_nothing(client, store, db_session, key, skew):
    event = generic_event("order.placed", order=ORDER, customer=CUSTOMER)
    response = post(client, store, event, key=key, timestamp=int(time.time()) + skew)
    assert response.status_code == 401
    assert count(db_session, WebhookDelivery) == 0 and count(db_session, Order) == 0


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_401(client, store, header):
    body = as_body(generic_event("order.placed", order=ORDER, customer=CUSTOMER))
    headers = generic_headers(body)
    del headers[header]
    assert client.post(f"/webhooks/generic/{store.slug}", data=body, headers=headers).status_code == 401


@pytest.mark.parametrize("secret", ["plain-secret", "whsec_", "whsec_not base64!", GENERIC_SECRET[len("whsec_"):]])
def test_generic_store_secret_must_be_whsec_base64(make, secret):
    with pytest.raises(InvalidStore, match="whsec_"):
        make.store(platform="generic", domain=None, webhook_secret=secret)


def test_store_secret_that_is_not_whsec_rejects_everything(client, store, db_session):
    store.webhook_secret = "plain-secret"  # written past validation (an old row)
    db_session.commit()
    assert post(client, store, generic_event("order.placed", order=ORDER, customer=CUSTOMER)).status_code == 401


@pytest.mark.parametrize("padded", [True, False])
def test_secret_with_or_without_base64_padding_verifies(client, make, padded):
    key = bytes(range(32))  # base64 of 32 bytes ends in "=", so dropping it is a real difference
    secret = "whsec_" + base64.b64encode(key).decode()
    assert secret.endswith("=")
    store = make.store(platform="generic", domain=None, webhook_secret=secret if padded else secret.rstrip("="))
    body = as_body(generic_event("order.placed", order=ORDER, customer=CUSTOMER))
    for signing_key, status in ((key, 200), (GENERIC_KEY, 401)):
        headers = generic_headers(body, key=signing_key)
        assert client.post(f"/webhooks/generic/{store.slug}", data=body, headers=headers).status_code == status


def test_same_webhook_id_twice_is_a_duplicate(client, store, db_session):
    event = generic_event("order.placed", order=ORDER, customer=CUSTOMER)
    assert post(client, store, event, msg_id="msg_same").json["status"] == "accepted"
    assert post(client, store, event, msg_id="msg_same").json["status"] == "duplicate"
    assert count(db_session, Message) == 1


@pytest.mark.parametrize("payload", [
    {"data": {}},
    generic_event("order.placed", customer=CUSTOMER),
    generic_event("order.placed", order={"number": "1"}, customer=CUSTOMER),
    generic_event("order.placed", order="1001", customer=CUSTOMER),
    generic_event("order.placed", order=ORDER),
    generic_event("order.placed", order=dict(ORDER, id="x" * 65), customer=CUSTOMER),
    generic_event("shipment.updated", order=ORDER),
    generic_event("shipment.updated", order=ORDER, shipment={"status": "lost_at_sea"}),
    generic_event("checkout.updated", checkout={"recovery_url": "https://x"}, customer=CUSTOMER),
    {"type": "order.placed", "data": ["not", "an", "object"]},
    generic_event("order.placed", order=dict(ORDER, item_count="3"), customer=CUSTOMER),
    generic_event("order.placed", order=dict(ORDER, item_count=-1), customer=CUSTOMER),
    generic_event("shipment.updated", order=ORDER, shipment={"id": "p" * 65}),
    generic_event("order.refunded", customer=CUSTOMER),
    generic_event("order.refunded", order=ORDER, refund={"partial": "yes"}),
    generic_event("order.refunded", order=ORDER, refund="all of it"),
    generic_event("order.refunded", order=ORDER, refund={"id": "r" * 65}),
])
def test_malformed_event_is_400_with_a_message(client, store, db_session, payload):
    response = post(client, store, payload)
    assert response.status_code == 400 and response.json["message"]
    assert count(db_session, WebhookDelivery) == 0


def test_unknown_type_is_ignored(client, store):
    assert post(client, store, generic_event("refund.created", order=ORDER)).json == {"status": "ignored"}


def test_order_without_usable_phone_is_recorded_without_text(client, store, db_session):
    customer = dict(CUSTOMER, phone="call me maybe")
    assert post(client, store, generic_event("order.placed", order=ORDER, customer=customer)).status_code == 200
    assert count(db_session, Order) == 1 and count(db_session, Message) == 0


@pytest.mark.parametrize(("phone", "country", "e164"), [
    ("+1 502 459 2181", None, "+15024592181"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("0151 12345678", None, "+4915112345678"),  # the store's country (DE)
])
def test_phone_is_normalized_with_the_customer_or_store_country(client, store, db_session, phone, country, e164):
    customer = dict(CUSTOMER, phone=phone, country=country)
    post(client, store, generic_event("order.placed", order=ORDER, customer=customer))
    db_session.fresh()
    assert db_session.scalar(select(Customer.phone)) == e164


def test_order_without_number_is_named_by_its_id(client, store, drain, twilio_server):
    order = {"id": "A-77"}
    post(client, store, generic_event("order.placed", order=order, customer=CUSTOMER))
    drain()
    assert texts(twilio_server) == [f"{STORE}: Hi Jonas, thanks for your order #A-77! We'll text you when it ships."]
