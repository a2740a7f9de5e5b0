"""Conversations and their messages; the ``messages`` table is the outbox."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smsdesk.enums import (
    AbVariant,
    ConversationStatus,
    Direction,
    MessageStatus,
)
from smsdesk.models.base import Base, enum_column, utcnow
from smsdesk.reasons import Reason

if TYPE_CHECKING:  # relationships name their targets; SQLAlchemy resolves them by class name
    from smsdesk.models.customers import Customer
    from smsdesk.models.orders import Checkout, Order
    from smsdesk.models.people import Agent
    from smsdesk.models.stores import Store, TemplateVersion


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("store_id", "customer_id"),
        # The reply queue's keyset order (services/conversation_list.py): waiting ones by (waiting_since, id),
        # then the rest (waiting_since IS NULL, an equality for the index) newest first by
        # (last_message_at, id), across statuses and within one.
        Index("ix_conversations_queue", "waiting_since", "id"),
        Index("ix_conversations_recent", "waiting_since", "last_message_at", "id"),
        Index("ix_conversations_status_recent", "status", "waiting_since", "last_message_at", "id"),
        Index("ix_conversations_updated", "updated_at", "id"),  # ?since= polls
        Index("ix_conversations_customer", "customer_id"),  # a search's matching customers (services/search.py)
        # The rest, in order: PostgreSQL orders by an index's later columns only after "=", not "IS NULL".
        Index("ix_conversations_resting", "last_message_at", "id", postgresql_where=text("waiting_since IS NULL"),
              sqlite_where=text("waiting_since IS NULL")),
        Index("ix_conversations_status_resting", "status", "last_message_at", "id",
              postgresql_where=text("waiting_since IS NULL"), sqlite_where=text("waiting_since IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[ConversationStatus] = mapped_column(enum_column(ConversationStatus),
                                                      default=ConversationStatus.CLOSED)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    waiting_since: Mapped[datetime | None]  # oldest unanswered inbound
    unread: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped by any change the list shows (a new text touches last_message_at; status,
    # assignment, unread; an order or the customer: see services/conversation_list.py).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    store: Mapped[Store] = relationship()
    customer: Mapped[Customer] = relationship()
    assigned_agent: Mapped[Agent | None] = relationship()


class Message(Base):
    """One text, in or out. Outbound rows are the outbox the sender job drains."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_due", "status", "due_at"),
                      Index("ix_messages_store_created", "store_id", "created_at"),  # dashboards per store
                      Index("ix_messages_thread", "customer_id", "created_at", "id"))  # a thread, keyset-paged

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus))
    reason: Mapped[Reason | None] = mapped_column(enum_column(Reason, length=40))  # why not (yet) sent as planned
    reason_detail: Mapped[str] = mapped_column(Text, default="", server_default="")  # the provider's words etc.
    marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    # The claim fence: which worker holds the lease, and which claim of this row it is
    # (bumped on every claim and reclaim). A worker sends only while both are still its own.
    claim_owner: Mapped[str | None] = mapped_column(String(80))
    lease_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reconcile_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # failed lookups
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[datetime | None]  # start of the latest provider call (reconcile looks from here)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    # Pictures (MMS). Only a server default: an INSERT that leaves it out (older code, a database
    # migrated up to an earlier revision in tests) stays valid; read back after the flush.
    media_count: Mapped[int] = mapped_column(Integer, server_default="0")
    validity_seconds: Mapped[int | None]
    slot_at: Mapped[datetime | None]  # send slot reserved under the sender's rate limit (sender_slots)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The A/B test that chose this text's body, and which version it got (services/ab_tests.py).
    ab_test_id: Mapped[int | None] = mapped_column(ForeignKey("ab_tests.id"), index=True)
    ab_variant: Mapped[AbVariant | None] = mapped_column(enum_column(AbVariant, length=1))
    # The template body it was rendered from (outbox.enqueue_kind); None for agents' replies and notes.
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("template_versions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    store: Mapped[Store] = relationship()
    # Many-to-one, for the unit of work's order only: a batch's new rows are flushed together
    # (services/preload.py), parents first. Never loaded (lazy="raise"); code reads the *_id columns.
    conversation: Mapped[Conversation | None] = relationship(lazy="raise")
    order: Mapped[Order | None] = relationship(lazy="raise", foreign_keys=[order_id])
    checkout: Mapped[Checkout | None] = relationship(lazy="raise")
    template_version: Mapped[TemplateVersion | None] = relationship(lazy="raise")
