"""The inbox pages: the queue, filters, a conversation, replying, assigning, closing, escaping."""
import json
import re

import pytest
from sqlalchemy import select

from smsdesk.models import CannedReply, Conversation, Message, Order, utcnow
from smsdesk.reasons import Reason
from smsdesk.services.queries import iso
from tests.factories import inbound_sms
from tests.webhooks.test_twilio import post_signed


def text_in(client, store, phone="+15025550123", body="Where is my parcel?"):
    assert post_signed(client, "/webhooks/twilio/sms", inbound_sms(store, from_=phone, body=body)).status_code == 200


def conversation_id(db_session, phone="+15025550123"):
    db_session.fresh()
    return next(c.id for c in db_session.scalars(select(Conversation)) if c.customer.phone == phone)


def test_inbox_lists_waiting_conversations_oldest_first_with_unread(browser, agent, make):
    store = make.store()
    make.customer(store, "+15025550101", first_name="Ada")
    text_in(browser.client, store, "+15025550101", "first")
    text_in(browser.client, store, "+15025550101", "again")
    text_in(browser.client, store, "+15025550102", "second")
    html = browser.get("/inbox").get_data(as_text=True)
    assert html.index("Ada") < html.index("+15025550102")
    assert '<span class="unread" title="unread">2</span>' in html


@pytest.mark.parametrize("query, shown, hidden", [
    ("q=Ada", "Ada", "+15025550102"),
    ("q=0102", "+15025550102", "Ada"),
    ("q=%231042", "Ada", "+15025550102"),
    ("status=closed", "No conversations here", "Ada"),
])
def test_inbox_filters_and_search(browser, agent, make, db_session, query, shown, hidden):
    store = make.store()
    customer = make.customer(store, "+15025550101", first_name="Ada")
    db_session.add(Order(store_id=store.id, external_id="1", number="1042", customer_id=customer.id))
    db_session.commit()
    text_in(browser.client, store, "+15025550101", "first")
    text_in(browser.client, store, "+15025550102", "second")
    html = browser.get(f"/inbox/list?{query}").get_data(as_text=True)
    assert shown in html and hidden not in html


def test_filter_by_store_and_assigned_to_me(browser, agent, make, db_session):
    one, two = make.store(name="One"), make.store(name="Two", from_number="+15005550001")
    text_in(browser.client, one, "+15025550101", "for one")
    text_in(browser.client, two, "+15025550102", "for two")
    html = browser.get(f"/inbox/list?store={two.slug}").get_data(as_text=True)
    assert "for two" in html and "for one" not in html
    browser.post(f"/inbox/{conversation_id(db_session, '+15025550101')}/assign", {"agent_id": "me"})
    html = browser.get("/inbox/list?mine=1").get_data(as_text=True)
    assert "for one" in html and "for two" not in html


def test_conversation_shows_thread_customer_orders_and_marks_read(browser, agent, make, db_session):
    store = make.store()
    customer = make.customer(store, first_name="Ada", last_name="King")
    db_session.add(Order(store_id=store.id, external_id="9", number="1042", customer_id=customer.id,
                         status="shipped", tracking_url="https://track.example/1Z", tracking_company="UPS"))
    db_session.commit()
    text_in(browser.client, store, body="Where is it?")
    cid = conversation_id(db_session)
    html = browser.get(f"/inbox/{cid}").get_data(as_text=True)
    assert "Where is it?" in html and "Ada King" in html and "#1042" in html
    assert 'href="https://track.example/1Z"' in html and "Subscribed" in html
    db_session.fresh()
    assert db_session.get(Conversation, cid).unread == 0


def test_customer_text_is_escaped(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store, body="<script>alert(1)</script>")
    cid = conversation_id(db_session)
    for path in (f"/inbox/{cid}", f"/inbox/{cid}/thread", "/inbox/list"):
        html = browser.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_reply_is_queued_then_shows_delivered(browser, agent, make, db_session, drain, twilio_server):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": "It ships today!"})
    assert response.status_code == 302 and response.location.startswith(f"/inbox/{cid}")
    assert 'data-status="queued"' in browser.get(f"/inbox/{cid}/thread").get_data(as_text=True)
    assert drain() == 1
    sid = twilio_server.messages[0]["sid"]
    post_signed(browser.client, "/webhooks/twilio/status", {"MessageSid": sid, "MessageStatus": "delivered"})
    html = browser.get(f"/inbox/{cid}/thread").get_data(as_text=True)
    assert "It ships today!" in html and 'data-status="delivered"' in html
    db_session.fresh()
    assert db_session.get(Conversation, cid).waiting_since is None


