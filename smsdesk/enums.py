"""States and kinds stored by value in the database (the reasons are in smsdesk/reasons.py)."""
from __future__ import annotations

import enum


class Platform(str, enum.Enum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    BIGCOMMERCE = "bigcommerce"
    GENERIC = "generic"


class Role(str, enum.Enum):
    """A user's role: ``admin`` for the deployment (every store, users), owner/agent per store."""

    ADMIN = "admin"  # Agent.is_admin; never a membership's role
    OWNER = "owner"  # the store's templates, settings, canned replies, dashboard, and its inbox
    AGENT = "agent"  # the store's inbox


STORE_ROLES = (Role.OWNER, Role.AGENT)  # what a membership may hold


class Direction(str, enum.Enum):
    IN = "in"
    OUT = "out"


class DeliveryStatus(str, enum.Enum):
    """Where a recorded webhook delivery (or catch-up poll result) stands."""

    RECEIVED = "received"  # its events wait for jobs/apply_events.py
    PENDING = "pending"  # a thin webhook: jobs/fetch_pending.py fetches its details first
    PROCESSED = "processed"  # applied
    IGNORED = "ignored"  # nothing in it for smsdesk (a topic or change it does not text about)
    FAILED = "failed"  # given up after its tries; the error says why


DUE_DELIVERIES = (DeliveryStatus.RECEIVED, DeliveryStatus.PENDING)  # what a job still has to do


class MessageStatus(str, enum.Enum):
    SCHEDULED = "scheduled"  # waiting for its due_at (delays, quiet hours)
    QUEUED = "queued"  # due now, waiting for the sender job
    SENDING = "sending"  # claimed under a lease; the provider call may be in flight
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"  # compliance said no (opted out, quiet hours, no consent, cap)
    RECEIVED = "received"  # inbound from the customer
    NOTE = "note"  # internal note for agents, never sent


PENDING_STATUSES = (MessageStatus.SCHEDULED, MessageStatus.QUEUED)


class ConsentState(str, enum.Enum):
    GRANTED = "granted"  # may receive marketing texts from ``at`` on
    WITHDRAWN = "withdrawn"  # no marketing from ``at`` on (STOP, unsubscribed, pending, not subscribed, redacted)


class ConsentLevel(str, enum.Enum):  # how it was obtained (M3AAWG opt-in levels, as Shopify reports them)
    SINGLE_OPT_IN = "single_opt_in"  # a box ticked or a flag set, not confirmed
    CONFIRMED_OPT_IN = "confirmed_opt_in"  # confirmed by the customer (double opt-in)
    UNKNOWN = "unknown"


class ConsentSource(str, enum.Enum):  # who told us: a shop platform (its webhook), the customer, the provider
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    BIGCOMMERCE = "bigcommerce"
    GENERIC = "generic"
    KEYWORD = "keyword"  # the customer texted STOP
    PROVIDER = "provider"  # the provider refused a text: the recipient unsubscribed (Twilio 21610)
    IMPORT = "import"  # consent held before the history existed (migration 0003)


class ConversationStatus(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class RoutingReason(str, enum.Enum):
    """Why automatic assignment gave a conversation to someone or took it back (audit trail)."""

    STARTED_WAITING = "started_waiting"  # a new text made the conversation wait: round-robin
    ANSWER_TIMEOUT = "answer_timeout"  # the assignee did not answer in the store's time: back to the queue
    REOFFERED = "reoffered"  # given to the next agent after the previous one let it lapse
    NO_AGENT_AVAILABLE = "no_agent_available"  # nobody seen, present and below the limit: left in the queue


class AbVariant(str, enum.Enum):
    """Which version of a reminder an A/B test gave a customer (services/ab_tests.py)."""

    A = "A"  # the store's template for the kind and language
    B = "B"  # the test's own body


class AbEndReason(str, enum.Enum):
    """Why an A/B test stopped splitting."""

    ENDED = "ended"  # the owner ended it and kept the template (A)
    B_ADOPTED = "b_adopted"  # the owner ended it and made B the template


class Attribution(str, enum.Enum):
    """How an order was attributed to a marketing text (services/attribution.py)."""

    CLICK = "click"  # the customer clicked a short link in it within the store's click window
    VIEW = "view"  # it was sent to the customer within the view window (where the owner turned that on)
