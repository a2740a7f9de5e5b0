"""jobs/catch_up: webhooks dropped for a day are caught up by polling each platform's API (real
HTTP fake servers), every change texted once whether seen by webhook, by poll or both; throttled
APIs are backed off; the owner hears when webhooks look broken; the watermark survives restarts."""
from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from smsdesk.models import CatchUpState, WebhookDelivery, utcnow
from smsdesk.services.catch_up import OFF
from tests.factories import shopify_headers, shopify_order
from tests.support.catch_up_fixtures import INTERVAL, SETTLE, Clock
from tests.support.shopify_server import graphql_fulfillment, graphql_order
from tests.web.conftest import Browser
from tests.webhooks.payloads import BIGCOMMERCE_PHONE, bigcommerce_order, bigcommerce_shipment, woo_headers, woo_order

PLATFORMS = ("shopify", "woocommerce", "bigcommerce")
PHONE = "+15125550120"


def put_order(platform: str, api, order_id: int, at, *, shipped: bool) -> None:
    """Order ``order_id`` on the platform's fake API as it stands after a change at ``at``."""
    if platform == "shopify":
        fulfillments = [graphql_fulfillment(order_id + 7000)] if shipped else []
        api.put_order(graphql_order(order_id, updated_at=at.isoformat().replace("+00:00", "Z"), name=f"#{order_id}",
                                    phone=PHONE, fulfillments=fulfillments))
    elif platform == "woocommerce":
        billing = dict(woo_order()["billing"], phone=BIGCOMMERCE_PHONE)
        api.put_order(woo_order(id=order_id, number=str(order_id), status="completed" if shipped else "processing",
                                billing=billing, meta_data=[], refunds=[],
                                date_modified_gmt=at.replace(tzinfo=None).isoformat(timespec="seconds")))
    else:
        api.put_order(bigcommerce_order(order_id, status_id=2 if shipped else 11, date_modified=format_datetime(at)))
        if shipped:
            api.add_shipment(order_id, bigcommerce_shipment(order_id, shipment_id=order_id + 7000))


def api_of(platform, shopify_api, woocommerce_api, bigcommerce_api):
    return {"shopify": shopify_api, "woocommerce": woocommerce_api, "bigcommerce": bigcommerce_api}[platform]


def state(db_session, store) -> CatchUpState:
    db_session.fresh()
    return db_session.get_one(CatchUpState, store.id)


def bodies(twilio_server) -> list[str]:
    return [m["body"] for m in twilio_server.messages]


@pytest.fixture
def day_ago():
    """A clock a day back: the store's first poll ran then, and then the webhooks stopped."""
    return Clock((utcnow() - timedelta(days=1)).replace(microsecond=0))  # platforms' times are whole seconds


@pytest.mark.parametrize("platform", PLATFORMS)
def test_webhooks_dropped_for_a_day_are_caught_up_and_each_text_sent_once(
        platform, polled_store, poll, drain, db_session, twilio_server, day_ago, shopify_api, woocommerce_api,
        bigcommerce_api):
    api = api_of(platform, shopify_api, woocommerce_api, bigcommerce_api)
    store = polled_store(platform)
    poll(day_ago)  # the first poll only sets the watermark: older orders are not texted
    assert state(db_session, store).watermark == day_ago.now - timedelta(seconds=SETTLE)
    put_order(platform, api, 501, day_ago.now + timedelta(hours=1), shipped=False)
    put_order(platform, api, 502, day_ago.now + timedelta(hours=2), shipped=True)  # placed and shipped, unheard

    now = Clock()
    assert poll(now) == 2
    drain()
    texts = bodies(twilio_server)
    # 501 is confirmed, 502 shipped; Shopify's order also says it was placed (as orders/create
    # would have), the others only tell the status the order has now, as their webhooks do.
    assert len(texts) == len(set(texts)) == (3 if platform == "shopify" else 2)
    assert sum("#501" in t and "thanks for your order" in t for t in texts) == 1
    assert sum("#502" in t and "has shipped" in t for t in texts) == 1

    now.advance(INTERVAL + 1)  # the next poll reads the same changes again (an overlapping window)
    put_order(platform, api, 502, day_ago.now + timedelta(hours=2), shipped=True)
    poll(now)
    drain()
    assert bodies(twilio_server) == texts
    warned = state(db_session, store)
    assert warned.missed_since == day_ago.now + timedelta(hours=1) and warned.missed_changes == 2


