"""The data model (SQLAlchemy 2.0, typed). The ``messages`` table is the outbox."""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from smsdesk.crypto import EncryptedString
from smsdesk.enums import (  # re-exported: the models' states live beside them for callers
    PENDING_STATUSES as PENDING_STATUSES,
    ConsentLevel as ConsentLevel,
    ConsentSource as ConsentSource,
    ConsentState as ConsentState,
    ConversationStatus as ConversationStatus,
    Direction as Direction,
    MessageStatus as MessageStatus,
    Platform as Platform,
    Role as Role,
)
from smsdesk.reasons import Reason


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # none_as_null: a Python None is SQL NULL (not the JSON literal null), so IS NULL finds it.
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(none_as_null=True), list[Any]: JSON}


def _enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    # Stored by value as plain strings: readable in SQL and no PostgreSQL enum types to migrate.
    return Enum(cls, native_enum=False, values_callable=lambda e: [m.value for m in e], length=length)


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[Platform] = mapped_column(_enum(Platform))
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
    api_base: Mapped[str | None] = mapped_column(String(255))
    # The platform's API, for thin callbacks and catch-up polls (README "API credentials"): the
    # token is BigCommerce's X-Auth-Token, Shopify's Admin API access token or WooCommerce's
    # consumer secret; api_key is WooCommerce's consumer key (migration 0013).
    api_token: Mapped[str | None] = mapped_column(EncryptedString())
    api_key: Mapped[str | None] = mapped_column(EncryptedString())
    store_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("store_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    phone: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    # A cache of the latest ``consents`` row of this number; only services.consent.record_consent sets it.
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    store: Mapped[Store] = relationship()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


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
    no_text_reason: Mapped[Reason | None] = mapped_column(_enum(Reason, length=40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Units ordered, when the platform says (0: unknown); a package with fewer is a partial shipment.
    item_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What was ordered, [{"title", "quantity"}], when the platform says (migration 0013).
    items: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))


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
    no_text_reason: Mapped[Reason | None] = mapped_column(_enum(Reason, length=40))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class Consent(Base):
    """Append-only history of SMS marketing consent per store and phone (services/consent.py);
    ``Customer.marketing_consent`` caches the latest row's state."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_store_phone", "store_id", "phone", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    phone: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    state: Mapped[ConsentState] = mapped_column(_enum(ConsentState))
    level: Mapped[ConsentLevel] = mapped_column(_enum(ConsentLevel))
    source: Mapped[ConsentSource] = mapped_column(_enum(ConsentSource))
    platform_state: Mapped[str] = mapped_column(String(40), default="")  # the source's word: pending, STOP ...
    collected_from: Mapped[str] = mapped_column(String(100), default="")  # e.g. Shopify's SHOPIFY / OTHER, checkout
    delivery_id: Mapped[str] = mapped_column(String(255), default="")  # the webhook delivery it came from
    at: Mapped[datetime]  # when the customer gave or withdrew it (the source's time, else ours)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    # received|processed|ignored|pending|failed
    status: Mapped[str] = mapped_column(String(20), default="processed")
    payload: Mapped[dict[str, Any] | None]
    events: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))  # until applied and retained
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class Membership(Base):
    """A user's role (owner or agent) at one store; services/access.py reads these."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("agent_id", "store_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex; the token is shown once
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    agent: Mapped[Agent] = relationship()


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
    status: Mapped[ConversationStatus] = mapped_column(_enum(ConversationStatus), default=ConversationStatus.CLOSED)
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
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus))
    reason: Mapped[Reason | None] = mapped_column(_enum(Reason, length=40))  # why not (yet) sent as planned
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
    media_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # pictures (MMS)
    validity_seconds: Mapped[int | None]
    slot_at: Mapped[datetime | None]  # send slot reserved under the sender's rate limit (sender_slots)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    store: Mapped[Store] = relationship()


class SenderSlot(Base):
    """Per-sender rate limit shared by all workers: the next free send slot of a number/service."""

    __tablename__ = "sender_slots"

    sender_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_free_at: Mapped[datetime]
    paused_until: Mapped[datetime | None]  # the provider said "slow down" (429, queue overflow)


class Template(Base):
    """A store's own body for a message kind; kinds without a row use the default."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("store_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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


class CannedReply(Base):
    """A ready-made answer agents insert into a reply; owners manage them (all stores, or one)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)  # None: every store
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Suppression(Base):
    """A number that opted out and was then erased, kept only as a salted hash: the fact of the
    opt-out outlives the erasure, so a later order from that number still gets no text."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("store_id", "phone_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    phone_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


# Pictures of MMS texts live in their own module (models.py is long); imported here so the
# one metadata always holds their table.
import smsdesk.media_models  # noqa: E402,F401  (imports Base from here: keep this line last)
