"""POST /webhooks/shopify: signature, store lookup, dedupe, every order topic's texts, checkouts."""
import json
import random

import pytest
from sqlalchemy import func, select

from smsdesk.models import AuditEvent, Checkout, Customer, Message, MessageStatus, Order, WebhookDelivery
from smsdesk.platforms.payload import MAX_CART_ITEMS
from smsdesk.platforms.shopify.mapping import line_items, order_info
from smsdesk.reasons import Reason
from tests.factories import shopify_headers, shopify_order
from tests.webhooks.payloads import (
    UNPACED,
    shopify_cancelled_order,
    shopify_checkout,
    shopify_fulfillment,
    shopify_fulfillment_update,
)


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


# -- the order life cycle ------------------------------------------------------------

STORE = "Acme Outfitters"
STATUS_URL = ("https://jsmith.myshopify.com/548380009/orders/b1946ac92492d2347c6235b4d2611184/"
              "authenticate?key=imasecretipod")
UPS_URL = "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z001985YW99744790"
CONFIRMED = (f"{STORE}: Hi Bob, thanks for your order #1001! We'll text you when it ships. "
             f"Details: {STATUS_URL}")
SHIPPED = (f"{STORE}: Hi Bob, your order #1001 has shipped! Tracking number: MS1562678 "
           "https://www.my-shipping-company.com?tracking_number=MS1562678")
OUT_FOR_DELIVERY = f"{STORE}: Hi Bob, your order #1001 is out for delivery and should arrive today. Track it: {UPS_URL}"
DELIVERED = f"{STORE}: Hi Bob, your order #1001 has been delivered. Enjoy! Questions? Just reply to this text."
CANCELLED = f"{STORE}: Hi Bob, your order #1001 has been cancelled. Questions? Just reply to this text."
STAGE_OF_KIND = {"order_confirmed": 0, "order_shipped": 1, "out_for_delivery": 2, "delivered": 3}


def post(client, store, payload, topic, **kw):
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body, topic=topic, **kw))


def life_cycle() -> list[tuple[str, dict]]:
    return [("orders/create", shopify_order()),
            ("fulfillments/create", shopify_fulfillment()),
            ("fulfillments/update", shopify_fulfillment_update("in_transit")),
            ("fulfillments/update", shopify_fulfillment_update("out_for_delivery")),
            ("fulfillments/update", shopify_fulfillment_update("delivered"))]


def texts(twilio_server) -> list[str]:
    return [m["body"] for m in twilio_server.messages]


def test_life_cycle_texts_each_stage_once(client, make, drain, twilio_server):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    for topic, payload in life_cycle():
        assert post(client, store, payload, topic).json == {"status": "accepted"}
        drain()
    assert texts(twilio_server) == [CONFIRMED, SHIPPED, OUT_FOR_DELIVERY, DELIVERED]
    # The sample's order phone +55 77 3488-1234 is a Brazilian landline: the shipping phone is texted.
    assert {m["to"] for m in twilio_server.messages} == {"+15024592181"}


def test_cancelled_order_is_texted_once(client, make, drain, twilio_server):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    post(client, store, shopify_order(), "orders/create")
    post(client, store, shopify_cancelled_order(), "orders/cancelled")
    post(client, store, shopify_cancelled_order(), "orders/cancelled")  # Shopify retries with a new id
    drain()
    assert texts(twilio_server) == [CONFIRMED, CANCELLED]


@pytest.mark.parametrize("seed", range(6))
def test_replayed_and_shuffled_deliveries_never_text_twice_or_backwards(client, make, drain, twilio_server, seed):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    deliveries = [(topic, payload, f"evt-{i}") for i, (topic, payload) in enumerate(life_cycle())]
    deliveries = deliveries * 2 + [(topic, payload, None) for topic, payload, _ in deliveries]  # + new ids
    random.Random(seed).shuffle(deliveries)
    for topic, payload, event_id in deliveries:
        assert post(client, store, payload, topic, event_id=event_id).status_code == 200
        drain()
    kinds = [m.kind for m in sent_messages(make.session)]
    assert len(kinds) == len(set(kinds))
    assert [STAGE_OF_KIND[k] for k in kinds] == sorted(STAGE_OF_KIND[k] for k in kinds)
    assert kinds[-1] == "delivered" and len(twilio_server.messages) == len(kinds)


def sent_messages(session):
    session.rollback()
    session.expire_all()
    return list(session.scalars(select(Message).where(Message.status != MessageStatus.NOTE).order_by(Message.id)))


def test_fulfillment_before_its_order_texts_shipped_when_the_order_arrives(client, make, drain, twilio_server):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    assert post(client, store, shopify_fulfillment(), "fulfillments/create").json["status"] == "accepted"
    drain()
    assert twilio_server.messages == []  # no phone yet: recorded, nothing sent
    post(client, store, shopify_order(), "orders/create")
    drain()
    assert texts(twilio_server) == [SHIPPED]  # never "confirmed" after the parcel left


