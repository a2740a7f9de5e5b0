"""Search documents (migration 0013) follow every write, on both databases: the triggers are
SQL written twice (PL/pgSQL and SQLite), so each is exercised here through the app's own writes."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from smsdesk.models import Message, Order, SearchDoc
from smsdesk.services.search import matching_customers
from tests.web.test_inbox import text_in


def _found(db_session, term: str) -> set[int]:
    db_session.fresh() if hasattr(db_session, "fresh") else db_session.expire_all()
    dialect = db_session.get_bind().dialect.name
    return set(db_session.scalars(matching_customers(term, dialect=dialect)))


def test_a_document_follows_names_orders_and_texts(db_session, make, client):
    store = make.store()
    customer = make.customer(store, phone="+15025550177", first_name="Ada", last_name="Okafor")
    assert _found(db_session, "okafor") == {customer.id} and _found(db_session, "(502) 555-0177") == {customer.id}
    db_session.add(Order(store_id=store.id, external_id="x1", number="7731", customer_id=customer.id))
    db_session.commit()
    assert _found(db_session, "#7731") == {customer.id}

    text_in(client, store, phone="+15025550177", body="The Zebrafish mug arrived broken")
    assert _found(db_session, "zebrafish") == {customer.id}  # any case
    db_session.execute(update(Message).where(Message.customer_id == customer.id).values(body=""))  # retention
    db_session.commit()
    assert _found(db_session, "zebrafish") == set()  # a blanked text is no longer findable

    customer.first_name = "Adaeze"
    db_session.commit()
    assert _found(db_session, "adaeze okafor") == {customer.id}
    db_session.execute(delete(Order).where(Order.customer_id == customer.id))
    db_session.commit()
    assert _found(db_session, "7731") == set()


def test_a_document_keeps_the_latest_texts_only(db_session, make, client):
    store = make.store()
    text_in(client, store, phone="+15025550188", body="first words: quokka")
    for n in range(30):  # 30 x ~90 characters: past the 2,000 a document keeps
        text_in(client, store, phone="+15025550188", body=f"message {n:02d} " + "lorem ipsum dolor sit amet " * 3)
    [doc] = db_session.scalars(select(SearchDoc).where(SearchDoc.who.like("%5025550188%"))).all()
    assert len(doc.texts) == 2000 and "message 29 lorem" in doc.texts[-100:]
    assert _found(db_session, "quokka") == set() and _found(db_session, "message 29") == {doc.customer_id}
