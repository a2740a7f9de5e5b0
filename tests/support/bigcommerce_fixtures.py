"""Pytest fixtures for BigCommerce: the API test server, a store using it, and the fetch job."""
from __future__ import annotations

import pytest

from tests.support.bigcommerce_server import BigCommerceTestServer


@pytest.fixture(scope="session")
def bigcommerce_api_session():
    with BigCommerceTestServer() as server:
        yield server


@pytest.fixture
def bigcommerce_api(bigcommerce_api_session):
    """The BigCommerce test server, emptied and up for each test."""
    bigcommerce_api_session.reset()
    yield bigcommerce_api_session
    bigcommerce_api_session.reset()


@pytest.fixture
def bigcommerce_store(make, bigcommerce_api):
    """A BigCommerce store whose API is the test server (texts unpaced, see UNPACED)."""
    from tests.webhooks.payloads import UNPACED

    return make.store(name="Acme Outfitters", platform="bigcommerce", domain=None, rate_per_second=UNPACED,
                      api_base=bigcommerce_api.url, api_token=bigcommerce_api.api_token,
                      store_hash=bigcommerce_api.store_hash)


@pytest.fixture
def fetch(app):
    """Run the BigCommerce fetch job once, as the scheduler would, with no backoff by default."""
    from jobs.fetch_pending import fetch_pending
    from smsdesk.models import utcnow

    def run(*, clock=utcnow, delay=lambda attempts: 0.0) -> int:
        return fetch_pending(app.extensions["smsdesk.sessions"], clock=clock, delay=delay)
    return run
