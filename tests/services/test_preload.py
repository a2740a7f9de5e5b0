"""services/preload.py: in a batch a new row is written at the chunk's flush, with its id and
its column defaults known before, parents inserted before the rows that point at them."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, inspect, select

from smsdesk.enums import Direction, MessageStatus
from smsdesk.models import (
    AuditEvent,
    Checkout,
    Consent,
    Conversation,
    Customer,
    Message,
    Order,
    Shipment,
    ShortLink,
    TemplateVersion,
)
from smsdesk.services import preload


@pytest.fixture
def sessions(app):
    return app.extensions["smsdesk.sessions"]


@pytest.fixture
def store(make):
    return make.store()


def _in_a_batch(session) -> None:
    preload.remember_all(session, {})


def _statements(session) -> list[str]:
    sent: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def test_in_a_batch_a_row_gets_its_id_and_defaults_at_once_and_is_written_at_the_flush(sessions, store):
    with sessions.begin() as session:
        _in_a_batch(session)
        preload.expect(session, 3)
        sent = _statements(session)
        rows = [Customer(store_id=store.id, phone=f"+1502459000{n}") for n in range(3)]
        for row in rows:
            preload.insert(session, row)
        ids = [row.id for row in rows]
        assert len(set(ids)) == 3 and all(isinstance(row_id, int) for row_id in ids)
        assert [(row.first_name, row.opted_out, row.language) for row in rows] == [("", False, None)] * 3
        assert rows[0].created_at is not None
        assert [sql for sql in sent if sql.startswith("INSERT")] == []  # nothing written yet
        assert len([sql for sql in sent if sql.startswith("SELECT")]) == 1  # one query reserved the three ids

        session.flush()
        assert len([sql for sql in sent if sql.startswith("INSERT")]) == 1  # the three in one statement
        written = len(sent)
        assert [row.language for row in rows] == [None] * 3  # loaded: reading it is no query
        assert len(sent) == written
    with sessions() as session:
        assert sorted(session.scalars(select(Customer.id))) == sorted(ids)


def test_one_flush_inserts_parents_first_whatever_order_the_rows_were_added_in(sessions, store):
    """What a chunk's flush relies on (foreign keys are on in both databases)."""
    with sessions.begin() as session:
        top = max(session.scalar(select(func.max(model.id))) or 0 for model in (Customer, Order, Message))
        customer_id, order_id, text_id, conversation_id = top + 1, top + 2, top + 3, top + 4
        session.add_all([
            Message(id=text_id, store_id=store.id, customer_id=customer_id, conversation_id=conversation_id,
                    order_id=order_id, direction=Direction.OUT, kind="order_confirmed", body="Thanks!",
                    status=MessageStatus.QUEUED),
            Order(id=order_id, store_id=store.id, external_id="1001", customer_id=customer_id),
            Conversation(id=conversation_id, store_id=store.id, customer_id=customer_id),
            Customer(id=customer_id, store_id=store.id, phone="+15024590001"),
        ])
        session.flush()
    with sessions() as session:
        found = session.scalars(select(Message)).one()
        assert (found.customer_id, found.conversation_id, found.order_id) == (customer_id, conversation_id, order_id)


def test_a_row_to_be_inserted_is_found_by_its_id_without_a_query(sessions, store):
    with sessions.begin() as session:
        _in_a_batch(session)
        customer = Customer(store_id=store.id, phone="+15024590002")
        preload.insert(session, customer)
        sent = _statements(session)
        assert preload.get(session, Customer, customer.id) is customer
        assert sent == []


def test_ids_reserved_in_a_batch_follow_the_rows_already_there(sessions, store, make):
    existing = make.customer(store, "+15024590003")
    with sessions.begin() as session:
        _in_a_batch(session)
        preload.expect(session, 2)
        first = Customer(store_id=store.id, phone="+15024590004")
        second = Customer(store_id=store.id, phone="+15024590005")
        third = Customer(store_id=store.id, phone="+15024590006")  # past the block of 2: another block
        for row in (first, second, third):
            preload.insert(session, row)
        assert existing.id < first.id < second.id < third.id
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 4


def test_outside_a_batch_a_row_is_inserted_at_once(sessions, store):
    with sessions.begin() as session:
        customer = Customer(store_id=store.id, phone="+15024590007")
        sent = _statements(session)
        preload.insert(session, customer)
        assert customer.id is not None
        assert any(sql.startswith("INSERT INTO customers") for sql in sent)


# What the apply job inserts (customers, orders, checkouts, shipments, conversations, texts, their
# template versions, links, consents and audit events), each with the foreign keys among them.
BATCH_MODELS = (Customer, Order, Checkout, Shipment, Conversation, Message, TemplateVersion, ShortLink, Consent,
                AuditEvent)


@pytest.mark.parametrize("model", BATCH_MODELS, ids=lambda model: model.__name__)
def test_each_foreign_key_among_a_batchs_rows_has_a_relationship_to_order_their_inserts(model):
    """Without one, the unit of work's order between two tables is the luck of a set's order."""
    tables = {batch_model.__table__ for batch_model in BATCH_MODELS}
    ordered = {column for relationship in inspect(model).relationships for column in relationship.local_columns}
    cycle = {Order.__table__.c.attributed_message_id}  # set on an order only to a text sent before
    needed = {key.parent for key in model.__table__.foreign_keys if key.column.table in tables} - cycle
    assert needed <= ordered
