"""The "Hours & assignment" page (/hours), the inbox's away switch, the API's
/api/me/availability, presence from signed-in requests and the thread's "Automatic" mark."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from smsdesk.models import Agent, Conversation, DeskSettings, utcnow
from smsdesk.services.business_hours import Schedule
from smsdesk.services.desk_settings import status_text
from smsdesk.services.inbound import handle_inbound
from tests.support.desk import OFFICE, configure
from tests.web.conftest import csrf_token

WEEK = {f"day_{n}": "" for n in range(7)}


def _form(**changes) -> dict:
    form = WEEK | {"day_0": "09:00-17:30", "day_1": "09:00-12:00, 13:00-17:30", "day_5": "10:00-14:00",
                   "use_hours": "on", "away_message": "on", "assignment": "on", "agent_limit": "3",
                   "answer_minutes": "20"}
    return {key: value for key, value in (form | changes).items() if value is not None}


def test_a_store_without_settings_shows_the_defaults(browser, owner, make):
    store = make.store()
    page = browser.get(f"/hours?store={store.slug}").get_data(as_text=True)
    assert "Hours &amp; assignment" in page and "Open now (no business hours set: always open)" in page
    assert all(f'name="day_{n}" type="text" value=""' in page for n in range(7))
    assert 'name="agent_limit" type="text" inputmode="numeric" value="10"' in page
    assert 'name="use_hours" >' in page and 'name="assignment" >' in page  # both off
    assert browser.get("/inbox").get_data(as_text=True).count('href="/hours"') == 1  # the owner's nav link


def test_everything_is_saved(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/hours/{store.slug}", _form())
    assert response.status_code == 302 and response.headers["Location"] == f"/hours?store={store.slug}"
    db_session.fresh()
    row = db_session.get_one(DeskSettings, store.id)
    assert row.use_hours and row.schedule == [[0, 540, 1050], [1, 540, 720], [1, 780, 1050], [5, 600, 840]]
    assert (row.away_message, row.assignment, row.agent_limit, row.answer_minutes) == (True, True, 3, 20)
    page = browser.get(f"/hours?store={store.slug}").get_data(as_text=True)
    assert "Hours and assignment saved." in page and 'value="09:00-12:00, 13:00-17:30"' in page

    # Off again: business hours off (always open), switches off; the schedule and numbers are kept.
    assert browser.post(f"/hours/{store.slug}", _form(use_hours=None, away_message=None,
                                                      assignment=None)).status_code == 302
    db_session.fresh()
    row = db_session.get_one(DeskSettings, store.id)
    assert (row.use_hours, row.away_message, row.assignment, row.agent_limit) == (False, False, False, 3)
    page = browser.get(f"/hours?store={store.slug}").get_data(as_text=True)
    assert "Open now (no business hours set: always open)" in page and 'value="09:00-17:30"' in page


def test_open_around_the_clock(browser, owner, make):
    store = make.store()
    browser.post(f"/hours/{store.slug}", _form(**{f"day_{n}": "00:00-24:00" for n in range(7)}))
    assert "<strong>Open now</strong>" in browser.get(f"/hours?store={store.slug}").get_data(as_text=True)


def test_the_status_line_in_the_store_zone(make, db_session):
    store = make.store(timezone="America/New_York")
    saturday_evening = datetime(2026, 12, 5, 23, tzinfo=timezone.utc)
    hours = Schedule.from_rows(store.timezone, [[d, 540, 1050] for d in range(5)])
    assert status_text(store, hours, saturday_evening) == "Closed — back Monday at 9:00 AM"
    assert status_text(store, hours, datetime(2026, 12, 7, 15, tzinfo=timezone.utc)) == "Open now"
    assert status_text(store, Schedule(store.timezone, ()), saturday_evening) == "Closed (no open hours)"


@pytest.mark.parametrize("changes, field, words", [
    ({"day_0": "09:00-12:00, 11:00-13:00"}, "day_0", "Monday: 09:00-12:00 and 11:00-13:00 overlap"),
    ({"day_4": "22:00-02:00"}, "day_4", "Friday: 22:00-02:00 runs past midnight: split it into 22:00-24:00"),
    ({"day_6": "9am-5pm"}, "day_6", "Sunday: &#39;9am&#39; is not a time like 09:00"),
    ({"day_2": "25:00-26:00"}, "day_2", "Wednesday: &#39;25:00&#39; is not a time"),
    (WEEK, "schedule", "add at least one open interval, or switch business hours off"),
    ({"agent_limit": "0"}, "agent_limit", "the per-agent limit must be a whole number from 1 to 1000"),
    ({"agent_limit": "ten"}, "agent_limit", "the per-agent limit must be a whole number"),
    ({"answer_minutes": "-5"}, "answer_minutes", "the answer time must be a whole number from 1 to 10080"),
    ({"answer_minutes": "99999"}, "answer_minutes", "the answer time must be a whole number"),
])
def test_refused_values_are_shown_and_nothing_is_saved(browser, owner, make, db_session, changes, field, words):
    store = make.store()
    response = browser.post(f"/hours/{store.slug}", _form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert words in page and f'id="e-{field}"' in page and "Not saved: 1 field needs a change" in page
    if field.startswith("day_"):
        assert f'id="f-{field}"' in page and 'aria-invalid="true"' in page
    db_session.fresh()
    assert db_session.get(DeskSettings, store.id) is None


def test_agents_cannot_open_it(browser, agent, make):
    store = make.store()
    assert browser.get(f"/hours?store={store.slug}").status_code == 403
    assert browser.post(f"/hours/{store.slug}", _form()).status_code == 403
    assert 'href="/hours"' not in browser.get("/inbox").get_data(as_text=True)


def test_the_inbox_away_switch(browser, agent, db_session):
    page = browser.get("/inbox").get_data(as_text=True)
    assert "Set me away" in page
    response = browser.post("/me/availability", {"away": "1", "next": "/inbox?status=all"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox?status=all"
    db_session.fresh()
    assert db_session.get_one(Agent, agent.id).away_since is not None
    page = browser.get("/inbox").get_data(as_text=True)
    assert "Away · I'm back" in page and "You are away: no new conversations are assigned to you." in page

    browser.post("/me/availability", {"away": "0", "next": "https://evil.example/"})
    db_session.fresh()
    assert db_session.get_one(Agent, agent.id).away_since is None


def test_the_away_switch_needs_the_form_token(client, agent, db_session):
    response = client.post("/me/availability", data={"away": "1"})
    assert response.status_code == 400
    db_session.fresh()
    assert db_session.get_one(Agent, agent.id).away_since is None


def _last_seen(db_session, agent) -> datetime | None:
    db_session.fresh()
    return db_session.scalar(select(Agent.last_seen_at).where(Agent.id == agent.id))


def test_signed_in_pages_record_the_agent_as_seen_once_a_minute(browser, agent, db_session):
    db_session.execute(update(Agent).values(last_seen_at=None))
    db_session.commit()
    browser.get("/inbox/list")
    first = _last_seen(db_session, agent)
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    browser.get("/inbox/list")
    assert _last_seen(db_session, agent) == first  # within the minute: not written again
    db_session.execute(update(Agent).values(last_seen_at=first - timedelta(minutes=2)))
    db_session.commit()
    browser.get("/inbox/list")
    assert _last_seen(db_session, agent) > first - timedelta(minutes=1)


def test_anonymous_requests_record_nobody(client, make, db_session):
    someone = make.agent()
    client.get("/login")
    client.get("/inbox")
    assert _last_seen(db_session, someone) is None


def test_the_api_availability(client, make, db_session):
    agent = make.agent()
    headers = {"Authorization": f"Bearer {make.token(agent)}"}
    answer = client.get("/api/me/availability", headers=headers).json
    assert answer["away"] is False and answer["available"] is True and answer["last_seen_at"].endswith("Z")
    answer = client.post("/api/me/availability", json={"away": True}, headers=headers).json
    assert answer["away"] is True and answer["available"] is False and answer["away_since"]
    db_session.fresh()
    assert db_session.get_one(Agent, agent.id).away_since is not None
    assert client.post("/api/me/availability", json={"away": False}, headers=headers).json["away"] is False

    refused = client.post("/api/me/availability", json={"away": "yes"}, headers=headers)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_away"
    assert client.post("/api/me/availability", data="away", headers=headers).status_code == 400
    assert client.post("/api/me/availability", json={"away": True}).status_code == 401


def test_the_thread_marks_the_away_message_automatic(browser, agent, make, db_session):
    store = make.store()
    configure(db_session, store, hours={}, away_message=True)
    customer = make.customer(store)
    handle_inbound(db_session, store=store, customer=customer, body="Hello, anyone?", provider_sid="SMmark1")
    db_session.commit()
    conversation = db_session.scalar(select(Conversation).where(Conversation.customer_id == customer.id))
    thread = browser.get(f"/inbox/{conversation.id}/thread").get_data(as_text=True)
    assert thread.count('<span class="automatic">Automatic</span>') == 1
    assert "Our team will reply as soon as we can." in thread


def test_the_page_lists_the_team_with_presence(browser, owner, make, db_session):
    store = make.store()
    configure(db_session, store, hours=OFFICE, assignment=True)
    away = make.agent(stores=[store], email="away@example.com")
    away.away_since = utcnow()
    make.agent(stores=[store], email="gone@example.com")
    db_session.commit()
    page = browser.get(f"/hours?store={store.slug}").get_data(as_text=True)
    assert owner.email in page and "away@example.com" in page and "gone@example.com" in page
    assert '<span class="badge ok">available</span>' in page  # the owner, seen by this very request
    assert '<span class="badge off">away</span>' in page and '<span class="badge">not seen</span>' in page
    assert csrf_token(browser.client, f"/hours?store={store.slug}")
