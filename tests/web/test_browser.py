"""A real browser (Playwright driving Debian's Chromium, headless) against a live smsdesk.

The app serves on a free port with its scheduler running; the Twilio test server accepts
the sends and posts signed "sent"/"delivered" callbacks back to it, so a reply's status
changes in the page the way it does in production. Screenshots go to build/screenshots/, or to
docs/screenshots/ with --update-screenshots (tests/conftest.py).
"""
from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from smsdesk.models import Conversation, ConversationStatus, Order, utcnow
from tests.conftest import TWILIO_TOKEN, app_settings
from tests.factories import inbound_sms, twilio_signature
from tests.support.live import serving
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1440, "height": 860}
WAIT_MS = 20_000  # a reply goes queued -> sent -> delivered within a few polls (3 s each)


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per module (Playwright's sync API runs one at a time);
    scripts/setup-browser installs it (tests never do)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: run ./scripts/setup-browser (as root) to install it")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(engine, database_url, twilio_server):
    """Start smsdesk with ``live(arrange)``: ``arrange(app, url)`` writes the test's rows first."""
    twilio_server.auto_callbacks = ["sent", "delivered"]
    with ExitStack() as stack:
        def start(arrange):
            return stack.enter_context(serving(app_settings(database_url, twilio_server.url), arrange))
        yield start


def text_in(app, url, store, *, phone, body):
    """An inbound SMS through the real, signed Twilio webhook of the live app."""
    params = inbound_sms(store, from_=phone, body=body)
    signature = twilio_signature(TWILIO_TOKEN, url + "/webhooks/twilio/sms", params)
    response = app.test_client().post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def seed(app, url, make, db_session: Session):
    """A store with a few customers, orders and waiting texts, like a real morning."""
    store = make.store(name="Nordic Knits")
    people = [("+15025550101", "Emma", "Larsen", "Hi! Where is my order #1042? It said 2 days"),
              ("+15025550102", "Jonas", "Beck", "Can I change the size of the mittens to M?"),
              ("+15025550103", "Mia", "Stone", "<script>alert('hi')</script> thanks!")]
    for number, (phone, first, last, body) in enumerate(people, start=1042):
        customer = make.customer(store, phone, first_name=first, last_name=last)
        db_session.add(Order(store_id=store.id, external_id=str(number), number=str(number), customer_id=customer.id,
                             status="shipped", total="54.00", currency="USD", tracking_company="UPS",
                             tracking_url=f"https://www.ups.com/track?tracknum=1Z{number}"))
        db_session.commit()
        text_in(app, url, store, phone=phone, body=body)
    return store


def log_in(page, url, agent):
    page.goto(url + "/inbox")  # bounced to /login, and back after it
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/inbox")


def reply_until_delivered(page, text: str):
    """Type a reply, watch the live segment count, send it and wait for "delivered"."""
    page.fill("#reply-body", text)
    page.locator("#reply-counter", has_text="1 segment").wait_for()
    page.click(".composer button[type=submit]")
    page.locator(".bubble-row.out", has_text=text).locator('[data-status="delivered"]').wait_for()


def edit_template_and_watch_preview(page, url, store):
    page.goto(f"{url}/templates?store={store.slug}&kind=order_shipped")
    page.locator("#preview-text", has_text="Nordic Knits:").wait_for()
    page.fill("#template-body", "{{ store.name }}: {{ customer.first_name }}, #{{ order.number }} is on its way 🚚")
    page.locator("#preview-text", has_text="Nordic Knits: Emma, #1042 is on its way 🚚").wait_for()
    page.locator("#preview-encoding", has_text="UCS-2").wait_for()
    page.fill("#template-body", "Hi {{ order.numbr }}")
    page.locator("#preview-error", has_text="unknown variable 'order.numbr'").wait_for()
    page.fill("#template-body", "{{ store.name }}: {{ customer.first_name }}, order #{{ order.number }} shipped "
              "with {{ tracking.company }}! Track it: {{ tracking.url }} 🚚")
    page.locator("#preview-warning", has_text="2 segments instead of 1").wait_for()


def test_agent_replies_and_owner_edits_a_template(chromium, live, make, db_session, screenshots):
    app, url, (owner, store) = live(lambda app, url: (make.agent(email="owner@knits.example", role="owner"),
                                                      seed(app, url, make, db_session)))
    page = chromium.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    log_in(page, url, owner)
    page.locator(".conversation", has_text="Mia Stone").wait_for()
    page.screenshot(path=str(screenshots / "inbox.png"))

    page.click(".conversation >> text=Emma Larsen")
    page.locator(".thread", has_text="Where is my order #1042?").wait_for()
    reply_until_delivered(page, "Hi Emma, it left our warehouse today; UPS delivers tomorrow.")
    page.screenshot(path=str(screenshots / "conversation.png"))

    page.click(".conversation >> text=Mia Stone")
    page.locator(".thread .body", has_text="<script>alert('hi')</script> thanks!").wait_for()
    assert dialogs == []  # the customer's <script> is shown as text, never run

    edit_template_and_watch_preview(page, url, store)
    page.screenshot(path=str(screenshots / "templates.png"))
    page.close()


def test_real_browser_reports_no_csp_violation(chromium, live, make, db_session):
    """Chromium enforces the CSP: every page works with no blocked script or style."""
    app, url, (owner, _) = live(lambda app, url: (make.agent(role="owner"), seed(app, url, make, db_session)))
    page = chromium.new_page()
    page.set_default_timeout(WAIT_MS)
    blocked = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(page, url, owner)
    page.click(".conversation >> text=Emma Larsen")
    page.locator(".thread", has_text="Where is my order #1042?").wait_for()
    for path in ("/dashboard", "/templates", "/canned", "/simulator"):
        page.goto(url + path)
        page.wait_for_load_state("load")
    page.goto(url + "/dashboard")
    heights = page.eval_on_selector_all(".bar[data-height]", "els => els.map(e => [e.dataset.height, e.style.height])")
    assert heights and all(float(style.rstrip("%")) == float(data) for data, style in heights)
    assert blocked == []
    page.close()


def test_inbox_loads_more_and_shows_a_new_text_without_a_reload(chromium, live, make, db_session):
    """Paging and the incremental poll in a real browser: "Load more" appends the next page, a
    closed conversation leaves, and a new text shows in its row by the 3 s poll, no reload."""
    def arrange(app, url):
        store = make.store(name="Nordic Knits")
        an_hour_ago = utcnow() - timedelta(hours=1)
        for n in range(52):  # changed an hour ago: the page's first poll has nothing to catch up on
            customer = make.customer(store, f"+150255521{n:02d}", first_name=f"Customer{n:02d}")
            at = an_hour_ago + timedelta(seconds=n)
            db_session.add(Conversation(store_id=store.id, customer_id=customer.id, status=ConversationStatus.OPEN,
                                        waiting_since=at, last_message_at=at, updated_at=at, unread=1))
        db_session.commit()
        return make.agent(), store
    app, url, (agent, store) = live(arrange)
    page = chromium.new_page()
    page.set_default_timeout(WAIT_MS)
    log_in(page, url, agent)
    assert page.locator(".conversation").count() == 50
    page.click(".load-more")
    page.locator(".conversation", has_text="Customer51").wait_for()
    assert page.locator(".conversation").count() == 52 and page.locator(".load-more").count() == 0
    page.click(".conversation >> text=Customer00")
    page.click(".thread-head button[type=submit]")  # close: it leaves the open list
    page.locator(".flash", has_text="Conversation closed.").wait_for()
    assert page.locator(".conversation", has_text="Customer00").count() == 0
    text_in(app, url, store, phone="+15025552101", body="any news on my parcel?")
    page.locator(".conversation", has_text="Customer01").filter(has_text="any news on my parcel?").wait_for()
    page.close()


def test_canned_reply_is_previewed_rendered_and_inserted(chromium, live, make, db_session):
    """Picking a canned reply shows it rendered for this customer, with a warning for an unknown
    variable; Insert puts the rendered text, not the template, into the reply box."""
    from smsdesk.models import CannedReply
    def arrange(app, url):
        seed(app, url, make, db_session)
        db_session.add(CannedReply(title="Where is it", body="Hi {{ customer.first_name }}, order #{{ order.number }}"
                                                             " is on its way{{ customer.nickname }}."))
        db_session.commit()
        return make.agent(role="agent")
    app, url, agent = live(arrange)
    page = chromium.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    log_in(page, url, agent)
    page.click(".conversation >> text=Emma Larsen")
    # The thread shows while the page still parses; the picker only works once app.js set it up.
    page.wait_for_load_state()
    page.locator(".thread", has_text="Where is my order #1042?").wait_for()
    page.select_option("select[data-canned-into]", label="Where is it")
    page.locator("#canned-preview .canned-text", has_text="Hi Emma, order #1042 is on its way.").wait_for()
    page.locator("#canned-preview .canned-warnings", has_text="customer.nickname").wait_for()
    page.click("[data-canned-insert]")
    assert page.input_value("#reply-body") == "Hi Emma, order #1042 is on its way."
    assert page.locator("#canned-preview").is_hidden()
    page.close()
