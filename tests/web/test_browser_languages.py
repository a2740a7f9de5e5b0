"""The template editor's languages in a real browser, at 1280 and 390 px: the owner opens the
Spanish version of a kind from the languages table, sees the built-in Spanish text previewed with
its segments, saves a version of their own, and axe finds no serious violation."""
from __future__ import annotations

import pytest

from tests.web.test_browser import chromium, log_in  # noqa: F401 - the module's one browser
from tests.web.test_browser_owner import WIDTHS, _page, _violations, live_simulator_app, world  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_writes_a_spanish_version(chromium, live_simulator_app, world, width):  # noqa: F811
    app, url = live_simulator_app
    owner, store, customer = world
    context, page, errors = _page(chromium, width)
    log_in(page, url, owner)
    page.goto(f"{url}/templates?store={store.slug}&kind=order_cancelled")
    page.click("#template-languages a >> text=Spanish")
    page.locator("#preview-text", has_text="Nordic Knits: Hola Emma, tu pedido #1042 ha sido cancelado.").wait_for()
    page.locator("#preview-segments", has_text="1").wait_for()
    assert _violations(page) == []
    page.fill("#template-body", "{{ store.name }}: pedido #{{ order.number }} cancelado.")
    page.click(".template-form button[type=submit]")
    page.locator('#template-languages tr[data-language="es"]', has_text="your version").wait_for()
    page.locator('#template-languages tr[data-language="en"]', has_text="built-in text").wait_for()
    context.close()
    assert errors == []
