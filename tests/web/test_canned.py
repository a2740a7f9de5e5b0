"""Owners manage canned replies; agents can't."""
import pytest
from sqlalchemy import select

from smsdesk.models import CannedReply


def test_owner_adds_and_deletes(browser, owner, make, db_session):
    store = make.store(name="Nordic Knits")
    browser.post("/canned", {"title": "Shipping", "body": "We ship in 2 days.", "store": store.slug})
    html = browser.get("/canned").get_data(as_text=True)
    assert "Shipping" in html and "We ship in 2 days." in html and "Nordic Knits" in html
    row = db_session.scalar(select(CannedReply))
    assert row.store_id == store.id
    browser.post(f"/canned/{row.id}/delete")
    db_session.fresh()
    assert db_session.scalar(select(CannedReply)) is None


@pytest.mark.parametrize("form, words", [
    ({"title": "", "body": "x"}, "title"), ({"title": "t", "body": ""}, "text"),
    ({"title": "t", "body": "x", "store": "nope"}, "no store"),
])
def test_bad_canned_reply_is_refused(browser, owner, make, db_session, form, words):
    form = {"store": make.store().slug, **form}
    response = browser.post("/canned", form, follow_redirects=True)
    assert words in response.get_data(as_text=True)
    assert db_session.scalar(select(CannedReply)) is None


def test_agent_cannot_manage(browser, agent, db_session):
    assert browser.post("/canned", {"title": "t", "body": "x"}).status_code == 403
    assert db_session.scalar(select(CannedReply)) is None


def test_unknown_variable_is_saved_with_a_warning(browser, owner, make, db_session):
    store = make.store()
    response = browser.post("/canned", {"title": "Hi", "body": "Hi {{ customer.nickname }}", "store": store.slug},
                            follow_redirects=True)
    assert "customer.nickname" in response.get_data(as_text=True) and 'class="flash warn"' in response.get_data(
        as_text=True)
    assert db_session.scalar(select(CannedReply.body)) == "Hi {{ customer.nickname }}"


def test_syntax_error_is_refused_with_a_plain_message(browser, owner, make, db_session):
    store = make.store()
    response = browser.post("/canned", {"title": "Hi", "body": "Hi {{ customer.first_name }", "store": store.slug},
                            follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "can&#39;t be used as a canned reply" in html and "{{ customer.first_name }}" in html
    assert db_session.scalar(select(CannedReply)) is None
