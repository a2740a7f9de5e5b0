"""Customers' pictures in the inbox: fetched from Twilio through our proxy (login and store
checked, credentials sent to Twilio's API only, never to its storage or the browser), only
images shown, a size cap, kept after the first view."""
from __future__ import annotations

import re

from sqlalchemy import select

from smsdesk.models import Conversation, MessageMedia
from tests.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.support.pictures import HTML_AS_PNG, PDF, png
from tests.webhooks.test_twilio import post_signed
from tests.webhooks.test_twilio_media import mms


def photo_in(client, db_session, store, twilio_server, content: bytes = b"", content_type: str = "image/png"):
    """A customer's MMS with one picture; returns (conversation id, media id, the picture's URL)."""
    url = twilio_server.add_media(content or png(), content_type)
    post_signed(client, "/webhooks/twilio/sms", mms(store, twilio_server, url, types=(content_type,)))
    db_session.fresh()
    media = db_session.scalar(select(MessageMedia))
    conversation = db_session.scalar(select(Conversation).where(Conversation.store_id == store.id))
    return conversation.id, media.id, url


def media_requests(twilio_server):
    return [r for r in twilio_server.requests if "/Media/" in r.path or r.path.startswith("/storage/")]


def test_the_thread_shows_a_thumbnail_through_the_proxy(browser, agent, make, db_session, twilio_server):
    store = make.store()
    cid, mid, url = photo_in(browser.client, db_session, store, twilio_server)
    html = browser.get(f"/inbox/{cid}").get_data(as_text=True)
    assert re.search(rf'<img src="/inbox/{cid}/media/{mid}" loading="lazy"\s+alt="Photo from the customer">', html)
    assert url not in html and TWILIO_SID not in html and TWILIO_TOKEN not in html  # nothing of Twilio's
    picture = browser.get(f"/inbox/{cid}/media/{mid}")
    assert picture.status_code == 200 and picture.mimetype == "image/png" and picture.data == png()
    assert picture.headers["Cache-Control"].startswith("private") and picture.headers["X-Content-Type-Options"]


def test_credentials_go_to_twilios_api_only_never_to_the_redirect(browser, agent, make, db_session, twilio_server):
    store = make.store()
    cid, mid, url = photo_in(browser.client, db_session, store, twilio_server)
    assert browser.get(f"/inbox/{cid}/media/{mid}").status_code == 200
    api, storage = media_requests(twilio_server)
    assert url.endswith(api.path) and api.basic_auth == (TWILIO_SID, TWILIO_TOKEN)
    assert storage.path.startswith("/storage/") and storage.headers.get("Host", "").startswith("localhost:")
    assert "Authorization" not in storage.headers  # another host: Twilio's storage gets no credentials


def test_a_picture_is_fetched_once_then_kept(browser, agent, make, db_session, twilio_server):
    store = make.store()
    cid, mid, _ = photo_in(browser.client, db_session, store, twilio_server)
    first, second = browser.get(f"/inbox/{cid}/media/{mid}"), browser.get(f"/inbox/{cid}/media/{mid}")
    assert first.data == second.data == png()
    assert len(media_requests(twilio_server)) == 2  # one API request and its redirect, for both views
    db_session.fresh()
    kept = db_session.get(MessageMedia, mid)
    assert (kept.content, kept.size, kept.content_type) == (png(), len(png()), "image/png")


def test_login_is_needed(client, make, db_session, twilio_server):
    store = make.store()
    cid, mid, _ = photo_in(client, db_session, store, twilio_server)
    response = client.get(f"/inbox/{cid}/media/{mid}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert media_requests(twilio_server) == []


def test_another_stores_picture_is_404_both_ways(browser, make, db_session, twilio_server):
    mine, theirs = make.store(), make.store()
    browser.login(make.agent(stores=[mine]))
    own_cid, _, _ = photo_in(browser.client, db_session, mine, twilio_server)
    db_session.execute(MessageMedia.__table__.delete())
    db_session.commit()
    their_cid, their_mid, _ = photo_in(browser.client, db_session, theirs, twilio_server)
    assert browser.get(f"/inbox/{their_cid}/media/{their_mid}").status_code == 404
    assert browser.get(f"/inbox/{own_cid}/media/{their_mid}").status_code == 404  # not in this thread
    assert media_requests(twilio_server) == []


def test_bytes_that_are_no_image_are_refused_and_not_fetched_again(browser, agent, make, db_session, twilio_server):
    store = make.store()
    cid, mid, _ = photo_in(browser.client, db_session, store, twilio_server, HTML_AS_PNG, "image/png")
    response = browser.get(f"/inbox/{cid}/media/{mid}")
    assert response.status_code == 415 and b"<script>" not in response.data
    assert "JPEG, PNG, GIF and WebP" in response.get_data(as_text=True)
    assert browser.get(f"/inbox/{cid}/media/{mid}").status_code == 415
    assert len(media_requests(twilio_server)) == 2  # the refusal was kept
    thread = browser.get(f"/inbox/{cid}/thread").get_data(as_text=True)
    assert "<img" not in thread and "Attachment (image/png)" in thread


def test_other_types_are_listed_not_shown(browser, agent, make, db_session, twilio_server):
    store = make.store()
    cid, mid, _ = photo_in(browser.client, db_session, store, twilio_server, PDF, "application/pdf")
    thread = browser.get(f"/inbox/{cid}/thread").get_data(as_text=True)
    assert "<img" not in thread and "Attachment (application/pdf): not shown" in thread
    assert browser.get(f"/inbox/{cid}/media/{mid}").status_code == 415


def test_a_picture_over_the_cap_is_a_clear_413(app, browser, agent, make, db_session, twilio_server):
    app.extensions["smsdesk.media_fetcher"].max_bytes = 1000
    store = make.store()
    cid, mid, _ = photo_in(browser.client, db_session, store, twilio_server, png() + b"\0" * 5000)
    response = browser.get(f"/inbox/{cid}/media/{mid}")
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)
    assert browser.get(f"/inbox/{cid}/media/{mid}").status_code == 413
    db_session.fresh()
    assert db_session.get(MessageMedia, mid).content is None


def test_twilio_failing_is_a_502_and_asked_again_later(browser, agent, make, db_session, twilio_server):
    store = make.store()
    cid, mid, _ = photo_in(browser.client, db_session, store, twilio_server)
    twilio_server.media.clear()  # Twilio answers 404 for it now
    assert browser.get(f"/inbox/{cid}/media/{mid}").status_code == 502
    db_session.fresh()
    assert db_session.get(MessageMedia, mid).error == ""  # not the picture's fault: no refusal kept
