"""jobs/apply_events.py in batches: many deliveries in one transaction with their rows loaded
together (services/preload.py), each text once, a bad delivery held back alone; and phones read
by the job, not by the webhook request."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError

from jobs import apply_events as apply_job
from jobs.apply_events import apply_batch, apply_events
from smsdesk.enums import Attribution
from smsdesk.models import (
    PENDING_STATUSES,
    Checkout,
    Conversation,
    Customer,
    Message,
    Order,
    Shipment,
    WebhookDelivery,
    utcnow,
)
from smsdesk.reasons import Reason
from smsdesk.services import preload
from smsdesk.services.customers import get_or_create_customer
from tests.factories import shopify_order
from tests.jobs.test_apply_events import count, statuses
from tests.webhooks.payloads import UNPACED, shopify_checkout, shopify_fulfillment, shopify_fulfillment_update
from tests.webhooks.test_shopify import STORE, post

ORDERS = 24
SHOPPERS = 8  # every shopper orders ORDERS / SHOPPERS times


@pytest.fixture
def sessions(app_applying_later):
    return app_applying_later.extensions["smsdesk.sessions"]


@pytest.fixture
def store(make):
    return make.store(name=STORE, rate_per_second=UNPACED)


def phone(n: int) -> str:
    return f"+1502459{n % SHOPPERS:04d}"


def order(n: int, **changes) -> dict:
    return shopify_order(**{"id": 7000 + n, "order_number": 2000 + n, "name": f"#{2000 + n}", "phone": phone(n),
                            **changes})


def test_a_batch_applies_many_deliveries_in_one_transaction_and_texts_each_order_once(
        client, sessions, store, db_session):
    for n in range(ORDERS):
        post(client, store, order(n), "orders/create")
    post(client, store, order(3), "orders/create")  # a platform's retry under a new event id
    statements = []
    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with sessions.begin() as session:
        assert apply_batch(session, now=utcnow(), limit=100, seconds=60) == ORDERS + 1
    assert statuses(db_session) == ["processed"] * (ORDERS + 1)
    assert count(db_session, Order) == ORDERS and count(db_session, Customer) == SHOPPERS
    assert count(db_session, Conversation) == SHOPPERS
    keys = db_session.scalars(select(Message.dedupe_key)).all()
    assert sorted(keys) == sorted(f"order:{store.id}:{7000 + n}:order_confirmed" for n in range(ORDERS))
    # Rows are looked up per chunk, not per delivery, and written per chunk: a few multi-row INSERTs
    # (chunks of 4, 8, 16 ...), not one per row. ~4 statements per delivery; 6.5 when each row
    # was inserted on its own (a delivery alone took ~30; before 12-03's second round ~10).
    assert len([sql for sql in statements if sql.startswith("INSERT INTO messages")]) <= 4
    assert len(statements) < 5 * (ORDERS + 1)
    assert apply_events(sessions) == 0


def test_a_row_another_process_inserted_after_the_chunk_was_loaded_makes_it_apply_one_by_one(
        client, sessions, store, db_session, make, monkeypatch, caplog):
    for n in range(SHOPPERS):
        post(client, store, order(n), "orders/create")
    make.customer(store, phone(5))  # a shopper texting in after the batch looked phone(5) up:
    loaded = preload.remember_all
    monkeypatch.setattr(preload, "remember_all", lambda session, rows: loaded(session, {  # the answer is stale
        key: None if key == ("customer", store.id, phone(5)) else row for key, row in rows.items()}))
    with sessions.begin() as session:
        assert apply_batch(session, now=utcnow(), limit=100, seconds=60) == SHOPPERS
    assert statuses(db_session) == ["processed"] * SHOPPERS  # the chunk's INSERT failed; each applied alone
    assert "is applied one by one (IntegrityError)" in caplog.text
    assert count(db_session, Customer) == SHOPPERS and count(db_session, Order) == SHOPPERS
    keys = db_session.scalars(select(Message.dedupe_key)).all()
    assert sorted(keys) == sorted(f"order:{store.id}:{7000 + n}:order_confirmed" for n in range(SHOPPERS))
    assert db_session.scalar(select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.attempts > 0)) == 0


def test_a_bad_delivery_in_the_middle_is_held_back_and_the_rest_of_its_batch_applies(
        client, sessions, store, db_session):
    for n in range(6):
        post(client, store, order(n), "orders/create")
    poisoned = db_session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)).all()[2]
    db_session.execute(update(WebhookDelivery).where(WebhookDelivery.id == poisoned)
                       .values(events=[{"type": "OrderPlaced", "order": {"external_id": "x"}}]))
    db_session.commit()

    with sessions.begin() as session:
        assert apply_batch(session, now=utcnow(), limit=100, seconds=60) == 6
    assert statuses(db_session) == ["processed", "processed", "received", "processed", "processed", "processed"]
    broken = db_session.get_one(WebhookDelivery, poisoned)
    assert (broken.attempts, broken.error) == (1, "internal error: TypeError")
    assert count(db_session, Message) == 5 and count(db_session, Order) == 5


def test_an_erasure_in_a_batch_is_not_undone_by_rows_loaded_before_it(client, sessions, store, db_session):
    post(client, store, order(0), "orders/create")
    post(client, store, {"shop_id": 1, "shop_domain": store.domain, "customer": {"id": 1, "phone": phone(0)},
                         "orders_to_redact": []}, "customers/redact")
    post(client, store, order(8), "orders/create")  # the same shopper (phone) again, after the erasure

    with sessions.begin() as session:
        assert apply_batch(session, now=utcnow(), limit=100, seconds=60) == 3
    assert statuses(db_session)[1:] == ["processed", "processed"]
    customers = db_session.scalars(select(Customer).where(Customer.phone == phone(0))).all()
    assert len(customers) == 1  # created anew for the later order
    later = db_session.scalar(select(Message).where(Message.dedupe_key == f"order:{store.id}:7008:order_confirmed"))
    assert later is not None and later.customer_id == customers[0].id


def test_a_phone_that_cannot_be_read_is_accepted_at_the_door_and_the_order_says_why_no_text(
        client, sessions, store, db_session):
    unreadable = order(0, phone="555-555-SHIP", sms_marketing_phone=None,
                       billing_address=dict(shopify_order()["billing_address"], phone=None),
                       shipping_address=dict(shopify_order()["shipping_address"], phone="12"),
                       customer=dict(shopify_order()["customer"], phone=None, default_address={}))
    response = post(client, store, unreadable, "orders/create")
    assert response.status_code == 200 and response.json == {"status": "accepted"}
    [recorded] = db_session.scalar(select(WebhookDelivery.events))
    # The request kept the phones as given; it read none of them.
    assert recorded["customer"]["phone"] is None and recorded["customer"]["phone_problem"] is None
    assert [c["raw"] for c in recorded["customer"]["unread"]["candidates"]][:1] == ["555-555-SHIP"]

    assert apply_events(sessions) == 1
    assert count(db_session, Message) == 0
    assert db_session.scalar(select(Order.no_text_reason)) == Reason.INVALID_NUMBER


def test_a_malformed_payload_is_still_refused_at_the_door(client, store, db_session):
    response = post(client, store, shopify_order(id=None), "orders/create")
    assert response.status_code == 400 and response.json["error"] == "bad_payload"
    assert db_session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_a_row_inserted_by_another_process_after_the_batch_loaded_fails_the_flush_then_is_found(sessions, store):
    with sessions.begin() as session:
        preload.remember_all(session, {("customer", store.id, phone(1)): None})  # loaded: no such customer
        with sessions.begin() as other:  # a customer texting in, committed meanwhile
            other.add(Customer(store_id=store.id, phone=phone(1)))
        with pytest.raises(IntegrityError), session.begin_nested():
            get_or_create_customer(session, store_id=store.id, phone=phone(1))  # written at the flush
        preload.forget(session)  # what the job does before applying the deliveries alone
        with session.begin_nested():
            found = get_or_create_customer(session, store_id=store.id, phone=phone(1))
        assert found.id is not None
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def _checkout(n: int, token: str) -> dict:
    checkout = shopify_checkout(token=token, phone=phone(n))
    checkout["customer"] = {**checkout["customer"], "phone": phone(n), "id": 300 + n}
    return checkout


@pytest.mark.parametrize("same_batch", [False, True], ids=["checkouts-applied-before", "checkouts-in-the-batch"])
def test_orders_in_a_batch_close_the_carts_they_bought(client, sessions, store, db_session, same_batch):
    """Orders close their checkouts whether the batch looked them up together (no checkout
    events in it) or one by one (checkout events in the same batch)."""
    for n, token in ((0, "cart-a"), (1, "cart-b"), (2, "cart-c")):
        post(client, store, _checkout(n, token), "checkouts/create")
    if not same_batch:
        assert apply_events(sessions) == 3
    post(client, store, order(0, checkout_token="cart-a"), "orders/create")  # bought its own cart
    post(client, store, order(1), "orders/create")  # no token: the same customer's earlier cart
    post(client, store, order(3), "orders/create")  # someone else
    assert apply_events(sessions) == (6 if same_batch else 3)
    db_session.fresh()
    states = dict(db_session.execute(select(Checkout.token, Checkout.status)).tuples().all())
    assert states == {"cart-a": "completed", "cart-b": "completed", "cart-c": "open"}
    reminders = db_session.execute(select(Checkout.token, Message.status)
                                   .join(Message, Message.checkout_id == Checkout.id)).tuples().all()
    assert {token for token, status in reminders if status in PENDING_STATUSES} <= {"cart-c"}


def test_a_batch_credits_orders_of_known_customers_to_their_clicked_reminders_in_one_query_each(
        client, sessions, store, db_session, make):
    clicked = {}
    for n in range(SHOPPERS):
        customer = make.customer(store, phone(n))
        clicked[customer.id] = make.text(store, customer, at=utcnow() - timedelta(hours=3)).id
        make.click(db_session.get(Message, clicked[customer.id]), at=utcnow() - timedelta(hours=2))
    for n in range(ORDERS):
        post(client, store, order(n), "orders/create")
    statements = []
    event.listen(sessions.kw["bind"], "before_cursor_execute", lambda *args: statements.append(args[2]))
    with sessions.begin() as session:
        assert apply_batch(session, now=utcnow(), limit=100, seconds=60) == ORDERS
    db_session.fresh()
    credited = db_session.execute(select(Order.customer_id, Order.attributed_message_id, Order.attribution)).all()
    assert len(credited) == ORDERS
    assert all((message, how) == (clicked[customer], Attribution.CLICK) for customer, message, how in credited)
    # One attribution query per new order of a known customer, on top of the batch's ~6.5 a delivery.
    assert len(statements) < 8 * (ORDERS + 1)


def test_an_order_and_its_packages_in_one_chunk_are_written_together_without_falling_back(
        client, sessions, store, db_session, monkeypatch):
    """New rows pointing at rows new in the same chunk (a package at its order, a note and texts at
    the conversation) are inserted in one flush, parents first: the chunk never falls back."""
    monkeypatch.setattr(apply_job, "_apply_alone", lambda *args, **kwargs: pytest.fail("the chunk fell back"))
    post(client, store, shopify_order(), "orders/create")
    post(client, store, shopify_fulfillment(), "fulfillments/create")
    post(client, store, shopify_fulfillment_update("failure"), "fulfillments/update")
    post(client, store, shopify_fulfillment_update("delivered"), "fulfillments/update")
    with sessions.begin() as session:
        assert apply_batch(session, now=utcnow(), limit=100, seconds=60) == 4
    assert statuses(db_session) == ["processed"] * 4
    assert count(db_session, Shipment) == 1
    kinds = sorted(db_session.scalars(select(Message.kind)))
    assert kinds == ["delivered", "note", "order_confirmed", "order_shipped"]
