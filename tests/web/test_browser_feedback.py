"""/feedback and the dashboard's response-metrics section in a real browser at 1280 and 390 px:
a refused delay shown beside its field, the settings saved, both pages within the screen's
width and without serious or critical axe violations."""
from __future__ import annotations

from datetime import timedelta

import pytest

from smsdesk.models import Conversation, Direction, Feedback, Message, MessageStatus, utcnow
from tests.conftest import app_settings
from tests.support.live import serving
from tests.web.test_browser import chromium, log_in  # noqa: F401 - the module's one browser
from tests.web.test_browser_owner import WIDTHS, _page, _violations

pytestmark = pytest.mark.browser


@pytest.fixture
def world(make, db_session):
    """An owner, a store and one rating with a comment, written before the live app starts."""
    owner = make.agent(email="owner@knits.example", role="owner")
    store = make.store(name="Nordic Knits", timezone="UTC")
    customer = make.customer(store, "+15025550101", first_name="Emma")
    conversation = Conversation(store_id=store.id, customer_id=customer.id)
    db_session.add(conversation)
    db_session.flush()
    at = utcnow() - timedelta(days=1)
    request, reply = (Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                              direction=d, kind=k, body=b, status=s, created_at=at)
                      for d, k, b, s in ((Direction.OUT, "feedback_request", "How did we do?", MessageStatus.DELIVERED),
                                         (Direction.IN, "inbound", "4 - lovely mittens", MessageStatus.RECEIVED)))
    db_session.add_all([request, reply])
    db_session.flush()
    db_session.add(Feedback(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                            request_message_id=request.id, message_id=reply.id, score=4, comment="lovely mittens",
                            opened=True, created_at=at))
    db_session.commit()
    return owner, store


@pytest.fixture
def live_app(world, engine, database_url, twilio_server):
    with serving(app_settings(database_url, twilio_server.url)) as (app, url, _):
        yield url


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_sets_feedback_requests_and_reads_the_dashboard(chromium, live_app, world, width):  # noqa: F811
    url, (owner, _store) = live_app, world
    context, page, errors = _page(chromium, width)
    log_in(page, url, owner)
    page.goto(url + "/feedback")
    page.check("input[name=after_delivered]")
    page.fill("#f-delivered_delay_hours", "0")
    page.click(".settings-actions button[type=submit]")
    page.locator("#e-delivered_delay_hours", has_text="A whole number of hours").wait_for()
    assert page.get_attribute("#f-delivered_delay_hours", "aria-invalid") == "true"
    found = {"feedback (refused)": _violations(page)}
    page.fill("#f-delivered_delay_hours", "48")
    page.click(".settings-actions button[type=submit]")
    page.locator(".flash", has_text="Feedback settings saved.").wait_for()
    assert page.input_value("#f-delivered_delay_hours") == "48" and page.is_checked("input[name=after_delivered]")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    found["feedback"] = _violations(page)
    page.goto(url + "/dashboard")
    page.locator("#feedback-comments", has_text="lovely mittens").wait_for()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    found["dashboard"] = _violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert errors == []
