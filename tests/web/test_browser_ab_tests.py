"""The A/B test page in a real browser at 1280 and 390 px: from the template editor, the owner
writes version B (the live preview counts its segments), starts the test and sees both versions
side by side with the "not yet significant" note; within the screen's width and without serious
or critical axe violations."""
from __future__ import annotations

import pytest

from tests.conftest import app_settings
from tests.support.live import serving
from tests.web.test_browser import chromium, log_in  # noqa: F401 - the module's one browser
from tests.web.test_browser_owner import WIDTHS, _page, _violations

pytestmark = pytest.mark.browser
B_BODY = "{{ customer.first_name }}, your {{ cart.first_item }} is waiting: {{ cart.recovery_url }}"


@pytest.fixture
def world(make):
    return make.agent(email="owner@ab.example", role="owner"), make.store(name="Nordic Knits")


@pytest.fixture
def live_app(world, engine, database_url, twilio_server):
    with serving(app_settings(database_url, twilio_server.url)) as (app, url, _):
        yield url


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_starts_an_ab_test_and_sees_both_versions(chromium, live_app, world, width, screenshots):  # noqa: F811
    url, (owner, store) = live_app, world
    context, page, errors = _page(chromium, width)
    log_in(page, url, owner)
    page.goto(f"{url}/templates?store={store.slug}&kind=cart_reminder_1")
    page.click("#ab-test-link")
    page.wait_for_url(f"{url}/templates/{store.slug}/cart_reminder_1/ab-test?language=en")
    page.fill("#template-body", "Hi {{ cart.nope }}")
    page.locator("#preview-error", has_text="unknown variable 'cart.nope'").wait_for()
    page.fill("#template-body", B_BODY)
    page.locator("#preview-text", has_text="Emma, your Wool Mittens is waiting").wait_for()
    page.locator("#preview-segments", has_text="1 segment").wait_for()
    found = {"ab test (new)": _violations(page)}
    page.fill("#f-name", "first name up front")
    page.fill("#f-split_percent", "30")
    page.click("#start-button")
    page.locator(".flash", has_text="A/B test started: 30 % of customers get version B.").wait_for()
    results = page.locator("#running-results")
    assert "A · template" in results.inner_text() and "B · 30 % of customers" in results.inner_text()
    assert "Emma, your Wool Mittens is waiting: https://" in results.inner_text()  # B beside A, as sent
    verdict = page.locator("#running-results-verdict").inner_text()
    assert verdict.startswith("Not yet significant") and "too few texts so far" in verdict
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    found["ab test (running)"] = _violations(page)
    page.screenshot(path=str(screenshots / f"ab-test-{width}.png"), full_page=True)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert [error for error in errors if not error.startswith("422 ")] == []  # the bad body's preview: a 422
    assert len(errors) <= 1
