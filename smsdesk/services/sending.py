"""Claiming due outbox rows and preparing them for the provider (DESIGN §1); what became of each
claimed text is recorded by services/send_outcomes.py.

A message is ``sending`` under a lease before the provider call and ``sent`` (with the
provider sid) after it, each in its own short transaction, so a crash in between leaves a
row that reconcile looks up at the provider before any resend.

Exactly once with any number of workers rests on the claim fence: every claim (and every
reclaim by reconcile) writes the worker's id (``claim_owner``) and bumps
``lease_generation``. ``prepare`` is the fence: in the committed transaction right before
the provider call it locks the row only if owner, generation and an unexpired lease are
all still this claim's, and renews the lease under that lock; else the text is not sent.
A claim that expired while its worker was busy therefore never reaches the provider.

Every provider call also takes a slot from its sender's rate limit (services/rate_limit.py).
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from smsdesk.db import claim_rows
from smsdesk.models import (
    PENDING_STATUSES,
    Customer,
    Message,
    MessageStatus,
    SenderSlot,
    Store,
    utcnow,
)
from smsdesk.reasons import Reason
from smsdesk.services import compliance, media, rate_limit, send_outcomes, stores
from smsdesk.services.outbox import too_long
from smsdesk.sms.base import Sender

log = logging.getLogger(__name__)

LEASE = 60.0  # seconds a claimed message belongs to one worker (``[scheduler] lease_seconds``)
SLOT_WAIT = 0.5  # seconds a worker may wait for its sender's next slot; later slots are deferred
DEFAULT_VALIDITY = 4 * 3600  # seconds; texts without a kind-specific validity (agent replies)
# Share of the lease a prepared text may wait for a free thread after its slot: the call
# itself takes at most the other two thirds (connect + read, twilio_provider.timeout_for_lease).
START_WITHIN = 1 / 3
MAX_VALIDITY = 36_000  # seconds: Twilio's upper bound for ValidityPeriod
# Twilio said "slow down": account rate limit, or this sender's queue is full.
SLOW_DOWN_CODES = frozenset({20429, 21611, 30001})


class BadStoreSettings(Exception):
    """The store's saved settings cannot be used to send (they bypassed validation)."""


@dataclass(frozen=True)
class Claim:
    """One claimed message: whose claim it is and which one (the fence ``prepare`` checks)."""

    message_id: int
    owner: str
    generation: int

    def held(self, now: datetime | None = None) -> list:
        """SQL conditions true while this claim holds the row (and, given ``now``, its lease runs)."""
        conditions = [Message.id == self.message_id, Message.status == MessageStatus.SENDING,
                      Message.claim_owner == self.owner, Message.lease_generation == self.generation]
        return conditions if now is None else [*conditions, Message.claimed_until > now]


@dataclass(frozen=True)
class Outgoing:
    """Everything the provider call needs, loaded inside the prepare transaction."""

    message_id: int
    to: str
    body: str
    sender: Sender
    validity_seconds: int
    send_at: datetime  # the reserved rate-limit slot; at most SLOT_WAIT ahead
    start_by: datetime  # the call must start by then to end inside the lease (see START_WITHIN)
    media_tokens: tuple[str, ...] = ()  # pictures (MMS): served at <public_url>/media/<token>


_WORKER_IDS: dict[int, str] = {}


def worker_id() -> str:
    """This process's name in claims: host, pid and a random tag (a pid comes back after restarts)."""
    pid = os.getpid()  # per pid: a forked process must not inherit its parent's name
    if pid not in _WORKER_IDS:
        _WORKER_IDS[pid] = f"{socket.gethostname()[:50]}:{pid}:{secrets.token_hex(4)}"
    return _WORKER_IDS[pid]


# One text per customer in flight at a time, so concurrent senders keep each customer's
# texts in queue order ("confirmed" never lands after "cancelled"). Built once: an alias is
# costly to build and adapt on every claim.
_IN_FLIGHT = aliased(Message, name="in_flight")
_CUSTOMER_BUSY = exists().where(_IN_FLIGHT.customer_id == Message.customer_id,
                                _IN_FLIGHT.status == MessageStatus.SENDING)


def claim_due(session: Session, *, limit: int, lease: float = LEASE, owner: str | None = None,
              now: datetime | None = None) -> list[Claim]:
    """Mark up to ``limit`` due rows ``sending`` under this worker's lease and return the claims.

    ``attempted_at`` is set here already: reconcile looks for the text from this moment.
    """
    now, owner = now or utcnow(), owner or worker_id()
    ids = claim_rows(session, Message, **claim_of_due(limit=limit, lease=lease, owner=owner, now=now))
    return claims_of(session, ids, owner)


def claim_of_due(*, limit: int, lease: float, owner: str, now: datetime) -> dict:
    """The arguments of ``db.claim_rows`` (or ``claim_loaded``) that claim due texts for ``owner``."""
    return {"where": [Message.status.in_(PENDING_STATUSES), Message.due_at <= now, ~_CUSTOMER_BUSY],
            "order_by": [Message.due_at, Message.id], "limit": limit, "one_per": Message.customer_id,
            "values": {"status": MessageStatus.SENDING, "claimed_until": now + timedelta(seconds=lease),
                       "attempted_at": now, "updated_at": now, "claim_owner": owner,
                       "lease_generation": Message.lease_generation + 1}}


def claims_of(session: Session, ids: list[int], owner: str) -> list[Claim]:
    """The claims ``owner`` just wrote on ``ids`` (read back inside the claiming transaction)."""
    if not ids:
        return []
    generations = dict(session.execute(
        select(Message.id, Message.lease_generation).where(Message.id.in_(ids), Message.claim_owner == owner)
    ).tuples().all())
    return [Claim(i, owner, generations[i]) for i in ids if i in generations]


