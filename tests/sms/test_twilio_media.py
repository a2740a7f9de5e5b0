"""Pictures over the real twilio library and real HTTP: MediaUrl on create, and fetching a
customer's picture (smsdesk/sms/twilio_media.py) from the Twilio-compatible test server."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from smsdesk.services.media import MediaRefused
from smsdesk.sms.base import Sender
from smsdesk.sms.twilio_media import TwilioMediaFetcher
from tests.sms.helpers import AUTH_TOKEN, FROM, TO
from tests.support.pictures import png


def fetcher_for(server, *, max_bytes: int = 10**6, token: str = AUTH_TOKEN) -> TwilioMediaFetcher:
    return TwilioMediaFetcher(account_sid=server.account_sid, auth_token=token, api_base=server.url,
                              max_bytes=max_bytes, timeout=2.0)


def test_media_urls_go_as_repeated_media_url(twilio_server, provider):
    urls = ["https://shop.example/media/a", "https://shop.example/media/b"]
    sent = provider.send(TO, "", sender=Sender(from_number=FROM), media_urls=urls)
    assert sent.segments == 1
    assert twilio_server.sent_media(sent.sid) == urls and twilio_server.messages[0]["num_media"] == "2"
    assert "Body" not in twilio_server.requests[-1].form


def test_fetch_follows_twilios_redirect_without_the_credentials(twilio_server):
    url = twilio_server.add_media(png(), "image/png")
    assert fetcher_for(twilio_server).fetch(url) == (png(), "image/png")
    api, storage = twilio_server.requests
    assert api.basic_auth == (twilio_server.account_sid, AUTH_TOKEN) and "Authorization" not in storage.headers


def test_twilios_host_is_rewritten_to_the_api_base(twilio_server):
    path = twilio_server.add_media(png(), "image/png").removeprefix(twilio_server.url)
    assert fetcher_for(twilio_server).fetch("https://api.twilio.com" + path)[0] == png()


def test_wrong_credentials_are_a_502_not_a_picture(twilio_server):
    url = twilio_server.add_media(png(), "image/png")
    with pytest.raises(MediaRefused) as refused:
        fetcher_for(twilio_server, token="wrong").fetch(url)
    assert refused.value.status == 502 and "401" in str(refused.value)


def test_the_size_cap_stops_reading(twilio_server):
    url = twilio_server.add_media(png() + b"\0" * 50_000, "image/png")
    with pytest.raises(MediaRefused) as refused:
        fetcher_for(twilio_server, max_bytes=10_000).fetch(url)
    assert refused.value.status == 413


def test_urls_elsewhere_are_never_requested(twilio_server):
    other = f"http://127.0.0.1:1/2010-04-01/Accounts/{twilio_server.account_sid}/Messages/MM1/Media/ME1"
    with pytest.raises(MediaRefused) as refused:
        fetcher_for(twilio_server).fetch(other)
    assert refused.value.status == 404 and twilio_server.requests == []


class _Silent(BaseHTTPRequestHandler):
    def do_GET(self):
        threading.Event().wait(1)  # never answers within the fetcher's timeout

    def log_message(self, *args):
        pass


def test_a_silent_twilio_times_out_as_a_502():
    server = HTTPServer(("127.0.0.1", 0), _Silent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fetcher = TwilioMediaFetcher(account_sid="AC" + "1" * 32, auth_token="t", api_base=base, max_bytes=1000,
                                 timeout=0.3)
    try:
        with pytest.raises(MediaRefused) as refused:
            fetcher.fetch(f"{base}/2010-04-01/Accounts/AC{'1' * 32}/Messages/MM1/Media/ME1")
        assert refused.value.status == 502
    finally:
        server.shutdown()
        server.server_close()
