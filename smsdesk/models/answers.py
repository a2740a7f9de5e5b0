"""Automatic answers (issue 15): a store's switches, its FAQ entries, and hand-offs to a person."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smsdesk.models.base import Base, utcnow


class AnswerSettings(Base):
    """A store's automatic answers; no row means everything off (the default)."""

    __tablename__ = "answer_settings"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    order_status: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    faq: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # One short "a person will reply" text when a customer asks for one.
    handoff_ack: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FaqEntry(Base):
    """An owner's answer and the example questions it answers (a list of strings)."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    questions: Mapped[list[Any]] = mapped_column(default=list)
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Handoff(Base):
    """A customer asked for a person: no automatic answers in this conversation until an agent
    replies after ``requested_at``, or for a day (services/auto_answers.py)."""

    __tablename__ = "answer_handoffs"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    requested_at: Mapped[datetime]
    message_id: Mapped[int] = mapped_column(Integer)  # the text that asked