@pytest.mark.parametrize("body, words", [("   ", "empty"), ("x" * 1601, "limit")])
def test_bad_reply_is_refused_with_a_message(browser, agent, make, db_session, body, words):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.post(f"/inbox/{cid}/reply", {"body": body}, follow_redirects=True)
    assert response.status_code == 200 and words in response.get_data(as_text=True)
    db_session.fresh()
    assert db_session.scalar(select(Message).where(Message.kind == "agent_reply")) is None


def test_opted_out_customer_cannot_be_texted(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store, body="STOP")
    cid = conversation_id(db_session)
    html = browser.get(f"/inbox/{cid}").get_data(as_text=True)
    assert "opted out" in html and 'name="body"' not in html
    response = browser.post(f"/inbox/{cid}/reply", {"body": "hello?"}, follow_redirects=True)
    assert "opted out" in response.get_data(as_text=True)


def test_suppressed_message_shows_its_reason(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    message = Message(store_id=store.id, customer_id=db_session.get(Conversation, cid).customer_id,
                      conversation_id=cid, direction="out", kind="cart_reminder_1", body="Come back",
                      status="suppressed", reason="no_consent")
    db_session.add(message)
    db_session.commit()
    html = browser.get(f"/inbox/{cid}/thread").get_data(as_text=True)
    assert "No marketing consent recorded for this number." in html and 'data-reason="no_consent"' in html
    assert 'data-status="suppressed"' in html


def test_assign_close_reopen(browser, agent, make, db_session):
    store = make.store()
    other = make.agent()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    browser.post(f"/inbox/{cid}/assign", {"agent_id": str(other.id)})
    db_session.fresh()
    assert db_session.get(Conversation, cid).assigned_agent_id == other.id
    browser.post(f"/inbox/{cid}/assign", {"agent_id": ""})
    browser.post(f"/inbox/{cid}/close")
    db_session.fresh()
    closed = db_session.get(Conversation, cid)
    assert closed.assigned_agent_id is None and closed.status.value == "closed"
    browser.post(f"/inbox/{cid}/reopen")
    db_session.fresh()
    assert db_session.get(Conversation, cid).status.value == "open"


def test_assign_to_unknown_agent_is_refused(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    for choice in ("9999", "99999999999999999999", "²", "١٢"):  # missing, past an Integer, non-ASCII digits
        response = browser.post(f"/inbox/{cid}/assign", {"agent_id": choice}, follow_redirects=True)
        assert response.status_code == 200 and "does not exist" in response.get_data(as_text=True)
    db_session.fresh()
    assert db_session.get(Conversation, cid).assigned_agent_id is None


@pytest.mark.parametrize("method, path", [
    ("get", "/inbox/99999999999999999999"), ("post", "/inbox/99999999999999999999/close"),
    ("post", "/canned/99999999999999999999/delete"), ("get", "/simulator/99999999999999999999/screen"),
    ("get", "/api/conversations/99999999999999999999"),
])
def test_path_ids_past_an_integer_are_not_found(browser, agent, method, path):
    assert getattr(browser, method)(path).status_code == 404


def test_only_the_stores_users_are_offered_and_accepted_for_assigning(browser, agent, make, db_session):
    store, elsewhere = make.store(), make.store()
    colleague = make.agent(email="colleague@example.com", stores=[store])
    stranger = make.agent(email="stranger@example.com", stores=[elsewhere])
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    html = browser.get(f"/inbox/{cid}").get_data(as_text=True)
    assert colleague.email in html and stranger.email not in html
    response = browser.post(f"/inbox/{cid}/assign", {"agent_id": str(stranger.id)}, follow_redirects=True)
    assert "does not exist at this store" in response.get_data(as_text=True)
    db_session.fresh()
    assert db_session.get(Conversation, cid).assigned_agent_id is None


def test_actions_without_csrf_token_are_refused(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    response = browser.client.post(f"/inbox/{cid}/reply", data={"body": "sneaky"})
    assert response.status_code == 400
    db_session.fresh()
    assert db_session.scalar(select(Message).where(Message.kind == "agent_reply")) is None


def test_unknown_conversation_is_404(browser, agent):
    assert browser.get("/inbox/12345").status_code == 404


def test_canned_replies_offered_for_the_store(browser, agent, make, db_session):
    store, other = make.store(), make.store(from_number="+15005550001")
    db_session.add_all([CannedReply(title="Shipping times", body="We ship in 2 days.", store_id=None),
                        CannedReply(title="Other store only", body="x", store_id=other.id)])
    db_session.commit()
    text_in(browser.client, store)
    html = browser.get(f"/inbox/{conversation_id(db_session)}").get_data(as_text=True)
    assert "Shipping times" in html and "Other store only" not in html


@pytest.mark.parametrize("text, segments, encoding", [
    ("a" * 160, 1, "GSM-7"), ("a" * 161, 2, "GSM-7"), ("a" * 69 + "😀", 2, "UCS-2"), ("", 0, "GSM-7"),
])
def test_segment_counter(browser, agent, text, segments, encoding):
    response = browser.post_json("/segments", {"text": text})
    assert (response.json["segments"], response.json["encoding"]) == (segments, encoding)


def test_segment_counter_needs_text(browser, agent):
    assert browser.post_json("/segments", {"nope": 1}).status_code == 400


def test_order_panel_shows_why_an_order_got_no_text(browser, agent, make, db_session):
    store = make.store()
    customer = make.customer(store, first_name="Ada")
    db_session.add_all([Order(store_id=store.id, external_id="9", number="1042", customer_id=customer.id,
                              no_text_reason=Reason.TEMPLATE_DISABLED),
                        Order(store_id=store.id, external_id="10", number="1043", customer_id=customer.id)])
    db_session.commit()
    text_in(browser.client, store, body="Did you get my order?")
    html = browser.get(f"/inbox/{conversation_id(db_session)}").get_data(as_text=True)
    assert '<div class="no-text" data-reason="template_disabled">No text: the store turned this text off</div>' in html
    assert html.count('class="no-text"') == 1


# -- paging and incremental refresh ---------------------------------------------------

def test_list_loads_more_a_page_at_a_time(browser, agent, make):
    store = make.store()
    for n in range(52):
        text_in(browser.client, store, f"+150255508{n:02d}", f"text {n}")
    html = browser.get("/inbox").get_data(as_text=True)
    assert html.count('class="conversation ') == 50 and "text 49" in html and "text 50" not in html
    more = re.search(r'data-more-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    rest = browser.get(more).get_data(as_text=True)
    assert rest.count('class="conversation ') == 2 and "text 51" in rest and "Load more" not in rest


def test_idle_poll_is_an_empty_answer(browser, agent, make):
    store = make.store()
    for n in range(20):
        text_in(browser.client, store, f"+150255509{n:02d}", "hello " * 20)
    since = iso(utcnow())
    idle = browser.get(f"/inbox/list?since={since}")
    assert idle.status_code == 204 and len(idle.get_data()) < 1024


def test_poll_brings_only_the_changed_rows_with_their_place(browser, agent, make, db_session):
    store = make.store()
    for n in range(20):
        text_in(browser.client, store, f"+150255509{n:02d}", f"text {n}")
    since = iso(utcnow())
    text_in(browser.client, store, "+15025550905", "one more")
    browser.post(f"/inbox/{conversation_id(db_session, '+15025550901')}/close")
    changes = browser.get(f"/inbox/list?since={since}").json
    assert [row["id"] for row in changes["rows"]] == [conversation_id(db_session, "+15025550905")]
    assert "one more" in changes["rows"][0]["html"] and changes["rows"][0]["key"]
    # the row carries its place, so rows placed after it by later polls still sort right
    assert f'data-key="{changes["rows"][0]["key"]}"' in changes["rows"][0]["html"]
    assert changes["removed"] == [conversation_id(db_session, "+15025550901")]
    assert len(json.dumps(changes)) < 2048  # one row, not the list


def test_sort_keys_order_rows_like_the_list(browser, agent, make, db_session):
    store = make.store()
    for n in range(4):
        text_in(browser.client, store, f"+150255507{n:02d}", f"text {n}")
    browser.post(f"/inbox/{conversation_id(db_session, '+15025550701')}/close")
    html = browser.get("/inbox/list?status=all").get_data(as_text=True)
    keys = re.findall(r'data-key="([^"]+)"', html)
    assert len(keys) == 4 and keys == sorted(keys)


def test_thread_poll_is_empty_until_a_text_changes(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    since = iso(utcnow())
    assert browser.get(f"/inbox/{cid}/thread?since={since}").status_code == 204
    text_in(browser.client, store, body="anyone there?")
    answer = browser.get(f"/inbox/{cid}/thread?since={since}")
    assert answer.status_code == 200 and "anyone there?" in answer.get_data(as_text=True)
    assert answer.headers["X-Next-Since"]


@pytest.mark.parametrize("query", ["since=soon", "cursor=abc", "/thread?cursor=abc", "/thread?since=x"])
def test_bad_paging_parameters_are_400(browser, agent, make, db_session, query):
    store = make.store()
    text_in(browser.client, store)
    path = f"/inbox/{conversation_id(db_session)}{query}" if query.startswith("/") else f"/inbox/list?{query}"
    assert browser.get(path).status_code == 400


def test_thread_shows_the_latest_texts_and_pages_back(browser, agent, make, db_session):
    store = make.store()
    for n in range(52):
        text_in(browser.client, store, body=f"text {n:02d}")
    html = browser.get(f"/inbox/{conversation_id(db_session)}").get_data(as_text=True)
    assert "text 51" in html and "text 02" in html and "text 01" not in html
    older = re.search(r'class="btn small load-older"\s+data-more-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    page = browser.get(older).get_data(as_text=True)
    assert "text 00" in page and "text 01" in page and "text 02" not in page and "load-older" not in page


# -- canned replies render their variables --------------------------------------------

def _canned(db_session, body, store_id=None, title="Greeting"):
    row = CannedReply(title=title, body=body, store_id=store_id)
    db_session.add(row)
    db_session.commit()
    return row.id


def test_canned_reply_renders_customer_and_latest_order(browser, agent, make, db_session):
    store = make.store(name="Nordic Knits")
    customer = make.customer(store, first_name="Ada")
    db_session.add_all([Order(store_id=store.id, external_id="1", number="1041", customer_id=customer.id),
                        Order(store_id=store.id, external_id="2", number="1042", customer_id=customer.id)])
    db_session.commit()
    rid = _canned(db_session, "Hi {{ customer.first_name }}, order #{{ order.number }} from {{ store.name }}.")
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    html = browser.get(f"/inbox/{cid}").get_data(as_text=True)
    assert f"/inbox/{cid}/canned/{rid}" in html and "{{ customer.first_name }}" not in html
    answer = browser.get(f"/inbox/{cid}/canned/{rid}").json
    assert answer == {"text": "Hi Ada, order #1042 from Nordic Knits.", "warnings": []}


def test_canned_reply_warns_about_unknown_variables(browser, agent, make, db_session):
    store = make.store()
    make.customer(store, first_name="Ada")
    rid = _canned(db_session, "Hi {{ customer.nickname }}{{ coupon }}, thanks!")
    text_in(browser.client, store)
    answer = browser.get(f"/inbox/{conversation_id(db_session)}/canned/{rid}").json
    assert answer["text"] == "Hi , thanks!"
    assert len(answer["warnings"]) == 2 and "customer.nickname" in answer["warnings"][0]


def test_canned_reply_stays_within_the_render_budget(browser, agent, make, db_session):
    store = make.store()
    rid = _canned(db_session, "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}")
    text_in(browser.client, store)
    response = browser.get(f"/inbox/{conversation_id(db_session)}/canned/{rid}")
    assert response.status_code == 422 and response.json["error"] == "template_error"


def test_canned_reply_of_another_store_is_404(browser, agent, make, db_session):
    store, other = make.store(), make.store(from_number="+15005550001")
    rid = _canned(db_session, "x", store_id=other.id)
    text_in(browser.client, store)
    assert browser.get(f"/inbox/{conversation_id(db_session)}/canned/{rid}").status_code == 404


@pytest.mark.parametrize("body", ["Hi {{ customer.first_name }}!", "{% if order %}x{% endif %}"])
def test_reply_with_leftover_template_syntax_is_refused(browser, agent, make, db_session, body):
    store = make.store()
    text_in(browser.client, store)
    response = browser.post(f"/inbox/{conversation_id(db_session)}/reply", {"body": body}, follow_redirects=True)
    assert "template syntax" in response.get_data(as_text=True)
    db_session.fresh()
    assert db_session.scalar(select(Message).where(Message.kind == "agent_reply")) is None


def test_reply_with_plain_braces_is_sent_as_typed(browser, agent, make, db_session):
    store = make.store()
    text_in(browser.client, store)
    browser.post(f"/inbox/{conversation_id(db_session)}/reply", {"body": "Use code {SAVE10} :-}"})
    db_session.fresh()
    assert db_session.scalar(select(Message.body).where(Message.kind == "agent_reply")) == "Use code {SAVE10} :-}"
