"""TwilioProvider.find_sent, the test server's list/fetch/status as the twilio client sees
them, and the signed status callbacks it posts."""
from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from smsdesk.sms.base import Sender
from smsdesk.sms.twilio_provider import FIND_SENT_CLOCK_SKEW
from tests.sms.helpers import AUTH_TOKEN, BODY, FROM, SERVICE, TO, utcnow


@pytest.fixture
def callback_receiver():
    """A tiny webhook receiver recording (path, headers, form) of every POST."""
    received: list[tuple[str, dict, dict]] = []
    arrived = threading.Condition()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            with arrived:
                received.append((self.path, dict(self.headers), dict(parse_qsl(raw, keep_blank_values=True))))
                arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.received = received
    httpd.arrived = arrived
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


# -- find_sent -----------------------------------------------------------------


def test_find_sent_sees_a_text_still_queued_without_date_sent(twilio_server, provider):
    twilio_server.date_sent_on_accept = False  # real Twilio: date_sent is null while queued
    before = utcnow()
    sent = provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert twilio_server.messages[0]["date_sent"] is None
    assert provider.find_sent(TO, BODY, sent_after=before).sid == sent.sid
    assert provider.find_sent(TO, BODY, sent_after=before + FIND_SENT_CLOCK_SKEW + timedelta(seconds=5)) is None


def test_find_sent_returns_none_when_nothing_matches(twilio_server, provider):
    before = utcnow()
    provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert provider.find_sent(TO, "another text", sent_after=before) is None
    assert provider.find_sent("+15550000000", BODY, sent_after=before) is None
    later = utcnow() + FIND_SENT_CLOCK_SKEW + timedelta(minutes=5)
    assert provider.find_sent(TO, BODY, sent_after=later) is None
    assert provider.find_sent(TO, BODY, sent_after=before.replace(tzinfo=None)) is not None  # naive = UTC


def test_find_sent_picks_the_newest_match(twilio_server, provider):
    before = utcnow()
    sender = Sender(from_number=FROM)
    provider.send(TO, BODY, sender=sender)
    provider.send(TO, "something else", sender=sender)
    newest = provider.send(TO, BODY, sender=sender)

    assert provider.find_sent(TO, BODY, sent_after=before).sid == newest.sid


# -- the test server itself, as seen through the twilio client ------------------


def test_server_lists_across_pages_and_fetches(twilio_server, provider):
    sids = [provider.send(TO, f"text {i}", sender=Sender(from_number=FROM)).sid for i in range(3)]

    listed = provider.client.messages.list(to=TO, page_size=2)

    assert [m.sid for m in listed] == sids[::-1]  # newest first, second page followed
    assert provider.client.messages(sids[0]).fetch().body == "text 0"
    with pytest.raises(TwilioRestException) as caught:
        provider.client.messages("SM" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)


def test_server_filters_by_date_sent(twilio_server, provider):
    provider.send(TO, BODY, sender=Sender(from_number=FROM))
    today = utcnow().date()

    def count(**filters) -> int:
        return len(provider.client.messages.list(**filters))

    assert count(date_sent=today) == 1
    assert count(date_sent_before=utcnow() - timedelta(hours=1)) == 0
    assert count(date_sent_after=utcnow() + timedelta(hours=1)) == 0
    assert count(from_=FROM, date_sent_after=utcnow() - timedelta(hours=1)) == 1


def test_status_changes_show_in_fetch(twilio_server, provider):
    sent = provider.send(TO, BODY, sender=Sender(from_number=FROM))
    twilio_server.set_status(sent.sid, "undelivered", error_code=30005)

    fetched = provider.client.messages(sent.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30005)


def test_reset_forgets_everything(twilio_server, provider):
    provider.send(TO, BODY, sender=Sender(from_number=FROM))
    twilio_server.fail_next(500)
    twilio_server.reset()

    assert (twilio_server.messages, twilio_server.requests) == ([], [])
    assert provider.send(TO, BODY, sender=Sender(from_number=FROM)).status == "queued"


# -- status callbacks ----------------------------------------------------------


def test_auto_callbacks_are_signed_and_in_order(twilio_server, provider, callback_receiver):
    url = f"{callback_receiver.base}/webhooks/twilio/status?order=1042"
    twilio_server.auto_callbacks = ["sent", "delivered"]

    sent = provider.send(TO, BODY, sender=Sender(from_number=FROM), status_callback=url)
    twilio_server.wait_for_callbacks(2)

    validator = RequestValidator(AUTH_TOKEN)
    assert [form["MessageStatus"] for _, _, form in callback_receiver.received] == ["sent", "delivered"]
    for path, headers, form in callback_receiver.received:
        assert path == "/webhooks/twilio/status?order=1042"
        assert validator.validate(url, form, headers["X-Twilio-Signature"])
        assert not RequestValidator("other-token").validate(url, form, headers["X-Twilio-Signature"])
        assert form["MessageSid"] == form["SmsSid"] == sent.sid
        assert (form["To"], form["From"], form["AccountSid"]) == (TO, FROM, twilio_server.account_sid)
        assert form["ApiVersion"] == "2010-04-01" and "ErrorCode" not in form
    assert [c.http_status for c in twilio_server.callbacks] == [204, 204]
    assert twilio_server.messages[0]["status"] == "delivered"


def test_failed_callback_carries_error_code(twilio_server, provider, callback_receiver):
    url = f"{callback_receiver.base}/status"
    twilio_server.auto_callbacks = ["failed"]

    provider.send(TO, BODY, sender=Sender(messaging_service_sid=SERVICE), status_callback=url)
    twilio_server.wait_for_callbacks(1)

    _, headers, form = callback_receiver.received[0]
    assert (form["MessageStatus"], form["ErrorCode"], form["MessagingServiceSid"]) == ("failed", "30008", SERVICE)
    assert RequestValidator(AUTH_TOKEN).validate(url, form, headers["X-Twilio-Signature"])


def test_on_demand_minimal_callback(twilio_server, provider, callback_receiver):
    url = f"{callback_receiver.base}/status"
    sent = provider.send(TO, BODY, sender=Sender(from_number=FROM), status_callback=url)

    assert twilio_server.send_status_callback(sent.sid, "delivered", minimal=True) == 204

    _, headers, form = callback_receiver.received[0]
    assert form == {"MessageSid": sent.sid, "MessageStatus": "delivered"}
    assert RequestValidator(AUTH_TOKEN).validate(url, form, headers["X-Twilio-Signature"])
    assert provider.client.messages(sent.sid).fetch().status == "delivered"


def test_no_callbacks_without_auto_callbacks(twilio_server, provider, callback_receiver):
    provider.send(TO, BODY, sender=Sender(from_number=FROM), status_callback=f"{callback_receiver.base}/s")

    with pytest.raises(TimeoutError):
        twilio_server.wait_for_callbacks(1, timeout=0.2)
    assert callback_receiver.received == []
