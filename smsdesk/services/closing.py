"""Closing a conversation: the status change, the record of who closed it when (resolution
times, services/metrics.py) and, when the store asks, a feedback request some hours later."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from smsdesk.models import Agent, Conversation, ConversationClose, ConversationStatus, utcnow
from smsdesk.services import conversations, feedback


def close_conversation(session: Session, conversation: Conversation, *, agent: Agent | None,
                       now: datetime | None = None) -> ConversationClose | None:
    """Close it; a conversation that was open gets a close record (None when it was closed already)."""
    was_open = conversation.status == ConversationStatus.OPEN
    conversations.close(conversation)
    if not was_open:
        return None
    closed = ConversationClose(store_id=conversation.store_id, conversation_id=conversation.id,
                               agent_id=agent.id if agent else None, closed_at=now or utcnow())
    session.add(closed)
    session.flush()  # the request's dedupe key names the close by its id
    feedback.after_close(session, closed=closed, now=closed.closed_at)
    return closed
