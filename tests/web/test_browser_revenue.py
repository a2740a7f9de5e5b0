"""Recovered revenue end to end in a real browser: a cart reminder goes out (through the sender
job and the Twilio-compatible server) to a simulated customer, who opens its short link in the
browser; the order webhook arrives and is applied by the job; the owner opens the dashboard and
sees the order's total, in its currency, credited to the reminder."""
from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from smsdesk.events import CartItem, CheckoutUpdated, CustomerInfo, SmsConsent
from smsdesk.models import ConsentSource, LinkClick, LinkSettings, Message, MessageStatus, Order, utcnow
from smsdesk.services import checkouts
from tests.conftest import app_settings
from tests.factories import shopify_headers, shopify_order
from tests.support.live import serving
from tests.web.test_browser import chromium, log_in  # noqa: F401 - the module's one browser
from tests.web.test_browser_owner import _page

pytestmark = pytest.mark.browser

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")
PHONE = "+447700900123"  # outside the US: no US marketing hours to wait for, whatever the time of the run
CART_PATH = "/login?cart=tok-b1"  # the live app stands in for the shop: the browser reaches no other host


@pytest.fixture
def world(make):
    far = (utcnow().hour + 12) % 24  # a quiet hour half a day from now: the reminder may go now
    store = make.store(name="Nordic Knits", country="GB", timezone="UTC", quiet_hours=f"{far:02d}:00-{far:02d}:30",
                       rate_per_second=100.0)
    return make.agent(email="owner@revenue.example", role="owner"), store


@pytest.fixture
def live_app(world, engine, database_url, twilio_server, db_session):
    _owner, store = world

    def arrange(app, url):
        db_session.add(LinkSettings(store_id=store.id, short_links=True, base_url=url, smart_sending_hours=0))
        event = CheckoutUpdated(token="tok-b1", recovery_url=url + CART_PATH, total="54.00", currency="EUR",
                                items=(CartItem("Wool Mittens", 1),),
                                customer=CustomerInfo(phone=PHONE, first_name="Emma", consents=(
                                    SmsConsent(phone=PHONE, granted=True, source=ConsentSource.GENERIC),)))
        # Abandoned two hours ago: the first reminder is due at once.
        checkouts.checkout_updated(db_session, store=store, event=event, source="test",
                                   now=utcnow() - timedelta(hours=2))
        db_session.commit()

    with serving(app_settings(database_url, twilio_server.url), arrange) as (app, url, _):
        yield url


def wait_for(db_session, query, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db_session.fresh()
        found = db_session.scalar(query)
        if found is not None:
            return found
        time.sleep(0.1)
    rows = db_session.execute(select(Message.kind, Message.status, Message.reason, Message.customer_id)).all()
    rows += db_session.execute(select(Order.external_id, Order.customer_id, Order.attributed_message_id)).all()
    rows += db_session.execute(select(LinkClick.customer_id, LinkClick.clicked_at)).all()
    raise AssertionError(f"not found in {timeout} s; texts, orders, clicks: {rows}")


def test_owner_sees_revenue_recovered_by_a_clicked_reminder(chromium, live_app, world, db_session):  # noqa: F811
    url, (owner, store) = live_app, world
    reminder = wait_for(db_session, select(Message).where(Message.kind == "cart_reminder_1",
                                                          Message.status.in_([MessageStatus.SENT,
                                                                              MessageStatus.DELIVERED])))
    code = re.search(re.escape(url) + r"/r/([0-9A-Za-z]{8})", reminder.body).group(1)
    context, page, errors = _page(chromium, "desktop")
    phone = chromium.new_context(user_agent=IPHONE)  # headless Chromium's own agent is no person's click
    tab = phone.new_page()
    tab.goto(f"{url}/r/{code}")  # the customer taps the link in the text
    assert tab.url == url + CART_PATH
    phone.close()
    wait_for(db_session, select(LinkClick.id).where(LinkClick.message_id == reminder.id))

    order = shopify_order(id=88001, order_number=1201, name="#1201", phone=PHONE, total_price="54.00",
                          current_total_price="54.00",
                          currency="EUR", checkout_token=None)
    order["customer"] = {**order.get("customer", {}), "phone": PHONE}
    body = json.dumps(order).encode()
    response = requests.post(url + "/webhooks/shopify", data=body, timeout=5,
                             headers=shopify_headers(store, body, topic="orders/create"))
    assert response.status_code == 200
    attributed = wait_for(db_session, select(Order).where(Order.external_id == "88001",
                                                          Order.attributed_message_id.is_not(None)))
    assert attributed.attributed_message_id == reminder.id

    log_in(page, url, owner)
    page.goto(url + "/dashboard")
    section = page.locator("#recovered-revenue")
    assert "54.00 EUR" in section.locator("#recovered-total").inner_text()
    step = section.locator("#revenue-steps tbody tr").first.inner_text()
    assert "Nordic Knits" in step and "Cart reminder 1" in step and "54.00 EUR" in step
    assert "v1" in section.locator("#revenue-versions tbody tr").first.inner_text()
    context.close()
    assert errors == []
