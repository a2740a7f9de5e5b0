"""smsdesk.platforms.bigcommerce: order status -> event, phones, tracking, amounts (no HTTP)."""
import pytest

from smsdesk.events import OrderCancelled, OrderPlaced, ShipmentUpdated
from smsdesk.platforms.bigcommerce import fetch_events, money, pick_shipment
from tests.webhooks.payloads import bigcommerce_callback, bigcommerce_order, bigcommerce_shipment


class FakeApi:
    """The three reads fetch_events makes, from dicts, counting calls."""

    def __init__(self, order: dict, shipments: list | None = None, addresses: list | None = None):
        self._order, self._shipments, self._addresses = order, shipments or [], addresses or []
        self.calls: list[str] = []

    def order(self, order_id):
        self.calls.append(f"order {order_id}")
        return self._order

    def shipping_addresses(self, order_id):
        self.calls.append(f"addresses {order_id}")
        return self._addresses

    def shipments(self, order_id):
        self.calls.append(f"shipments {order_id}")
        return self._shipments


@pytest.mark.parametrize(("status_id", "expected"), [
    (7, OrderPlaced), (9, OrderPlaced), (11, OrderPlaced),
    (8, "ready_for_pickup"), (2, "shipped"), (3, "shipped"), (10, "delivered"),
    (4, OrderCancelled), (5, OrderCancelled), (6, OrderCancelled),
    (0, None), (1, None), (12, None), (13, None), (14, None), (99, None),
])
def test_status_table(status_id, expected):
    api = FakeApi(bigcommerce_order(status_id=status_id), shipments=[bigcommerce_shipment(250)])
    events = fetch_events(api, bigcommerce_callback("store/order/statusUpdated", 250), default_country="US")
    if expected is None:
        assert events == []
    elif isinstance(expected, str):
        assert [(type(e), e.status) for e in events] == [(ShipmentUpdated, expected)]
    else:
        assert [type(e) for e in events] == [expected]


def test_order_fields_and_customer():
    [event] = fetch_events(FakeApi(bigcommerce_order(status_id=11)), bigcommerce_callback("store/order/created", 250),
                           default_country="DE")
    assert (event.order.external_id, event.order.number, event.order.total, event.order.currency) == (
        "250", "250", "69.84", "USD")
    assert (event.customer.phone, event.customer.first_name, event.customer.email) == (
        "+15125550120", "Jane", "janedoe@example.com")  # billing country US, not the store's DE


def test_shipment_callback_uses_the_named_shipment_and_says_shipped():
    api = FakeApi(bigcommerce_order(status_id=9), shipments=[
        bigcommerce_shipment(250, 12), bigcommerce_shipment(250, 13, tracking_number="LATER",
                                                            tracking_link="https://t.example/LATER")])
    callback = bigcommerce_callback("store/shipment/created", 12, order_id=250)
    [event] = fetch_events(api, callback, default_country="US")
    assert (event.status, event.tracking.number, event.tracking.company) == ("shipped", "EJ958083578US", "USPS")
    assert api.calls == ["order 250", "addresses 250", "shipments 250"]


def test_placed_order_does_not_fetch_shipments():
    api = FakeApi(bigcommerce_order(status_id=11))
    fetch_events(api, bigcommerce_callback("store/order/created", 250), default_country="US")
    assert api.calls == ["order 250", "addresses 250"]


@pytest.mark.parametrize(("shipments", "wanted", "number"), [
    ([], None, ""),
    ([{"id": 3, "tracking_number": "A"}, {"id": 10, "tracking_number": "B"}], None, "B"),
    ([{"id": 3, "tracking_number": "A"}, {"id": 10, "tracking_number": "B"}], "3", "A"),
    ([{"id": 3, "tracking_number": "A"}], "99", "A"),
])
def test_pick_shipment(shipments, wanted, number):
    assert pick_shipment(shipments, wanted).get("tracking_number", "") == number


@pytest.mark.parametrize(("raw", "shown"), [("69.8400", "69.84"), ("0.0000", "0.00"), ("12", "12.00"),
                                            ("", ""), (None, ""), ("n/a", "n/a")])
def test_money(raw, shown):
    assert money(raw) == shown
