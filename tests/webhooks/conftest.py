"""Fixtures for the shop-platform webhook tests."""
from tests.support.bigcommerce_fixtures import (  # noqa: F401 - fixtures
    bigcommerce_api,
    bigcommerce_api_session,
    bigcommerce_store,
    fetch,
)
