"""A store, its message templates and canned replies, sender rate slots, the webhook deliveries
it received and its catch-up poll state."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smsdesk.crypto import EncryptedString
from smsdesk.enums import DeliveryStatus, Platform
from smsdesk.models.base import Base, enum_column, utcnow


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[Platform] = mapped_column(enum_column(Platform))
    domain: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Encrypted at rest (smsdesk/crypto.py). While a secret is rotated the platform may sign with
    # either: the previous one verifies too until the owner drops it (``smsdesk store secret``).
    webhook_secret: Mapped[str] = mapped_column(EncryptedString())
    webhook_secret_previous: Mapped[str | None] = mapped_column(EncryptedString())
    # A sender belongs to one store: inbound texts find their store by it (migration 0009).
    from_number: Mapped[str | None] = mapped_column(String(20), index=True, unique=True)
    messaging_service_sid: Mapped[str | None] = mapped_column(String(40), index=True, unique=True)
    country: Mapped[str] = mapped_column(String(2), default="US")
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    quiet_hours: Mapped[str] = mapped_column(String(11), default="20:00-08:00")
    rate_per_second: Mapped[float] = mapped_column(Float, default=1.0)
    help_text: Mapped[str] = mapped_column(Text, default="")
    # False when the platform (e.g. Twilio Advanced Opt-Out) already confirms a STOP itself.
    send_opt_out_confirmation: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Customers of no known language get texts in it (migration 0020; services/languages.py).
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    api_base: Mapped[str | None] = mapped_column(String(255))
    # The platform's API, for thin callbacks and catch-up polls (README "API credentials"): the
    # token is BigCommerce's X-Auth-Token, Shopify's Admin API access token or WooCommerce's
    # consumer secret; api_key is WooCommerce's consumer key (migration 0013).
    api_token: Mapped[str | None] = mapped_column(EncryptedString())
    api_key: Mapped[str | None] = mapped_column(EncryptedString())
    store_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Template(Base):
    """A store's own body for a message kind in one language; the others fall back
    (services/template_store.py). ``enabled`` and ``delay_minutes`` are the kind's: the same on
    every language's row."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("store_id", "kind", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    body: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TemplateVersion(Base):
    """One body a store's texts of a kind were rendered from, in one language, numbered 1, 2, 3...
    in the order first used (the built-in text counts as a version too); the revenue report's
    "per template version" rows (services/template_versions.py)."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("store_id", "kind", "language", "body_hash"),
                      UniqueConstraint("store_id", "kind", "language", "number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of ``body``, the template's source
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """A ready-made answer agents insert into a reply; owners manage them (all stores, or one)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)  # None: every store
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SenderSlot(Base):
    """Per-sender rate limit shared by all workers: the next free send slot of a number/service."""

    __tablename__ = "sender_slots"

    sender_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_free_at: Mapped[datetime]
    paused_until: Mapped[datetime | None]  # the provider said "slow down" (429, queue overflow)


class WebhookDelivery(Base):
    """Every accepted webhook request: for dedupe, and the work of the jobs that apply it.

    A shop delivery is recorded ``received`` with its normalized events (smsdesk.events.encode)
    and applied by jobs/apply_events.py; a thin one (BigCommerce) is ``pending`` until
    jobs/fetch_pending.py fetches and applies it. A catch-up poll (jobs/catch_up.py) records
    what the platform's API reports the same way (topic ``catch-up``).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("store_id", "source", "delivery_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_recent", "store_id", "received_at", "id"),  # the owner's list, keyset-paged
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    source: Mapped[str] = mapped_column(String(20))
    delivery_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PROCESSED)
    payload: Mapped[dict[str, Any] | None]
    events: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))  # until applied and retained
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatchUpState(Base):
    """Where a store's catch-up poll stands (jobs/catch_up.py): the platform's changes up to
    ``watermark`` were read; ``missed_since`` is set while polls find changes no webhook told us
    of (the owner sees "webhooks look broken since ...")."""

    __tablename__ = "catch_up_states"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    watermark: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None]
    polled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed polls in a row
    error: Mapped[str] = mapped_column(Text, default="")  # why the last poll failed or was skipped
    missed_since: Mapped[datetime | None]
    missed_changes: Mapped[int] = mapped_column(Integer, default=0)