def prepare(session: Session, claim: Claim, *, lease: float = LEASE, now: datetime | None = None) -> Outgoing | None:
    """The send to make for a claimed message, or None when it must not go out now.

    None means: no longer this claim's (lease over, reclaimed), suppressed by compliance,
    failed (too long), or deferred to its sender's next rate slot; all recorded. Raises
    ``BadStoreSettings`` (or any bug's exception) for the caller to record per text.
    """
    now = now or utcnow()
    loaded = load_claimed(session, [claim], now).get(claim.message_id)
    return prepare_loaded(session, claim, loaded, lease=lease, now=now)


def prepare_loaded(session: Session, claim: Claim, loaded: tuple[Message, Customer, Store] | None, *,
                   lease: float, now: datetime, slots: dict[str, SenderSlot] | None = None) -> Outgoing | None:
    """``prepare`` for a message ``load_claimed`` locked (None: claim lost); ``slots``: see rate_limit.take_slot."""
    admitted = admit(session, claim, loaded, now=now)
    return None if admitted is None else schedule(session, *admitted, lease=lease, now=now, slots=slots)


def admit(session: Session, claim: Claim, loaded: tuple[Message, Customer, Store] | None, *,
          now: datetime) -> tuple[Message, Customer, Store] | None:
    """The checks of ``prepare`` before the rate slot: None when the text must not go out (recorded)."""
    if loaded is None:
        log.info("message %s: claim %s lost before sending; not sent", claim.message_id, claim.generation)
        return None
    message, customer, store = loaded
    if too_long(message.body):
        send_outcomes.fail_unsendable(session, claim, reason=Reason.TOO_LONG, detail=f"{len(message.body)} characters")
        return None
    problem = stores.sending_settings_problem(store)
    if problem is not None:
        raise BadStoreSettings(f"store {store.slug}, {problem.field}: {problem}")
    decision = compliance.decide(session, message=message, customer=customer, store=store, now=now)
    if decision.action != compliance.SEND:
        compliance.apply(session, message, decision)  # suppressed, cancelled or deferred: recorded
        return None
    return loaded


def schedule(session: Session, message: Message, customer: Customer, store: Store, *, lease: float,
             now: datetime, slots: dict[str, SenderSlot] | None = None) -> Outgoing | None:
    """The last step of ``prepare``: the rate slot, then the renewed lease (or deferred to the slot)."""
    sender = stores.sender_of(store)
    send_at = rate_limit.take_slot(session, message, sender_key=sender.key, rate=store.rate_per_second, now=now,
                                   locked=slots)
    if send_at > now + timedelta(seconds=SLOT_WAIT):
        rate_limit.defer(message, send_at)
        return None
    renew_claim(message, until=send_at + timedelta(seconds=lease), now=now)
    return Outgoing(message_id=message.id, to=customer.phone, body=message.body, sender=sender,
                    validity_seconds=validity_for(message), send_at=send_at,
                    start_by=send_at + timedelta(seconds=lease * START_WITHIN),
                    media_tokens=media.tokens_of(session, message.id) if message.media_count else ())


def load_claimed(session: Session, claims: list[Claim], now: datetime) -> dict[int, tuple[Message, Customer, Store]]:
    """Each message (row-locked) with its customer and store, by id, if its claim still holds it."""
    if not claims:
        return {}
    wanted = {claim.message_id: claim for claim in claims}
    rows = session.execute(
        select(Message, Customer, Store)
        .join(Customer, Customer.id == Message.customer_id)
        .join(Store, Store.id == Message.store_id)
        .where(Message.id.in_(wanted), Message.status == MessageStatus.SENDING, Message.claimed_until > now,
               Message.claim_owner.in_({claim.owner for claim in claims}))
        .with_for_update(of=Message)
        .execution_options(populate_existing=True)
    ).tuples()
    return {message.id: (message, customer, store) for message, customer, store in rows
            if (message.claim_owner, message.lease_generation) == (wanted[message.id].owner,
                                                                   wanted[message.id].generation)}


def renew_claim(message: Message, *, until: datetime, now: datetime) -> None:
    """Count the attempt and extend the lease of a message ``load_claimed`` locked for its claim.

    The row lock taken with the claim check holds until the caller commits, right before
    the provider call: nobody can reclaim the row in between.
    """
    message.attempts += 1
    message.attempted_at, message.claimed_until, message.updated_at = now, until, now


def validity_for(message: Message) -> int:
    """Seconds the text may wait in the provider's queue before it is dropped as stale."""
    return max(1, min(message.validity_seconds or DEFAULT_VALIDITY, MAX_VALIDITY))


# -- reconcile's side: rows left ``sending`` past their lease ----------------------


def reclaim_expired(session: Session, *, limit: int, lease: float = LEASE, owner: str | None = None,
                    now: datetime | None = None) -> list[Claim]:
    """Claim rows left ``sending`` past their lease for a provider lookup (a new generation).

    The old holder's fence fails from here on, so it can neither send nor record a retry.
    """
    now, owner = now or utcnow(), owner or worker_id()
    ids = claim_rows(
        session, Message, where=[Message.status == MessageStatus.SENDING, Message.claimed_until < now],
        order_by=[Message.claimed_until, Message.id], limit=limit,
        values={"claimed_until": now + timedelta(seconds=lease), "claim_owner": owner, "updated_at": now,
                "lease_generation": Message.lease_generation + 1},
    )
    return claims_of(session, ids, owner)


