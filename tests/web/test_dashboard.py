"""The owners' dashboard: counts per day and kind, replies waiting, median first response."""
from datetime import timedelta

import pytest

from smsdesk.models import AuditEvent, Conversation, Message, utcnow
from smsdesk.web.dashboard import DAYS, daily_stats, median_first_response


def add_message(db_session, store, customer, conversation, *, kind, status, direction="out", minutes_ago=0):
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)  # same UTC day whenever the test runs
    at = noon - timedelta(minutes=minutes_ago)
    db_session.add(Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                           direction=direction, kind=kind, body="x", status=status, created_at=at))


@pytest.fixture
def history(make, db_session):
    """Today: 3 order texts (2 delivered, 1 failed), 1 suppressed reminder, one opt-out, and two
    customer texts answered after 4 and 10 minutes."""
    store = make.store()
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
    assert html.count('class="chart-col"') == DAYS and 'class="bar delivered" style="height: 80.0%"' in html
