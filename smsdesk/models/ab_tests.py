"""A/B tests of cart reminders: a second body (B) for one kind and language of a store, split per
customer against the store's template (A) while the test runs (services/ab_tests.py).

Texts of a test carry ``ab_test_id`` and ``ab_variant`` (models/conversations.py), so the results
are read from the outbox itself.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from smsdesk.enums import AbEndReason, AbVariant
from smsdesk.models.base import Base, enum_column, utcnow

DEFAULT_SPLIT_PERCENT = 50  # the share of customers who get B


class AbTest(Base):
    __tablename__ = "ab_tests"
    __table_args__ = (
        Index("ix_ab_tests_store_started", "store_id", "started_at"),  # the owner's list, newest first
        # At most one running test per kind and language of a store: the database refuses a second.
        Index("uq_ab_tests_running", "store_id", "kind", "language", unique=True,
              postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(40))  # cart_reminder_1 | cart_reminder_2
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100), default="")
    body_b: Mapped[str] = mapped_column(Text)
    split_percent: Mapped[int] = mapped_column(Integer, default=DEFAULT_SPLIT_PERCENT)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[AbEndReason | None] = mapped_column(enum_column(AbEndReason))
    winner: Mapped[AbVariant | None] = mapped_column(enum_column(AbVariant, length=1))  # what the owner kept
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