@pytest.mark.parametrize("shipment_status", ["failure", "attempted_delivery"])
def test_delivery_failure_is_a_note_for_agents_not_a_text(client, make, db_session, drain, twilio_server,
                                                          shipment_status):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    post(client, store, shopify_order(), "orders/create")
    post(client, store, shopify_fulfillment_update(shipment_status), "fulfillments/update")
    drain()
    assert texts(twilio_server) == [CONFIRMED]
    db_session.fresh()
    note = db_session.scalar(select(Message).where(Message.status == MessageStatus.NOTE))
    assert note.body == "Carrier reported a delivery failure for order #1001 (UPS 1Z001985YW99744790)."


@pytest.mark.parametrize("status", ["cancelled", "failure", "error", "pending"])
def test_fulfillment_that_did_not_ship_sends_nothing(client, make, drain, twilio_server, status):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    post(client, store, shopify_order(), "orders/create")
    assert post(client, store, shopify_fulfillment(status=status), "fulfillments/create").json["status"] == "ignored"
    drain()
    assert texts(twilio_server) == [CONFIRMED]


@pytest.mark.parametrize("topic", ["orders/fulfilled", "orders/partially_fulfilled"])
def test_fulfilled_order_texts_shipped_with_its_tracking(client, make, drain, twilio_server, topic):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    order = shopify_order()
    order["fulfillments"][0]["status"] = "success"  # the sample's one fulfillment had failed
    post(client, store, order, topic)
    drain()
    assert texts(twilio_server) == [
        f"{STORE}: Hi Bob, your order #1001 has shipped with USPS! Tracking number: 1Z1234512345123456 "
        "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=1Z1234512345123456"]


def test_fulfilled_order_without_shipped_fulfillments_is_ignored(client, make, db_session):
    store = make.store()
    assert post(client, store, shopify_order(), "orders/fulfilled").json == {"status": "ignored"}
    assert count(db_session, Message) == 0


@pytest.mark.parametrize(("changes", "phone"), [
    ({"phone": None, "customer": None, "billing_address": None,
      "shipping_address": {"phone": "0151 12345678", "country_code": "DE", "first_name": "Zoë"}}, "+4915112345678"),
    ({"phone": "07700 900123", "shipping_address": {"country_code": "GB"}}, "+447700900123"),
    ({"phone": "0033 6 12 34 56 78"}, "+33612345678"),
])
def test_foreign_numbers_use_the_address_country(client, make, db_session, changes, phone):
    store = make.store()
    post(client, store, shopify_order(**changes), "orders/create")
    db_session.fresh()
    assert db_session.scalar(select(Customer.phone)) == phone


def test_unicode_name_and_emoji_reach_the_customer_unchanged(client, make, drain, twilio_server):
    store = make.store(name="Café Ünïcode ☕", rate_per_second=UNPACED)
    order = shopify_order(customer=dict(shopify_order()["customer"], first_name="Zoë 🎉"))
    post(client, store, order, "orders/create")
    drain()
    assert texts(twilio_server) == [f"Café Ünïcode ☕: Hi Zoë 🎉, thanks for your order #1001! "
                                    f"We'll text you when it ships. Details: {STATUS_URL}"]


def test_fulfillment_without_order_id_is_400(client, make, db_session):
    store = make.store()
    fulfillment = shopify_fulfillment()
    del fulfillment["order_id"]
    assert post(client, store, fulfillment, "fulfillments/create").status_code == 400
    assert count(db_session, WebhookDelivery) == 0


# -- checkouts (the events only; services/checkouts.py decides what to send) -----------

def test_checkout_create_records_the_checkout(client, make, db_session):
    store = make.store()
    assert post(client, store, shopify_checkout(), "checkouts/create").json["status"] == "accepted"
    db_session.fresh()
    checkout = db_session.scalar(select(Checkout))
    assert (checkout.token, checkout.phone, checkout.total, checkout.currency) == (
        "2a1ace52255252df566af0faaedfbfa7", "+15024592181", "379.69", "USD")
    assert checkout.recovery_url == ("https://checkout.local/548380009/checkouts/"
                                     "2a1ace52255252df566af0faaedfbfa7/recover")
    assert checkout.items[0] == {"title": "IPod Nano - 8GB", "quantity": 1}
    assert checkout.marketing_consent is False


def test_checkout_sms_consent_and_marketing_phone(client, make, db_session):
    store = make.store()
    checkout = shopify_checkout(buyer_accepts_sms_marketing=True, sms_marketing_phone="+4915112345678")
    post(client, store, checkout, "checkouts/update")
    db_session.fresh()
    customer = db_session.scalar(select(Customer))
    assert (customer.phone, customer.marketing_consent) == ("+4915112345678", True)


