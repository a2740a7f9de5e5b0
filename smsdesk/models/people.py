"""Users (agents and owners), their store memberships and API tokens, and the audit trail."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smsdesk.enums import (
    Role,
)
from smsdesk.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their targets; SQLAlchemy resolves them by class name
    from smsdesk.models.conversations import Message
    from smsdesk.models.customers import Customer


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # The deployment's admin: every store and its users. Others reach stores through memberships.
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Signed into every session cookie; bumping it ends all of the agent's sessions at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    removed_at: Mapped[datetime | None]  # kept (not deleted) so their past replies keep a name
    # Presence for automatic assignment (services/presence.py): the latest signed-in request,
    # written at most once a minute; away_since is set while the agent says they are away.
    last_seen_at: Mapped[datetime | None]
    away_since: Mapped[datetime | None]


class Membership(Base):
    """A user's role (owner or agent) at one store; services/access.py reads these."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("agent_id", "store_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The store's DeskSettings.assignment_seq at this member's latest automatic assignment
    # (0: none yet): round-robin gives the next conversation to the lowest.
    last_assigned_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex; the token is shown once
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    agent: Mapped[Agent] = relationship()


class AuditEvent(Base):
    """Why something happened: consent changes, suppressions, failures, agent actions."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict[str, Any] | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    # Many-to-one, for the unit of work's order only (see Message.conversation)
    customer: Mapped[Customer | None] = relationship(lazy="raise")
    message: Mapped[Message | None] = relationship(lazy="raise")
