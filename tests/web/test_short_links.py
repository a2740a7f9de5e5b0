"""The short-link redirect (/r/<code>), its clicks, and the owner's "Links & sending" page;
segment counts in the editor and the composer with short links on."""
from __future__ import annotations

import contextlib
import threading
import time

import pytest
from sqlalchemy import func, inspect, select, text

from smsdesk.models import LinkClick, LinkSettings, ShortLink
from smsdesk.services.outbox import enqueue_text
from tests.conftest import PUBLIC_URL

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.1 Mobile/15E148 Safari/604.1")
IMESSAGE_PREVIEW = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
                    "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0")
PREVIEWS = [IMESSAGE_PREVIEW, "WhatsApp/2.23.20.0 A", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "TelegramBot (like TwitterBot)", "Twitterbot/1.0", "curl/8.4.0", ""]
CART = "https://shop.example.com/cart/recover/8f3a2c9d7e6b"


@pytest.fixture
def texted(make, db_session):
    """A store with short links on and a sent text holding one; returns (message, code)."""
    store = make.store()
    db_session.add(LinkSettings(store_id=store.id, short_links=True, base_url=PUBLIC_URL))
    db_session.commit()
    customer = make.customer(store)
    message = enqueue_text(db_session, store=store, customer=customer, kind="cart_reminder_1", body=f"Cart: {CART}")
    db_session.commit()
    code = db_session.scalar(select(ShortLink.code).where(ShortLink.message_id == message.id))
    return message, code


def _clicks(app, db_session):
    writer = app.extensions.get("smsdesk.click_writer")  # made with the first click
    assert writer is None or writer.flush(5)
    db_session.fresh()
    return db_session.scalars(select(LinkClick)).all()


def test_redirects_and_records_the_click_against_its_text(client, app, db_session, texted):
    message, code = texted
    response = client.get(f"/r/{code}", headers={"User-Agent": IPHONE})
    assert response.status_code == 302 and response.headers["Location"] == CART
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"
    (click,) = _clicks(app, db_session)
    assert (click.message_id, click.store_id, click.customer_id, click.device) == (
        message.id, message.store_id, message.customer_id, "ios")
    assert click.link_id == db_session.scalar(select(ShortLink.id).where(ShortLink.code == code))


def test_an_unknown_code_is_a_small_404(client):
    for path in ("/r/AbCdEf12", "/r/short", "/r/" + "x" * 300):
        response = client.get(path, headers={"User-Agent": IPHONE})
        assert response.status_code == 404 and "Link not found" in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("agent", PREVIEWS)
def test_link_previews_redirect_but_are_not_counted(client, app, db_session, texted, agent):
    _, code = texted
    assert client.get(f"/r/{code}", headers={"User-Agent": agent}).status_code == 302
    assert _clicks(app, db_session) == []


def test_head_and_prefetch_are_not_counted(client, app, db_session, texted):
    _, code = texted
    assert client.head(f"/r/{code}", headers={"User-Agent": IPHONE}).status_code == 302
    assert client.get(f"/r/{code}", headers={"User-Agent": IPHONE, "Sec-Purpose": "prefetch"}).status_code == 302
    client.get(f"/r/{code}", headers={"User-Agent": IPHONE})  # the one person: counted
    assert len(_clicks(app, db_session)) == 1


def test_no_ip_address_is_stored(engine):
    columns = {c["name"] for table in ("link_clicks", "short_links") for c in inspect(engine).get_columns(table)}
    assert not {name for name in columns if "ip" in name.split("_") or "addr" in name or "agent" in name}
    assert {c["name"] for c in inspect(engine).get_columns("link_clicks")} == {
        "id", "link_id", "message_id", "store_id", "customer_id", "clicked_at", "device"}


