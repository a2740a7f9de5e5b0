"""smsdesk.platforms.bigcommerce.api against the BigCommerce test server."""
from datetime import timedelta
from email.utils import format_datetime

import pytest

from smsdesk.models import utcnow
from smsdesk.platforms.bigcommerce.api import BigCommerceClient
from smsdesk.platforms.http import ApiError, Credentials
from smsdesk.retry import retry_after_seconds
from tests.webhooks.payloads import bigcommerce_order


def client_for(server, **changes) -> BigCommerceClient:
    values = {"api_base": server.url, "store_hash": server.store_hash, "api_token": server.api_token} | changes
    return BigCommerceClient(Credentials(**values), timeout=(2.0, 2.0))


def test_reads_order_and_treats_204_as_empty(bigcommerce_api):
    bigcommerce_api.put_order(bigcommerce_order(250))
    client = client_for(bigcommerce_api)
    assert client.order("250")["id"] == 250
    assert client.shipments("250") == [] and client.shipping_addresses("250") == []
    assert {r.headers["Accept"] for r in bigcommerce_api.requests} == {"application/json"}


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (503, True), (404, False),
                                                   (401, False), (422, False)])
def test_errors_say_whether_to_retry(bigcommerce_api, status, retryable):
    bigcommerce_api.put_order(bigcommerce_order(250))
    bigcommerce_api.fail_next(status, retry_after=7)
    with pytest.raises(ApiError) as caught:
        client_for(bigcommerce_api).order("250")
    assert caught.value.retryable is retryable and caught.value.retry_after == 7
    assert f"HTTP {status}" in caught.value.reason


def test_wrong_token_is_not_retried_and_the_token_stays_out_of_the_reason(bigcommerce_api):
    bigcommerce_api.put_order(bigcommerce_order(250))
    with pytest.raises(ApiError) as caught:
        client_for(bigcommerce_api, api_token="stolen-token").order("250")
    assert not caught.value.retryable and "stolen-token" not in caught.value.reason


def test_connection_dropped_is_retryable(bigcommerce_api):
    bigcommerce_api.down = True
    with pytest.raises(ApiError) as caught:
        client_for(bigcommerce_api).order("250")
    assert caught.value.retryable and "ConnectionError" in caught.value.reason


def test_missing_credentials_fail_before_any_request(bigcommerce_api):
    with pytest.raises(ApiError) as caught:
        client_for(bigcommerce_api, api_token="")
    assert not caught.value.retryable and bigcommerce_api.requests == []


def test_retry_after_as_seconds_or_http_date():
    assert retry_after_seconds("12") == 12.0
    assert 55 <= retry_after_seconds(format_datetime(utcnow() + timedelta(seconds=60), usegmt=True)) <= 60
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("-5") == 0.0
