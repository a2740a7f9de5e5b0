"""Inbound MMS on POST /webhooks/twilio/sms: pictures are recorded (never fetched in the webhook),
only URLs of our Twilio account at Twilio's host are kept, and odd NumMedia never breaks a text."""
import pytest
from sqlalchemy import select

from smsdesk.models import Message, MessageMedia
from tests.conftest import TWILIO_SID
from tests.factories import inbound_sms
from tests.support.pictures import png
from tests.webhooks.test_twilio import post_signed


def mms(store, twilio_server, *urls: str, body: str = "", types: tuple[str, ...] = ()) -> dict:
    params = inbound_sms(store, from_="+15025550123", body=body) | {"NumMedia": str(len(urls))}
    for i, url in enumerate(urls):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = types[i] if i < len(types) else "image/png"
    return params


def test_a_picture_alone_is_a_text_with_a_photo(client, make, db_session, twilio_server):
    store = make.store()
    url = twilio_server.add_media(png(), "image/png")
    response = post_signed(client, "/webhooks/twilio/sms", mms(store, twilio_server, url))
    assert response.status_code == 200
    message = db_session.scalar(select(Message))
    media = db_session.scalars(select(MessageMedia)).all()
    assert (message.body, message.media_count) == ("", 1)
    assert [(m.message_id, m.position, m.provider_url, m.content_type, m.content) for m in media] == [
        (message.id, 0, url, "image/png", None)]  # recorded only: fetched when an agent looks
    assert len(media[0].token) >= 43
    assert not [r for r in twilio_server.requests if "/Media/" in r.path]  # no network call in a webhook


def test_the_list_says_photo_for_a_picture_without_words(client, make, db_session, twilio_server):
    store = make.store()
    post_signed(client, "/webhooks/twilio/sms", mms(store, twilio_server, twilio_server.add_media(png(), "image/png")))
    token = make.token(role="agent", stores=[store])
    conversations = client.get("/api/conversations", headers={"Authorization": f"Bearer {token}"}).json
    last = conversations["conversations"][0]["last_message"]
    assert (last["body"], last["media_count"], last["preview"]) == ("", 1, "📷 Photo")


def test_text_and_two_pictures_keep_their_order(client, make, db_session, twilio_server):
    store = make.store()
    urls = [twilio_server.add_media(png(), "image/png"), twilio_server.add_media(b"GIF89a..", "image/gif")]
    post_signed(client, "/webhooks/twilio/sms", mms(store, twilio_server, *urls, body="Box was crushed",
                                                    types=("image/png", "image/gif")))
    media = db_session.scalars(select(MessageMedia).order_by(MessageMedia.position)).all()
    assert [(m.position, m.provider_url, m.content_type) for m in media] == [
        (0, urls[0], "image/png"), (1, urls[1], "image/gif")]
    assert db_session.scalar(select(Message)).body == "Box was crushed"


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/iam/",  # cloud metadata: the classic SSRF target
    "https://evil.example/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1",  # right path, wrong host
    "https://api.twilio.com.evil.example/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1",
    "https://api.twilio.com/2010-04-01/Accounts/AC{other}/Messages/MM1/Media/ME1",  # another account
    "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1?x=http://evil",
    "https://user:pw@api.twilio.com/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1",
    "file:///etc/passwd", "", "not a url at all",
])
def test_media_urls_elsewhere_are_ignored_and_the_text_kept(client, make, db_session, twilio_server, url):
    store = make.store()
    url = url.format(sid=TWILIO_SID, other="9" * 32)
    response = post_signed(client, "/webhooks/twilio/sms", mms(store, twilio_server, url, body="see photo"))
    assert response.status_code == 200
    assert db_session.scalar(select(Message)).body == "see photo"
    assert db_session.scalars(select(MessageMedia)).all() == []


def test_twilios_own_host_is_accepted(client, make, db_session, twilio_server):
    store = make.store()
    url = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM{'1' * 32}/Media/ME{'2' * 32}"
    post_signed(client, "/webhooks/twilio/sms", mms(store, twilio_server, url))
    assert db_session.scalar(select(MessageMedia.provider_url)) == url


@pytest.mark.parametrize("count", ["abc", "-1", "11", "1.5", "١", "99999999999999999999"])
def test_odd_num_media_keeps_the_text_without_pictures(client, make, db_session, twilio_server, count):
    store = make.store()
    params = mms(store, twilio_server, twilio_server.add_media(png(), "image/png"), body="hi") | {"NumMedia": count}
    response = post_signed(client, "/webhooks/twilio/sms", params)
    assert response.status_code == 200
    assert db_session.scalar(select(Message)).media_count == 0
    assert db_session.scalars(select(MessageMedia)).all() == []


def test_num_media_without_its_urls_records_nothing(client, make, db_session, twilio_server):
    store = make.store()
    params = inbound_sms(store, from_="+15025550123", body="hi") | {"NumMedia": "2"}
    assert post_signed(client, "/webhooks/twilio/sms", params).status_code == 200
    assert db_session.scalar(select(Message)).media_count == 0


def test_a_retried_mms_is_recorded_once(client, make, db_session, twilio_server):
    store = make.store()
    params = mms(store, twilio_server, twilio_server.add_media(png(), "image/png"))
    post_signed(client, "/webhooks/twilio/sms", params)
    post_signed(client, "/webhooks/twilio/sms", params)
    assert len(db_session.scalars(select(MessageMedia)).all()) == 1
