"""TwilioProvider with the real twilio client against a real Twilio-compatible HTTP server:
sending, and how Twilio's answers map to send errors (lookups are in test_twilio_lookup.py)."""
from __future__ import annotations

import socket
from datetime import timedelta
from email.utils import format_datetime

import pytest

from smsdesk.sms.base import AmbiguousSendError, PermanentSendError, RetryableSendError, Sender
from smsdesk.sms.twilio_provider import (
    QUEUE_OVERFLOW_RETRY_AFTER,
    ApiBaseHttpClient,
    create_provider,
    parse_retry_after,
    timeout_for_lease,
)
from tests.sms.helpers import AUTH_TOKEN, BODY, FROM, SERVICE, TO, make_provider, utcnow

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
    [("", BODY, Sender(from_number=FROM), 21604), (TO, "", Sender(from_number=FROM), 21602),
     (TO, BODY, Sender(), 21603)],
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