@pytest.mark.parametrize("platform", ("shopify", "woocommerce"))
def test_a_change_seen_by_webhook_and_by_poll_texts_once_and_warns_of_nothing(
        platform, polled_store, poll, drain, client, db_session, twilio_server, day_ago, shopify_api,
        woocommerce_api):
    api = shopify_api if platform == "shopify" else woocommerce_api
    store = polled_store(platform)
    poll(day_ago)
    at = utcnow() - timedelta(hours=1)
    if platform == "shopify":
        payload = shopify_order(phone=PHONE, name="#4242", order_number=4242)
        put_order(platform, api, payload["id"], at, shipped=False)
        body = json.dumps(payload).encode()
        response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(store, body))
    else:
        put_order(platform, api, 4242, at, shipped=False)
        body = json.dumps(api.orders[4242]).encode()
        response = client.post(f"/webhooks/woocommerce/{store.slug}", data=body, headers=woo_headers(store, body))
    assert response.status_code == 200
    drain()
    assert len(bodies(twilio_server)) == 1

    assert poll(Clock()) == 1  # the poll sees the same change ...
    drain()
    assert len(bodies(twilio_server)) == 1  # ... and it is not texted again
    db_session.fresh()
    recorded = db_session.scalars(select(WebhookDelivery.delivery_id).where(WebhookDelivery.status == "processed"))
    assert any(d.startswith("catch-up:order:") for d in recorded)
    assert state(db_session, store).missed_since is None


def test_shopify_throttled_is_backed_off_not_hammered(polled_store, poll, db_session, day_ago, shopify_api):
    store = polled_store("shopify")
    poll(day_ago)
    put_order("shopify", shopify_api, 601, day_ago.now + timedelta(hours=1), shipped=False)
    shopify_api.available, shopify_api.restore_rate = 0.0, 1.0  # 252 s before a query fits again
    now = Clock()
    poll(now)
    assert len(shopify_api.requests) == 1
    assert "THROTTLED" in state(db_session, store).error
    for _ in range(5):  # the job's ticks while the store waits: no request at all
        now.advance(30)
        poll(now)
    assert len(shopify_api.requests) == 1
    assert state(db_session, store).next_poll_at >= now.now - timedelta(seconds=150) + timedelta(seconds=252)
    shopify_api.available = 2000.0
    now.advance(INTERVAL * 3)
    assert poll(now) == 1 and len(shopify_api.requests) == 2


@pytest.mark.parametrize("platform", ("woocommerce", "bigcommerce"))
def test_429_with_retry_after_is_honoured(platform, polled_store, poll, db_session, day_ago, woocommerce_api,
                                          bigcommerce_api):
    api = woocommerce_api if platform == "woocommerce" else bigcommerce_api
    store = polled_store(platform)
    poll(day_ago)
    put_order(platform, api, 701, day_ago.now + timedelta(hours=1), shipped=False)
    api.fail_next(429, retry_after=1200)
    now = Clock()
    poll(now)
    assert len(api.requests) == 1 and "HTTP 429" in state(db_session, store).error
    now.advance(1190)
    poll(now)
    assert len(api.requests) == 1  # Retry-After not over yet
    now.advance(11)
    assert poll(now) == 1
    assert state(db_session, store).error == "" and state(db_session, store).attempts == 0


def health_detail(client, token: str) -> dict:
    """/healthz's detail as a user with that API token sees it."""
    return client.get("/healthz", headers={"Authorization": f"Bearer {token}"}).json.get("detail", {})


