"""Pictures in a real browser (issue 12): a customer's photo shows in the thread at phone and laptop
width (fetched through smsdesk's proxy from the Twilio test server), the list says "📷 Photo", and an
agent sends a picture back that Twilio is handed as MediaUrl. Same live setup as test_browser_inbox.py."""
from __future__ import annotations

import pytest

from tests.conftest import TWILIO_TOKEN, app_settings
from tests.factories import inbound_sms, twilio_signature
from tests.support.live import serving
from tests.support.pictures import png
from tests.web import test_browser as live
from tests.web.test_browser_inbox import LAPTOP, PHONE, assert_no_horizontal_scroll, open_page
from tests.web.test_browser_owner import _page as axe_page, _violations

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

chromium = live.chromium


def photo_in(app, url, store, twilio_server, *, phone: str) -> None:
    """An MMS with one picture (and no words) through the live app's signed Twilio webhook."""
    params = inbound_sms(store, from_=phone, body="") | {
        "NumMedia": "1", "MediaUrl0": twilio_server.add_media(png(120, 90), "image/png"),
        "MediaContentType0": "image/png"}
    signature = twilio_signature(TWILIO_TOKEN, url + "/webhooks/twilio/sms", params)
    response = app.test_client().post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1280px"])
def test_a_photo_in_and_a_picture_out(chromium, engine, database_url, twilio_server, make, db_session, viewport,
                                      tmp_path, screenshots):
    twilio_server.auto_callbacks = ["sent", "delivered"]

    def arrange(app, url):
        store = make.store(name="Nordic Knits")
        make.customer(store, "+15025550101", first_name="Emma", last_name="Larsen")
        photo_in(app, url, store, twilio_server, phone="+15025550101")
        return make.agent(role="owner")

    with serving(app_settings(database_url, twilio_server.url), arrange) as (app, url, owner):
        context, page, errors = open_page(chromium, viewport, url)
        live.log_in(page, url, owner)
        row = page.locator(".conversation", has_text="Emma Larsen")
        assert "📷 Photo" in row.inner_text()
        row.click()
        photo = page.locator('.bubble-row.in img[alt="Photo from the customer"]')
        photo.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=photo.element_handle())
        assert_no_horizontal_scroll(page, "a thread with a photo")
        width = "390" if viewport is PHONE else "1280"
        page.screenshot(path=str(screenshots / f"inbox-photo-{width}.png"))

        picture = tmp_path / "label.png"
        picture.write_bytes(png(60, 40, (20, 120, 40)))
        page.set_input_files("input[name=picture]", str(picture))
        page.locator("#attach-status", has_text="label.png").wait_for()
        page.click(".composer button[type=submit]")  # no text: a picture alone is a reply
        sent = page.locator('.bubble-row.out', has=page.locator('img[alt="Photo sent to the customer"]'))
        sent.locator('[data-status="delivered"]').wait_for()
        assert twilio_server.messages[-1]["num_media"] == "1"
        assert page.input_value("input[name=picture]") == ""  # forgotten after sending
        assert_no_horizontal_scroll(page, "a thread with pictures both ways")
        assert errors == [], "\n".join(errors)
        thread_url = page.url
        context.close()

        context, page, errors = axe_page(chromium, "phone" if viewport is PHONE else "desktop")  # CSP off for axe
        live.log_in(page, url, owner)
        page.goto(thread_url)
        page.locator('img[alt="Photo sent to the customer"]').wait_for()
        assert _violations(page) == []
        context.close()
