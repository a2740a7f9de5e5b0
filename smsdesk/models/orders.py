"""Orders, their packages (shipments) and abandoned checkouts."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

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

from smsdesk.enums import Attribution
from smsdesk.models.base import Base, enum_column, utcnow
from smsdesk.reasons import Reason

if TYPE_CHECKING:  # relationships name their targets; SQLAlchemy resolves them by class name
    from smsdesk.models.customers import Customer


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        # The dashboard's "orders that got no text", newest first: a partial index holds only those.
        Index("ix_orders_no_text", "updated_at", postgresql_where=text("no_text_reason IS NOT NULL"),
              sqlite_where=text("no_text_reason IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="placed")
    total: Mapped[str] = mapped_column(String(32), default="")
    currency: Mapped[str] = mapped_column(String(3), default="")
    status_url: Mapped[str] = mapped_column(Text, default="")
    checkout_token: Mapped[str | None] = mapped_column(String(255), index=True)
    tracking_number: Mapped[str] = mapped_column(String(255), default="")
    tracking_company: Mapped[str] = mapped_column(String(255), default="")
    tracking_url: Mapped[str] = mapped_column(Text, default="")
    # Why the latest stage got no text (no phone, a landline, opted out ...); cleared when one is queued.
    no_text_reason: Mapped[Reason | None] = mapped_column(enum_column(Reason, length=40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Units ordered, when the platform says (0: unknown); a package with fewer is a partial shipment.
    item_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What was ordered, [{"title", "quantity"}], when the platform says (migration 0013).
    items: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    # The marketing text the order is credited to, and how (services/attribution.py); set once,
    # when the order is first recorded with its customer. A refund or cancellation keeps it.
    # use_alter: messages refer to orders too, and the tables' order (create, drop) needs no cycle.
    attributed_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", use_alter=True), index=True)
    attribution: Mapped[Attribution | None] = mapped_column(enum_column(Attribution, length=10))
    attributed_at: Mapped[datetime | None]  # the click, or the text's sending, it is credited for

    # Many-to-one, for the unit of work's order only (see Message.conversation)
    customer: Mapped[Customer | None] = relationship(lazy="raise")


class Shipment(Base):
    """One package of an order (a platform's fulfillment or shipment), with its own tracking.

    ``external_id`` is the platform's id; "" is the one package of an order whose platform
    only speaks of the whole order. The order's ``tracking_*`` columns mirror the latest package.
    """

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("order_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    external_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), default="shipped")
    tracking_number: Mapped[str] = mapped_column(String(255), default="")
    tracking_company: Mapped[str] = mapped_column(String(255), default="")
    tracking_url: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list[Any]] = mapped_column(default=list)  # [{"title", "quantity"}], when the platform says
    item_count: Mapped[int] = mapped_column(Integer, default=0)  # units in this package (0: unknown)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Many-to-one, for the unit of work's order only (see Message.conversation)
    order: Mapped[Order] = relationship(lazy="raise")


class Checkout(Base):
    __tablename__ = "checkouts"
    __table_args__ = (UniqueConstraint("store_id", "token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    token: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    recovery_url: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[str] = mapped_column(String(32), default="")
    currency: Mapped[str] = mapped_column(String(3), default="")
    items: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | completed
    # Why no reminder is scheduled (no phone, no consent ...); cleared when one is.
    no_text_reason: Mapped[Reason | None] = mapped_column(enum_column(Reason, length=40))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    # Many-to-one, for the unit of work's order only (see Message.conversation)
    customer: Mapped[Customer | None] = relationship(lazy="raise")
