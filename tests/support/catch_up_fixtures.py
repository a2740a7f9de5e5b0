"""Pytest fixtures for catch-up polls: fake Shopify and WooCommerce APIs (BigCommerce's is in
bigcommerce_fixtures), stores that use them, and the poll job run with a test clock."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from smsdesk.models import utcnow
from tests.support.shopify_server import ShopifyTestServer
from tests.support.woocommerce_server import WooCommerceTestServer

INTERVAL = 300.0  # seconds between a store's polls in these tests
SETTLE = 120.0


class Clock:
    """A controllable clock: time moves only when a test says so."""

    def __init__(self, now: datetime | None = None):
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def shopify_api_session():
    with ShopifyTestServer() as server:
        yield server


@pytest.fixture
def shopify_api(shopify_api_session):
    shopify_api_session.reset()
    yield shopify_api_session
    shopify_api_session.reset()


@pytest.fixture(scope="session")
def woocommerce_api_session():
    with WooCommerceTestServer() as server:
        yield server


@pytest.fixture
def woocommerce_api(woocommerce_api_session):
    woocommerce_api_session.reset()
    yield woocommerce_api_session
    woocommerce_api_session.reset()


@pytest.fixture
def polled_store(make, shopify_api, woocommerce_api, bigcommerce_api):
    """make a store of ``platform`` whose API credentials point at that platform's fake API."""
    from tests.webhooks.payloads import UNPACED

    def build(platform: str, **fields):
        credentials = {
            "shopify": {"api_base": shopify_api.url, "api_token": shopify_api.access_token},
            "woocommerce": {"api_base": woocommerce_api.url, "api_key": woocommerce_api.key,
                            "api_token": woocommerce_api.secret, "domain": None},
            "bigcommerce": {"api_base": bigcommerce_api.url, "api_token": bigcommerce_api.api_token,
                            "store_hash": bigcommerce_api.store_hash, "domain": None},
        }[platform]
        return make.store(platform=platform, rate_per_second=UNPACED, **credentials | fields)
    return build


@pytest.fixture
def poll(app):
    """Run the catch-up job once at ``clock``'s time, as the scheduler would."""
    from jobs.catch_up import catch_up_stores

    def run(clock, **kwargs) -> int:
        return catch_up_stores(app.extensions["smsdesk.sessions"], interval=INTERVAL, settle=SETTLE, clock=clock,
                               **kwargs)
    return run
