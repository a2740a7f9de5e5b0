"""services/feedback.py: rating requests after a delivery or a close (once, not too often, not
to opted-out customers, outside quiet hours) and the customer's rating (recorded; a plain high
score leaves the conversation as it was, a low score or a comment puts it in the queue)."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from smsdesk.events import CustomerInfo, OrderInfo, OrderPlaced, ShipmentUpdated
from smsdesk.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Feedback,
    FeedbackSettings,
    Message,
    MessageStatus,
    Order,
    utcnow,
)
from smsdesk.services import feedback
from smsdesk.services.closing import close_conversation
from smsdesk.services.conversations import touch_conversation
from smsdesk.services.events import apply_event
from smsdesk.services.inbound import handle_inbound

T = datetime(2026, 6, 10, 18, 0, tzinfo=timezone.utc)  # 14:00 in New York: a day later is inside allowed hours
_sids = itertools.count(1)
_orders = itertools.count(1)


def turn_on(db_session, store, **changes):
    settings = FeedbackSettings(store_id=store.id, after_delivered=True, delivered_delay_hours=24,
                                after_close=True, close_delay_hours=2)
    for name, value in changes.items():
        setattr(settings, name, value)
    db_session.add(settings)
    db_session.commit()


def delivered_order(db_session, store, customer) -> Order:
    n = next(_orders)
    order = Order(store_id=store.id, external_id=f"ext-{n}", number=f"10{n:02d}", customer_id=customer.id,
                  phone=customer.phone, status="delivered")
    db_session.add(order)
    db_session.flush()
    return order


def requests(db_session) -> list[Message]:
    return list(db_session.scalars(select(Message).where(Message.kind == "feedback_request").order_by(Message.id)))


def test_no_request_while_the_store_does_not_ask(db_session, make):
    store = make.store()
    customer = make.customer(store)
    assert feedback.after_delivered(db_session, store=store, order=delivered_order(db_session, store, customer),
                                    customer=customer, now=T) is None
    assert requests(db_session) == []


def test_request_is_due_the_delay_after_delivery_and_made_once(db_session, make):
    store = make.store(name="Acme")
    customer = make.customer(store, first_name="Emma")
    turn_on(db_session, store)
    order = delivered_order(db_session, store, customer)
    request = feedback.after_delivered(db_session, store=store, order=order, customer=customer, now=T)
    assert request is not None and request.due_at == T + timedelta(hours=24)
    assert request.order_id == order.id and request.body == (
        f"Acme: Hi Emma! How did we do with order #{order.number}? Reply with a number from 1 (poor) to 5 (great).")
    # The same delivery again (a replayed webhook): nothing new.
    assert feedback.after_delivered(db_session, store=store, order=order, customer=customer, now=T) is None
    assert len(requests(db_session)) == 1


def test_one_request_per_customer_per_week(db_session, make):
    store = make.store()
    customer = make.customer(store)
    turn_on(db_session, store)
    for days, asked in ((0, True), (2, False), (6, False), (8, True)):
        order = delivered_order(db_session, store, customer)
        made = feedback.after_delivered(db_session, store=store, order=order, customer=customer,
                                        now=T + timedelta(days=days))
        assert (made is not None) == asked, days
    other = make.customer(store, "+15025550199")  # another customer is asked all the same
    assert feedback.after_delivered(db_session, store=store, order=delivered_order(db_session, store, other),
                                    customer=other, now=T) is not None


def test_a_request_that_never_went_out_does_not_count(db_session, make):
    store = make.store()
    customer = make.customer(store)
    turn_on(db_session, store)
    first = feedback.after_delivered(db_session, store=store, order=delivered_order(db_session, store, customer),
                                     customer=customer, now=T)
    first.status = MessageStatus.SUPPRESSED
    assert feedback.after_delivered(db_session, store=store, order=delivered_order(db_session, store, customer),
                                    customer=customer, now=T + timedelta(days=1)) is not None


def test_no_request_to_an_opted_out_customer(db_session, make):
    store = make.store()
    customer = make.customer(store, opted_out=True)
    turn_on(db_session, store)
    assert feedback.after_delivered(db_session, store=store, order=delivered_order(db_session, store, customer),
                                    customer=customer, now=T) is None


def test_request_due_in_quiet_hours_waits_for_the_morning(db_session, make):
    store = make.store(quiet_hours="20:00-08:00", timezone="America/New_York")
    customer = make.customer(store)
    turn_on(db_session, store)
    late = datetime(2026, 6, 10, 2, 0, tzinfo=timezone.utc)  # 22:00 in New York the day before
    request = feedback.after_delivered(db_session, store=store, order=delivered_order(db_session, store, customer),
                                       customer=customer, now=late)
    # The number is Kentucky's (502), whose law allows texts from 10:00: 10:00 EDT.
    assert request.due_at == datetime(2026, 6, 11, 14, 0, tzinfo=timezone.utc)


def test_delivered_event_schedules_the_request_and_it_is_sent_once(db_session, make, drain, twilio_server):
    store = make.store()
    turn_on(db_session, store, delivered_delay_hours=1)
    bob = CustomerInfo(phone="+15025550123", first_name="Bob")
    order = OrderInfo(external_id="9001", number="9001")
    before = utcnow()
    delivered = ShipmentUpdated(order=order, status="delivered", customer=bob)
    for event in (OrderPlaced(order=order, customer=bob), delivered, delivered):
        apply_event(db_session, store=store, event=event, source="test")
    db_session.commit()
    [request] = requests(db_session)
    # after the delay, or moved past quiet hours (never by more than a day)
    assert before + timedelta(hours=1) <= request.due_at <= utcnow() + timedelta(hours=25)
    assert request.status == MessageStatus.SCHEDULED
    request.due_at = utcnow() - timedelta(seconds=1)  # the clock moves past it
    request.status = MessageStatus.QUEUED
    db_session.commit()
    drain()
    drain()
    db_session.fresh()
    sent = [m for m in twilio_server.messages if "How did we do" in m["body"]]
    assert len(sent) == 1


def test_turning_it_off_cancels_requests_not_sent(db_session, make):
    from smsdesk.services.feedback_admin import save_form
    store = make.store()
    customer = make.customer(store)
    turn_on(db_session, store)
    request = feedback.after_delivered(db_session, store=store, order=delivered_order(db_session, store, customer),
                                       customer=customer, now=utcnow())
    db_session.commit()
    form = save_form(db_session, store, {"after_close": "on", "delivered_delay_hours": "24", "close_delay_hours": "2"})
    db_session.commit()
    assert not form.errors
    db_session.refresh(request)
    assert request.status == MessageStatus.CANCELLED


# -- after a close -----------------------------------------------------------------------------

def open_conversation(db_session, store, customer) -> Conversation:
    conversation = touch_conversation(db_session, store_id=store.id, customer_id=customer.id, at=utcnow())
    conversation.status = ConversationStatus.OPEN
    db_session.flush()
    return conversation


def test_request_after_an_agent_closes(db_session, make):
    store = make.store()
    customer = make.customer(store)
    agent = make.agent()
    turn_on(db_session, store, after_delivered=False)
    conversation = open_conversation(db_session, store, customer)
    closed = close_conversation(db_session, conversation, agent=agent, now=T)
    assert closed is not None and closed.agent_id == agent.id
    [request] = requests(db_session)
    assert request.due_at == T + timedelta(hours=2) and request.order_id is None
    assert "How did we do? Reply" in request.body
    assert close_conversation(db_session, conversation, agent=agent, now=T) is None  # closed already: nothing


def test_no_request_when_closed_by_nobody_or_turned_off(db_session, make):
    store = make.store()
    customer = make.customer(store)
    turn_on(db_session, store, after_close=False)
    close_conversation(db_session, open_conversation(db_session, store, customer), agent=make.agent(), now=T)
    assert requests(db_session) == []


def test_the_customer_writing_again_cancels_the_close_request(db_session, make):
    store = make.store()
    customer = make.customer(store)
    turn_on(db_session, store, after_delivered=False)
    close_conversation(db_session, open_conversation(db_session, store, customer), agent=make.agent())
    db_session.commit()
    text_in(db_session, store, customer, "one more question")
    [request] = requests(db_session)
    db_session.refresh(request)
    assert request.status == MessageStatus.CANCELLED


# -- ratings -------------------------------------------------------------------------------------

def sent_request(db_session, store, customer, *, ago=timedelta(hours=1)) -> Message:
    """A request that reached the customer ``ago``, in a closed conversation."""
    conversation = touch_conversation(db_session, store_id=store.id, customer_id=customer.id, at=utcnow())
    conversation.status = ConversationStatus.CLOSED
    request = Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                      direction=Direction.OUT, kind="feedback_request", body="How did we do?",
                      status=MessageStatus.DELIVERED, sent_at=utcnow() - ago, created_at=utcnow() - ago)
    db_session.add(request)
    db_session.commit()
    return request


def text_in(db_session, store, customer, body):
    handle_inbound(db_session, store=store, customer=customer, body=body, provider_sid=f"SMfb{next(_sids)}")
    db_session.commit()
    return db_session.scalar(select(Conversation).where(Conversation.customer_id == customer.id))


def ratings(db_session) -> list[tuple]:
    return list(db_session.execute(select(Feedback.score, Feedback.comment, Feedback.opened).order_by(Feedback.id)))


def test_a_plain_high_score_is_recorded_without_opening_the_conversation(db_session, make):
    store = make.store()
    customer = make.customer(store)
    request = sent_request(db_session, store, customer)
    conversation = text_in(db_session, store, customer, "5")
    assert ratings(db_session) == [(5, "", False)]
    assert db_session.scalar(select(Feedback.request_message_id)) == request.id
    assert conversation.waiting_since is None and conversation.status == ConversationStatus.CLOSED
    assert conversation.unread == 0
    assert db_session.scalar(select(Message.body).where(Message.direction == Direction.IN)) == "5"  # in the thread


def test_a_low_score_is_recorded_and_opens_the_conversation(db_session, make):
    store = make.store()
    customer = make.customer(store)
    sent_request(db_session, store, customer)
    conversation = text_in(db_session, store, customer, "1")
    assert ratings(db_session) == [(1, "", True)]
    assert conversation.waiting_since is not None and conversation.status == ConversationStatus.OPEN


def test_a_score_with_a_comment_is_recorded_and_opens_the_conversation(db_session, make):
    store = make.store()
    customer = make.customer(store)
    sent_request(db_session, store, customer)
    conversation = text_in(db_session, store, customer, "3 box damaged")
    assert ratings(db_session) == [(3, "box damaged", True)]
    assert conversation.waiting_since is not None


def test_a_number_without_a_recent_request_is_a_text_for_the_agents(db_session, make):
    store = make.store()
    customer = make.customer(store)
    conversation = text_in(db_session, store, customer, "5")
    assert ratings(db_session) == [] and conversation.waiting_since is not None


def test_a_request_older_than_a_week_takes_no_rating(db_session, make):
    store = make.store()
    customer = make.customer(store)
    sent_request(db_session, store, customer, ago=timedelta(days=8))
    conversation = text_in(db_session, store, customer, "5")
    assert ratings(db_session) == [] and conversation.waiting_since is not None


def test_a_request_is_rated_once(db_session, make):
    store = make.store()
    customer = make.customer(store)
    sent_request(db_session, store, customer)
    text_in(db_session, store, customer, "5")
    conversation = text_in(db_session, store, customer, "4")
    assert ratings(db_session) == [(5, "", False)] and conversation.waiting_since is not None


def test_a_rating_while_an_agent_is_needed_leaves_the_conversation_waiting(db_session, make):
    store = make.store()
    customer = make.customer(store)
    sent_request(db_session, store, customer)
    text_in(db_session, store, customer, "Where is my other parcel?")
    conversation = text_in(db_session, store, customer, "5")
    assert ratings(db_session) == [(5, "", False)]
    assert conversation.waiting_since is not None and conversation.status == ConversationStatus.OPEN


# -- privacy -------------------------------------------------------------------------------------

def test_export_holds_the_ratings_and_erasure_blanks_comments_keeping_scores(db_session, make):
    from smsdesk.services.privacy import erase_customer, export_customer
    from tests.support.privacy import remaining
    store = make.store()
    customer = make.customer(store)
    sent_request(db_session, store, customer)
    text_in(db_session, store, customer, "2 - left at 12 Elm Lane in the rain")
    data = export_customer(db_session, store, customer)
    assert [(f["score"], f["comment"]) for f in data["feedback"]] == [(2, "left at 12 Elm Lane in the rain")]
    erase_customer(db_session, store, customer, requested_by="test")
    db_session.commit()
    assert remaining(db_session, ["12 Elm Lane"]) == []
    assert ratings(db_session) == [(2, "", True)]


def test_retention_blanks_old_comments_with_the_bodies(app, db_session, make):
    from jobs.retention import purge_message_bodies
    store = make.store()
    customer = make.customer(store)
    sent_request(db_session, store, customer)
    text_in(db_session, store, customer, "3 box damaged")
    purge_message_bodies(app.extensions["smsdesk.sessions"], days=7)
    db_session.fresh()
    assert ratings(db_session) == [(3, "box damaged", True)]  # recent: kept
    purge_message_bodies(app.extensions["smsdesk.sessions"], days=7, now=utcnow() + timedelta(days=8))
    db_session.fresh()
    assert ratings(db_session) == [(3, "", True)]
