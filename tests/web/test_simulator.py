"""The phone simulator: only with the simulator provider; replies go through the inbound path."""
import pytest
from sqlalchemy import select

from smsdesk import db
from smsdesk.app import create_app
from smsdesk.models import Conversation, Customer, Message
from smsdesk.services.outbox import enqueue_text
from tests.conftest import app_settings


@pytest.fixture
def app(engine, database_url, twilio_server):
    settings = app_settings(database_url, twilio_server.url) | {"sms": {"provider": "simulator"}}
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    db.dispose(app)


def test_phone_shows_texts_received_after_sending(browser, agent, make, db_session, drain):
    store = make.store(name="Nordic Knits")
    customer = make.customer(store, first_name="Ada")
    enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body="Your order shipped <b>!")
    db_session.commit()
    assert "Your order shipped" not in browser.get("/simulator").get_data(as_text=True)  # not sent yet
    assert drain() == 1
    html = browser.get(f"/simulator?customer={customer.id}").get_data(as_text=True)
    assert "Your order shipped &lt;b&gt;!" in html and "Ada" in html and "Nordic Knits" in html
    assert "Your order shipped" in browser.get(f"/simulator/{customer.id}/screen").get_data(as_text=True)


def test_reply_as_customer_goes_through_inbound(browser, agent, make, db_session):
    store = make.store()
    customer = make.customer(store)
    browser.post(f"/simulator/{customer.id}/reply", {"body": "Is it shipped yet?"})
    conversation = db_session.scalar(select(Conversation))
    assert conversation.status.value == "open" and conversation.unread == 1
    message = db_session.scalar(select(Message))
    assert (message.direction.value, message.status.value, message.body) == ("in", "received", "Is it shipped yet?")


def test_stop_from_the_simulator_opts_out(browser, agent, make, db_session):
    store = make.store()
    customer = make.customer(store)
    browser.post(f"/simulator/{customer.id}/reply", {"body": "STOP"})
    db_session.fresh()
    assert db_session.get(Customer, customer.id).opted_out is True


def test_empty_reply_is_refused(browser, agent, make, db_session):
    store = make.store()
    customer = make.customer(store)
    response = browser.post(f"/simulator/{customer.id}/reply", {"body": " "}, follow_redirects=True)
    assert "Type a text" in response.get_data(as_text=True)
    assert db_session.scalar(select(Message)) is None


def test_unknown_customer_is_404(browser, agent):
    assert browser.get("/simulator/999/screen").status_code == 404
    assert browser.post("/simulator/999/reply", {"body": "hi"}).status_code == 404
