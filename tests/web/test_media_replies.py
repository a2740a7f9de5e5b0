"""Agents attach a picture to a reply (web and API): checked by its bytes and size, kept, served to
Twilio at an unguessable public address and sent as MediaUrl through the real twilio library."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from smsdesk.models import Message, MessageMedia
from tests.conftest import PUBLIC_URL
from tests.support.pictures import GIF, HTML_AS_PNG, padded_png, png
from tests.web.test_inbox import conversation_id, text_in

JSON = {"Accept": "application/json"}
FIVE_MB = 5 * 1024 * 1024


def upload(content: bytes, name: str = "parcel.png"):
    return (io.BytesIO(content), name)


def replies(db_session) -> list[Message]:
    db_session.fresh()
    return db_session.scalars(select(Message).where(Message.kind == "agent_reply").order_by(Message.id)).all()


def test_a_reply_with_a_picture_reaches_twilio_as_media_url(browser, agent, make, db_session, drain, twilio_server,
                                                           client):
    store = make.store()
    text_in(browser.client, store, body="Is it damaged?")
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "Here is the label", "picture": upload(png())},
                            headers=JSON, content_type="multipart/form-data")
    assert response.status_code == 200 and response.get_json()["ok"] is True
    assert "Photo sent to the customer" in response.get_json()["thread"] and " · MMS" in response.get_json()["thread"]
    [message] = replies(db_session)
    assert (message.media_count, message.segments) == (1, 1)  # an MMS is one message
    drain()
    [sent] = twilio_server.messages
    assert (sent["body"], sent["num_media"]) == ("Here is the label", "1")
    [url] = twilio_server.sent_media(sent["sid"])
    token = db_session.scalar(select(MessageMedia.token))
    assert url == f"{PUBLIC_URL}/media/{token}" and len(token) >= 43
    fetched = client.get(url.removeprefix(PUBLIC_URL))  # what Twilio fetches, without any login
    assert fetched.status_code == 200 and fetched.data == png() and fetched.mimetype == "image/png"


def test_a_picture_alone_is_a_reply(browser, agent, make, db_session, drain, twilio_server):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "", "picture": upload(GIF, "x.gif")}, headers=JSON,
                            content_type="multipart/form-data")
    assert response.status_code == 200
    drain()
    [sent] = twilio_server.messages
    assert sent["body"] == "" and sent["num_media"] == "1"
    assert "Body" not in twilio_server.requests[-1].form  # MediaUrl alone, as Twilio takes it


def test_the_type_comes_from_the_bytes_not_the_name(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "hi", "picture": upload(HTML_AS_PNG, "evil.png")},
                            headers=JSON, content_type="multipart/form-data")
    assert response.status_code == 415
    assert "JPEG, PNG, GIF and WebP" in response.get_json()["message"]
    assert replies(db_session) == [] and db_session.scalars(select(MessageMedia)).all() == []


@pytest.mark.parametrize("size", [FIVE_MB + 1, FIVE_MB + 2 * 1024 * 1024])  # just over; over the whole request
def test_a_picture_over_5_mb_is_413(browser, agent, make, db_session, size):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "hi", "picture": upload(padded_png(size))},
                            headers=JSON, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "MB" in response.get_data(as_text=True)
    assert replies(db_session) == []


def test_a_plain_form_post_with_a_picture_redirects(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "", "picture": upload(png())},
                            content_type="multipart/form-data")
    assert response.status_code == 302
    assert [m.media_count for m in replies(db_session)] == [1]


def test_the_composer_offers_a_picture(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    html = browser.get(f"/inbox/{conversation_id(db_session)}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'name="picture"' in html
    assert f'data-max-bytes="{FIVE_MB}"' in html and "attach.js" in html


def test_api_reply_takes_a_picture_as_multipart(client, make, db_session, drain, twilio_server):
    store = make.store()
    text_in(client, store)
    cid = conversation_id(db_session)
    auth = {"Authorization": f"Bearer {make.token(stores=[store])}"}
    response = client.post(f"/api/conversations/{cid}/messages", headers=auth, content_type="multipart/form-data",
                           data={"body": "Photo attached", "picture": upload(png())})
    assert response.status_code == 202
    detail = client.get(f"/api/conversations/{cid}", headers=auth).json
    [picture] = detail["messages"][-1]["media"]
    assert picture["content_type"] == "image/png" and picture["shown"] and picture["size"] == len(png())
    drain()
    assert twilio_server.messages[0]["num_media"] == "1"


@pytest.mark.parametrize(("content", "status", "code"), [
    (HTML_AS_PNG, 415, "unsupported_media"), (padded_png(FIVE_MB + 10), 413, "too_large")])
def test_api_refuses_bad_pictures_with_a_reason(client, make, db_session, content, status, code):
    store = make.store()
    text_in(client, store)
    cid = conversation_id(db_session)
    response = client.post(f"/api/conversations/{cid}/messages", content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {make.token(stores=[store])}"},
                           data={"body": "x", "picture": upload(content)})
    assert response.status_code == status and response.json["error"] == code and response.json["message"]
    assert replies(db_session) == []


def test_customers_pictures_and_made_up_tokens_are_not_public(client, make, db_session, twilio_server):
    from tests.web.test_media import photo_in

    store = make.store()
    photo_in(client, db_session, store, twilio_server)
    inbound_token = db_session.scalar(select(MessageMedia.token))
    assert client.get(f"/media/{inbound_token}").status_code == 404
    assert client.get("/media/" + "A" * 43).status_code == 404
    assert client.get("/media/" + "A" * 500).status_code == 404


def test_a_retried_picture_goes_again_with_its_picture(browser, agent, make, db_session, drain, twilio_server):
    from tests.webhooks.test_twilio import post_signed

    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    browser.post(f"/inbox/{cid}/reply", {"body": "Label", "picture": upload(png())}, content_type="multipart/form-data")
    drain()
    post_signed(browser.client, "/webhooks/twilio/status",
                {"MessageSid": twilio_server.messages[-1]["sid"], "MessageStatus": "undelivered", "ErrorCode": "30003"})
    [failed] = replies(db_session)
    assert browser.post(f"/inbox/{cid}/messages/{failed.id}/retry", headers=JSON).get_json()["ok"] is True
    failed_again, queued = replies(db_session)  # the copy waits for its sender's next slot
    assert (queued.status.value, queued.media_count, queued.body) == ("queued", 1, "Label")
    pictures = {m.message_id: m for m in db_session.scalars(select(MessageMedia))}
    assert pictures[queued.id].token != pictures[failed.id].token  # an address of its own
    assert pictures[queued.id].content == png()
