"""Fixtures for the Twilio provider tests: a fresh TwilioTestServer per test with a known
auth token (instead of the session-wide one of tests/conftest.py), and a provider for it."""
from __future__ import annotations

import pytest

from tests.sms.helpers import AUTH_TOKEN, make_provider
from tests.support.twilio_server import TwilioTestServer


@pytest.fixture
def twilio_server():
    """A running TwilioTestServer with a known auth token."""
    with TwilioTestServer(auth_token=AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def provider(twilio_server):
    return make_provider(twilio_server)