def test_huge_checkout_is_accepted_with_items_capped(client, make, db_session):
    store = make.store()
    items = [{"title": f"Sock {n} 🧦", "quantity": n} for n in range(1, 601)]
    assert post(client, store, shopify_checkout(line_items=items), "checkouts/update").status_code == 200
    db_session.fresh()
    stored = db_session.scalar(select(Checkout)).items
    assert len(stored) == MAX_CART_ITEMS and stored[0] == {"title": "Sock 1 🧦", "quantity": 1}


def test_completed_checkout_is_closed(client, make, db_session):
    store = make.store()
    post(client, store, shopify_checkout(), "checkouts/create")
    post(client, store, shopify_checkout(completed_at="2025-07-02T11:40:00-05:00"), "checkouts/update")
    db_session.fresh()
    assert db_session.scalar(select(Checkout)).status == "completed"


def test_checkout_without_token_is_400(client, make):
    store = make.store()
    checkout = shopify_checkout()
    del checkout["token"]
    assert post(client, store, checkout, "checkouts/create").status_code == 400


@pytest.mark.parametrize("topic", ["orders/cancelled", "fulfillments/create", "checkouts/create"])
def test_bad_signature_on_every_topic_is_401(client, make, db_session, topic):
    store = make.store()
    response = post(client, store, shopify_order(), topic, secret="wrong")
    assert response.status_code == 401
    assert count(db_session, WebhookDelivery) == 0 and count(db_session, Order) == 0


@pytest.mark.parametrize(("topic", "payload"), [
    ("orders/create", shopify_order(id=10 ** 70)),
    ("fulfillments/create", shopify_fulfillment(order_id="9" * 65)),
    ("checkouts/create", shopify_checkout(token="t" * 256)),
])
def test_ids_longer_than_we_store_are_400(client, make, db_session, topic, payload):
    store = make.store()
    response = post(client, store, payload, topic)
    assert response.status_code == 400 and "longer" in response.json["message"]
    assert count(db_session, WebhookDelivery) == 0


def test_items_counted_for_partial_shipments():
    order = shopify_order(line_items=[
        {"id": 1, "title": "Mittens", "quantity": 3, "current_quantity": 2, "requires_shipping": True},
        {"id": 2, "title": "Gift card", "quantity": 1, "current_quantity": 1, "requires_shipping": False},
        {"id": 3, "title": "Scarf", "quantity": 1, "current_quantity": 0, "requires_shipping": True}])
    assert order_info(order).item_count == 2  # one mitten removed, the scarf removed, the gift card never ships
    fulfillment = shopify_fulfillment(line_items=[{"id": 1, "title": "Mittens", "quantity": 1, "current_quantity": 2}])
    assert [(i.title, i.quantity) for i in line_items(fulfillment)] == [("Mittens", 1)]  # what this package holds


def test_refund_does_not_stop_the_rest_of_the_order_from_shipping(client, make, drain, twilio_server):
    store = make.store(name=STORE, rate_per_second=UNPACED)
    post(client, store, shopify_order(), "orders/create")
    post(client, store, shopify_order()["refunds"][0], "refunds/create")  # one item refunded, the rest ships
    post(client, store, shopify_fulfillment(), "fulfillments/create")
    drain()
    assert texts(twilio_server) == [CONFIRMED, SHIPPED]  # order_refunded is off by default


def test_uk_buyers_gift_to_the_us_texts_the_buyer(client, make, drain, twilio_server, db_session):
    """The buyer's national UK number, the parcel going to the US: read in the billing country."""
    store = make.store(rate_per_second=UNPACED)
    order = shopify_order(phone="07700 900124", customer={"first_name": "Bob"},
                          billing_address={"phone": None, "country_code": "GB"},
                          shipping_address={"phone": None, "country_code": "US"})
    assert post(client, store, order, "orders/create").json == {"status": "accepted"}
    drain()
    assert [m["to"] for m in twilio_server.messages] == ["+447700900124"]
    db_session.fresh()
    assert db_session.scalar(select(Order.no_text_reason)) is None


def test_order_with_only_a_landline_is_recorded_with_the_reason(client, make, drain, twilio_server, db_session):
    store = make.store(rate_per_second=UNPACED)
    order = shopify_order(phone="Tel: +49 30 1234567", customer=None, billing_address=None, shipping_address=None)
    assert post(client, store, order, "orders/create").json == {"status": "accepted"}
    drain()
    assert twilio_server.messages == []
    db_session.fresh()
    assert db_session.scalar(select(Order.no_text_reason)) == Reason.LANDLINE
    assert db_session.execute(select(AuditEvent.action, AuditEvent.reason)).all() == [("no_text", "landline")]