@contextlib.contextmanager
def _writes_held(engine):
    """Hold click writes: SQLite's write lock (BEGIN IMMEDIATE), or on PostgreSQL a lock on
    link_clicks that COPY waits for."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE link_clicks IN SHARE MODE"))
        yield


def test_the_redirect_does_not_wait_for_the_click_writer(client, app, db_session, texted, engine):
    _, code = texted
    from smsdesk.web.short_links import click_writer
    with app.app_context():
        writer = click_writer()
    with _writes_held(engine):
        started = time.monotonic()
        for _ in range(3):
            assert client.get(f"/r/{code}", headers={"User-Agent": IPHONE}).status_code == 302
        assert time.monotonic() - started < 2
        assert not writer.flush(0.5)  # still held
    assert len(_clicks(app, db_session)) == 3


def test_a_busy_database_delays_clicks_never_loses_them(app, db_session, texted):
    from smsdesk.services.clicks import ClickWriter
    _, code = texted
    writer = ClickWriter(app.extensions["smsdesk.engine"], sleep=lambda s: None)
    link = db_session.scalar(select(ShortLink).where(ShortLink.code == code))
    failures = iter([True, True])
    real = writer.write_batch

    def flaky(batch):
        if next(failures, False):
            raise RuntimeError("database is locked")
        real(batch)
    writer.write_batch = flaky  # type: ignore[method-assign]
    from smsdesk.models import utcnow
    writer.record({"link_id": link.id, "message_id": link.message_id, "store_id": link.store_id,
                   "customer_id": link.customer_id, "clicked_at": utcnow(), "device": "other"})
    assert writer.flush(5)
    writer.close()
    db_session.fresh()
    assert len(db_session.scalars(select(LinkClick)).all()) == 1


# -- the owner's page -------------------------------------------------------------------------

def test_page_shows_the_defaults(browser, owner, make):
    store = make.store()
    html = browser.get(f"/links?store={store.slug}").get_data(as_text=True)
    assert "Links &amp; sending" in html and 'value="16"' in html
    assert 'name="short_links" id="f-short_links" >' in html.replace("  ", " ")
    assert f"{PUBLIC_URL}/r/" in html


def test_saving_turns_short_links_on_with_the_public_url(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/links/{store.slug}", {"short_links": "on", "smart_sending_hours": "0"})
    assert response.status_code == 302
    db_session.fresh()
    row = db_session.get(LinkSettings, store.id)
    assert (row.short_links, row.base_url, row.smart_sending_hours) == (True, PUBLIC_URL, 0)
    assert "checked" in browser.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("hours", ["", "-1", "abc", "169", "1.5", "١٢"])
def test_bad_hours_are_a_422_with_the_field_marked(browser, owner, make, db_session, hours):
    store = make.store()
    response = browser.post(f"/links/{store.slug}", {"short_links": "on", "smart_sending_hours": hours})
    assert response.status_code == 422
    assert 'id="e-smart_sending_hours"' in response.get_data(as_text=True)
    db_session.fresh()
    assert db_session.get(LinkSettings, store.id) is None


def test_an_agent_cannot_open_the_page(browser, make):
    store = make.store()
    browser.login(make.agent(role="agent"))
    assert browser.get(f"/links?store={store.slug}").status_code == 403
    assert browser.post(f"/links/{store.slug}", {"smart_sending_hours": "1"}).status_code == 403


# -- segment counts ---------------------------------------------------------------------------

LONG = "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223856928499&utm_source=shop&utm_medium=sms"


def test_editor_preview_counts_the_short_form(browser, owner, make, db_session):
    store = make.store(name="Acme")
    body = ("{{ store.name }}: your order #{{ order.number }} has shipped! Tracking number 9400111899223856928499 "
            + LONG)
    before = browser.post_json(f"/templates/{store.slug}/order_shipped/preview", {"body": body}).get_json()
    assert before["segments"] == 2 and LONG in before["text"]
    db_session.add(LinkSettings(store_id=store.id, short_links=True, base_url=PUBLIC_URL))
    db_session.commit()
    after = browser.post_json(f"/templates/{store.slug}/order_shipped/preview", {"body": body}).get_json()
    assert after["segments"] == 1 and after["text"].endswith(f"{PUBLIC_URL}/r/XXXXXXXX")


def test_composer_counts_the_short_form(browser, owner, make, db_session):
    store = make.store()
    conversation = enqueue_text(db_session, store=store, customer=make.customer(store), kind="reply",
                                body="hi").conversation_id
    db_session.commit()
    text = "Your package is on its way, here is the tracking page for it: " + LONG
    assert browser.post_json("/segments", {"text": text, "conversation": conversation}).get_json()["segments"] == 2
    db_session.add(LinkSettings(store_id=store.id, short_links=True, base_url=PUBLIC_URL))
    db_session.commit()
    assert browser.post_json("/segments", {"text": text, "conversation": conversation}).get_json()["segments"] == 1
    assert browser.post_json("/segments", {"text": text}).get_json()["segments"] == 2  # no conversation: as typed
    assert browser.post_json("/segments", {"text": text, "conversation": 999999}).status_code == 404


def test_an_erased_customers_links_lead_nowhere(client, db_session, texted):
    from smsdesk.models import Customer, Store
    from smsdesk.services.privacy import erase_customer
    message, code = texted
    erase_customer(db_session, db_session.get(Store, message.store_id), db_session.get(Customer, message.customer_id),
                   requested_by="test")
    db_session.commit()
    assert db_session.scalar(select(ShortLink.url).where(ShortLink.code == code)) == ""
    assert client.get(f"/r/{code}", headers={"User-Agent": IPHONE}).status_code == 404


def test_the_fast_path_answers_with_the_apps_security_headers(client, texted):
    _, code = texted
    from smsdesk.app import SECURITY_HEADERS
    for path, status in ((f"/r/{code}", 302), ("/r/AbCdEf12", 404)):
        response = client.get(path, headers={"User-Agent": IPHONE})
        assert response.status_code == status
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.getlist(name) == [value if name != "Referrer-Policy" else "no-referrer"]
        assert "Set-Cookie" not in response.headers


def test_a_target_with_non_ascii_characters_is_sent_as_a_valid_location(client, make, db_session):
    store = make.store()
    db_session.add(LinkSettings(store_id=store.id, short_links=True, base_url=PUBLIC_URL))
    db_session.commit()
    message = enqueue_text(db_session, store=store, customer=make.customer(store), kind="cart_reminder_1",
                           body="Cart: https://shop.example.com/panier/été?x=1")
    db_session.commit()
    code = db_session.scalar(select(ShortLink.code).where(ShortLink.message_id == message.id))
    response = client.get(f"/r/{code}", headers={"User-Agent": IPHONE})
    assert response.status_code == 302
    assert response.headers["Location"] == "https://shop.example.com/panier/%C3%A9t%C3%A9?x=1"


def test_a_failed_read_falls_back_to_the_apps_error_page(client, app, texted, monkeypatch):
    """The database down: the fast path hands the request to Flask, whose error handling answers
    (no traceback, no half-sent response)."""
    _, code = texted
    from smsdesk.web.short_links import link_reader

    def down(_code):
        raise RuntimeError("database unreachable")
    monkeypatch.setattr(link_reader(app), "lookup", down)
    response = client.get(f"/r/{code}", headers={"User-Agent": IPHONE, "Accept": "text/html"})
    assert response.status_code == 500
    assert "database unreachable" not in response.get_data(as_text=True)


def test_the_reader_replaces_a_connection_the_server_dropped(app, db_session, texted, engine):
    """A PostgreSQL restart ends every connection: the next redirect opens a new one."""
    _, code = texted
    from smsdesk.web.short_links import link_reader
    reader = link_reader(app)
    assert reader.lookup(code) is not None
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            from sqlalchemy import text
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                              "AND query LIKE 'SELECT id, url%'"))
    else:
        reader.connections._local.connection.close()  # what a dropped connection looks like to sqlite3
    assert reader.lookup(code).url == CART


def test_other_methods_and_paths_reach_the_app(client, texted):
    _, code = texted
    assert client.post(f"/r/{code}").status_code == 405
    assert client.get(f"/r/{code}/more").status_code == 404


def _writer_and_target(app, db_session, code):
    from smsdesk.services.clicks import ClickWriter, Target
    link = db_session.scalar(select(ShortLink).where(ShortLink.code == code))
    target = Target(link.id, link.url, link.message_id, link.store_id, link.customer_id)
    return ClickWriter(app.extensions["smsdesk.engine"], sleep=lambda s: None), target


def test_clicks_from_many_threads_are_each_written_once(app, db_session, texted):
    """record() takes no lock and wakes the writer only when it is idle; clicks recorded while
    it gathers, writes or goes idle are all written, once."""
    from smsdesk.models import utcnow
    from smsdesk.services.clicks import click_row
    writer, target = _writer_and_target(app, db_session, texted[1])

    def click_often():
        for n in range(300):
            writer.record(click_row(target, at=utcnow(), user_agent=IPHONE))
            if n % 50 == 0:
                time.sleep(0.012)  # let the writer go idle now and then
    threads = [threading.Thread(target=click_often) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert writer.flush(10)
    writer.close()
    db_session.fresh()
    assert db_session.scalar(select(func.count()).select_from(LinkClick)) == 1800


def test_a_full_queue_drops_clicks_and_counts_them(app, db_session, texted, monkeypatch):
    from smsdesk.models import utcnow
    from smsdesk.services import clicks
    monkeypatch.setattr(clicks, "MAX_QUEUE", 3)
    writer, target = _writer_and_target(app, db_session, texted[1])
    release = threading.Event()
    real = writer.write_batch
    monkeypatch.setattr(writer, "write_batch", lambda batch: (release.wait(10), real(batch)))
    writer.record(click_row := clicks.click_row(target, at=utcnow(), user_agent=IPHONE))
    time.sleep(clicks.GATHER_SECONDS + 0.1)  # the first click is being written (held)
    for _ in range(5):
        writer.record(dict(click_row))
    assert writer.dropped == 2
    release.set()
    assert writer.flush(5)
    writer.close()
    db_session.fresh()
    assert db_session.scalar(select(func.count()).select_from(LinkClick)) == 4
