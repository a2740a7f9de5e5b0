"""The agent's day in a real browser at laptop and phone width (issue 12): replying by keyboard
alone with no reload, drafts that survive switching, j/k and the "?" sheet, the waiting count in
the tab title, a notification signal, and no page wider than the screen.

Same setup as test_browser.py (Playwright driving Debian's Chromium against a live smsdesk with
its scheduler and the Twilio test server); one browser for the module.
"""
from __future__ import annotations

import re

import pytest

from tests.conftest import app_settings
from tests.support.live import serving
from tests.web import test_browser as live

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

chromium = live.chromium  # the module's one browser (module-scoped: closed before the next module's)

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PAGES = ("/inbox", "/dashboard", "/templates", "/canned")  # /simulator: with the simulator provider, below
NO_RELOAD = "window.__notReloaded === true"


@pytest.fixture
def seeded_app(engine, database_url, twilio_server, make, db_session):
    """test_browser.py's live app with an owner, and Emma, Jonas and Mia waiting."""
    def arrange(app, url):
        return make.agent(email="owner@knits.example", role="owner"), live.seed(app, url, make, db_session)
    twilio_server.auto_callbacks = ["sent", "delivered"]
    with serving(app_settings(database_url, twilio_server.url), arrange) as (app, url, (owner, store)):
        yield app, url, owner, store


@pytest.fixture(params=[LAPTOP, PHONE], ids=["1280px", "390px"])
def viewport(request):
    return request.param


def open_page(chromium, viewport, url):
    """A fresh context at that size; console errors and uncaught exceptions are collected."""
    context = chromium.new_context(viewport=viewport)
    context.grant_permissions(["notifications"], origin=url)
    page = context.new_page()
    page.set_default_timeout(live.WAIT_MS)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location.get('url', '')}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return context, page, errors


def mark(page):
    page.evaluate("window.__notReloaded = true")


