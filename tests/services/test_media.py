"""services/media.py: what counts as a picture, and pictures going with erasure and retention."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs.retention import purge_message_bodies
from smsdesk.enums import Direction, MessageStatus
from smsdesk.models import Customer, Message, MessageMedia, utcnow
from smsdesk.services.media import MediaRefused, add_picture, check_image, preview, sniff
from smsdesk.services.privacy import erase_customer, export_customer
from tests.support.pictures import GIF, HTML_AS_PNG, PDF, padded_png, png

WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


@pytest.mark.parametrize(("data", "expected"), [
    (png(), "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp"),
    (HTML_AS_PNG, None), (PDF, None), (b"", None), (b"RIFF\x00\x00\x00\x00WAVE", None),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", None),  # SVG can hold script: never shown
])
def test_sniff_reads_the_first_bytes(data, expected):
    assert sniff(data) == expected


def test_check_image_says_why():
    with pytest.raises(MediaRefused) as too_big:
        check_image(padded_png(2 * 1024 * 1024 + 1), max_bytes=2 * 1024 * 1024)
    assert too_big.value.status == 413 and "2.0 MB" in str(too_big.value)
    with pytest.raises(MediaRefused) as not_image:
        check_image(PDF, max_bytes=10**6)
    assert not_image.value.status == 415


def test_preview_names_a_photo_only_without_words():
    assert (preview("", 1), preview("hi", 1), preview("", 0)) == ("📷 Photo", "hi", "")


def _text_with_picture(db_session, store, customer, *, age: timedelta, status=MessageStatus.DELIVERED) -> Message:
    message = Message(store_id=store.id, customer_id=customer.id, direction=Direction.OUT, kind="agent_reply",
                      body="look", status=status, created_at=utcnow() - age)
    db_session.add(message)
    db_session.flush()
    add_picture(db_session, message, png(), max_bytes=10**6)
    db_session.commit()
    return message


def test_export_holds_the_customers_pictures_with_their_bytes(make, db_session):
    store = make.store()
    bob, carol = make.customer(store, "+15025550111"), make.customer(store, "+15025550122")
    sent = _text_with_picture(db_session, store, bob, age=timedelta(0))
    _text_with_picture(db_session, store, carol, age=timedelta(0))
    pictures = export_customer(db_session, store, db_session.get(Customer, bob.id))["pictures"]
    assert [(p["message_id"], p["content_type"], p["size"]) for p in pictures] == [(sent.id, "image/png", len(png()))]
    assert base64.b64decode(pictures[0]["content_base64"]) == png()


def test_erasure_deletes_the_customers_pictures_only(make, db_session):
    store = make.store()
    bob, carol = make.customer(store, "+15025550111"), make.customer(store, "+15025550122")
    _text_with_picture(db_session, store, bob, age=timedelta(0))
    kept = _text_with_picture(db_session, store, carol, age=timedelta(0))
    result = erase_customer(db_session, store, db_session.get(Customer, bob.id), requested_by="test")
    db_session.commit()
    assert result.pictures == 1
    assert [m.message_id for m in db_session.scalars(select(MessageMedia))] == [kept.id]


def test_retention_takes_old_pictures_with_old_bodies(app, make, db_session):
    store = make.store()
    customer = make.customer(store)
    old = _text_with_picture(db_session, store, customer, age=timedelta(days=8))
    waiting = _text_with_picture(db_session, store, customer, age=timedelta(days=8), status=MessageStatus.QUEUED)
    recent = _text_with_picture(db_session, store, customer, age=timedelta(days=1))
    purge_message_bodies(app.extensions["smsdesk.sessions"], days=7)
    db_session.fresh()
    assert sorted(m.message_id for m in db_session.scalars(select(MessageMedia))) == sorted([waiting.id, recent.id])
    assert old.id not in {m.message_id for m in db_session.scalars(select(MessageMedia))}
