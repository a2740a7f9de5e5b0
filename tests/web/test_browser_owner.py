"""The owner's day in a real browser (Playwright driving Chromium), at 1280 and 390 px:
settings saved (and a refused value shown beside its field), a phone set to fail in the
simulator, the failed text seen by the agent and retried, and axe-core (tests/support/axe)
finding no serious or critical accessibility violation on any page, 404 included.

The app runs with the phone simulator as its provider (so the simulator page is there) and
its scheduler, on a free port; one Chromium serves the whole module (tests/web/test_browser.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.models import Order, Shipment
from tests.conftest import app_settings
from tests.support.live import serving
from tests.web.test_browser import WAIT_MS, chromium, log_in  # noqa: F401 - the module's one browser

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "support" / "axe" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
}"""


@pytest.fixture
def world(make, db_session):
    """The store, its owner and a customer with an order, written before the live app starts."""
    return _world(make, db_session)


@pytest.fixture
def live_simulator_app(world, engine, database_url, twilio_server):
    """smsdesk with the phone simulator and its scheduler, on a free port."""
    settings = app_settings(database_url, twilio_server.url) | {"sms": {"provider": "simulator"}}
    with serving(settings) as (app, url, _):
        yield app, url


def _world(make, db_session):
    owner = make.agent(email="owner@knits.example", role="owner")
    store = make.store(name="Nordic Knits", quiet_hours="20:00-08:00")
    customer = make.customer(store, "+15025550101", first_name="Emma", last_name="Larsen")
    order = Order(store_id=store.id, external_id="1042", number="1042", customer_id=customer.id, status="shipped",
                  total="54.00", currency="USD", item_count=3, status_url="https://knits.example/orders/1042",
                  items=[{"title": "Wool mittens", "quantity": 2}, {"title": "Beanie", "quantity": 1}])
    db_session.add(order)
    db_session.flush()
    db_session.add(Shipment(store_id=store.id, order_id=order.id, external_id="p1", status="shipped",
                            tracking_company="UPS", tracking_number="1Z999",
                            tracking_url="https://www.ups.com/track?tracknum=1Z999", item_count=3))
    db_session.commit()
    return owner, store, customer


def _page(chromium, width: str):  # noqa: F811 - the fixture's value
    # axe is injected as a script: the CSP (tested in test_browser.py) would refuse it.
    context = chromium.new_context(viewport=WIDTHS[width], bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A page answered 404/422 on purpose logs "Failed to load resource"; a missing file or a
    # failing fetch of the page's own is caught by the response check instead.
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    return context, page, errors


def _violations(page) -> list[dict]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    return [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]


def _text_from_customer(url, customer, page, body: str):
    page.goto(f"{url}/simulator?customer={customer.id}")
    page.fill(".phone-compose input[name=body]", body)
    page.click(".phone-compose button[type=submit]")
    page.locator("#phone-screen", has_text=body).wait_for()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_passes_axe(chromium, live_simulator_app, world, width):  # noqa: F811
    app, url = live_simulator_app
    owner, store, customer = world
    context, page, errors = _page(chromium, width)
    page.goto(url + "/login")
    found = {"login": _violations(page)}
    page.goto(url + "/nowhere")
    found["404 (logged out)"] = _violations(page)
    log_in(page, url, owner)
    _text_from_customer(url, customer, page, "Where is my order?")
    page.goto(url + "/inbox")
    page.locator(".conversation", has_text="Emma Larsen").wait_for()
    found["inbox"] = _violations(page)
    page.goto(url + "/inbox")
    page.click(".conversation >> text=Emma Larsen")
    page.locator(".thread", has_text="Where is my order?").wait_for()
    found["thread"] = _violations(page)
    for name, path in (("dashboard", "/dashboard"), ("templates", "/templates"), ("canned", "/canned"),
                       ("settings", "/settings"), ("simulator", f"/simulator?customer={customer.id}"),
                       ("404", "/no/such/page")):
        page.goto(url + path)
        page.wait_for_load_state("load")
        found[name] = _violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert errors == []


def test_focus_is_visible(chromium, live_simulator_app, world):  # noqa: F811
    """Tab to a link, a button and a field: each shows an outline of at least 2 px."""
    app, url = live_simulator_app
    owner, store, customer = world
    context, page, errors = _page(chromium, "desktop")
    log_in(page, url, owner)
    page.goto(url + "/settings")
    outlines = []
    for _ in range(24):  # the top bar's links (one per owner page), then the store picker or the first field
        page.keyboard.press("Tab")
        outlines.append(page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"""))
    context.close()
    tags = {tag for tag, _, _ in outlines}
    assert "A" in tags and tags & {"INPUT", "SELECT"}, outlines
    assert all(style != "none" and width >= 2 for _, style, width in outlines), outlines


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_saves_settings_and_sees_a_failed_text_retried(chromium, live_simulator_app, world,  # noqa: F811
                                                             screenshots, width):
    app, url = live_simulator_app
    owner, store, customer = world
    context, page, errors = _page(chromium, width)
    log_in(page, url, owner)

    page.goto(url + "/settings")
    page.fill("#f-rate_per_second", "fast")
    page.click(".settings-actions button[type=submit]")
    page.locator("#e-rate_per_second", has_text="rate_per_second must be a number").wait_for()
    assert page.get_attribute("#f-rate_per_second", "aria-invalid") == "true"
    page.fill("#f-rate_per_second", "2")
    page.fill("#f-quiet_hours", "21:00-09:00")
    page.fill("#f-help_text", "help@knits.example")
    page.click(".settings-actions button[type=submit]")
    page.locator(".flash", has_text="Store settings saved.").wait_for()
    assert page.input_value("#f-quiet_hours") == "21:00-09:00"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    page.screenshot(path=str(screenshots / f"settings-{width}.png"), full_page=True)

    _text_from_customer(url, customer, page, "Where is my order?")
    page.select_option("#phone-failure", "unreachable")
    page.click(".phone-failure button[type=submit]")
    page.locator("#phone-failure option[value=unreachable][selected]").wait_for(state="attached")

    page.goto(url + "/inbox")
    page.click(".conversation >> text=Emma Larsen")
    page.fill("#reply-body", "It left our warehouse today.")
    page.click(".composer button[type=submit]")
    failed = page.locator(".bubble-row.out", has_text="It left our warehouse today.").locator(".reason")
    failed.filter(has_text="The phone was off or out of coverage (carrier code 30003).").wait_for()
    assert _violations(page) == []  # the failed bubble's time, status and reason are readable too
    panel = page.locator(".order-panel")
    if width == "desktop":  # the side panel: items, total, status link, tracking
        assert "2 × Wool mittens" in panel.inner_text() and "54.00 USD" in panel.inner_text()
        assert panel.locator("a.order-status-link").get_attribute("href") == "https://knits.example/orders/1042"
        assert "Track with UPS (1Z999)" in panel.inner_text()
    page.screenshot(path=str(screenshots / f"failed-text-{width}.png"))

    page.goto(f"{url}/simulator?customer={customer.id}")
    page.select_option("#phone-failure", "none")
    page.click(".phone-failure button[type=submit]")
    # The form's POST must land before the next navigation: a goto racing it could abort it.
    page.locator("#phone-failure option[value=none][selected]").wait_for(state="attached")
    page.goto(url + "/inbox")
    page.click(".conversation >> text=Emma Larsen")
    page.click(".bubble form.retry button[type=submit]")
    page.locator(".bubble-row.out", has_text="It left our warehouse today.").locator(
        '[data-status="delivered"]').wait_for()
    context.close()
    assert errors == []
