"""jobs/assignment_timeout.py: an assigned conversation not answered in the store's time goes
back to the queue and to another available agent; an answer in time keeps it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs.assignment_timeout import return_unanswered
from jobs.scheduler import create_scheduler
from smsdesk.models import AuditEvent, Conversation, ConversationRouting, utcnow
from smsdesk.services.replies import reply
from tests.services.test_assignment import new_text, team
from tests.support.desk import configure, seen


@pytest.fixture
def sessions(app):
    return app.extensions["smsdesk.sessions"]


@pytest.fixture
def store(make, db_session):
    store = make.store()
    configure(db_session, store, assignment=True, answer_minutes=10)
    return store


def later(minutes: float):
    return utcnow() + timedelta(minutes=minutes)


def reload(db_session, conversation: Conversation) -> Conversation:
    db_session.fresh()
    return db_session.get_one(Conversation, conversation.id)


def test_unanswered_goes_back_and_to_another_agent(db_session, make, store, sessions):
    first, second = team(make, db_session, store, 2)
    conversation = new_text(db_session, store)
    assert conversation.assigned_agent_id == first.id

    assert return_unanswered(sessions, now=later(9)) == 0  # still in time
    assert reload(db_session, conversation).assigned_agent_id == first.id

    seen(db_session, first, second, at=later(11))  # both still at work then
    assert return_unanswered(sessions, now=later(11)) == 1
    assert reload(db_session, conversation).assigned_agent_id == second.id
    routing = db_session.get_one(ConversationRouting, conversation.id)
    assert routing.lapsed_agent_id == first.id and routing.assigned_agent_id == second.id
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.source == "assignment").order_by(AuditEvent.id))
    assert [(e.action, e.reason, e.detail["agent_id"]) for e in events] == [
        ("assigned", "started_waiting", first.id), ("returned_to_queue", "answer_timeout", first.id),
        ("assigned", "reoffered", second.id)]

    # The second agent has their own ten minutes from the re-offer, then it may go back to the first.
    assert return_unanswered(sessions, now=later(15)) == 0
    seen(db_session, first, second, at=later(22))
    assert return_unanswered(sessions, now=later(22)) == 1
    assert reload(db_session, conversation).assigned_agent_id == first.id


def test_an_answer_in_time_keeps_it(db_session, make, store, sessions):
    first, _second = team(make, db_session, store, 2)
    conversation = new_text(db_session, store)
    reply(db_session, conversation=db_session.get_one(Conversation, conversation.id), agent=first, body="Checking!")
    db_session.commit()
    assert return_unanswered(sessions, now=later(30)) == 0
    assert reload(db_session, conversation).assigned_agent_id == first.id
    assert db_session.get_one(ConversationRouting, conversation.id).answer_due_at is None


def test_a_new_text_after_the_answer_restarts_the_clock(db_session, make, store, sessions):
    first, second = team(make, db_session, store, 2)
    conversation = new_text(db_session, store, phone="+15025550177")
    reply(db_session, conversation=db_session.get_one(Conversation, conversation.id), agent=first, body="Checking!")
    db_session.commit()
    seen(db_session, first, second, at=later(11))
    assert return_unanswered(sessions, now=later(11)) == 0  # answered: the clock stops
    new_text(db_session, store, phone="+15025550177", body="Any news?")  # waits again: first must answer this too
    assert reload(db_session, conversation).assigned_agent_id == first.id
    assert return_unanswered(sessions, now=later(11)) == 1
    assert reload(db_session, conversation).assigned_agent_id == second.id


def test_back_to_the_queue_when_nobody_else_is_available(db_session, make, store, sessions):
    first, second = team(make, db_session, store, 2)
    conversation = new_text(db_session, store)
    seen(db_session, first, at=later(11))  # the second one left an hour before
    assert return_unanswered(sessions, now=later(11)) == 1
    assert reload(db_session, conversation).assigned_agent_id is None  # not back to the one who let it lapse
    assert conversation.id in {c.id for c in db_session.scalars(
        select(Conversation).where(Conversation.waiting_since.is_not(None), Conversation.assigned_agent_id.is_(None)))}


def test_assigned_by_hand_or_switched_off_is_left_alone(db_session, make, store, sessions):
    first, second, third = team(make, db_session, store, 3)
    by_hand = new_text(db_session, store)
    db_session.get_one(Conversation, by_hand.id).assigned_agent_id = third.id  # an agent moved it
    db_session.commit()
    stays = new_text(db_session, store)
    configure(db_session, store, assignment=False, answer_minutes=10)
    assert return_unanswered(sessions, now=later(11)) == 0
    assert reload(db_session, by_hand).assigned_agent_id == third.id
    assert reload(db_session, stays).assigned_agent_id == second.id
    assert db_session.scalars(select(ConversationRouting.answer_due_at)).all() == [None, None]


def test_many_due_at_once(db_session, make, store, sessions):
    agents = team(make, db_session, store, 2)
    conversations = [new_text(db_session, store) for _ in range(6)]
    seen(db_session, *agents, at=later(11))
    assert return_unanswered(sessions, now=later(11)) == 6
    db_session.fresh()
    # Each went to the agent it was not with before (the other one had room: limit 10).
    assert [reload(db_session, c).assigned_agent_id for c in conversations] == [
        agents[1].id, agents[0].id] * 3


def test_registered_in_the_scheduler(app):
    job = create_scheduler(app).get_job("assignment_timeout")
    assert job.func is return_unanswered
