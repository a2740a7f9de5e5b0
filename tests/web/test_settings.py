"""The store settings page: every setting saved from the form, refused values shown beside
their field (4xx, nothing saved), the legal floor shown, owners only."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from smsdesk.models import Store, Template


def _form(store: Store, **changes) -> dict:
    form = {"name": store.name, "country": store.country, "timezone": store.timezone,
            "from_number": store.from_number or "", "messaging_service_sid": store.messaging_service_sid or "",
            "rate_per_second": "1", "quiet_hours": store.quiet_hours, "help_text": store.help_text,
            "send_opt_out_confirmation": "on"}
    return {key: value for key, value in (form | changes).items() if value is not None}


def test_every_setting_is_saved(browser, owner, make, db_session):
    store = make.store(name="Before")
    response = browser.post(f"/settings/{store.slug}", _form(
        store, name="Nordic Knits", country="de", timezone="Europe/Berlin", from_number="+4915112345678",
        messaging_service_sid="MG" + "a" * 32, rate_per_second="2,5", quiet_hours="21:00-09:00",
        help_text="help@knits.example", send_opt_out_confirmation=None,
        opt_out_text="{{ store.name }}: you won't get texts any more. START to come back."))
    assert response.status_code == 302 and response.headers["Location"] == f"/settings?store={store.slug}"
    db_session.fresh()
    saved = db_session.get(Store, store.id)
    assert (saved.name, saved.country, saved.timezone, saved.from_number, saved.messaging_service_sid,
            saved.rate_per_second, saved.quiet_hours, saved.help_text, saved.send_opt_out_confirmation) == (
        "Nordic Knits", "DE", "Europe/Berlin", "+4915112345678", "MG" + "a" * 32, 2.5, "21:00-09:00",
        "help@knits.example", False)
    template = db_session.scalar(select(Template).where(Template.store_id == store.id))
    assert template.kind == "opt_out_confirmation" and template.body.startswith("{{ store.name }}: you won't")
    html = browser.get(f"/settings?store={store.slug}").get_data(as_text=True)
    assert "Store settings saved." in html and 'value="Europe/Berlin"' in html and 'value="2.5"' in html


def test_an_unchanged_opt_out_text_stays_the_default(browser, owner, make, db_session):
    store = make.store()
    default = re.search(r'name="opt_out_text"[^>]*>([^<]*)</textarea>',
                        browser.get(f"/settings?store={store.slug}").get_data(as_text=True)).group(1)
    assert default.strip()  # the built-in text is shown
    browser.post(f"/settings/{store.slug}", _form(store, opt_out_text=html.unescape(default)))
    assert db_session.scalar(select(Template).where(Template.store_id == store.id)) is None


def test_clearing_the_number_keeps_the_service(browser, owner, make, db_session):
    store = make.store(messaging_service_sid="MG" + "b" * 32)
    assert browser.post(f"/settings/{store.slug}", _form(store, from_number="")).status_code == 302
    db_session.fresh()
    assert db_session.get(Store, store.id).from_number is None


@pytest.mark.parametrize("field, value, words", [
    ("timezone", "Mars/Olympus", "Mars/Olympus&#39; is not a known time zone"),
    ("quiet_hours", "25:00-08:00", "quiet_hours must look like 20:00-08:00"),
    ("name", "  ", "name must not be empty"),
    ("rate_per_second", "fast", "rate_per_second must be a number"),
    ("rate_per_second", "5000", "rate_per_second must be a number from 0.01 to 1000"),
    ("rate_per_second", "nan", "rate_per_second must be a number from 0.01 to 1000"),
    ("from_number", "call me", "is not a phone number in E.164 form"),
    ("country", "XX", "country &#39;XX&#39; is not a two-letter country code"),
    ("help_text", "x" * 1001, "help_text is longer than 1000 characters"),
    ("opt_out_text", "Bye {{ customer.first_name ", "line 1:"),
    ("opt_out_text", "", "must not be empty"),
])
def test_a_refused_value_is_shown_beside_its_field(browser, owner, make, db_session, field, value, words):
    store = make.store(name="Before")
    response = browser.post(f"/settings/{store.slug}", _form(store, **({"name": "After"} | {field: value})))
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:300]
    error = re.search(rf'<p class="field-error" id="e-{field}" role="alert">([^<]*)</p>', html)
    assert error and words in error.group(1)
    assert f'aria-describedby="e-{field}' in html and "Not saved: 1 field needs a change" in html
    db_session.fresh()
    saved = db_session.get(Store, store.id)
    assert saved.name == "Before"  # nothing of the form is saved
    assert db_session.scalar(select(Template).where(Template.store_id == store.id)) is None


def test_another_stores_sender_is_a_409(browser, owner, make, db_session):
    other = make.store()
    store = make.store()
    response = browser.post(f"/settings/{store.slug}", _form(store, from_number=other.from_number))
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "is already another store&#39;s sender" in html
    db_session.fresh()
    assert db_session.get(Store, store.id).from_number == store.from_number


def test_settings_show_the_legal_floor(browser, owner, make):
    store = make.store(quiet_hours="21:00-07:00")
    html = browser.get(f"/settings?store={store.slug}").get_data(as_text=True)
    assert "US law allows marketing texts 8:00–21:00 local time; some states less:" in html
    assert "<li><b>FL, MA, MD, OK, WA</b> 8:00–20:00</li>" in html
    assert "<li><b>RI</b> 9:00–18:00, Sat 10:00–17:00, none on Sun or holidays</li>" in html
    assert 'value="21:00-07:00"' in html


def test_agents_get_a_403_and_strangers_a_404(browser, make, db_session):
    store = make.store()
    other = make.store()
    agent = make.agent(role="agent", stores=[store])
    browser.login(agent)
    assert browser.get(f"/settings?store={store.slug}").status_code == 403
    assert browser.post(f"/settings/{store.slug}", _form(store, name="Hacked")).status_code == 403
    owner = make.agent(role="owner", stores=[store])
    browser.login(owner)
    assert browser.get(f"/settings?store={other.slug}").status_code == 404
    assert browser.post(f"/settings/{other.slug}", _form(other, name="Hacked")).status_code == 404
    db_session.fresh()
    assert "Hacked" not in (db_session.get(Store, store.id).name, db_session.get(Store, other.id).name)


def test_a_post_without_the_csrf_token_is_refused(client, make, browser, owner):
    store = make.store()
    response = client.post(f"/settings/{store.slug}", data=_form(store, name="No token"))
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