def active_id(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def open_by_keyboard(page, key: str, name: str):
    """j/k open the next/previous conversation; wait until it is the one shown."""
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press(key)
    page.locator(".thread-head h2", has_text=name).wait_for()


def assert_no_horizontal_scroll(page, where: str):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{where} is {width} px wide in a {inner} px window"


def test_agent_works_by_keyboard_without_reloads(chromium, seeded_app, viewport):
    app, url, owner, store = seeded_app
    context, page, errors = open_page(chromium, viewport, url)
    phone = viewport is PHONE

    live.log_in(page, url, owner)
    page.locator(".conversation", has_text="Mia Stone").wait_for()
    assert page.title().startswith("(3) Inbox")
    assert page.locator(".conversation", has_text="Emma Larsen").locator(".waited").inner_text().startswith("waiting")
    assert page.locator(".conversation .dot").first.get_attribute("title") == "Waiting for a reply"

    # "?" opens the sheet (an accessible dialog); Escape closes it and focus returns.
    page.focus("#inbox-search")
    page.keyboard.press("Escape")  # leave the field: the next key is a shortcut again
    page.keyboard.press("?")
    sheet = page.locator("dialog#shortcuts")
    sheet.wait_for()
    assert sheet.get_attribute("aria-labelledby") == "shortcuts-title" and "Assign to me" in sheet.inner_text()
    page.keyboard.press("Escape")
    sheet.wait_for(state="hidden")
    page.keyboard.press("/")
    assert active_id(page) == "inbox-search"
    page.keyboard.type("j")  # typed into the search, not a shortcut
    assert page.input_value("#inbox-search") == "j" and "/inbox/" not in page.url
    page.keyboard.press("Escape")

    # j opens the first conversation; r goes to the reply box; Ctrl+Enter sends in place.
    open_by_keyboard(page, "j", "Emma Larsen")
    if phone:
        assert page.locator(".list-pane").is_hidden() and page.locator(".back-link").is_visible()
        send = page.locator(".composer button[type=submit]").bounding_box()
        assert send and send["y"] + send["height"] <= PHONE["height"]  # Send on screen, no scrolling
        logout = page.locator(".who button").bounding_box()
        assert logout and logout["x"] + logout["width"] <= PHONE["width"]
    mark(page)
    page.keyboard.press("r")
    assert active_id(page) == "reply-body"
    page.keyboard.type("Hi Emma, it left our warehouse today.")
    page.keyboard.press("Control+Enter")
    page.locator(".bubble-row.out", has_text="Hi Emma, it left our warehouse today.").wait_for()
    assert page.evaluate(NO_RELOAD)
    assert active_id(page) == "reply-body" and page.input_value("#reply-body") == ""
    expect(page).to_have_title(re.compile(r"^\(2\) "))  # Emma no longer waits

    # The 3 s refresh brings the customer's answer without taking the agent's place.
    page.keyboard.type("half-written draft")
    live.text_in(app, url, store, phone="+15025550101", body="Great, thank you!")
    page.locator(".bubble-row.in", has_text="Great, thank you!").wait_for()
    assert active_id(page) == "reply-body" and page.input_value("#reply-body") == "half-written draft"
    assert page.evaluate(NO_RELOAD)

    # The draft survives a look at another conversation (k to the one above in the list, j back).
    page.keyboard.press("Escape")
    names = [re.sub(r"^Waiting for a reply:\s*", "", n)
             for n in page.locator("#conversation-list .conversation .name").all_inner_texts()]
    above = names[names.index("Emma Larsen") - 1]
    open_by_keyboard(page, "k", above)
    assert page.input_value("#reply-body") == ""
    open_by_keyboard(page, "j", "Emma Larsen")
    assert page.input_value("#reply-body") == "half-written draft"

    # a assigns to me, e closes, e reopens: all in place.
    mark(page)
    page.keyboard.press("a")
    page.locator("#assign-card select option[selected]", has_text=owner.email).wait_for(state="attached")
    page.keyboard.press("e")
    flash = page.locator(".flash", has_text="Conversation closed.")
    flash.wait_for()
    if phone:  # the flash lies over the thread's header: a tap puts it away at once
        flash.click()
        flash.wait_for(state="detached", timeout=1000)
    page.locator("#conversation-actions button", has_text="Reopen").wait_for()
    page.keyboard.press("e")
    page.locator("#conversation-actions button", has_text="Close").wait_for()
    assert page.evaluate(NO_RELOAD)
    if phone:  # the customer, assignment and orders open over the thread, and Escape closes them
        page.click(".thread-head .details-toggle")
        page.locator("#side-pane", has_text="Assigned to").wait_for()
        assert active_id(page) == "" and page.locator(".details-close").evaluate("b => b === document.activeElement")
        page.keyboard.press("Escape")
        page.locator("#side-pane").wait_for(state="hidden")
        page.click(".back-link")
        page.locator(".list-pane").wait_for()
        assert page.locator(".thread-pane").count() == 0

    for path in PAGES:
        page.goto(url + path)
        page.wait_for_load_state("load")
        assert_no_horizontal_scroll(page, path)
    page.goto(url + "/inbox")
    page.click(".conversation >> text=Mia Stone")
    page.locator(".thread", has_text="thanks!").wait_for()
    assert_no_horizontal_scroll(page, "a conversation")
    assert errors == [], "\n".join(errors)
    context.close()

    context, page, errors = open_page(chromium, viewport, url)
    page.goto(url + "/login")
    assert_no_horizontal_scroll(page, "/login")
    assert errors == [], "\n".join(errors)
    context.close()


def test_new_text_signals_and_title_count(chromium, seeded_app):
    """Notifications are asked for on a click (granted here); a new text in another conversation
    gives a signal and raises the count in the tab's title."""
    app, url, agent, store = seeded_app
    context, page, errors = open_page(chromium, LAPTOP, url)
    live.log_in(page, url, agent)
    page.click(".conversation >> text=Emma Larsen")
    page.locator(".thread", has_text="Where is my order #1042?").wait_for()
    assert page.evaluate("Notification.permission") == "granted"  # granted by the test, not asked on load
    page.click("[data-notify-toggle]")
    page.locator("[data-notify-toggle][aria-pressed=true]", has_text="Notifications on").wait_for()
    page.click("[data-sound-toggle]")
    page.locator("[data-sound-toggle][aria-pressed=true]").wait_for()
    assert page.title().startswith("(3) ")
    live.text_in(app, url, store, phone="+15025550199", body="Hello? Anyone there?")
    page.locator(".conversation", has_text="Hello? Anyone there?").wait_for()
    expect(page).to_have_title(re.compile(r"^\(4\) "))
    signalled = page.evaluate("document.body.dataset.lastSignal")
    row = page.locator(".conversation", has_text="Hello? Anyone there?").get_attribute("data-conversation-id")
    assert signalled == row
    assert re.search(r"waiting (<1|\d+) min", page.locator(".conversation", has_text="Hello?").inner_text())
    assert errors == [], "\n".join(errors)
    context.close()


def test_simulator_fits_a_phone(chromium, engine, database_url, twilio_server, make, db_session):
    settings = app_settings(database_url, twilio_server.url) | {"sms": {"provider": "simulator"}}
    def arrange(app, url):
        make.customer(make.store(name="Nordic Knits"), "+15025550101", first_name="Emma")
        return make.agent(role="owner")
    with serving(settings, arrange) as (app, url, owner):
        context, page, errors = open_page(chromium, PHONE, url)
        live.log_in(page, url, owner)
        page.goto(url + "/simulator")
        page.locator(".phone").first.wait_for()
        assert_no_horizontal_scroll(page, "/simulator")
        assert errors == [], "\n".join(errors)
        context.close()
