"""The order panel beside a conversation: line items (stored from each platform's payload),
total with currency, status, the platform's status page, and every package's tracking."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from smsdesk.events import CartItem
from smsdesk.models import Order, Shipment
from smsdesk.platforms.generic import mapping as generic
from smsdesk.platforms.shopify import mapping as shopify
from smsdesk.platforms.woocommerce import mapping as woocommerce
from tests.factories import shopify_headers, shopify_order
from tests.web.test_inbox import conversation_id, text_in
from tests.webhooks.payloads import generic_event, woo_order


def test_each_platform_reads_the_order_lines():
    lines = [{"name": "Wool mittens", "quantity": 2, "current_quantity": 2, "requires_shipping": True},
             {"name": "Gift card", "quantity": 1, "requires_shipping": False},
             {"name": "Removed scarf", "quantity": 1, "current_quantity": 0}]
    assert shopify.order_info(shopify_order(line_items=lines)).items == (
        CartItem("Wool mittens", 2), CartItem("Gift card", 1))  # a gift card is ordered, though it never ships
    woo = woocommerce.order_info(woo_order(line_items=[{"name": "Beanie", "quantity": 3}, {"name": "Socks"}]))
    assert woo.items == (CartItem("Beanie", 3), CartItem("Socks", 1))
    data = generic_event("order.placed", order={"id": "7", "items": [{"title": "Tea", "quantity": 4}]},
                         customer={"phone": "+15025550123"})["data"]
    assert generic.order_info(data).items == (CartItem("Tea", 4),)


def _order_through_shopify(client, store, **changes):
    body = json.dumps(shopify_order(**changes)).encode()
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_shopify_order_shows_its_items_total_status_link(browser, agent, make, db_session):
    store = make.store()
    phone = "+15025550123"
    _order_through_shopify(browser.client, store, phone=phone, name="#1042", order_number=1042,
                           total_price="54.00", current_total_price="54.00", currency="EUR",
                           line_items=[{"name": "Wool mittens", "quantity": 2, "requires_shipping": True},
                                       {"name": "Beanie <b>", "quantity": 1, "requires_shipping": True}])
    db_session.fresh()
    order = db_session.scalar(select(Order))
    assert order.items == [{"title": "Wool mittens", "quantity": 2}, {"title": "Beanie <b>", "quantity": 1}]
    text_in(browser.client, store, phone=phone)
    html = browser.get(f"/inbox/{conversation_id(db_session, phone)}").get_data(as_text=True)
    panel = html.split('<section class="card flat order-panel">', 1)[1].split("</section>", 1)[0]
    assert '<span class="qty">2 ×</span> Wool mittens' in panel
    assert '<span class="qty">1 ×</span> Beanie &lt;b&gt;' in panel  # a title is text, never markup
    assert "Total <strong>54.00 EUR</strong>" in panel
    assert re.search(r'<a class="order-status-link" href="https://jsmith\.myshopify\.com/[^"]+"', panel)


def test_every_package_shows_its_own_tracking(browser, agent, make, db_session):
    store = make.store()
    customer = make.customer(store, "+15025550123")
    order = Order(store_id=store.id, external_id="9", number="1042", customer_id=customer.id, status="shipped",
                  total="54.00", currency="USD", item_count=3, items=[{"title": "Mittens", "quantity": 3}])
    db_session.add(order)
    db_session.flush()
    db_session.add_all([
        Shipment(store_id=store.id, order_id=order.id, external_id="a", status="delivered", tracking_company="UPS",
                 tracking_number="1Z999", tracking_url="https://www.ups.com/track?tracknum=1Z999", item_count=1),
        Shipment(store_id=store.id, order_id=order.id, external_id="b", status="shipped", tracking_company="USPS",
                 tracking_number="9400111", item_count=2)])
    db_session.commit()
    text_in(browser.client, store)
    html = browser.get(f"/inbox/{conversation_id(db_session)}").get_data(as_text=True)
    panel = html.split('<section class="card flat order-panel">', 1)[1].split("</section>", 1)[0]
    packages = re.findall(r'<li class="package" data-shipment-id="(\w)">(.*?)</li>', panel, re.S)
    assert [p[0] for p in packages] == ["a", "b"]
    assert "Package 1 (1 of 3 items)" in packages[0][1] and "Track with UPS (1Z999)" in packages[0][1]
    assert "Package 2 (2 of 3 items)" in packages[1][1] and "USPS 9400111" in packages[1][1]
    assert "order-status-link" not in panel  # no status page given: no link
