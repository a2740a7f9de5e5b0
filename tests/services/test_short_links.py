"""Short links (smsdesk/services/short_links.py): every kind that carries a link sends it short
when the store has short links on, with an unguessable code and one row per (text, URL)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from smsdesk.models import LinkSettings, ShortLink
from smsdesk.services import short_links
from smsdesk.services.outbox import enqueue_kind, enqueue_text
from smsdesk.services.segments import segment_info
from smsdesk.services.template_store import save_template

BASE = "https://desk.example.com"
SHORT = re.compile(re.escape(BASE) + r"/r/([0-9A-Za-z]{8})\b")
TRACKING = "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223856928499&utm_source=shop"
STATUS = "https://shop.example.com/account/orders/8f3a2c9d7e6b5a4c3d2e1f0a?key=abcdef0123456789"
CART = "https://shop.example.com/cart/recover/8f3a2c9d7e6b5a4c3d2e1f0a9b8c7d6e"


@pytest.fixture
def store(make, db_session):
    store = make.store(name="Acme")
    db_session.add(LinkSettings(store_id=store.id, short_links=True, base_url=BASE, smart_sending_hours=0))
    db_session.commit()
    return store


def _ctx(**extra):
    return {"store": {"name": "Acme"}, "customer": {"first_name": "Emma"}} | extra


KINDS = [
    ("order_shipped", {"order": {"number": "1042"},
                       "tracking": {"url": TRACKING, "number": "9400", "company": "USPS"},
                       "shipment": {"partial": False, "item_count": 1, "order_item_count": 1, "items": "Boots"}},
     TRACKING),
    ("order_confirmed", {"order": {"number": "1042", "status_url": STATUS}}, STATUS),
    ("cart_reminder_1", {"cart": {"recovery_url": CART, "first_item": "Boots"}}, CART),
]


@pytest.mark.parametrize("kind, context, url", KINDS)
def test_each_kind_with_a_link_sends_it_short(db_session, make, store, kind, context, url):
    customer = make.customer(store)
    message = enqueue_kind(db_session, store=store, customer=customer, kind=kind, context=_ctx(**context),
                           dedupe_key=f"k-{kind}")
    db_session.commit()
    assert url not in message.body
    (code,) = SHORT.findall(message.body)
    link = db_session.scalar(select(ShortLink).where(ShortLink.code == code))
    assert (link.url, link.message_id, link.store_id, link.customer_id) == (url, message.id, store.id, customer.id)
    assert message.segments == segment_info(message.body).segments  # counted as sent


def test_a_link_the_owner_writes_in_a_template_is_shortened(db_session, make, store):
    save_template(db_session, store_id=store.id, kind="order_confirmed",
                  body="Thanks for order #{{ order.number }}! Our size guide: https://acme.example/sizes.")
    customer = make.customer(store)
    message = enqueue_kind(db_session, store=store, customer=customer, kind="order_confirmed",
                           context=_ctx(order={"number": "7"}), dedupe_key="own")
    assert message.body.startswith("Thanks for order #7! Our size guide: " + BASE + "/r/")
    assert message.body.endswith(".")  # the sentence's full stop is no part of the link
    (code,) = SHORT.findall(message.body)
    assert db_session.scalar(select(ShortLink.url).where(ShortLink.code == code)) == "https://acme.example/sizes"


def test_links_are_left_alone_when_the_store_turns_short_links_off(db_session, make, store):
    db_session.get(LinkSettings, store.id).short_links = False
    db_session.commit()
    customer = make.customer(store)
    message = enqueue_kind(db_session, store=store, customer=customer, kind="cart_reminder_1",
                           context=_ctx(cart={"recovery_url": CART, "first_item": ""}), dedupe_key="off")
    assert CART in message.body and BASE not in message.body
    assert db_session.scalars(select(ShortLink)).all() == []


def test_a_store_without_settings_keeps_full_links(db_session, make):
    plain = make.store()
    message = enqueue_text(db_session, store=plain, customer=make.customer(plain), kind="reply", body=f"See {CART}")
    assert message.body == f"See {CART}"


def test_one_row_per_url_ours_and_other_schemes_untouched(db_session, make, store):
    ours = f"{BASE}/r/AbCdEf12"
    body = f"A {CART} B {CART}, C {TRACKING} D {ours} E ftp://x.example/f F javascript:alert(1)"
    message = enqueue_text(db_session, store=store, customer=make.customer(store), kind="reply", body=body)
    codes = SHORT.findall(message.body)
    assert len(codes) == 4 and codes[0] == codes[1] and codes[3] == "AbCdEf12"
    assert "ftp://x.example/f" in message.body and "javascript:alert(1)" in message.body
    rows = db_session.scalars(select(ShortLink).where(ShortLink.message_id == message.id)).all()
    assert sorted(row.url for row in rows) == sorted([CART, TRACKING])


def test_codes_are_unguessable_and_unique():
    codes = {short_links.new_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(short_links.CODE.match(code) for code in codes)
    assert set("".join(codes)) == set(short_links.ALPHABET)  # all 62 symbols in use: 8 x log2(62) > 47 bits


def test_a_taken_code_draws_another(db_session, make, store, monkeypatch):
    customer = make.customer(store)
    first = enqueue_text(db_session, store=store, customer=customer, kind="reply", body=f"x {CART}")
    taken = SHORT.findall(first.body)[0]
    draws = iter([taken, "Zz9Yy8Xx"])
    monkeypatch.setattr(short_links, "new_code", lambda: next(draws))
    second = enqueue_text(db_session, store=store, customer=customer, kind="reply", body=f"y {TRACKING}")
    db_session.commit()
    assert second.body == f"y {BASE}/r/Zz9Yy8Xx"
    assert db_session.scalar(select(ShortLink.url).where(ShortLink.code == "Zz9Yy8Xx")) == TRACKING


def test_a_long_tracking_link_no_longer_costs_a_second_segment(db_session, make, store):
    body = f"Acme: Hi Emma, your order #1042 has shipped with USPS! Tracking number: 9400111899223856928499 {TRACKING}"
    assert segment_info(body).segments == 2
    message = enqueue_text(db_session, store=store, customer=make.customer(store), kind="order_shipped", body=body)
    assert message.segments == 1


def test_preview_shows_the_representative_short_link(db_session, store, make):
    assert short_links.preview(db_session, store.id, f"Go: {CART}!") == f"Go: {BASE}/r/XXXXXXXX!"
    other = make.store()
    assert short_links.preview(db_session, other.id, f"Go: {CART}!") == f"Go: {CART}!"
