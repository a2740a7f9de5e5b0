"""The inbox with failed texts: the failure read plainly, a marker and a filter in the list,
and a retry where retrying can help."""

from sqlalchemy import select

from smsdesk.models import Message
from tests.web.test_inbox import conversation_id, text_in
from tests.webhooks.test_twilio import post_signed


def _failed_reply(browser, db_session, drain, twilio_server, store, *, code, phone="+15025550123"):
    text_in(browser.client, store, phone)
    cid = conversation_id(db_session, phone)
    browser.post(f"/inbox/{cid}/reply", {"body": "It ships today!"})
    drain()
    sid = twilio_server.messages[-1]["sid"]
    post_signed(browser.client, "/webhooks/twilio/status",
                {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": code})
    drain()
    return cid


def test_failed_text_reads_plainly_and_can_be_retried(browser, agent, make, db_session, drain, twilio_server):
    store = make.store()
    cid = _failed_reply(browser, db_session, drain, twilio_server, store, code="30003")
    html = browser.get(f"/inbox/{cid}/thread").get_data(as_text=True)
    assert "The phone was off or out of coverage (carrier code 30003)." in html
    assert "error 30003" not in html and "Retry" in html
    db_session.fresh()
    failed = db_session.scalar(select(Message).where(Message.kind == "agent_reply"))
    response = browser.post(f"/inbox/{cid}/messages/{failed.id}/retry", {}, follow_redirects=True)
    assert "Queued again" in response.get_data(as_text=True)
    db_session.fresh()
    replies = db_session.scalars(select(Message).where(Message.kind == "agent_reply").order_by(Message.id)).all()
    assert [(m.body, m.status.value) for m in replies] == [("It ships today!", "undelivered"),
                                                          ("It ships today!", "queued")]
    assert replies[1].agent_id == agent.id and replies[1].conversation_id == cid


def test_failure_retrying_cannot_help_has_no_retry(browser, agent, make, db_session, drain, twilio_server):
    store = make.store()
    cid = _failed_reply(browser, db_session, drain, twilio_server, store, code="30005")
    html = browser.get(f"/inbox/{cid}/thread").get_data(as_text=True)
    assert "(carrier code 30005)" in html and "Retry</button>" not in html
    db_session.fresh()
    failed = db_session.scalar(select(Message).where(Message.kind == "agent_reply"))
    response = browser.post(f"/inbox/{cid}/messages/{failed.id}/retry", {}, follow_redirects=True)
    assert "can be retried" in response.get_data(as_text=True)
    db_session.fresh()
    assert len(db_session.scalars(select(Message).where(Message.kind == "agent_reply")).all()) == 1


def test_list_marks_and_filters_conversations_whose_latest_text_failed(browser, agent, make, db_session, drain,
                                                                       twilio_server):
    store = make.store()
    make.customer(store, "+15025550101", first_name="Failing")
    make.customer(store, "+15025550102", first_name="Fine")
    _failed_reply(browser, db_session, drain, twilio_server, store, code="30003", phone="+15025550101")
    text_in(browser.client, store, "+15025550102")
    html = browser.get("/inbox?status=all").get_data(as_text=True)
    assert html.count("failed-marker") == 1
    failing_row = html[html.index("Failing"):]
    assert failing_row.index("failed-marker") < failing_row.index("</a>")
    filtered = browser.get("/inbox?status=all&failed=1").get_data(as_text=True)
    assert "Failing" in filtered and "Fine" not in filtered


def test_failed_marker_reaches_the_incremental_poll(browser, agent, make, db_session, drain, twilio_server):
    store = make.store()
    text_in(browser.client, store)
    cid = conversation_id(db_session)
    browser.post(f"/inbox/{cid}/reply", {"body": "It ships today!"})
    drain()
    since = browser.get("/inbox/list?status=all").headers["X-Next-Since"]
    post_signed(browser.client, "/webhooks/twilio/status",
                {"MessageSid": twilio_server.messages[-1]["sid"], "MessageStatus": "failed", "ErrorCode": "30003"})
    drain()
    changes = browser.get(f"/inbox/list?status=all&since={since}").json
    assert [row["id"] for row in changes["rows"]] == [cid] and "failed-marker" in changes["rows"][0]["html"]
