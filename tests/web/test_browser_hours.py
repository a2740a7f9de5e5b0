"""The owner's /hours page in a real browser at 1280 and 390 px: a refused interval shown beside its
day, the schedule and switches saved, the page no wider than the screen, the inbox's away switch,
and axe-core finding no serious or critical violation on any of it."""
from __future__ import annotations

import pytest

from tests.web.test_browser import chromium, log_in  # noqa: F401 - the module's one browser
from tests.web.test_browser_owner import (  # noqa: F401 - fixtures: the live app and its store
    WIDTHS,
    _page,
    _violations,
    live_simulator_app,
    world,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", WIDTHS)
def test_hours_page_and_away_switch(chromium, live_simulator_app, world, width, screenshots):  # noqa: F811
    _app, url = live_simulator_app
    owner, store, _customer = world
    context, page, errors = _page(chromium, width)
    log_in(page, url, owner)
    found = {}

    page.goto(url + "/hours")
    page.locator("#hours-status", has_text="always open").wait_for()
    found["hours"] = _violations(page)
    page.check("input[name=use_hours]")
    page.fill("#f-day_0", "22:00-02:00")
    page.fill("#f-day_5", "10:00-14:00")
    page.check("input[name=away_message]")
    page.check("input[name=assignment]")
    page.click(".settings-actions button[type=submit]")
    page.locator("#e-day_0", has_text="Monday: 22:00-02:00 runs past midnight").wait_for()
    assert page.get_attribute("#f-day_0", "aria-invalid") == "true"
    found["hours refused"] = _violations(page)

    page.fill("#f-day_0", "09:00-17:30")
    page.click(".settings-actions button[type=submit]")
    page.locator(".flash", has_text="Hours and assignment saved.").wait_for()
    assert page.input_value("#f-day_0") == "09:00-17:30" and page.is_checked("input[name=assignment]")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    page.screenshot(path=str(screenshots / f"hours-{width}.png"), full_page=True)
    found["hours saved"] = _violations(page)

    page.goto(url + "/inbox")
    page.click("text=Set me away")
    page.locator(".signals button", has_text="Away · I'm back").wait_for()
    found["inbox away"] = _violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert errors == []
