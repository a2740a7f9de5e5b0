"""Customer feedback (CSAT): each store's request settings, the scores customers gave, and the
record of conversations closed by agents (resolution times and "after close" requests)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from smsdesk.models.base import Base, utcnow

DEFAULT_DELAY_HOURS = 24


class FeedbackSettings(Base):
    """When a store asks its customers for a rating; no row means both off (the default)."""

    __tablename__ = "feedback_settings"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    after_delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_delay_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_DELAY_HOURS)
    after_close: Mapped[bool] = mapped_column(Boolean, default=False)
    close_delay_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_DELAY_HOURS)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Feedback(Base):
    """One rating (1-5) a customer texted back to a feedback request, with any words beside it."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_store_created", "store_id", "created_at"),)  # CSAT per week, CSV

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # One rating per request: the unique key refuses a second one.
    request_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)  # the customer's reply
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    opened: Mapped[bool] = mapped_column(Boolean, default=False)  # left waiting for an agent (low or commented)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationClose(Base):
    """An agent closed a conversation (the conversation row keeps only its current status)."""

    __tablename__ = "conversation_closes"
    __table_args__ = (Index("ix_conversation_closes_store_closed", "store_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # None: closed by the system or a script
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
