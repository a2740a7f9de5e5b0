"""Automatic answers in a real browser (issue 15), at 390 and 1280 px: the owner turns on
order-status answers on /answers, the simulator's customer asks "where's my package??" and gets the
tracking link at once on the simulated phone, and the agent sees the answer marked "Automatic" in
the thread; axe finds no serious or critical violation on /answers or the thread. Same live setup
as test_browser_owner.py (phone simulator and scheduler, one Chromium for the module)."""
from __future__ import annotations

import pytest

from tests.web.test_browser import chromium, log_in  # noqa: F401 - the module's one browser
from tests.web.test_browser_owner import (  # noqa: F401 - fixtures
    WIDTHS,
    _page,
    _text_from_customer,
    _violations,
    live_simulator_app,
    world,
)

pytestmark = pytest.mark.browser
TRACKING = "https://www.ups.com/track?tracknum=1Z999"


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_turns_on_order_answers_and_the_customer_gets_the_link(chromium, live_simulator_app, world,  # noqa: F811
                                                                     screenshots, width):
    app, url = live_simulator_app
    owner, store, customer = world
    context, page, errors = _page(chromium, width)
    log_in(page, url, owner)

    page.goto(url + "/answers")
    assert not page.is_checked("#order-status")
    page.check("#order-status")
    page.click("#answer-settings button[type=submit]")
    page.locator(".flash", has_text="Automatic answers saved.").wait_for()
    assert page.is_checked("#order-status")
    page.fill("#f-message", "where's my package??")
    page.click("#try button[type=submit]")
    page.locator(".try-result", has_text="Answered with the order’s status").wait_for()
    assert _violations(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    page.screenshot(path=str(screenshots / f"answers-{width}.png"), full_page=True)

    _text_from_customer(url, customer, page, "where's my package??")
    page.locator("#phone-screen .bubble", has_text=TRACKING).wait_for()  # sent at once by the scheduler

    page.goto(url + "/inbox")
    # Open the thread by its link's address: a click can land as the live list replaces the row.
    page.goto(url + page.locator(".conversation", has_text="Emma Larsen").get_attribute("href"))
    answer = page.locator(".bubble-row.out", has_text=TRACKING)
    answer.locator(".automatic", has_text="Automatic").wait_for()
    assert "order #1042 has shipped with UPS" in answer.inner_text()
    assert _violations(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    page.screenshot(path=str(screenshots / f"automatic-answer-{width}.png"))
    context.close()
    assert errors == []
