"""Claiming due outbox rows and recording what the provider said (DESIGN §1).

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

from smsdesk import retry
from smsdesk.db import claim_rows
from smsdesk.models import (
    PENDING_STATUSES,
    AuditEvent,
    ConsentSource,
    Customer,
    Message,
    MessageStatus,
    SenderSlot,
    Store,
    utcnow,
)
from smsdesk.reasons import Reason
from smsdesk.services import audit, checkouts, compliance, media, rate_limit, stores
from smsdesk.services.consent import withdraw_for_stop
from smsdesk.services.customers import set_opted_out
from smsdesk.services.outbox import cancel_pending, too_long
from smsdesk.sms.base import Sender, SentMessage

log = logging.getLogger(__name__)

LEASE = 60.0  # seconds a claimed message belongs to one worker (``[scheduler] lease_seconds``)
MAX_ATTEMPTS = 6  # provider calls before a retryable failure becomes "failed"
BACKOFF_BASE = 2.0  # seconds; doubled per attempt, with full jitter
BACKOFF_CAP = 300.0  # seconds
SLOT_WAIT = 0.5  # seconds a worker may wait for its sender's next slot; later slots are deferred
DEFAULT_VALIDITY = 4 * 3600  # seconds; texts without a kind-specific validity (agent replies)
# Share of the lease a prepared text may wait for a free thread after its slot: the call
# itself takes at most the other two thirds (connect + read, twilio_provider.timeout_for_lease).
START_WITHIN = 1 / 3
MAX_VALIDITY = 36_000  # seconds: Twilio's upper bound for ValidityPeriod
PREPARE_RETRY_MIN = 30.0  # seconds before a text that could not be prepared is tried again (time to fix a store)
MAX_LOOKUPS = 5  # failed provider lookups before a text of unknown outcome ends failed
LOOKUP_RETRY_MIN = 1.0  # seconds between lookups of one text, at least
CONFLICT_ACTION = "conflicting_sid"  # audit action: a sid (mostly from a callback) named another text
UNSUBSCRIBED = 21610  # Twilio: the recipient replied STOP to this sender
# Twilio said "slow down": account rate limit, or this sender's queue is full.
SLOW_DOWN_CODES = frozenset({20429, 21611, 30001})
# Reason codes for Twilio's permanent refusals; the API shows them with the error code.
REFUSAL_REASONS = {
    21211: Reason.INVALID_NUMBER, 21614: Reason.NOT_A_MOBILE_NUMBER, 21408: Reason.REGION_NOT_ENABLED,
    21610: Reason.RECIPIENT_UNSUBSCRIBED, 21612: Reason.UNREACHABLE_ROUTE, 21606: Reason.INVALID_SENDER,
}


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
        fail_unsendable(session, claim, reason=Reason.TOO_LONG, detail=f"{len(message.body)} characters")
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


def fail_unsendable(session: Session, claim: Claim, *, reason: Reason, detail: str) -> None:
    """A text that can never be sent as it is (e.g. too long): failed, no provider call."""
    message = _held(session, claim)
    if message is not None:
        _fail(session, message, reason=reason, detail=detail, code=None, source="sender")


def record_not_prepared(session: Session, claim: Claim, *, reason: Reason, detail: str) -> None:
    """Preparing this text raised: an attempt used; back in the queue with backoff, or failed at the last."""
    message = _held(session, claim)
    if message is None:
        return
    message.attempts += 1
    if message.attempts >= MAX_ATTEMPTS:
        _fail(session, message, reason=reason, detail=f"after {message.attempts} attempts: {detail}",
              code=None, source="sender")
        return
    delay = max(PREPARE_RETRY_MIN, backoff(message.attempts))
    _requeue(message, delay=delay, reason=reason, detail=detail, code=None)


def _held(session: Session, claim: Claim) -> Message | None:
    """The message, locked, if ``claim`` still holds it; its lease may have run out since
    (a result is recorded after the call), but nobody reclaimed it."""
    return session.scalar(select(Message).where(*claim.held()).with_for_update()
                          .execution_options(populate_existing=True))


def validity_for(message: Message) -> int:
    """Seconds the text may wait in the provider's queue before it is dropped as stale."""
    return max(1, min(message.validity_seconds or DEFAULT_VALIDITY, MAX_VALIDITY))


# -- recording the provider's answer ----------------------------------------------


def mark_sent(session: Session, message_id: int, sent: SentMessage, *, source: str = "provider") -> None:
    """Record an accepted text, whoever holds the claim now: the provider has it."""
    message = session.get_one(Message, message_id, with_for_update=True, populate_existing=True)
    record_sent(session, message, sent, source=source)


def record_sent(session: Session, message: Message, sent: SentMessage, *, source: str = "provider",
                maybe_held: bool = True) -> None:
    """``mark_sent`` for a message already loaded and locked in this transaction
    (``maybe_held=False``: the caller checked that no row holds the sid)."""
    take_sid(session, message, sent.sid, source=source, maybe_held=maybe_held)
    if message.status in (MessageStatus.SENDING, *PENDING_STATUSES):  # a callback may have moved it on
        message.status = MessageStatus.DELIVERED if sent.status == "delivered" else MessageStatus.SENT
        message.reason = None
        message.reason_detail = "" if source == "provider" else f"found at the provider by {source}"
        message.error_code = None
    message.sent_at, message.claimed_until, message.slot_at = message.sent_at or utcnow(), None, None
    if sent.segments:
        message.segments = sent.segments
    audit.record(session, "sent", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, source=source, detail={"sid": sent.sid})
    checkouts.reminder_sent(session, message)  # a sent first cart reminder schedules the second


