"""smsdesk.platforms.bigcommerce.mapping: order status -> event, phones, tracking, amounts (no HTTP)."""
import pytest

from smsdesk.events import (
    OrderCancelled,
    OrderPlaced,
    OrderRefunded,
    PaymentDeclined,
    ShipmentUpdated,
)
from smsdesk.platforms.bigcommerce.mapping import fetch_events, money, pick_shipment
from tests.webhooks.payloads import (
    bigcommerce_callback,
    bigcommerce_order,
    bigcommerce_shipment,
)


class FakeApi:
    """The three reads fetch_events makes, from dicts, counting calls."""

    def __init__(self, order: dict, shipments: list | None = None, addresses: list | None = None,
                 products: list | None = None):
        self._order, self._shipments, self._addresses = order, shipments or [], addresses or []
        self._products = products or []
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

    def products(self, order_id):
        self.calls.append(f"products {order_id}")
        return self._products


@pytest.mark.parametrize(("status_id", "expected"), [
    (7, OrderPlaced), (9, OrderPlaced), (11, OrderPlaced),
    (8, "ready_for_pickup"), (2, "shipped"), (3, "shipped"), (10, "delivered"),
    (5, OrderCancelled), (4, OrderRefunded), (14, OrderRefunded), (6, PaymentDeclined),
    (0, None), (1, None), (12, None), (13, None), (99, None),
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


@pytest.mark.parametrize(("status_id", "partial"), [(4, False), (14, True)])
def test_refunds_carry_the_refunded_amount_and_say_if_partial(status_id, partial):
    order = bigcommerce_order(status_id=status_id, refunded_amount="10.0000")
    [event] = fetch_events(FakeApi(order), bigcommerce_callback("store/order/statusUpdated", 250), default_country="US")
    assert (event.amount, event.partial, event.refund_id) == ("10.00", partial, "")


def test_every_shipment_of_a_shipped_order_is_a_package_with_its_own_tracking():
    api = FakeApi(bigcommerce_order(status_id=2, items_total=3), shipments=[
        bigcommerce_shipment(250, 13, tracking_number="SECOND", items=[{"order_product_id": 2, "quantity": 1}]),
        bigcommerce_shipment(250, 12)])
    events = fetch_events(api, bigcommerce_callback("store/order/statusUpdated", 250), default_country="US")
    assert [(e.shipment_id, e.tracking.number, sum(i.quantity for i in e.items)) for e in events] == [
        ("12", "EJ958083578US", 2), ("13", "SECOND", 1)]
    assert {e.order.item_count for e in events} == {3}


def test_package_items_are_named_from_the_order_products():
    api = FakeApi(bigcommerce_order(status_id=3, items_total=3), shipments=[bigcommerce_shipment(250, 12)],
                  products=[{"id": 194, "name": "Wool Mittens", "quantity": 1},
                            {"id": 195, "name": "Knit Scarf", "quantity": 2}])
    [event] = fetch_events(api, bigcommerce_callback("store/order/statusUpdated", 250), default_country="US")
    assert [(i.title, i.quantity) for i in event.items] == [("Wool Mittens", 1), ("Knit Scarf", 1)]


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
    assert api.calls == ["order 250", "addresses 250", "shipments 250", "products 250"]


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
