"""The phone simulator closes the picture loop: a simulated phone sends a photo (it reaches the
inbox like an MMS), and a picture an agent attaches shows on the phone."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from smsdesk.models import Conversation, Message, MessageMedia
from tests.support.pictures import HTML_AS_PNG, png
from tests.web.test_simulator import app  # noqa: F401 - the simulator provider's app


def test_a_simulated_phone_sends_a_photo_the_inbox_shows(browser, agent, make, db_session):
    customer = make.customer(make.store())
    response = browser.post(f"/simulator/{customer.id}/reply", {"body": "", "picture": (io.BytesIO(png()), "p.png")},
                            content_type="multipart/form-data")
    assert response.status_code == 302
    message = db_session.scalar(select(Message))
    assert (message.direction.value, message.body, message.media_count) == ("in", "", 1)
    cid = db_session.scalar(select(Conversation.id))
    mid = db_session.scalar(select(MessageMedia.id))
    assert f"/inbox/{cid}/media/{mid}" in browser.get(f"/inbox/{cid}").get_data(as_text=True)
    assert browser.get(f"/inbox/{cid}/media/{mid}").data == png()
    screen = browser.get(f"/simulator/{customer.id}/screen").get_data(as_text=True)
    assert re.search(rf'src="/inbox/{cid}/media/{mid}"[^>]*alt="Photo sent from this phone"', screen)


def test_an_agents_picture_shows_on_the_phone(browser, agent, make, db_session, drain, app):  # noqa: F811
    customer = make.customer(make.store())
    browser.post(f"/simulator/{customer.id}/reply", {"body": "Box is crushed"})
    cid = db_session.scalar(select(Conversation.id))
    browser.post(f"/inbox/{cid}/reply", {"body": "Sorry! Label:", "picture": (io.BytesIO(png()), "l.png")},
                 content_type="multipart/form-data")
    assert drain() == 1
    [sent] = app.extensions["smsdesk.provider"].outbox
    db_session.fresh()
    token = db_session.scalar(select(MessageMedia.token))
    assert sent["media"] == [f"https://smsdesk.test/media/{token}"]
    screen = browser.get(f"/simulator/{customer.id}/screen").get_data(as_text=True)
    assert "Photo from the store" in screen and "Sorry! Label:" in screen


def test_a_fake_photo_is_refused_with_a_message(browser, agent, make, db_session):
    customer = make.customer(make.store())
    browser.post(f"/simulator/{customer.id}/reply", {"body": "hi", "picture": (io.BytesIO(HTML_AS_PNG), "x.png")},
                 content_type="multipart/form-data")
    assert db_session.scalar(select(Message)) is None
    assert "JPEG, PNG, GIF and WebP" in browser.get(f"/simulator?customer={customer.id}").get_data(as_text=True)
