"""smsdesk.platforms.shopify.api and .poll against the fake Admin GraphQL server."""
import time
from datetime import timedelta

import pytest

from smsdesk.events import OrderCancelled, OrderPlaced, ShipmentUpdated
from smsdesk.models import utcnow
from smsdesk.platforms.http import ApiError, Credentials
from smsdesk.platforms.payload import read_phone
from smsdesk.platforms.shopify import api as shopify_api_module
from smsdesk.platforms.shopify.api import ShopifyClient
from smsdesk.platforms.shopify.poll import poll
from tests.support.shopify_server import graphql_fulfillment, graphql_order


def iso(moment) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture
def window(shopify_api):
    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    for n in range(3):
        shopify_api.put_order(graphql_order(1000 + n, updated_at=iso(start + timedelta(minutes=n + 1))))
    return start, start + timedelta(hours=1)


def client_for(server, sleeps=None) -> ShopifyClient:
    def sleep(seconds):
        sleeps.append(seconds)
        time.sleep(seconds)
    return ShopifyClient(Credentials(api_base=server.url, api_token=server.access_token), timeout=(2.0, 2.0),
                         sleep=sleep if sleeps is not None else time.sleep)


def test_low_points_wait_for_the_restore_rate_before_the_next_page(shopify_api, window, monkeypatch):
    monkeypatch.setattr(shopify_api_module, "PAGE_SIZE", 1)
    shopify_api.available, shopify_api.restore_rate = 260.0, 1000.0  # one page fits, then 8 points are left
    sleeps: list[float] = []
    orders = client_for(shopify_api, sleeps).changed_orders(*window)
    assert [o["legacyResourceId"] for o in orders] == ["1000", "1001", "1002"]
    assert len(shopify_api.requests) == 3
    # Each wait is what the missing points take at 1000 a second: at most 252 / 1000 s (some came back meanwhile).
    assert len(sleeps) == 2 and all(0 < s <= 0.252 for s in sleeps)
    assert all('"THROTTLED"' not in str(r.body) for r in shopify_api.requests)


def test_a_long_wait_is_left_to_a_later_poll_with_retry_after(shopify_api, window, monkeypatch):
    monkeypatch.setattr(shopify_api_module, "PAGE_SIZE", 1)
    shopify_api.available, shopify_api.restore_rate = 260.0, 2.0
    with pytest.raises(ApiError) as caught:
        client_for(shopify_api, []).changed_orders(*window)
    assert caught.value.retryable and caught.value.retry_after > 100
    assert len(shopify_api.requests) == 1  # the second page was not even asked for


def test_429_says_retry_after(shopify_api, window):
    shopify_api.fail_next(429, retry_after=4)
    with pytest.raises(ApiError) as caught:
        client_for(shopify_api).changed_orders(*window)
    assert caught.value.retryable and caught.value.retry_after == 4


def test_wrong_token_is_refused_and_stays_out_of_the_reason(shopify_api, window):
    client = ShopifyClient(Credentials(api_base=shopify_api.url, api_token="shpat_stolen"))
    with pytest.raises(ApiError) as caught:
        client.changed_orders(*window)
    assert not caught.value.retryable and "shpat_stolen" not in caught.value.reason


def test_poll_reads_orders_as_their_webhooks_would(shopify_api):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    shipped = graphql_order(7, updated_at=iso(start + timedelta(minutes=1)),
                            fulfillments=[graphql_fulfillment(70, display_status="DELIVERED"),
                                          graphql_fulfillment(71, status="CANCELLED")])
    shopify_api.put_order(shipped)
    shopify_api.put_order(graphql_order(8, updated_at=iso(start + timedelta(minutes=2)),
                                        cancelled_at=iso(start + timedelta(minutes=2))))
    polled = poll(client_for(shopify_api), start, start + timedelta(minutes=30), "US")
    first, second = polled.changes
    assert polled.complete and first.key == f"order:7@{iso(start + timedelta(minutes=1))}"
    placed, delivered = first.events
    assert isinstance(placed, OrderPlaced) and read_phone(placed.customer).phone == "+15125550120"
    assert isinstance(delivered, ShipmentUpdated)
    assert (delivered.status, delivered.shipment_id, delivered.tracking.number) == ("delivered", "70", "1Z2345")
    assert [type(e) for e in second.events] == [OrderCancelled]


def test_an_order_placed_before_the_window_is_not_placed_again(shopify_api):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    shopify_api.put_order(graphql_order(9, updated_at=iso(start + timedelta(minutes=5)),
                                        created_at=iso(start - timedelta(days=3)),
                                        fulfillments=[graphql_fulfillment(90)]))
    (change,) = poll(client_for(shopify_api), start, start + timedelta(minutes=30), "US").changes
    assert [(type(e), e.status) for e in change.events] == [(ShipmentUpdated, "shipped")]
