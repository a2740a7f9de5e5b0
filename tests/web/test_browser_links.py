"""/links in a real browser at 1280 and 390 px: a refused number of hours shown beside its
field, the settings saved, the page within the screen's width and without serious or critical
axe violations."""
from __future__ import annotations

import pytest

from tests.conftest import app_settings
from tests.support.live import serving
from tests.web.test_browser import chromium, log_in  # noqa: F401 - the module's one browser
from tests.web.test_browser_owner import WIDTHS, _page, _violations

pytestmark = pytest.mark.browser


@pytest.fixture
def world(make):
    return make.agent(email="owner@links.example", role="owner"), make.store(name="Nordic Knits")


@pytest.fixture
def live_app(world, engine, database_url, twilio_server):
    with serving(app_settings(database_url, twilio_server.url)) as (app, url, _):
        yield url


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_turns_short_links_on_and_sets_smart_sending(chromium, live_app, world, width):  # noqa: F811
    url, (owner, _store) = live_app, world
    context, page, errors = _page(chromium, width)
    log_in(page, url, owner)
    page.goto(url + "/links")
    page.check("#f-short_links")
    page.fill("#f-smart_sending_hours", "500")
    page.click(".settings-actions button[type=submit]")
    page.locator("#e-smart_sending_hours", has_text="A whole number of hours").wait_for()
    assert page.get_attribute("#f-smart_sending_hours", "aria-invalid") == "true"
    found = {"links (refused)": _violations(page)}
    page.fill("#f-smart_sending_hours", "12")
    page.click(".settings-actions button[type=submit]")
    page.locator(".flash", has_text="Link and sending settings saved.").wait_for()
    assert page.input_value("#f-smart_sending_hours") == "12" and page.is_checked("#f-short_links")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    found["links"] = _violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert errors == []
