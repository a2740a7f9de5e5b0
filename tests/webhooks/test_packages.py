"""Orders shipped in several packages, per platform: each package is texted with its own tracking,
the order (API and inbox) shows every package, and a package holding part of the order says so."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from smsdesk.models import Message, MessageStatus
from tests.factories import shopify_order
from tests.support.shops import Shop, shop_for
from tests.web.conftest import Browser
from tests.webhooks.payloads import (
    bigcommerce_order,
    bigcommerce_shipment,
    generic_event,
    shopify_fulfillment,
    woo_order,
)

FIRST, SECOND = ("TRK-ONE", "https://track.example/TRK-ONE"), ("TRK-TWO", "https://track.example/TRK-TWO")
GENERIC_ORDER = {"id": "1001", "number": "1001"}
GENERIC_CUSTOMER = {"first_name": "Jonas", "phone": "+49 151 12345678"}


def fulfillment(fulfillment_id: int, number: str, url: str) -> dict:
    return shopify_fulfillment(id=fulfillment_id, tracking_number=number, tracking_numbers=[number],
                               tracking_url=url, tracking_urls=[url], tracking_company="UPS")


def woo_tracking_item(tracking_id: str, number: str, url: str) -> dict:
    return {"tracking_provider": "", "custom_tracking_provider": "Parcel Co", "tracking_number": number,
            "custom_tracking_link": url, "date_shipped": "1711065600", "tracking_id": tracking_id}


def bc_shipment(shipment_id: int, number: str, url: str) -> dict:
    return bigcommerce_shipment(250, shipment_id, tracking_number=number, tracking_link=url,
                                items=[{"order_product_id": 194, "product_id": 0, "quantity": 1}])


def generic_shipment(package_id: str, number: str, url: str) -> dict:
    return generic_event("shipment.updated", order={"id": "1001"},
                         shipment={"id": package_id, "status": "shipped", "tracking_number": number,
                                   "tracking_company": "DHL", "tracking_url": url})


SPLIT: dict[str, Callable[[Shop], None]] = {
    "shopify": lambda s: (s.post("orders/create", shopify_order()),
                          s.post("fulfillments/create", fulfillment(1069019877, *FIRST)),
                          s.post("fulfillments/create", fulfillment(1069019878, *SECOND))),
    "woocommerce": lambda s: (
        s.post("order.created", woo_order()),
        s.post("order.updated", woo_order(status="completed", meta_data=[{
            "id": 9, "key": "_wc_shipment_tracking_items",
            "value": [woo_tracking_item("5e1b", *FIRST), woo_tracking_item("7c2d", *SECOND)]}]))),
    "bigcommerce": lambda s: (s.bigcommerce(bigcommerce_order(status_id=11), "store/order/created"),
                              s.bigcommerce(bigcommerce_order(status_id=3), shipment=bc_shipment(12, *FIRST)),
                              s.bigcommerce(bigcommerce_order(status_id=2), shipment=bc_shipment(13, *SECOND))),
    "generic": lambda s: (s.post("", generic_event("order.placed", order=GENERIC_ORDER, customer=GENERIC_CUSTOMER)),
                          s.post("", generic_shipment("p-1", *FIRST)), s.post("", generic_shipment("p-2", *SECOND))),
}


def outbound(db_session) -> list[Message]:
    db_session.fresh()
    return list(db_session.scalars(select(Message).where(Message.status != MessageStatus.NOTE).order_by(Message.id)))


def conversation(client, make) -> dict:
    auth = {"Authorization": f"Bearer {make.token()}"}
    [row] = client.get("/api/conversations?status=all", headers=auth).json["conversations"]
    return client.get(f"/api/conversations/{row['id']}", headers=auth).json


@pytest.mark.parametrize("platform", list(SPLIT))
def test_split_shipment_texts_each_package_with_its_own_tracking(request, make, client, db_session, drain,
                                                                 twilio_server, platform):
    shop = shop_for(platform, request, make, client)
    SPLIT[platform](shop)
    SPLIT[platform](shop)  # replayed as new deliveries: still one text per package
    drain()
    shipped = [m.body for m in outbound(db_session) if m.kind == "order_shipped"]
    assert len(shipped) == 2 and len(twilio_server.messages) == 3
    for body, (number, url) in zip(shipped, (FIRST, SECOND), strict=True):
        assert number in body and url in body
    [order] = conversation(client, make)["orders"]
    assert [(p["tracking_number"], p["tracking_url"], p["status"]) for p in order["shipments"]] == [
        (FIRST[0], FIRST[1], "shipped"), (SECOND[0], SECOND[1], "shipped")]
    assert order["tracking_number"] == SECOND[0]  # the order's own tracking: its latest package


def test_inbox_order_panel_lists_every_package_with_its_tracking_link(request, make, client, db_session):
    shop = shop_for("generic", request, make, client)
    SPLIT["generic"](shop)
    browser = Browser(client)
    browser.login(make.agent())
    auth = {"Authorization": f"Bearer {make.token()}"}
    [row] = client.get("/api/conversations?status=all", headers=auth).json["conversations"]
    html = browser.get(f"/inbox/{row['id']}").get_data(as_text=True)
    assert html.count('class="package"') == 2
    assert f'href="{FIRST[1]}"' in html and f'href="{SECOND[1]}"' in html
    assert "Package 1" in html and "Package 2" in html


BC_PRODUCTS = [{"id": 194, "name": "Wool Mittens", "quantity": 1}, {"id": 195, "name": "Knit Scarf", "quantity": 3}]


def shopify_three_units() -> dict:
    order = shopify_order()
    for line in order["line_items"]:
        line["current_quantity"] = 1  # the sample removed two of its three lines; keep all three
    return order


PARTIAL: dict[str, tuple[Callable[[Shop], None], str]] = {
    "shopify": (lambda s: (s.post("orders/create", shopify_three_units()),
                           s.post("fulfillments/create", shopify_fulfillment())),
                "Part of your order #1001 has shipped (1 of 3 items)"),
    "bigcommerce": (lambda s: (s.bigcommerce(bigcommerce_order(status_id=11, items_total=4), "store/order/created"),
                               s.bigcommerce(bigcommerce_order(status_id=3, items_total=4),
                                             shipment=bigcommerce_shipment(250), products=BC_PRODUCTS)),
                    "Part of your order #250 has shipped (2 of 4 items)"),
    "generic": (lambda s: (s.post("", generic_event("order.placed", order=dict(GENERIC_ORDER, item_count=3),
                                                    customer=GENERIC_CUSTOMER)),
                           s.post("", generic_event("shipment.updated", order={"id": "1001"}, shipment={
                               "id": "p-1", "items": [{"title": "Mittens", "quantity": 2}]}))),
                "Part of your order #1001 has shipped (2 of 3 items)"),
}


@pytest.mark.parametrize("platform", list(PARTIAL))
def test_partial_shipment_says_so(request, make, client, db_session, drain, twilio_server, platform):
    steps, words = PARTIAL[platform]
    steps(shop_for(platform, request, make, client))
    drain()
    shipped = [m.body for m in outbound(db_session) if m.kind == "order_shipped"]
    assert len(shipped) == 1 and words.lower() in shipped[0].lower()
    [order] = conversation(client, make)["orders"]
    assert order["shipments"][0]["partial"] is True
    if platform == "bigcommerce":  # its shipments name order products by id
        assert [i["title"] for i in order["shipments"][0]["items"]] == ["Wool Mittens", "Knit Scarf"]


def test_whole_shipment_does_not_say_partial(request, make, client, db_session, drain):
    shop = shop_for("bigcommerce", request, make, client)
    shop.bigcommerce(bigcommerce_order(status_id=11), "store/order/created")  # 2 items, both in the package
    shop.bigcommerce(bigcommerce_order(status_id=2), shipment=bigcommerce_shipment(250))
    [shipped] = [m.body for m in outbound(db_session) if m.kind == "order_shipped"]
    assert "your order #250 has shipped with USPS" in shipped and "Part" not in shipped
