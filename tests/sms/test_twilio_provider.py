"""TwilioProvider with the real twilio client against a real Twilio-compatible HTTP server."""
from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from smsdesk.sms.base import AmbiguousSendError, PermanentSendError, RetryableSendError, Sender
from smsdesk.sms.twilio_provider import (
    FIND_SENT_CLOCK_SKEW,
    QUEUE_OVERFLOW_RETRY_AFTER,
    ApiBaseHttpClient,
    TwilioProvider,
    create_provider,
    parse_retry_after,
    timeout_for_lease,
)

try:  # pytest puts tests/ on sys.path while tests/ has no __init__.py
    from support.twilio_server import TwilioTestServer
except ImportError:  # pragma: no cover - once tests/ becomes a package
    from tests.support.twilio_server import TwilioTestServer

AUTH_TOKEN = "secret-auth-token"
TO = "+15551230001"
FROM = "+15557770000"
SERVICE = "MG" + "a" * 32
BODY = "Order #1042 has shipped."


@pytest.fixture
def twilio_server():
    """A running TwilioTestServer with a known auth token."""
    with TwilioTestServer(auth_token=AUTH_TOKEN) as server:
        yield server


def make_provider(server: TwilioTestServer, *, timeout: float = 2.0, auth_token: str | None = None) -> TwilioProvider:
    return create_provider(
        account_sid=server.account_sid,
        auth_token=auth_token or server.auth_token,
        api_base=server.url,
        timeout=timeout,
    )


@pytest.fixture
def provider(twilio_server):
    return make_provider(twilio_server)


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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- successful sends ----------------------------------------------------------


def test_send_from_number_posts_everything_twilio_needs(twilio_server, provider):
    sent = provider.send(
        TO, BODY, sender=Sender(from_number=FROM), status_callback="https://shop.example/cb", validity_period=600
    )

    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert (sent.status, sent.segments) == ("queued", 1)
    request = twilio_server.requests[-1]
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{twilio_server.account_sid}/Messages.json"
    assert request.form == {
        "To": TO,
        "Body": BODY,
        "From": FROM,
        "StatusCallback": "https://shop.example/cb",
        "ValidityPeriod": "600",
    }
    assert request.basic_auth == (twilio_server.account_sid, AUTH_TOKEN)
    [message] = twilio_server.messages
    assert (message["sid"], message["to"], message["from"], message["body"]) == (sent.sid, TO, FROM, BODY)


def test_send_with_messaging_service_sends_no_from(twilio_server, provider):
    sent = provider.send(TO, BODY, sender=Sender(messaging_service_sid=SERVICE))

    form = twilio_server.requests[-1].form
    assert form == {"To": TO, "Body": BODY, "MessagingServiceSid": SERVICE}
    assert twilio_server.messages[0]["messaging_service_sid"] == SERVICE
    assert twilio_server.messages[0]["sid"] == sent.sid


def test_messaging_service_wins_when_sender_has_both(twilio_server, provider):
    provider.send(TO, BODY, sender=Sender(from_number=FROM, messaging_service_sid=SERVICE))

    form = twilio_server.requests[-1].form
    assert form["MessagingServiceSid"] == SERVICE and "From" not in form


@pytest.mark.parametrize(
    ("body", "segments"),
    [("a" * 160, 1), ("a" * 161, 2), ("é" * 160, 1), ("ü" + "\U0001f44d" * 35, 2)],
)
def test_segments_come_from_twilio(provider, body, segments):
    assert provider.send(TO, body, sender=Sender(from_number=FROM)).segments == segments


# -- error mapping -------------------------------------------------------------


def test_rate_limit_is_retryable_with_retry_after(twilio_server, provider):
    twilio_server.fail_next(429, code=20429, retry_after=7)

    with pytest.raises(RetryableSendError) as caught:
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert (caught.value.retry_after, caught.value.code, caught.value.http_status) == (7.0, 20429, 429)
    assert twilio_server.messages == []
    # The remembered response belongs to the failing call only: the next one succeeds cleanly.
    assert provider.send(TO, BODY, sender=Sender(from_number=FROM)).status == "queued"


def test_service_unavailable_code_is_retryable(twilio_server, provider):
    twilio_server.fail_next(503)  # the server's default code for 503 is 20503

    with pytest.raises(RetryableSendError) as caught:
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert (caught.value.code, caught.value.http_status, caught.value.retry_after) == (20503, 503, None)


@pytest.mark.parametrize("code", [21611, 30001])
def test_queue_overflow_is_retryable_later(twilio_server, provider, code):
    twilio_server.fail_next(400, code=code, message="Queue overflow")

    with pytest.raises(RetryableSendError) as caught:
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert (caught.value.code, caught.value.retry_after) == (code, QUEUE_OVERFLOW_RETRY_AFTER)


@pytest.mark.parametrize("code", [21211, 21610])
def test_refused_recipient_is_permanent(twilio_server, provider, code):
    twilio_server.fail_next(400, code=code, message="The 'To' number is not a valid phone number.")

    with pytest.raises(PermanentSendError) as caught:
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert (caught.value.code, caught.value.http_status) == (code, 400)
    assert "not a valid phone number" in caught.value.message


