"""How a store's team works its queue: business hours, the away message and assignment
(per store), and each conversation's routing state (migration 0018)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from smsdesk.models.base import Base, utcnow
from smsdesk.models.conversations import Conversation

DEFAULT_AGENT_LIMIT = 10  # waiting conversations assigned to one agent at a time
DEFAULT_ANSWER_MINUTES = 15  # an assigned conversation not answered by then goes back to the queue


class DeskSettings(Base):
    """A store's hours and routing settings; a store without a row has no schedule (always
    open), no away message and no automatic assignment."""

    __tablename__ = "desk_settings"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    # Business hours on: the schedule applies. Off: always open, and the schedule is kept for later.
    use_hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # [[weekday 0=Monday, opens minute, closes minute], ...] in the store's time zone.
    # services/business_hours.py reads and checks it.
    schedule: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    away_message: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    assignment: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    agent_limit: Mapped[int] = mapped_column(Integer, default=DEFAULT_AGENT_LIMIT,
                                             server_default=str(DEFAULT_AGENT_LIMIT))
    answer_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_ANSWER_MINUTES,
                                                server_default=str(DEFAULT_ANSWER_MINUTES))
    # Bumped by every automatic assignment at the store; a membership remembers the value of its
    # latest one, so "assigned least recently" is exact whatever the clock (round-robin). The
    # UPDATE that bumps it also serializes assignments at one store across workers.
    assignment_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConversationRouting(Base):
    """What automatic routing did to one conversation: when the away message last went out, and
    whom assignment gave it to, until when they have to answer (jobs/assignment_timeout.py)."""

    __tablename__ = "conversation_routing"
    __table_args__ = (Index("ix_conversation_routing_due", "answer_due_at"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    away_sent_at: Mapped[datetime | None]
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # whom routing gave it to
    assigned_at: Mapped[datetime | None]
    answer_due_at: Mapped[datetime | None]  # None: no answer awaited from the assignee
    lapsed_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # let it lapse last


# Counting an agent's waiting conversations (the per-agent limit) without scanning the queue.
Index("ix_conversations_assigned_waiting", Conversation.assigned_agent_id, Conversation.waiting_since)
