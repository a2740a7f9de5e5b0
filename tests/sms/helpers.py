"""What the Twilio provider tests share: the numbers and texts they send and how they build
a provider for a TwilioTestServer (the fixtures themselves are in conftest.py)."""
from __future__ import annotations

from datetime import datetime, timezone

from smsdesk.sms.twilio_provider import TwilioProvider, create_provider
from tests.support.twilio_server import TwilioTestServer

AUTH_TOKEN = "secret-auth-token"
TO = "+15551230001"
FROM = "+15557770000"
SERVICE = "MG" + "a" * 32
BODY = "Order #1042 has shipped."


def make_provider(server: TwilioTestServer, *, timeout: float = 2.0, auth_token: str | None = None) -> TwilioProvider:
    return create_provider(
        account_sid=server.account_sid,
        auth_token=auth_token or server.auth_token,
        api_base=server.url,
        timeout=timeout,
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
