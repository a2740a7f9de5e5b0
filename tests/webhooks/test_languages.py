"""The customer's language from each platform's webhook, and the texts in it (issue 14)."""
import json

import pytest
from sqlalchemy import select

from smsdesk.models import Customer, Message
from smsdesk.services.template_store import save_template
from tests.factories import shopify_headers, shopify_order
from tests.webhooks.payloads import (
    GENERIC_SECRET,
    UNPACED,
    as_body,
    generic_event,
    generic_headers,
    shopify_checkout,
    woo_headers,
    woo_order,
)


def confirmation(db_session) -> Message:
    db_session.fresh()
    return db_session.scalars(select(Message).where(Message.kind == "order_confirmed")).one()


def language_of_customer(db_session, message: Message) -> str | None:
    return db_session.get(Customer, message.customer_id).language


def post_shopify(client, store, payload, topic="orders/create"):
    body = json.dumps(payload).encode()
    return client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body, topic=topic))


@pytest.mark.parametrize("locale, language, words", [
    ("es", "es", "gracias por tu pedido #1001"), ("fr-CA", "fr", "merci pour votre commande #1001"),
    ("de", "de", "danke für Ihre Bestellung #1001"), ("en", "en", "thanks for your order #1001"),
    ("es-MX", "es", "gracias por tu pedido #1001"),
])
def test_shopify_customer_locale_picks_the_language(client, make, db_session, locale, language, words):
    store = make.store()
    assert post_shopify(client, store, shopify_order(customer_locale=locale)).status_code == 200
    message = confirmation(db_session)
    assert words in message.body and language_of_customer(db_session, message) == language


def test_shopify_without_locale_gets_the_store_default_language(client, make, db_session):
    store = make.store(default_language="de")
    post_shopify(client, store, shopify_order(customer_locale=None))
    message = confirmation(db_session)
    assert "danke für Ihre Bestellung #1001" in message.body and language_of_customer(db_session, message) is None


def test_a_language_without_built_ins_falls_back_to_the_store_default(client, make, db_session):
    store = make.store(default_language="fr")
    post_shopify(client, store, shopify_order(customer_locale="it-IT"))
    message = confirmation(db_session)
    assert "merci pour votre commande" in message.body and language_of_customer(db_session, message) == "it"


def test_the_owners_spanish_version_comes_before_the_built_in_one(client, make, db_session):
    store = make.store()
    save_template(db_session, store_id=store.id, kind="order_confirmed", language="es",
                  body="{{ store.name }}: ¡Pedido {{ order.number }} recibido!")
    save_template(db_session, store_id=store.id, kind="order_confirmed", body="EN {{ order.number }}")
    db_session.commit()
    post_shopify(client, store, shopify_order(customer_locale="es"))
    assert confirmation(db_session).body == "Acme Outfitters: ¡Pedido 1001 recibido!"


def test_an_owners_italian_version_is_used_for_italian_customers(client, make, db_session):
    store = make.store()
    save_template(db_session, store_id=store.id, kind="order_confirmed", language="it",
                  body="{{ store.name }}: grazie per l'ordine #{{ order.number }}!")
    db_session.commit()
    post_shopify(client, store, shopify_order(customer_locale="it"))
    assert confirmation(db_session).body == "Acme Outfitters: grazie per l'ordine #1001!"


def test_the_latest_platform_language_wins_and_silence_keeps_it(client, make, db_session):
    store = make.store()
    post_shopify(client, store, shopify_order(customer_locale="es"))
    post_shopify(client, store, shopify_order(customer_locale="fr", id=450789470, name="#1002", order_number=1002))
    post_shopify(client, store, shopify_order(customer_locale=None, id=450789471, name="#1003", order_number=1003))
    db_session.fresh()
    assert [c.language for c in db_session.scalars(select(Customer))] == ["fr"]


def test_shopify_checkout_locale_makes_the_cart_reminder_spanish(client, make, db_session):
    store = make.store()
    checkout = shopify_checkout(customer_locale="es", buyer_accepts_sms_marketing=True,
                                sms_marketing_phone="+4915112345678")
    assert post_shopify(client, store, checkout, topic="checkouts/create").status_code == 200
    db_session.fresh()
    reminder = db_session.scalars(select(Message).where(Message.kind == "cart_reminder_1")).one()
    assert "en tu carrito" in reminder.body and reminder.body.endswith("Responde STOP para darte de baja.")


@pytest.mark.parametrize("key, value, words", [
    ("wpml_language", "fr", "merci pour votre commande #727"),
    ("pll_language", "de", "danke für Ihre Bestellung #727"),
    ("_pll_language", "es_ES", "gracias por tu pedido #727"),
])
def test_woocommerce_language_meta_of_wpml_and_polylang(client, make, db_session, key, value, words):
    store = make.store(platform="woocommerce", domain=None, rate_per_second=UNPACED)
    order = woo_order(meta_data=woo_order()["meta_data"] + [{"id": 901, "key": key, "value": value}])
    body = json.dumps(order).encode()
    response = client.post(f"/webhooks/woocommerce/{store.slug}", data=body,
                           headers=woo_headers(store, body, topic="order.created"))
    assert response.status_code == 200
    assert words in confirmation(db_session).body


def test_woocommerce_without_language_meta_gets_the_store_default(client, make, db_session):
    store = make.store(platform="woocommerce", domain=None, rate_per_second=UNPACED, default_language="es")
    body = json.dumps(woo_order()).encode()
    client.post(f"/webhooks/woocommerce/{store.slug}", data=body,
                headers=woo_headers(store, body, topic="order.created"))
    assert "gracias por tu pedido #727" in confirmation(db_session).body


@pytest.mark.parametrize("locale, words", [("fr", "merci pour votre commande #1001"),
                                           ("pt-BR", "thanks for your order #1001"), (None, "thanks for your order")])
def test_generic_event_locale(client, make, db_session, locale, words):
    store = make.store(platform="generic", domain=None, webhook_secret=GENERIC_SECRET, country="DE",
                       timezone="Europe/Berlin", rate_per_second=UNPACED)
    customer = {"first_name": "Jonas", "phone": "0151 12345678", "country": "DE"}
    event = generic_event("order.placed", order={"id": "1001", "number": "1001"}, customer=customer)
    if locale:
        event["data"]["locale"] = locale
    body = as_body(event)
    assert client.post(f"/webhooks/generic/{store.slug}", data=body, headers=generic_headers(body)).status_code == 200
    assert words in confirmation(db_session).body
