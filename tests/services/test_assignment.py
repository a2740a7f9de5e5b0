"""smsdesk/services/assignment.py: a conversation that starts waiting goes to an available agent,
round-robin; away, unseen and removed agents and those at their limit are skipped."""
from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from smsdesk.models import AuditEvent, Conversation, ConversationRouting, Customer, Membership, Store, utcnow
from smsdesk.services.auth import remove_agent
from smsdesk.services.inbound import handle_inbound
from smsdesk.services.presence import set_away
from smsdesk.services.replies import reply
from tests.factories import Factory
from tests.support.desk import configure, seen

_sids = itertools.count(1)
_phones = itertools.count(1000)


def new_text(db_session, store, *, phone: str | None = None, body: str = "Where is my order?") -> Conversation:
    """A customer's text (a new customer unless ``phone``); the conversation it lands in."""
    customer_phone = phone or f"+1502555{next(_phones):04d}"
    customer = Factory(db_session).customer(store, customer_phone)
    handle_inbound(db_session, store=store, customer=customer, body=body, provider_sid=f"SMasg{next(_sids)}")
    db_session.commit()
    return db_session.scalar(select(Conversation).where(Conversation.customer_id == customer.id))


def team(make, db_session, store, count: int, *, role: str = "agent"):
    agents = [make.agent(role=role, stores=[store], email=f"{role}{n}-{store.slug}@example.com") for n in range(count)]
    seen(db_session, *agents)
    return agents


def actions(db_session, action: str) -> list[AuditEvent]:
    db_session.fresh()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_round_robin_three_agents_thirty_conversations(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=True)
    agents = team(make, db_session, store, 2) + team(make, db_session, store, 1, role="owner")  # owners work too
    order = [new_text(db_session, store).assigned_agent_id for _ in range(30)]
    ids = [agent.id for agent in agents]
    assert order == ids * 10  # in turn, each the least recently assigned
    assert Counter(order) == {agent_id: 10 for agent_id in ids}
    assigned = actions(db_session, "assigned")
    assert len(assigned) == 30 and {event.reason for event in assigned} == {"started_waiting"}
    assert assigned[0].source == "assignment" and assigned[0].detail["agent_id"] == ids[0]


def test_fair_after_a_newcomer_joins(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=True)
    first, second = team(make, db_session, store, 2)
    for _ in range(4):
        new_text(db_session, store)
    [late] = team(make, db_session, store, 1, role="owner")
    # The newcomer was never assigned: least recently of all, so first in turn, then the rotation goes on.
    assert [new_text(db_session, store).assigned_agent_id for _ in range(3)] == [late.id, first.id, second.id]


def test_away_unseen_and_removed_agents_get_none(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=True)
    present, away, unseen, removed = team(make, db_session, store, 4)
    set_away(away, True)
    unseen.last_seen_at = utcnow() - timedelta(minutes=6)
    remove_agent(db_session, removed)
    db_session.commit()
    assert {new_text(db_session, store).assigned_agent_id for _ in range(5)} == {present.id}

    set_away(away, False)  # back at work
    db_session.commit()
    # Least recently assigned (never): their turn comes first, then the rotation goes on.
    assert [new_text(db_session, store).assigned_agent_id for _ in range(2)] == [away.id, present.id]


def test_only_members_of_the_store(db_session, make):
    store, elsewhere = make.store(), make.store()
    configure(db_session, store, assignment=True)
    outsider = make.agent(stores=[elsewhere])
    admin = make.agent(role="admin")
    seen(db_session, outsider, admin)
    assert new_text(db_session, store).assigned_agent_id is None
    [left] = actions(db_session, "left_in_queue")
    assert left.reason == "no_agent_available"


