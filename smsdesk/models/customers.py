"""Customers, their search documents, their consent history and the suppressions that outlive
an erasure."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smsdesk.enums import (
    ConsentLevel,
    ConsentSource,
    ConsentState,
)
from smsdesk.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their targets; SQLAlchemy resolves them by class name
    from smsdesk.models.stores import Store


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("store_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    phone: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    # BCP-47 primary subtag ("es") the platform or a keyword told; None: the store's default.
    language: Mapped[str | None] = mapped_column(String(8))
    # A cache of the latest ``consents`` row of this number; only services.consent.record_consent sets it.
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    store: Mapped[Store] = relationship()

    @property
    def name(self) -> str:
        return Customer.full_name(self.first_name, self.last_name)

    @staticmethod
    def full_name(first_name: str, last_name: str) -> str:
        """The name as shown; for list rows read as plain columns too (services/queries.py)."""
        return f"{first_name} {last_name}".strip()


class SearchDoc(Base):
    """What the inbox search reads, one row per customer (migration 0013): name and phone, order
    numbers, and the tail of their latest texts. Only database triggers write it (customers,
    orders and messages change in many places, and a trigger can't be forgotten)."""

    __tablename__ = "search_docs"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    who: Mapped[str] = mapped_column(Text)
    orders: Mapped[str] = mapped_column(Text)
    texts: Mapped[str] = mapped_column(Text)


class Consent(Base):
    """Append-only history of SMS marketing consent per store and phone (services/consent.py);
    ``Customer.marketing_consent`` caches the latest row's state."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_store_phone", "store_id", "phone", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    phone: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    state: Mapped[ConsentState] = mapped_column(enum_column(ConsentState))
    level: Mapped[ConsentLevel] = mapped_column(enum_column(ConsentLevel))
    source: Mapped[ConsentSource] = mapped_column(enum_column(ConsentSource))
    platform_state: Mapped[str] = mapped_column(String(40), default="")  # the source's word: pending, STOP ...
    collected_from: Mapped[str] = mapped_column(String(100), default="")  # e.g. Shopify's SHOPIFY / OTHER, checkout
    delivery_id: Mapped[str] = mapped_column(String(255), default="")  # the webhook delivery it came from
    at: Mapped[datetime]  # when the customer gave or withdrew it (the source's time, else ours)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Many-to-one, for the unit of work's order only (see Message.conversation)
    customer: Mapped[Customer] = relationship(lazy="raise")


class Suppression(Base):
    """A number that opted out and was then erased, kept only as a salted hash: the fact of the
    opt-out outlives the erasure, so a later order from that number still gets no text."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("store_id", "phone_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    phone_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
