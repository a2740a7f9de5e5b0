"""Template versions (services/template_versions.py): every text rendered from a template names
the body it came from; the same body is the same version, an edited one the next number, per
kind and language; a cart reminder re-rendered names the body it was re-rendered from."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from smsdesk.models import Message, TemplateVersion
from smsdesk.services import template_versions
from smsdesk.services.builtin_texts import built_in
from smsdesk.services.outbox import enqueue_kind
from smsdesk.services.template_store import save_template
from tests.services.test_checkouts import BASE, HOUR, cart, update

CONTEXT = {"store": {"name": "Acme"}, "customer": {"first_name": "Emma"},
           "cart": {"recovery_url": "https://shop.example/c", "first_item": "Mittens"}}


@pytest.fixture
def store(make):
    return make.store(name="Acme")


def send(db_session, store, customer, key, kind="cart_reminder_1") -> TemplateVersion:
    message = enqueue_kind(db_session, store=store, customer=customer, kind=kind, context=CONTEXT, dedupe_key=key)
    db_session.commit()
    return db_session.get(TemplateVersion, message.template_version_id)


def test_the_same_body_is_one_version_and_an_edit_is_the_next(db_session, make, store):
    customer = make.customer(store)
    first = send(db_session, store, customer, "a")
    assert (first.number, first.body, first.language) == (1, built_in("cart_reminder_1", "en"), "en")
    assert send(db_session, store, customer, "b").id == first.id
    save_template(db_session, store_id=store.id, kind="cart_reminder_1", body="Still want it? {{ cart.recovery_url }}")
    edited = send(db_session, store, customer, "c")
    assert (edited.number, edited.body) == (2, "Still want it? {{ cart.recovery_url }}")
    save_template(db_session, store_id=store.id, kind="cart_reminder_1", body=first.body)
    assert send(db_session, store, customer, "d").id == first.id  # edited back: that version again
    assert db_session.scalar(select(func.count()).select_from(TemplateVersion)) == 2


def test_numbers_count_per_kind_language_and_store(db_session, make, store):
    other = make.store(name="Other")
    spanish = make.customer(store, "+15025550124", language="es")
    assert send(db_session, store, make.customer(store), "en").number == 1
    es = send(db_session, store, spanish, "es")
    assert (es.number, es.language) == (1, "es")
    save_template(db_session, store_id=store.id, kind="cart_reminder_2", enabled=True)
    assert send(db_session, store, spanish, "es2", kind="cart_reminder_2").number == 1
    assert send(db_session, other, make.customer(other), "o").number == 1


def test_a_version_another_process_created_meanwhile_is_taken_not_duplicated(db_session, make, store, engine,
                                                                               monkeypatch):
    from sqlalchemy.orm import Session
    with Session(engine) as other:  # another process, committed after this one looked
        theirs = template_versions.version_id(other, store_id=store.id, kind="cart_reminder_1", language="en",
                                              body="Hello")
        other.commit()
    looked = []
    real_find = template_versions._find

    def late_find(*args):  # this process looked before the other committed
        looked.append(args)
        return None if len(looked) == 1 else real_find(*args)

    monkeypatch.setattr(template_versions, "_find", late_find)
    mine = template_versions.version_id(db_session, store_id=store.id, kind="cart_reminder_1", language="en",
                                        body="Hello")
    db_session.commit()
    assert mine == theirs and len(looked) == 2
    assert db_session.scalar(select(func.count()).select_from(TemplateVersion)) == 1


def test_a_rescheduled_reminder_names_the_body_it_was_rendered_from_again(db_session, make, store):
    update(db_session, store, cart(), BASE)
    save_template(db_session, store_id=store.id, kind="cart_reminder_1", body="Back soon? {{ cart.recovery_url }}")
    db_session.commit()
    update(db_session, store, cart(total="60.00"), BASE + HOUR)
    message = db_session.scalars(select(Message).where(Message.kind == "cart_reminder_1")).one()
    version = db_session.get(TemplateVersion, message.template_version_id)
    assert (version.number, message.body.startswith("Back soon?")) == (2, True)