@pytest.mark.parametrize(
    ("to", "body", "sender", "code"),
    [("", BODY, Sender(from_number=FROM), 21604), (TO, "", Sender(from_number=FROM), 21602), (TO, BODY, Sender(), 21603)],
)
def test_server_validation_errors_are_permanent(twilio_server, provider, to, body, sender, code):
    with pytest.raises(PermanentSendError) as caught:
        provider.send(to, body, sender=sender)

    assert caught.value.code == code
    assert twilio_server.messages == []


def test_server_error_is_ambiguous(twilio_server, provider):
    twilio_server.fail_next(500)

    with pytest.raises(AmbiguousSendError) as caught:
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert (caught.value.http_status, caught.value.code) == (500, 20500)
    assert twilio_server.messages == []


def test_server_error_after_accepting_is_found_again(twilio_server, provider):
    before = utcnow()
    twilio_server.fail_next(500, accept=True)

    with pytest.raises(AmbiguousSendError):
        provider.send(TO, BODY, sender=Sender(from_number=FROM))
    found = provider.find_sent(TO, BODY, sent_after=before)

    [message] = twilio_server.messages
    assert found is not None and (found.sid, found.status, found.segments) == (message["sid"], "queued", 1)
    query = twilio_server.requests[-1].query
    assert query["To"] == TO
    assert "DateSent>" not in query  # a text still queued at Twilio has no date_sent yet


def test_find_sent_sees_a_text_still_queued_without_date_sent(twilio_server, provider):
    twilio_server.date_sent_on_accept = False  # real Twilio: date_sent is null while queued
    before = utcnow()
    sent = provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert twilio_server.messages[0]["date_sent"] is None
    assert provider.find_sent(TO, BODY, sent_after=before).sid == sent.sid
    assert provider.find_sent(TO, BODY, sent_after=before + FIND_SENT_CLOCK_SKEW + timedelta(seconds=5)) is None


def test_dropped_connection_is_ambiguous(twilio_server, provider):
    twilio_server.drop_next()

    with pytest.raises(AmbiguousSendError):
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert twilio_server.messages == []


def test_dropped_connection_after_accepting_is_found_again(twilio_server, provider):
    before = utcnow()
    twilio_server.drop_next(accept=True)

    with pytest.raises(AmbiguousSendError):
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    found = provider.find_sent(TO, BODY, sent_after=before)
    assert found is not None and found.sid == twilio_server.messages[0]["sid"]


def test_read_timeout_is_ambiguous(twilio_server):
    provider = make_provider(twilio_server, timeout=0.2)
    twilio_server.delay_next(1.0)

    with pytest.raises(AmbiguousSendError):
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert len(twilio_server.messages) == 1  # Twilio did take it


def test_connection_refused_is_retryable():
    with socket.socket() as sock:  # grab a free port, then free it again
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = create_provider(
        account_sid="AC" + "0" * 32, auth_token="x", api_base=f"http://127.0.0.1:{port}", timeout=1.0
    )

    with pytest.raises(RetryableSendError) as caught:
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert caught.value.retry_after is None


def test_bad_auth_token_is_permanent(twilio_server):
    provider = make_provider(twilio_server, auth_token="wrong-token")

    with pytest.raises(PermanentSendError) as caught:
        provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert (caught.value.code, caught.value.http_status) == (20003, 401)
    assert twilio_server.messages == []


def test_lookup_failures_raise_send_errors(twilio_server):
    provider = make_provider(twilio_server, auth_token="wrong-token")

    with pytest.raises(PermanentSendError) as caught:
        provider.find_sent(TO, BODY, sent_after=utcnow())

    assert caught.value.code == 20003


# -- find_sent -----------------------------------------------------------------


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


# -- plumbing ------------------------------------------------------------------


def test_api_base_rewrites_only_twilio_hosts():
    client = ApiBaseHttpClient("http://127.0.0.1:9999/prefix")

    assert client.rewrite_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5") == (
        "http://127.0.0.1:9999/prefix/2010-04-01/Accounts/AC1/Messages.json?PageSize=5"
    )
    assert client.rewrite_url("https://messaging.us1.twilio.com/v1/Services") == (
        "http://127.0.0.1:9999/prefix/v1/Services"
    )
    assert client.rewrite_url("https://example.com/x") == "https://example.com/x"
    assert ApiBaseHttpClient().rewrite_url("https://api.twilio.com/x") == "https://api.twilio.com/x"
    with pytest.raises(ValueError):
        ApiBaseHttpClient("127.0.0.1:9999")


def test_create_provider_ignores_twilio_environment(twilio_server, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "f" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "env-token")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")

    provider = make_provider(twilio_server)
    provider.send(TO, BODY, sender=Sender(from_number=FROM))

    assert (provider.client.edge, provider.client.region) == (None, None)
    assert twilio_server.requests[-1].basic_auth == (twilio_server.account_sid, AUTH_TOKEN)
    assert provider.name == "twilio"


def test_parse_retry_after_accepts_seconds_and_dates():
    in_a_minute = format_datetime(utcnow() + timedelta(seconds=60), usegmt=True)

    assert parse_retry_after("12") == 12.0
    assert 55 <= parse_retry_after(in_a_minute) <= 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize("lease, timeout", [(60.0, 10.0), (300.0, 10.0), (9.0, 3.0), (1.0, 1 / 3)])
def test_request_timeout_stays_inside_the_send_lease(lease, timeout):
    assert timeout_for_lease(lease) == pytest.approx(timeout)
