"""The owner's /feedback page (settings, 422 with field errors, CSV export) and the dashboard's
response-metrics section."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from smsdesk.models import (
    Conversation,
    ConversationClose,
    Direction,
    Feedback,
    FeedbackSettings,
    Message,
    MessageStatus,
    utcnow,
)


def test_page_shows_the_settings_off_by_default(browser, owner, make):
    store = make.store(name="Acme")
    html = browser.get(f"/feedback?store={store.slug}").get_data(as_text=True)
    assert "Customer feedback" in html and 'name="after_delivered" >' in html.replace("  ", " ")
    assert 'value="24"' in html and "kind=feedback_request" in html


def test_saving_the_settings(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/feedback/{store.slug}", {"after_delivered": "on", "delivered_delay_hours": "48",
                                                        "close_delay_hours": "3"})
    assert response.status_code == 302
    db_session.fresh()
    settings = db_session.get(FeedbackSettings, store.id)
    assert (settings.after_delivered, settings.delivered_delay_hours, settings.after_close,
            settings.close_delay_hours) == (True, 48, False, 3)
    assert 'name="after_delivered" checked' in browser.get(response.headers["Location"]).get_data(as_text=True)


def test_bad_values_get_a_422_with_field_errors_and_save_nothing(browser, owner, make, db_session):
    store = make.store()
    response = browser.post(f"/feedback/{store.slug}", {"after_close": "on", "delivered_delay_hours": "0",
                                                        "close_delay_hours": "soon"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-delivered_delay_hours"' in html and 'id="e-close_delay_hours"' in html
    assert "A whole number of hours from 1 to 720." in html
    assert browser.post(f"/feedback/{store.slug}", {"delivered_delay_hours": "721",
                                                    "close_delay_hours": "1"}).status_code == 422
    db_session.fresh()
    assert db_session.get(FeedbackSettings, store.id) is None


def rate(db_session, store, customer, score, comment="", *, at=None):
    conversation = db_session.scalar(select(Conversation).where(Conversation.customer_id == customer.id))
    if conversation is None:
        conversation = Conversation(store_id=store.id, customer_id=customer.id)
        db_session.add(conversation)
        db_session.flush()
    at = at or utcnow()
    request, reply = (Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                              direction=direction, kind=kind, body=body, status=status, created_at=at)
                      for direction, kind, body, status in (
                          (Direction.OUT, "feedback_request", "How did we do?", MessageStatus.DELIVERED),
                          (Direction.IN, "inbound", f"{score} {comment}", MessageStatus.RECEIVED)))
    db_session.add_all([request, reply])
    db_session.flush()
    db_session.add(Feedback(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                            request_message_id=request.id, message_id=reply.id, score=score, comment=comment,
                            opened=bool(comment), created_at=at))
    db_session.commit()
    return conversation


def test_csv_export_of_the_store_ratings_only(browser, owner, make, db_session):
    store, other = make.store(), make.store(name="Other")
    rate(db_session, store, make.customer(store, first_name="Emma"), 5)
    rate(db_session, store, make.customer(store, "+15025550111"), 2, "=HYPERLINK(\"http://x\")")
    rate(db_session, other, make.customer(other, "+15025550122"), 1, "not yours")
    response = browser.get(f"/feedback/{store.slug}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="feedback-{store.slug}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["score"], r["comment"], r["customer_name"], r["opened_for_agent"]) for r in rows] == [
        ("5", "", "Emma", "no"), ("2", "'=HYPERLINK(\"http://x\")", "", "yes")]
    assert "not yours" not in response.get_data(as_text=True)


def test_dashboard_section_shows_times_share_csat_and_comments(browser, owner, make, db_session):
    store = make.store(timezone="UTC")
    customer = make.customer(store)
    conversation = rate(db_session, store, customer, 4, "lovely", at=utcnow() - timedelta(days=3))
    db_session.add(ConversationClose(store_id=store.id, conversation_id=conversation.id, agent_id=owner.id,
                                     closed_at=utcnow() - timedelta(days=3) + timedelta(hours=1)))
    start = utcnow() - timedelta(days=1)
    for offset, direction, kind in ((0, Direction.IN, "inbound"), (5, Direction.OUT, "agent_reply")):
        db_session.add(Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                               direction=direction, kind=kind, body="x", agent_id=owner.id,
                               status=MessageStatus.RECEIVED if direction == Direction.IN else MessageStatus.SENT,
                               created_at=start + timedelta(minutes=offset)))
    db_session.add(ConversationClose(store_id=store.id, conversation_id=conversation.id, agent_id=owner.id,
                                     closed_at=start + timedelta(hours=2)))
    db_session.commit()
    html = browser.get(f"/dashboard?store={store.slug}").get_data(as_text=True)
    section = html[html.index('id="response-metrics"'):]
    assert 'id="first-response">5.0 min / 5.0 min<' in section
    assert 'id="resolution">1.0 h / 2.0 h<' in section  # [1 h for "4 lovely", 2 h]
    assert 'id="automatic-share">0%<' in section and "0 of 2 customer texts" in section  # "4 lovely" waited
    assert owner.email in section
    assert "4.00" in section and "100%" in section and "lovely" in section
    assert "How these are counted" in section


def test_dashboard_range_is_checked(browser, owner, make):
    store = make.store(timezone="UTC")
    assert browser.get(f"/dashboard?store={store.slug}&from=2026-11-30&to=2026-11-01").status_code == 400
    assert browser.get("/dashboard?from=yesterday").status_code == 400
    html = browser.get("/dashboard?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert "2026-11-01 to 2026-11-30" in html


def test_thread_marks_feedback_requests_automatic(browser, owner, make, db_session):
    store = make.store()
    conversation = rate(db_session, store, make.customer(store), 5)
    html = browser.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert '<span class="automatic">Automatic</span>' in html
