"""Hardening: security headers everywhere, http(s)-only links, no SQL parameters in logs."""
import logging
import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from smsdesk import db
from smsdesk.app import SECURITY_HEADERS
from smsdesk.models import Order, Shipment
from smsdesk.services.queries import web_link
from tests.factories import inbound_sms
from tests.web.test_inbox import conversation_id, text_in
from tests.webhooks.test_twilio import post_signed


def assert_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


def test_headers_on_pages_and_errors(browser, agent):
    assert_security_headers(browser.get("/inbox"))
    assert_security_headers(browser.client.get("/login"))
    assert_security_headers(browser.get("/no-such-page"))


def test_headers_on_the_api(client, make):
    token = make.token()
    assert_security_headers(client.get("/api/conversations", headers={"Authorization": f"Bearer {token}"}))
    assert_security_headers(client.get("/api/conversations"))  # a 401 too


def test_headers_on_webhooks(client, make):
    store = make.store()
    response = post_signed(client, "/webhooks/twilio/sms", inbound_sms(store, from_="+15025550123", body="hi"))
    assert response.status_code == 200
    assert_security_headers(response)
    assert_security_headers(client.post("/webhooks/twilio/sms", data={"Body": "unsigned"}))


def test_pages_carry_no_inline_script_or_style(browser, owner, make):
    make.store()
    for path in ("/inbox", "/dashboard", "/templates", "/canned", "/simulator"):
        html = browser.get(path).get_data(as_text=True)
        assert "<script>" not in html and " style=" not in html and " onclick=" not in html, path


@pytest.mark.parametrize("url, link", [
    ("https://track.example/1Z", "https://track.example/1Z"),
    ("http://track.example/1Z?x=1", "http://track.example/1Z?x=1"),
    ("  https://track.example/1Z ", "https://track.example/1Z"),
    ("javascript:alert(document.cookie)", None),
    ("JavaScript:alert(1)", None),
    (" javascript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("vbscript:msgbox", None),
    ("//track.example/1Z", None),
    ("https:///nohost", None),
    ("https://track.example/\n1Z", None),
    ("http://[::1", None),
    ("", None),
    (None, None),
])
def test_web_link_keeps_only_http_links(url, link):
    assert web_link(url) == link


def test_javascript_tracking_url_is_never_a_link(browser, agent, make, db_session):
    store = make.store()
    customer = make.customer(store)
    order = Order(store_id=store.id, external_id="9", number="1042", customer_id=customer.id, status="shipped",
                  tracking_url="javascript:alert(document.cookie)", tracking_company="UPS",
                  status_url="javascript:alert(2)")
    db_session.add(order)
    db_session.flush()
    db_session.add(Shipment(store_id=store.id, order_id=order.id, external_id="f1", status="shipped",
                            tracking_url="javascript:alert(3)", tracking_number="1Z9"))
    db_session.commit()
    text_in(browser.client, store, body="Where is it?")
    html = browser.get(f"/inbox/{conversation_id(db_session)}").get_data(as_text=True)
    assert "#1042" in html and "javascript:" not in html


def test_sql_errors_never_show_parameters(engine, caplog):
    phone, name = "+15025550199", "Ada Lovelace"
    with caplog.at_level(logging.DEBUG), pytest.raises(DBAPIError) as raised, engine.connect() as conn:
        conn.execute(text("INSERT INTO no_such_table (phone, name) VALUES (:phone, :name)"),
                     {"phone": phone, "name": name})
    shown = str(raised.value) + caplog.text
    assert "no_such_table" in shown and phone not in shown and name not in shown


@pytest.mark.parametrize("values", ["(:phone, :name)", "(:phone, NULL)"])  # unique and not-null violations
def test_constraint_errors_never_show_row_values(engine, values):
    phone, name = "+15025550199", "Ada Lovelace"
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE tmp_people (phone VARCHAR(20) UNIQUE, name VARCHAR(40) NOT NULL)"))
        conn.execute(text("INSERT INTO tmp_people VALUES (:phone, :name)"), {"phone": phone, "name": name})
    try:
        with pytest.raises(DBAPIError) as raised, engine.begin() as conn:
            conn.execute(text(f"INSERT INTO tmp_people VALUES {values}"), {"phone": phone, "name": name})
        shown = "".join(traceback.format_exception(raised.value))  # what log.exception writes, causes included
        assert "tmp_people" in shown and phone not in shown and name not in shown
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE tmp_people"))


def test_engines_hide_parameters(database_url):
    engine = db.make_engine(database_url)
    assert engine.hide_parameters is True
    engine.dispose()

