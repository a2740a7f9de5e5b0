"""Shopify's mandatory privacy webhooks: customers/redact, customers/data_request, shop/redact."""
from sqlalchemy import func, select

from smsdesk.models import AuditEvent, Customer, Message, WebhookDelivery
from tests.support.privacy import BOB, BOB_PHONE, bob_with_history, dashboard_counts, post_shopify, remaining

# The shapes Shopify documents for these topics (ids as numbers, the phone as the customer gave it).
REDACT = {"shop_id": 954889, "shop_domain": "", "customer": {"id": 191167, "email": "bob.norman@mail.example.com",
                                                             "phone": "502-459-2181"},
          "orders_to_redact": [450789469]}
DATA_REQUEST = {"shop_id": 954889, "shop_domain": "", "orders_requested": [450789469],
                "customer": {"id": 191167, "email": "bob.norman@mail.example.com", "phone": "502-459-2181"},
                "data_request": {"id": 9999}}
SHOP_REDACT = {"shop_id": 954889, "shop_domain": ""}


def test_bad_signature_is_401_for_every_privacy_topic(client, make, db_session):
    store = make.store()
    for topic, payload in (("customers/redact", REDACT), ("customers/data_request", DATA_REQUEST),
                           ("shop/redact", SHOP_REDACT)):
        response = post_shopify(client, store, payload, topic=topic, secret="not-the-secret")
        assert response.status_code == 401 and response.json["error"] == "invalid_signature"
    db_session.fresh()
    assert db_session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_customers_redact_erases_the_customer_and_its_own_request(client, make, db_session):
    store = make.store()
    bob_with_history(client, make, db_session, store)
    before = dashboard_counts(db_session, store)
    response = post_shopify(client, store, REDACT | {"shop_domain": store.domain}, topic="customers/redact")
    assert response.status_code == 200 and response.json["status"] == "accepted"
    assert remaining(db_session, BOB) == []  # the redact request's own delivery included
    assert dashboard_counts(db_session, store) == before
    assert db_session.scalar(select(Customer.first_name).where(Customer.phone == "+15025550177")) == "Carol"


def test_customers_redact_finds_the_customer_by_order_alone(client, make, db_session):
    store = make.store()
    bob_with_history(client, make, db_session, store)
    payload = REDACT | {"customer": {"id": 191167}}
    assert post_shopify(client, store, payload, topic="customers/redact").status_code == 200
    db_session.fresh()
    assert db_session.scalar(select(Customer).where(Customer.phone == BOB_PHONE)) is None


def test_data_request_tells_the_owner_which_customer_to_export(client, make, db_session):
    store = make.store()
    bob = bob_with_history(client, make, db_session, store)
    assert post_shopify(client, store, DATA_REQUEST, topic="customers/data_request").status_code == 200
    db_session.fresh()
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "data_request"))
    assert event.customer_id == bob.id and event.detail == {"request_id": "9999", "customer_ids": [bob.id]}


def test_shop_redact_erases_every_customer_and_payload_but_keeps_the_counts(client, make, db_session):
    store = make.store()
    bob_with_history(client, make, db_session, store)
    before = dashboard_counts(db_session, store)
    messages = db_session.scalar(select(func.count()).select_from(Message))
    assert post_shopify(client, store, SHOP_REDACT, topic="shop/redact").status_code == 200
    assert remaining(db_session, BOB + ("Carol", "Keeper", "+15025550177", "carol@example.com")) == []
    assert dashboard_counts(db_session, store) == before
    assert db_session.scalar(select(func.count()).select_from(Message)) == messages
    assert db_session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.payload.is_not(None) | WebhookDelivery.events.is_not(None))) == 0
