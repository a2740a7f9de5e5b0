"""The owners' template editor: kinds, saving (with the error line), preview, test sends."""
import pytest
from sqlalchemy import select

from smsdesk.models import Message, Template
from smsdesk.services.template_kinds import KINDS


def test_lists_every_kind_and_the_variables(browser, owner, make):
    store = make.store()
    html = browser.get(f"/templates?store={store.slug}&kind=order_shipped").get_data(as_text=True)
    for spec in KINDS.values():
        assert spec.label in html
    assert 'data-insert-variable="tracking.url"' in html and "Order shipped" in html
    assert 'data-insert-variable="shipment.partial"' in html and "Order refunded" in html


def test_save_template(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/templates/{store.slug}/cart_reminder_1",
                            {"body": "{{ store.name }}: back to {{ cart.recovery_url }}", "delay_minutes": "90"})
    assert response.status_code == 302
    row = db_session.scalar(select(Template))
    assert (row.kind, row.delay_minutes, row.enabled) == ("cart_reminder_1", 90, False)  # box left unticked


@pytest.mark.parametrize("body, shown", [
    ("Hi\n{{ order.numbr }}", "line 2: unknown variable &#39;order.numbr&#39;"),
    ("{% if %}", "line 1:"),
    ("", "template is empty"),
])
def test_invalid_template_is_refused_with_line_and_reason(browser, owner, make, db_session, body, shown):
    store = make.store()
    response = browser.post(f"/templates/{store.slug}/order_shipped", {"body": body, "enabled": "on"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and shown in html
    assert db_session.scalar(select(Template)) is None


def test_bad_delay_is_refused(browser, owner, make):
    store = make.store()
    response = browser.post(f"/templates/{store.slug}/cart_reminder_1", {"body": "{{ cart.recovery_url }}",
                                                                        "delay_minutes": "soon"})
    assert response.status_code == 422 and "whole number" in response.get_data(as_text=True)


def test_preview_renders_and_warns_about_ucs2(browser, owner, make):
    store = make.store(name="Nordic Knits")
    response = browser.post_json(f"/templates/{store.slug}/order_shipped/preview",
                                 {"body": "{{ store.name }}: " + "a" * 130 + " 🎉"})
    data = response.json
    assert data["text"].startswith("Nordic Knits: ") and data["encoding"] == "UCS-2"
    assert data["non_gsm_characters"] == ["🎉"] and data["segments"] == 3 and data["segments_without_non_gsm"] == 1


def test_preview_reports_the_error_line(browser, owner, make):
    store = make.store()
    response = browser.post_json(f"/templates/{store.slug}/order_shipped/preview", {"body": "ok\n{{ nope.x }}"})
    assert response.status_code == 422 and response.json["line"] == 2 and "nope.x" in response.json["reason"]


def test_preview_needs_csrf_header(browser, owner, make):
    store = make.store()
    response = browser.client.post(f"/templates/{store.slug}/order_shipped/preview", json={"body": "x"})
    assert response.status_code == 400


def test_send_a_test_to_my_phone(browser, owner, make, db_session):
    store = make.store(name="Nordic Knits")
    response = browser.post(f"/templates/{store.slug}/order_confirmed/test", {"phone": "(502) 555-0177"},
                            follow_redirects=True)
    assert "Test text queued to +15025550177" in response.get_data(as_text=True)
    message = db_session.scalar(select(Message))
    assert message.kind == "template_test" and "Nordic Knits" in message.body and "1042" in message.body


def test_send_a_test_to_a_bad_number(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/templates/{store.slug}/order_confirmed/test", {"phone": "call me"},
                            follow_redirects=True)
    assert "not a mobile number" in response.get_data(as_text=True)
    assert db_session.scalar(select(Message)) is None


@pytest.mark.parametrize("typed, sent_to", [
    ("+1 (502) 555-0123", "+15025550123"),  # with +: as written, whatever the store's country
    ("0151 23456789", "+4915123456789"),  # national: read in the store's country
    ("0049 151 23456789", "+4915123456789"),
])
def test_send_a_test_in_a_german_store(browser, owner, make, db_session, typed, sent_to):
    store = make.store(country="DE")
    response = browser.post(f"/templates/{store.slug}/order_confirmed/test", {"phone": typed}, follow_redirects=True)
    assert f"Test text queued to {sent_to}" in response.get_data(as_text=True)
    assert db_session.scalar(select(Message)).customer.phone == sent_to


def test_send_a_test_refuses_a_us_national_number_in_a_german_store(browser, owner, make, db_session):
    store = make.store(country="DE")
    response = browser.post(f"/templates/{store.slug}/order_confirmed/test", {"phone": "(502) 555-0123"},
                            follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "read as a Germany number" in html and "start with +" in html
    assert db_session.scalar(select(Message)) is None


@pytest.mark.parametrize("country, example", [("DE", "+49 15"), ("US", "+1 "), ("FR", "+33 6")])
def test_phone_hint_is_in_the_store_country(browser, owner, make, country, example):
    store = make.store(country=country)
    html = browser.get(f"/templates?store={store.slug}").get_data(as_text=True)
    assert f'name="phone" placeholder="{example}' in html and "+1 502 555 0123\"" not in html


@pytest.mark.parametrize("path", ["/templates?store=nope", "/templates?kind=nope"])
def test_unknown_store_or_kind_is_404(browser, owner, make, path):
    make.store()
    assert browser.get(path).status_code == 404


def test_agent_cannot_save_or_preview(browser, agent, make):
    store = make.store()
    assert browser.post(f"/templates/{store.slug}/order_shipped", {"body": "x"}).status_code == 403
    assert browser.post_json(f"/templates/{store.slug}/order_shipped/preview", {"body": "x"}).status_code == 403


def test_templates_page_links_to_the_settings_page(browser, owner, make):
    store = make.store()
    html = browser.get(f"/templates?store={store.slug}").get_data(as_text=True)
    assert f'href="/settings?store={store.slug}" id="settings-link"' in html and 'name="quiet_hours"' not in html