def test_broken_webhooks_warning_on_dashboard_and_healthz(polled_store, poll, db_session, client, make, day_ago,
                                                         shopify_api):
    store = polled_store("shopify")
    bare = make.store(platform="woocommerce", domain=None)  # no API credentials
    poll(day_ago)
    put_order("shopify", shopify_api, 801, day_ago.now + timedelta(hours=3), shipped=False)
    poll(Clock())
    since = (day_ago.now + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    assert client.get("/healthz").json == {"status": "ok", "db": "ok", "warnings": 2}  # no names for a monitor
    detail = health_detail(client, make.token(role="admin"))
    assert detail[store.slug].startswith(f"webhooks look broken since {since} UTC")
    assert detail[bare.slug] == OFF
    assert health_detail(client, make.token(role="owner", stores=[bare])) == {bare.slug: OFF}  # their stores only
    browser = Browser(client)
    browser.login(make.agent(role="owner"))
    page = browser.get("/dashboard").get_data(as_text=True)
    assert f"webhooks look broken since {since} UTC" in page and OFF in page
    assert set(browser.get("/healthz").json["detail"]) == {store.slug, bare.slug}  # signed in: the detail too


def test_webhooks_working_again_clear_the_warning(polled_store, poll, db_session, client, drain, day_ago, make,
                                                  woocommerce_api):
    store = polled_store("woocommerce")
    poll(day_ago)
    put_order("woocommerce", woocommerce_api, 901, day_ago.now + timedelta(hours=1), shipped=False)
    now = Clock()
    poll(now)
    drain()
    assert state(db_session, store).missed_since is not None
    put_order("woocommerce", woocommerce_api, 902, now.now, shipped=False)
    body = json.dumps(woocommerce_api.orders[902]).encode()
    client.post(f"/webhooks/woocommerce/{store.slug}", data=body, headers=woo_headers(store, body))
    now.advance(INTERVAL + 1)
    poll(now)
    assert state(db_session, store).missed_since is None
    assert store.slug not in health_detail(client, make.token(role="admin"))


def test_watermark_advances_and_survives_a_restart(polled_store, poll, db_session, database_url, twilio_server,
                                                   day_ago, woocommerce_api):
    from smsdesk import db
    from smsdesk.app import create_app
    from tests.conftest import app_settings

    store = polled_store("woocommerce")
    poll(day_ago)
    now = Clock()
    poll(now)
    mark = state(db_session, store).watermark
    assert mark == now.now - timedelta(seconds=SETTLE)
    assert woocommerce_api.requests[-1].query["modified_after"] == (
        (day_ago.now - timedelta(seconds=SETTLE)).replace(tzinfo=None).isoformat(timespec="seconds"))

    restarted = create_app(app_settings(database_url, twilio_server.url))  # a new process: only the database
    try:
        from jobs.catch_up import catch_up_stores

        now.advance(INTERVAL + 1)
        catch_up_stores(restarted.extensions["smsdesk.sessions"], interval=INTERVAL, settle=SETTLE, clock=now)
    finally:
        db.dispose(restarted)
    assert woocommerce_api.requests[-1].query["modified_after"] == mark.replace(tzinfo=None).isoformat(
        timespec="seconds")
    assert state(db_session, store).watermark == now.now - timedelta(seconds=SETTLE)


def test_the_scheduler_runs_the_job_unless_catch_up_is_disabled(app):
    from jobs.catch_up import catch_up_stores
    from jobs.scheduler import create_scheduler

    assert create_scheduler(app).get_job("catch_up").func is catch_up_stores
    app.config["SMSDESK"].catch_up.enabled = False
    assert create_scheduler(app).get_job("catch_up") is None


def test_a_store_without_credentials_is_not_polled(make, poll, db_session, client, woocommerce_api):
    store = make.store(platform="woocommerce", domain=None)
    poll(Clock())
    assert woocommerce_api.requests == []
    assert state(db_session, store).error == OFF and state(db_session, store).watermark is None
    assert health_detail(client, make.token(role="admin")) == {store.slug: OFF}


def test_a_store_another_worker_is_polling_is_skipped(polled_store, poll, db_session, database_url, day_ago,
                                                      woocommerce_api):
    from smsdesk import db

    if not database_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite serializes writers instead")
    store = polled_store("woocommerce")
    poll(day_ago)
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as other:  # another worker, in the middle of this store's poll
            other.execute(select(CatchUpState).where(CatchUpState.store_id == store.id).with_for_update())
            poll(Clock())
            assert woocommerce_api.requests == []
    finally:
        engine.dispose()
    poll(Clock())
    assert len(woocommerce_api.requests) == 1


def test_rereading_a_missed_change_keeps_the_warning(polled_store, poll, db_session, drain, day_ago, bigcommerce_api):
    store = polled_store("bigcommerce")
    poll(day_ago)
    put_order("bigcommerce", bigcommerce_api, 950, day_ago.now + timedelta(hours=1), shipped=False)
    now = Clock()
    poll(now)
    drain()
    with db_session.begin():  # the watermark goes back, as after a poll that stopped at its page limit
        db_session.get_one(CatchUpState, store.id).watermark = day_ago.now
        db_session.get_one(CatchUpState, store.id).next_poll_at = None
    poll(now)
    assert len([r for r in bigcommerce_api.requests if r.path.endswith("/v2/orders")]) == 2
    assert state(db_session, store).missed_since == day_ago.now + timedelta(hours=1)
