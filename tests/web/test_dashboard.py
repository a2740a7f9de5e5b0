"""The owners' dashboard: counts per day and kind, replies waiting, median first response."""
import json
from datetime import timedelta

import pytest

from smsdesk.models import AuditEvent, Conversation, Message, utcnow
from smsdesk.services.dashboard import DAYS, daily_stats, median_first_response, replies_waiting
from tests.factories import shopify_headers, shopify_order


def add_message(db_session, store, customer, conversation, *, kind, status, direction="out", minutes_ago=0):
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)  # same UTC day whenever the test runs
    at = noon - timedelta(minutes=minutes_ago)
    db_session.add(Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                           direction=direction, kind=kind, body="x", status=status, created_at=at))


@pytest.fixture
def history(make, db_session):
    """Today: 3 order texts (2 delivered, 1 failed), 1 suppressed reminder, one opt-out, and two
    customer texts answered after 4 and 10 minutes."""
    store = make.store(timezone="UTC")  # the local day is the UTC day the fixture's noon is on
    customer = make.customer(store)
    conversation = Conversation(store_id=store.id, customer_id=customer.id)
    db_session.add(conversation)
    db_session.flush()
    for status in ("delivered", "delivered", "failed"):
        add_message(db_session, store, customer, conversation, kind="order_shipped", status=status)
    add_message(db_session, store, customer, conversation, kind="cart_reminder_1", status="suppressed")
    for asked, answered in ((30, 26), (20, 10)):
        add_message(db_session, store, customer, conversation, kind="inbound", status="received",
                    direction="in", minutes_ago=asked)
        add_message(db_session, store, customer, conversation, kind="agent_reply", status="delivered",
                    minutes_ago=answered)
    db_session.add(AuditEvent(action="opted_out", store_id=store.id, customer_id=customer.id))
    db_session.commit()
    return store


def test_daily_stats_counts_by_day_and_kind(db_session, history):
    days, kinds = daily_stats(db_session, today=utcnow().date())
    assert len(days) == DAYS
    assert {k: days[-1][k] for k in ("sent", "delivered", "failed", "opted_out")} == \
        {"sent": 5, "delivered": 4, "failed": 1, "opted_out": 1}
    by_kind = {row["kind"]: row for row in kinds}
    assert (by_kind["order_shipped"]["sent"], by_kind["cart_reminder_1"]["sent"]) == (3, 0)


def test_median_first_response(db_session, history):
    assert median_first_response(db_session, since=utcnow() - timedelta(days=1)) == pytest.approx(420, abs=1)


def test_median_is_none_without_replies(db_session, make):
    make.store()
    assert median_first_response(db_session, since=utcnow() - timedelta(days=1)) is None


def test_dashboard_page_shows_numbers_and_chart(browser, owner, history, db_session):
    html = browser.get("/dashboard").get_data(as_text=True)
    assert '<span class="value" id="total-sent">5</span>' in html
    assert '<span class="value" id="median-response">7.0 min</span>' in html
    assert html.count('class="chart-col"') == DAYS and 'class="bar delivered" data-height="80.0"' in html


@pytest.fixture
def other_store(make, db_session):
    """A second store today: 2 delivered order texts, one opt-out, and a customer text answered after an
    hour that is waiting again in an open conversation."""
    store = make.store(name="Other Outfitters", timezone="UTC")
    customer = make.customer(store)
    conversation = Conversation(store_id=store.id, customer_id=customer.id, status="open",
                                waiting_since=utcnow())
    db_session.add(conversation)
    db_session.flush()
    for _ in range(2):
        add_message(db_session, store, customer, conversation, kind="order_shipped", status="delivered")
    add_message(db_session, store, customer, conversation, kind="inbound", status="received", direction="in",
                minutes_ago=90)
    add_message(db_session, store, customer, conversation, kind="agent_reply", status="delivered", minutes_ago=30)
    db_session.add(AuditEvent(action="opted_out", store_id=store.id, customer_id=customer.id))
    db_session.commit()
    return store


def today_counts(db_session, store_id=None) -> dict:
    days, _ = daily_stats(db_session, today=utcnow().date(), store_ids=None if store_id is None else [store_id])
    return {k: days[-1][k] for k in ("sent", "delivered", "failed", "opted_out")}


def test_daily_stats_of_one_store_exclude_other_stores(db_session, history, other_store):
    assert today_counts(db_session) == {"sent": 8, "delivered": 7, "failed": 1, "opted_out": 2}
    assert today_counts(db_session, history.id) == {"sent": 5, "delivered": 4, "failed": 1, "opted_out": 1}
    assert today_counts(db_session, other_store.id) == {"sent": 3, "delivered": 3, "failed": 0, "opted_out": 1}
    _, kinds = daily_stats(db_session, today=utcnow().date(), store_ids=[other_store.id])
    assert {row["kind"]: row["sent"] for row in kinds} == {"order_shipped": 2, "agent_reply": 1}


def test_median_and_waiting_of_one_store_exclude_other_stores(db_session, history, other_store):
    since = utcnow() - timedelta(days=1)
    assert median_first_response(db_session, since=since) == pytest.approx(600, abs=1)  # of 4, 10 and 60 min
    assert median_first_response(db_session, since=since, store_ids=[history.id]) == pytest.approx(420, abs=1)
    assert median_first_response(db_session, since=since, store_ids=[other_store.id]) == pytest.approx(3600, abs=1)
    assert (replies_waiting(db_session), replies_waiting(db_session, store_ids=[history.id]),
            replies_waiting(db_session, store_ids=[other_store.id])) == (1, 0, 1)