def take_sid(session: Session, message: Message, sid: str, *, source: str, maybe_held: bool = True) -> None:
    """Put the provider's sid on ``message``.

    The provider's own answer outranks a sid a status callback attached by our message id:
    such a sid (on this row or another) is dropped and the conflict recorded once.
    """
    holder = session.scalar(select(Message).where(Message.provider_sid == sid, Message.id != message.id)
                            .with_for_update()) if maybe_held else None
    if holder is not None:
        holder.provider_sid = None
        session.flush()  # free the unique sid before this row takes it
        record_conflict(session, holder, sid, source=source)
    if message.provider_sid not in (None, sid):
        record_conflict(session, message, message.provider_sid, source=source)
    message.provider_sid = sid


def record_conflict(session: Session, message: Message, sid: str, *, source: str) -> None:
    """A sid that does not belong to this message: logged and audited once per message."""
    seen = session.scalar(select(AuditEvent.id).where(AuditEvent.message_id == message.id,
                                                      AuditEvent.action == CONFLICT_ACTION).limit(1))
    if seen is not None:
        return
    log.error("message %s: provider sid %s conflicts with its own; kept out of its record", message.id, sid)
    audit.record(session, CONFLICT_ACTION, store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=Reason.CONFLICTING_CALLBACK.value, source=source,
                 detail={"sid": sid, "own_sid": message.provider_sid})


def mark_retry(session: Session, claim: Claim, *, error: str, retry_after: float | None = None,
               code: int | None = None) -> None:
    """Put a message back in the queue after a failure the provider certainly did not act on."""
    message = _held(session, claim)
    if message is None:
        return  # no longer this claim's: whoever holds it now decides
    if message.attempts >= MAX_ATTEMPTS:
        _fail(session, message, reason=Reason.GAVE_UP, detail=f"after {message.attempts} attempts: {error}",
              code=code, source="provider")
        return
    delay = max(retry_after or 0.0, backoff(message.attempts))
    _requeue(message, delay=delay, reason=Reason.RETRYING, detail=error, code=code)


def put_back(session: Session, claim: Claim) -> None:
    """A prepared text that was never handed to the provider: back in the queue where it was,
    and its attempt not counted."""
    message = _held(session, claim)
    if message is not None:
        message.status, message.claimed_until, message.slot_at = MessageStatus.QUEUED, None, None
        message.attempts = max(0, message.attempts - 1)


def _requeue(message: Message, *, delay: float, reason: Reason, detail: str, code: int | None) -> None:
    message.status, message.claimed_until, message.slot_at = MessageStatus.QUEUED, None, None
    message.due_at = utcnow() + timedelta(seconds=delay)
    message.reason, message.reason_detail, message.error_code = reason, detail[:500], code
    message.reconcile_tries = 0


def mark_failed(session: Session, claim: Claim, *, error: str, code: int | None = None) -> None:
    """Record a text the provider refused for good; 21610 also opts the customer out."""
    message = _held(session, claim)
    if message is not None:
        reason = REFUSAL_REASONS.get(code, Reason.REJECTED)  # type: ignore[arg-type]
        _fail(session, message, reason=reason, detail=error, code=code, source="provider")


def _fail(session: Session, message: Message, *, reason: Reason, detail: str, code: int | None,
          source: str) -> None:
    message.status, message.claimed_until, message.slot_at = MessageStatus.FAILED, None, None
    message.reason, message.reason_detail, message.error_code = reason, detail[:500], code
    audit.record(session, "send_failed", store_id=message.store_id, customer_id=message.customer_id,
                 message_id=message.id, reason=reason.value, source=source,
                 detail={"code": code, "error": detail[:255]})
    if code == UNSUBSCRIBED:
        opt_out_unsubscribed(session, message.customer_id)


def opt_out_unsubscribed(session: Session, customer_id: int) -> None:
    """The carrier/provider holds a STOP from this phone: honour it here too."""
    customer = session.get_one(Customer, customer_id)
    if set_opted_out(session, customer, True, source=f"twilio_{UNSUBSCRIBED}", reason="recipient unsubscribed"):
        cancel_pending(session, reason=Reason.OPTED_OUT, customer_id=customer.id)
        withdraw_for_stop(session, customer, word=f"error {UNSUBSCRIBED}", source=ConsentSource.PROVIDER)


def mark_ambiguous(session: Session, claim: Claim, *, error: str, settle: float) -> None:
    """The provider may have the text: leave it ``sending`` and let reconcile decide after ``settle`` s."""
    message = _held(session, claim)
    if message is None:
        return
    message.reason, message.reason_detail = Reason.AMBIGUOUS, error[:500]
    settled = utcnow() + timedelta(seconds=settle)
    message.claimed_until = min(message.claimed_until or settled, settled)


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter, in seconds (smsdesk.retry, with the sender's base and cap)."""
    return retry.backoff(attempts, base=BACKOFF_BASE, cap=BACKOFF_CAP)


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


def record_lookup_failed(session: Session, claim: Claim, *, error: str) -> None:
    """The provider could not say whether it has the text: look again later, or give up failed."""
    message = _held(session, claim)
    if message is None:
        return
    message.reconcile_tries += 1
    if message.reconcile_tries >= MAX_LOOKUPS:
        _fail(session, message, reason=Reason.OUTCOME_UNKNOWN,
              detail=f"{message.reconcile_tries} lookups failed, last: {error}", code=None, source="reconcile")
        return
    message.reason, message.reason_detail = Reason.AMBIGUOUS, f"lookup failed: {error}"[:500]
    message.claimed_until = utcnow() + timedelta(seconds=max(LOOKUP_RETRY_MIN, backoff(message.reconcile_tries)))
