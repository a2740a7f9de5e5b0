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


@pytest.mark.parametrize("failure, status, reason, code, words", [
    ("unreachable", "undelivered", "unreachable_handset", 30003,
     "The phone was off or out of coverage (carrier code 30003)."),
    ("carrier_block", "undelivered", "carrier_filtered", 30007,
     "The carrier filtered the text as spam (carrier code 30007)."),
    ("opted_out", "failed", "recipient_unsubscribed", 21610,
     "The recipient replied STOP to this sender (carrier code 21610)."),
])
def test_a_simulated_phone_can_fail_texts_as_agents_then_see(browser, owner, make, db_session, drain,
                                                               failure, status, reason, code, words):
    store = make.store()
    customer = make.customer(store, first_name="Ada")
    browser.post(f"/simulator/{customer.id}/reply", {"body": "Where is my order?"})
    response = browser.post(f"/simulator/{customer.id}/failure", {"failure": failure}, follow_redirects=True)
    assert f'<option value="{failure}" selected>' in response.get_data(as_text=True)
    conversation = db_session.scalar(select(Conversation))
    assert browser.post(f"/inbox/{conversation.id}/reply", {"body": "On its way!"}).status_code == 302
    assert drain() == 1
    db_session.fresh()
    sent = db_session.scalar(select(Message).where(Message.direction == "out"))
    assert (sent.status.value, sent.reason.value, sent.error_code) == (status, reason, code)
    thread = browser.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert words in thread and f'data-status="{status}"' in thread
    failed_list = browser.get("/inbox/list?status=all&failed=1").get_data(as_text=True)
    assert "failed-marker" in failed_list and "Ada" in failed_list
    assert "On its way!" not in browser.get(f"/simulator/{customer.id}/screen").get_data(as_text=True)
    assert db_session.get(Customer, customer.id).opted_out is (failure == "opted_out")  # 21610 honours the STOP


def test_a_phone_set_back_to_working_delivers_again(browser, owner, make, db_session, drain):
    store = make.store()
    customer = make.customer(store)
    browser.post(f"/simulator/{customer.id}/failure", {"failure": "unreachable"})
    browser.post(f"/simulator/{customer.id}/failure", {"failure": "none"})
    enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body="Shipped!")
    db_session.commit()
    assert drain() == 1
    db_session.fresh()
    assert db_session.scalar(select(Message)).status.value == "delivered"


def test_an_unknown_failure_is_a_400(browser, owner, make):
    customer = make.customer(make.store())
    response = browser.post(f"/simulator/{customer.id}/failure", {"failure": "explode"})
    assert response.status_code == 400 and "Pick one of: none, unreachable" in response.get_data(as_text=True)
