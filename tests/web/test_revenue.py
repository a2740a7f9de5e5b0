"""Recovered revenue on the owners' dashboard and its CSV (only the owner's stores), and the
attribution windows on /links (defaults shown, a bad window a 422 beside its field)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from smsdesk.enums import Attribution
from smsdesk.models import LinkSettings, utcnow
from smsdesk.services.template_kinds import KINDS

H = timedelta(hours=1)


@pytest.fixture
def sales(make, db_session):
    """Two stores: an Acme reminder clicked and an order of 54.00 EUR credited to it; Other likewise, 99.00."""
    found = []
    for name, total in (("Acme", "54.00"), ("Other", "99.00")):
        store = make.store(name=name, timezone="UTC")
        customer = make.customer(store)
        text = make.text(store, customer, at=utcnow() - 3 * H)
        make.click(text, at=utcnow() - 2 * H)
        make.order(store, customer, at=utcnow() - H, total=total, currency="EUR", number=f"{name}-1",
                   attributed_message_id=text.id, attribution=Attribution.CLICK, attributed_at=utcnow() - 2 * H)
        found.append(store)
    return found


def test_the_dashboard_shows_revenue_per_step_for_the_chosen_store(browser, make, sales):
    acme, _other = sales
    browser.login(make.agent(role="owner", stores=[acme]))
    html = browser.get("/dashboard").get_data(as_text=True)
    assert "Recovered revenue" in html and "54.00 EUR" in html and "99.00" not in html
    assert KINDS["cart_reminder_1"].label in html  # the step's row
    assert 'id="revenue-csv" href="/dashboard/revenue.csv?from=' in html  # the dashboard's days, all its stores
    chosen = browser.get(f"/dashboard?store={acme.slug}&from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert f'href="/dashboard/revenue.csv?store={acme.slug}&amp;from=2026-11-01&amp;to=2026-11-30"' in chosen


def test_the_csv_holds_only_the_owners_stores(browser, make, sales):
    acme, other = sales
    browser.login(make.agent(role="owner", stores=[acme]))
    response = browser.get("/dashboard/revenue.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["order_number"], row["total"], row["currency"], row["attribution"]) for row in rows] == [
        ("Acme-1", "54.00", "EUR", "click")]
    assert browser.get(f"/dashboard/revenue.csv?store={other.slug}").status_code == 404
    assert browser.get("/dashboard/revenue.csv?from=2026-13-01").status_code == 400


def test_an_agent_gets_no_revenue(browser, make, sales):
    browser.login(make.agent(role="agent"))
    assert browser.get("/dashboard/revenue.csv").status_code == 403


def test_links_page_shows_the_attribution_defaults(browser, owner, make):
    store = make.store()
    html = browser.get(f"/links?store={store.slug}").get_data(as_text=True)
    assert 'id="f-click_window_hours"' in html and 'value="120"' in html and 'value="24"' in html


def test_saving_the_attribution_windows(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/links/{store.slug}", {"smart_sending_hours": "16", "click_window_hours": "72",
                                                     "view_attribution": "on", "view_window_hours": "12"})
    assert response.status_code == 302
    db_session.fresh()
    row = db_session.get(LinkSettings, store.id)
    assert (row.click_window_hours, row.view_attribution, row.view_window_hours) == (72, True, 12)


@pytest.mark.parametrize("click, view, field, words", [
    ("0", "12", "click_window_hours", "from 1 to 720"), ("721", "12", "click_window_hours", "from 1 to 720"),
    ("abc", "12", "click_window_hours", "from 1 to 720"), ("48", "", "view_window_hours", "from 1 to 720"),
    ("48", "48", "view_window_hours", "Shorter than the click window (48 hours)"),
    ("24", "72", "view_window_hours", "Shorter than the click window")])
def test_bad_windows_are_a_422_with_the_field_marked(browser, owner, make, db_session, click, view, field, words):
    store = make.store()
    response = browser.post(f"/links/{store.slug}", {"smart_sending_hours": "16", "click_window_hours": click,
                                                     "view_window_hours": view})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="e-{field}"' in html and words in html
    db_session.fresh()
    assert db_session.get(LinkSettings, store.id) is None
