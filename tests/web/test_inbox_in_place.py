"""The inbox's actions answer the page's script with JSON fragments (no reload), while a plain
form post still redirects; the list's poll carries the waiting count and new inbound texts."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from smsdesk.models import Conversation, ConversationStatus, Message, utcnow
from smsdesk.web.inbox import waited
from tests.web.test_inbox import conversation_id, text_in
from tests.web.test_inbox_failures import _failed_reply

JSON = {"Accept": "application/json"}


def test_reply_answers_json_with_the_new_thread(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store, body="Where is my parcel?")
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "On its way <b>today</b>"}, headers=JSON)
    assert response.status_code == 200 and response.is_json
    data = response.get_json()
    assert data["ok"] is True and data["message"] == "Reply queued."
    assert "On its way &lt;b&gt;today&lt;/b&gt;" in data["thread"] and "Where is my parcel?" in data["thread"]
    assert data["next_since"] and data["status"] == "open"
    db_session.fresh()
    assert db_session.get(Conversation, cid).waiting_since is None


def test_refused_reply_answers_422_json_with_the_reason(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "   "}, headers=JSON)
    assert response.status_code == 422
    data = response.get_json()
    assert data["ok"] is False and data["message"]
    db_session.fresh()
    assert db_session.scalars(select(Message).where(Message.kind == "agent_reply")).all() == []


def test_plain_form_post_still_redirects_with_a_flash(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/close?status=all")
    assert response.status_code == 302 and response.location.endswith(f"/inbox/{cid}?status=all")
    assert "Conversation closed." in browser.get(response.location).get_data(as_text=True)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "Hello"})
    assert response.status_code == 302 and not response.is_json
    page = browser.get(response.location).get_data(as_text=True)
    assert "Hello" in page and "Reply queued." not in page  # the thread shows it: no flash


@pytest.mark.parametrize("action, message, button, status", [
    ("close", "Conversation closed.", "Reopen", "closed"),
    ("reopen", "Conversation reopened.", "Close", "open"),
])
def test_close_and_reopen_answer_the_new_actions(browser, agent, make, db_session, action, message, button, status):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    if action == "reopen":
        browser.post(f"/inbox/{cid}/close")
    data = browser.post(f"/inbox/{cid}/{action}", headers=JSON).get_json()
    assert data["message"] == message and data["status"] == status
    assert re.search(rf">\s*{button}\s*</button>", data["actions"])
    assert f'/inbox/{cid}/{"reopen" if status == "closed" else "close"}' in data["actions"]


def test_assign_to_me_answers_the_new_assignment(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    data = browser.post(f"/inbox/{cid}/assign", {"agent_id": "me"}, headers=JSON).get_json()
    assert data["assigned_to"] == agent.email and data["message"] == f"Assigned to {agent.email}."
    assert re.search(rf'<option value="{agent.id}"\s+selected>', data["assign"])
    assert "Assign to me" not in data["assign"]  # already mine


def test_assign_to_another_stores_agent_is_refused_as_json(browser, agent, make, db_session):
    store, other = make.store(), make.store(name="Other", from_number="+15005550009")
    stranger = make.agent(email="stranger@example.org", role="agent", stores=[other])
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/assign", {"agent_id": str(stranger.id)}, headers=JSON)
    assert response.status_code == 422
    data = response.get_json()
    assert data["ok"] is False and data["message"] == "That agent does not exist at this store."
    assert data["assigned_to"] is None


def test_retry_answers_json_with_the_queued_copy(browser, agent, make, db_session, drain, twilio_server):
    store = make.store()
    cid = _failed_reply(browser, db_session, drain, twilio_server, store, code="30003")
    db_session.fresh()
    failed = db_session.scalar(select(Message).where(Message.kind == "agent_reply"))
    data = browser.post(f"/inbox/{cid}/messages/{failed.id}/retry", headers=JSON).get_json()
    assert data["ok"] is True and data["message"] == "Queued again."
    assert data["thread"].count("It ships today!") == 2 and 'data-status="queued"' in data["thread"]


def test_retry_that_cannot_help_is_refused_as_json(browser, agent, make, db_session, drain, twilio_server):
    store = make.store()
    cid = _failed_reply(browser, db_session, drain, twilio_server, store, code="30005")
    db_session.fresh()
    failed = db_session.scalar(select(Message).where(Message.kind == "agent_reply"))
    response = browser.post(f"/inbox/{cid}/messages/{failed.id}/retry", headers=JSON)
    assert response.status_code == 422 and "can be retried" in response.get_json()["message"]


def test_pages_and_list_poll_carry_the_waiting_count(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store, "+15025550101", "one")
    text_in(browser.client, store, "+15025550102", "two")
    html = browser.get("/inbox").get_data(as_text=True)
    assert "<title>(2) Inbox · smsdesk</title>" in html
    since = re.search(r'data-since="([^"]+)"', html).group(1)
    text_in(browser.client, store, "+15025550103", "three")
    changes = browser.get(f"/inbox/list?since={since}").get_json()
    assert changes["waiting"] == 3
    row = next(r for r in changes["rows"] if r["name"] == "+15025550103")
    assert row["inbound"] and 'class="waited"' in row["html"] and "waiting &lt;1 min" in row["html"]
    cid = conversation_id(db_session, "+15025550101")
    browser.post(f"/inbox/{cid}/reply", {"body": "answered"})
    assert browser.get("/inbox/list").headers["X-Waiting-Count"] == "2"
    changes = browser.get(f"/inbox/list?since={since}&status=all").get_json()
    answered = next(r for r in changes["rows"] if r["id"] == cid)
    assert answered["inbound"] is None  # answered: nothing to signal


def test_waiting_count_leaves_out_other_stores(browser, make, db_session):
    mine, other = make.store(name="Mine"), make.store(name="Other", from_number="+15005550009")
    member = make.agent(role="agent", stores=[mine])
    text_in(browser.client, mine, "+15025550101", "mine")
    text_in(browser.client, other, "+15025550102", "not mine")
    text_in(browser.client, other, "+15025550103", "not mine either")
    browser.login(member)
    assert "<title>(1) Inbox · smsdesk</title>" in browser.get("/inbox").get_data(as_text=True)


def test_waited_reads_like_the_page_script():
    now = utcnow()
    def ago(**delta):
        return (now - timedelta(**delta)).isoformat().replace("+00:00", "Z")
    assert waited(ago(seconds=20)) == "<1 min"
    assert waited(ago(minutes=12, seconds=5)) == "12 min"
    assert waited(ago(hours=3, minutes=59)) == "3 h"
    assert waited(ago(days=2, hours=1)) == "2 d"
    assert waited(None) == ""


def test_conversation_page_has_back_draft_key_and_the_shortcut_sheet(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    html = browser.get(f"/inbox/{cid}?status=all").get_data(as_text=True)
    assert 'class="btn small back-link" href="/inbox?status=all"' in html
    assert f'data-draft-key="smsdesk:draft:{cid}"' in html
    assert '<dialog id="shortcuts"' in html and "<kbd>j</kbd>" in html
    assert 'title="Waiting for a reply"' in html and "Waiting for a reply: " in html
    assert ConversationStatus.OPEN.value in html