def test_dashboard_page_without_filter_adds_up_all_stores(browser, owner, history, other_store):
    html = browser.get("/dashboard").get_data(as_text=True)
    assert '<span class="value" id="total-sent">8</span>' in html
    assert '<span class="value" id="total-opted-out">2</span>' in html
    assert '<span class="value" id="replies-waiting">1</span>' in html
    assert '<span class="value" id="median-response">10.0 min</span>' in html
    assert '<option value="">All stores</option>' in html
    assert f'<option value="{other_store.slug}" >Other Outfitters</option>' in html


def test_dashboard_page_filtered_by_store(browser, owner, history, other_store):
    html = browser.get(f"/dashboard?store={history.slug}").get_data(as_text=True)
    assert '<span class="value" id="total-sent">5</span>' in html
    assert '<span class="value" id="total-opted-out">1</span>' in html
    assert '<span class="value" id="replies-waiting">0</span>' in html
    assert '<span class="value" id="median-response">7.0 min</span>' in html
    assert f'<option value="{history.slug}" selected>' in html
    other = browser.get(f"/dashboard?store={other_store.slug}").get_data(as_text=True)
    assert '<span class="value" id="total-sent">3</span>' in other
    assert '<span class="value" id="median-response">1.0 h</span>' in other
    assert '<span class="value" id="replies-waiting">1</span>' in other


def test_dashboard_unknown_store_is_not_found(browser, owner, history):
    response = browser.get("/dashboard?store=no-such-shop")
    assert response.status_code == 404
    assert "There is no store &#39;no-such-shop&#39;." in response.get_data(as_text=True)


def test_dashboard_lists_orders_that_got_no_text_with_the_reason(browser, owner, make, client):
    """An order with a landline has no conversation: the dashboard is where its owner sees it."""
    store, other = make.store(name="Acme"), make.store(name="Other")
    for shop, number, phone in ((store, 1001, "+49 30 1234567"), (store, 1002, "+49 151 12345678"),
                                (other, 2001, "555-555-SHIP")):
        payload = shopify_order(id=number, order_number=number, phone=phone, customer=None,
                                billing_address=None, shipping_address=None)
        body = json.dumps(payload).encode()
        assert client.post("/webhooks/shopify", data=body, headers=shopify_headers(shop, body)).status_code == 200
    html = browser.get(f"/dashboard?store={store.slug}").get_data(as_text=True)
    table = html[html.index('id="untexted-orders"'):]
    assert '<tr data-reason="landline"><td>#1001</td><td>Acme</td><td>placed</td>' \
           '<td>the phone number is a landline</td>' in table
    assert "#1002" not in table and "#2001" not in table
    everything = browser.get("/dashboard").get_data(as_text=True)
    assert '<tr data-reason="invalid_number"><td>#2001</td><td>Other</td>' in everything


def test_dashboard_without_untexted_orders_says_so(browser, owner, history):
    html = browser.get("/dashboard").get_data(as_text=True)
    assert "Every recent order got its texts." in html


def test_days_are_the_store_s_own_days(make, db_session):
    """22:30 UTC on the 9th is 23:30 in Berlin (the 9th); 23:30 UTC on the 9th is 00:30 on the 10th
    in Berlin, so that text and the opt-out at 23:45 UTC count on the 10th, not on the UTC day."""
    from datetime import date, datetime, timezone
    berlin = make.store(timezone="Europe/Berlin")
    customer = make.customer(berlin)
    conversation = Conversation(store_id=berlin.id, customer_id=customer.id)
    db_session.add(conversation)
    db_session.flush()
    for at in (datetime(2026, 3, 9, 22, 30, tzinfo=timezone.utc), datetime(2026, 3, 9, 23, 30, tzinfo=timezone.utc)):
        db_session.add(Message(store_id=berlin.id, customer_id=customer.id, conversation_id=conversation.id,
                               direction="out", kind="order_shipped", body="x", status="delivered", created_at=at))
    db_session.add(AuditEvent(action="opted_out", store_id=berlin.id, customer_id=customer.id,
                              at=datetime(2026, 3, 9, 23, 45, tzinfo=timezone.utc)))
    db_session.commit()
    days, _ = daily_stats(db_session, today=date(2026, 3, 10), days=3)
    assert [(d["day"], d["sent"], d["opted_out"]) for d in days] == [
        ("2026-03-08", 0, 0), ("2026-03-09", 1, 0), ("2026-03-10", 1, 1)]


def test_empty_dashboard_says_nothing_was_sent(browser, owner, make):
    make.store()
    html = browser.get("/dashboard").get_data(as_text=True)
    assert f"No texts sent in the last {DAYS} days." in html and "Busiest day" not in html
    assert '<span class="value" id="queued">0</span>' in html and "nothing waiting" in html


def test_busiest_day_names_the_day_with_a_plural(browser, owner, history):
    html = browser.get("/dashboard").get_data(as_text=True)
    assert f"Busiest day: {utcnow().date().isoformat()}, 5 texts." in html


def test_dashboard_shows_the_queue_and_the_next_send(browser, owner, make, db_session):
    from smsdesk.services.outbox import enqueue_text
    store = make.store(timezone="UTC")
    customer = make.customer(store)
    due = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body="later", due_at=due)
    enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body="later still",
                 due_at=due + timedelta(hours=1))
    db_session.commit()
    html = browser.get("/dashboard").get_data(as_text=True)
    assert '<span class="value" id="queued">2</span>' in html
    assert f'<time datetime="{due.isoformat()}">' in html
