"""Automatic assignment: a conversation that starts waiting goes to an available agent of its
store, round-robin; one its assignee does not answer in time goes back to the queue and to the
next agent (jobs/assignment_timeout.py). Off per store (desk_settings): then nothing happens.

Available: a member of the store (owner or agent), not removed, not away, seen in the last
``presence.SEEN_WITHIN``, holding fewer waiting conversations of the store than its per-agent
limit. Fair: the available member whose latest automatic assignment at the store is the oldest
(or who never had one) gets the next conversation; ties go to the earlier member.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smsdesk.enums import STORE_ROLES, RoutingReason
from smsdesk.models import Agent, Conversation, ConversationRouting, DeskSettings, Membership
from smsdesk.services import audit
from smsdesk.services.desk_settings import routing_row, settings_for
from smsdesk.services.presence import SEEN_WITHIN

SOURCE = "assignment"  # the audit trail's source of what this module does
ASSIGNED, RETURNED, LEFT = "assigned", "returned_to_queue", "left_in_queue"  # audit actions


def started_waiting(session: Session, *, conversation: Conversation, now: datetime) -> Agent | None:
    """A new text made ``conversation`` wait: give it to an available agent, or (when routing
    gave it to its assignee) start their answer clock again. Returns the new assignee, if any."""
    settings = settings_for(session, conversation.store_id)
    if settings is None or not settings.assignment:
        return None
    if conversation.assigned_agent_id is not None:
        _restart_clock(session, conversation, settings, now)
        return None
    return offer(session, conversation=conversation, settings=settings, now=now, reason=RoutingReason.STARTED_WAITING)


def offer(session: Session, *, conversation: Conversation, settings: DeskSettings, now: datetime,
          reason: RoutingReason, exclude: Collection[int] = ()) -> Agent | None:
    """Assign the conversation to the available member assigned least recently (not one of
    ``exclude``); None, and it stays in the queue, when nobody is available."""
    # Locks in one order everywhere (the routing row, then the store's counter; the time-out job
    # holds routing rows when it gets here), so two workers never wait for each other in a circle.
    routing = _locked_routing(session, conversation)
    seq = _next_seq(session, settings.store_id)  # also waits for another worker assigning at this store
    member = session.scalar(_available(settings, now=now, exclude=exclude))
    if member is None:
        _audit(session, LEFT, conversation, RoutingReason.NO_AGENT_AVAILABLE, None)
        return None
    member.last_assigned_seq = seq
    conversation.assigned_agent_id = member.agent_id
    routing.assigned_agent_id, routing.assigned_at = member.agent_id, now
    routing.answer_due_at = now + timedelta(minutes=settings.answer_minutes)
    _audit(session, ASSIGNED, conversation, reason, member.agent_id)
    return session.get_one(Agent, member.agent_id)


def answer_overdue(session: Session, routing: ConversationRouting, *, now: datetime) -> bool:
    """The assignee's answer time is up: if the conversation still waits and is still theirs
    from routing, it goes back to the queue (True) and is offered to another available agent.
    A reply (or closing it) in time keeps it with the assignee."""
    routing.answer_due_at = None
    conversation = session.get_one(Conversation, routing.conversation_id)
    settings = settings_for(session, routing.store_id)
    lapsed = routing.assigned_agent_id
    if (settings is None or not settings.assignment or lapsed is None or conversation.waiting_since is None
            or conversation.assigned_agent_id != lapsed):  # off, answered, or assigned by hand since
        return False
    conversation.assigned_agent_id = None
    routing.assigned_agent_id, routing.lapsed_agent_id = None, lapsed
    _audit(session, RETURNED, conversation, RoutingReason.ANSWER_TIMEOUT, lapsed)
    offer(session, conversation=conversation, settings=settings, now=now, reason=RoutingReason.REOFFERED,
          exclude=(lapsed,))
    return True


def due_routings(session: Session, *, now: datetime, limit: int) -> list[ConversationRouting]:
    """Routing states whose answer time is up, oldest first, locked (skipping ones another
    worker holds on PostgreSQL)."""
    return list(session.scalars(
        select(ConversationRouting).where(ConversationRouting.answer_due_at <= now)
        .order_by(ConversationRouting.answer_due_at).limit(limit).with_for_update(skip_locked=True)))


def waiting_counts(session: Session, store_id: int) -> dict[int, int]:
    """Waiting conversations of the store per assignee (agent id -> count)."""
    rows = session.execute(select(Conversation.assigned_agent_id, func.count()).where(
        Conversation.store_id == store_id, Conversation.assigned_agent_id.is_not(None),
        Conversation.waiting_since.is_not(None)).group_by(Conversation.assigned_agent_id))
    return {agent_id: count for agent_id, count in rows.tuples() if agent_id is not None}


def _available(settings: DeskSettings, *, now: datetime, exclude: Collection[int]):
    """The available member assigned least recently (the query for one row)."""
    waiting = (select(func.count()).select_from(Conversation)
               .where(Conversation.assigned_agent_id == Membership.agent_id, Conversation.waiting_since.is_not(None),
                      Conversation.store_id == settings.store_id)
               .scalar_subquery())
    query = (select(Membership).join(Agent, Agent.id == Membership.agent_id)
             .where(Membership.store_id == settings.store_id, Membership.role.in_(STORE_ROLES),
                    Agent.removed_at.is_(None), Agent.away_since.is_(None), Agent.last_seen_at > now - SEEN_WITHIN,
                    waiting < settings.agent_limit)
             .order_by(Membership.last_assigned_seq, Membership.id).limit(1))
    if exclude:
        query = query.where(Membership.agent_id.not_in(list(exclude)))
    return query


def _locked_routing(session: Session, conversation: Conversation) -> ConversationRouting:
    routing = routing_row(session, conversation)
    session.execute(select(ConversationRouting.conversation_id)
                    .where(ConversationRouting.conversation_id == conversation.id).with_for_update())
    return routing


def _next_seq(session: Session, store_id: int) -> int:
    """Bump the store's assignment counter; the row stays locked until the transaction ends, so
    two workers never pick from the same counts at once."""
    return session.execute(update(DeskSettings).where(DeskSettings.store_id == store_id)
                           .values(assignment_seq=DeskSettings.assignment_seq + 1)
                           .returning(DeskSettings.assignment_seq)
                           .execution_options(synchronize_session=False)).scalar_one()


def _restart_clock(session: Session, conversation: Conversation, settings: DeskSettings, now: datetime) -> None:
    """The assignee routing chose has to answer this new text in time too (not one assigned by hand)."""
    routing = session.get(ConversationRouting, conversation.id)
    if routing is not None and routing.assigned_agent_id == conversation.assigned_agent_id:
        routing.answer_due_at = now + timedelta(minutes=settings.answer_minutes)


def _audit(session: Session, action: str, conversation: Conversation, reason: RoutingReason,
           agent_id: int | None) -> None:
    audit.record(session, action, store_id=conversation.store_id, customer_id=conversation.customer_id,
                 reason=reason.value, source=SOURCE,
                 detail={"conversation_id": conversation.id, "agent_id": agent_id})