def test_the_per_agent_limit(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=True, agent_limit=2)
    first, second = team(make, db_session, store, 2)
    conversations = [new_text(db_session, store) for _ in range(5)]
    assert [c.assigned_agent_id for c in conversations] == [first.id, second.id, first.id, second.id, None]
    # An answer frees a place: the next waiting conversation goes to whoever answered.
    db_session.fresh()
    answered = db_session.get_one(Conversation, conversations[2].id)
    reply(db_session, conversation=answered, agent=first, body="On its way!")
    db_session.commit()
    assert new_text(db_session, store).assigned_agent_id == first.id


def test_only_when_the_conversation_starts_waiting(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=True)
    first, second = team(make, db_session, store, 2)
    conversation = new_text(db_session, store, phone="+15025550100")
    assert conversation.assigned_agent_id == first.id
    again = new_text(db_session, store, phone="+15025550100", body="Hello??")  # still waiting: stays with first
    assert again.id == conversation.id and again.assigned_agent_id == first.id
    assert len(actions(db_session, "assigned")) == 1
    # A conversation someone took by hand is not assigned again when it waits anew.
    handle = db_session.get_one(Conversation, conversation.id)
    handle.assigned_agent_id = second.id
    reply(db_session, conversation=handle, agent=second, body="Hi!")
    db_session.commit()
    assert new_text(db_session, store, phone="+15025550100").assigned_agent_id == second.id
    assert len(actions(db_session, "assigned")) == 1


def test_keywords_and_automatic_answers_are_not_assigned(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=True)
    team(make, db_session, store, 1)
    for word in ("HELP", "STOP"):
        assert new_text(db_session, store, body=word).assigned_agent_id is None
    assert actions(db_session, "assigned") == []


def test_off_changes_nothing(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=False)
    team(make, db_session, store, 2)
    plain = make.store()  # never saved the page: no settings row at all
    team(make, db_session, plain, 1)
    assert new_text(db_session, store).assigned_agent_id is None
    assert new_text(db_session, plain).assigned_agent_id is None
    db_session.fresh()
    assert db_session.scalars(select(ConversationRouting)).all() == []
    assert actions(db_session, "left_in_queue") == [] and actions(db_session, "assigned") == []
    assert set(db_session.scalars(select(Membership.last_assigned_seq))) == {0}


def test_assignment_starts_the_answer_clock(db_session, make):
    store = make.store()
    configure(db_session, store, assignment=True, answer_minutes=10)
    team(make, db_session, store, 1)
    before = utcnow()
    conversation = new_text(db_session, store)
    routing = db_session.get_one(ConversationRouting, conversation.id)
    assert routing.assigned_agent_id == conversation.assigned_agent_id
    assert before + timedelta(minutes=10) <= routing.answer_due_at <= utcnow() + timedelta(minutes=10)


def test_texts_arriving_together_respect_the_limit(app, db_session, make):
    """Workers assigning at one store at once wait for each other (the store's counter row):
    no agent ends up over the limit, nobody gets two while another has none."""
    store = make.store()
    configure(db_session, store, assignment=True, agent_limit=1)
    agents = team(make, db_session, store, 2)
    customers = [make.customer(store, f"+150255502{n:02d}") for n in range(6)]
    sessions = app.extensions["smsdesk.sessions"]
    start = threading.Barrier(len(customers))

    def text_in(customer_id: int) -> None:
        start.wait(timeout=30)  # all at once (SQLite then takes them one by one; PostgreSQL at once)
        with sessions.begin() as session:
            handle_inbound(session, store=session.get_one(Store, store.id), customer=session.get_one(
                Customer, customer_id), body="Hi?", provider_sid=f"SMrace{customer_id}")

    threads = [threading.Thread(target=text_in, args=(customer.id,)) for customer in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db_session.fresh()
    assigned = list(db_session.scalars(select(Conversation.assigned_agent_id).where(Conversation.store_id == store.id)))
    assert len(assigned) == 6
    assert Counter(assigned) == {agents[0].id: 1, agents[1].id: 1, None: 4}
