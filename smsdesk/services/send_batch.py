"""Many texts per transaction: claim and prepare a batch, record a batch of answers.

The rules are those of services/sending.py, unchanged: every text is claimed, fenced and
prepared in a transaction that commits before its provider call, and an answer is
recorded only on a claim that still holds (or, for an accepted text, on whoever holds it).
Only the number of transactions and statements changes: one transaction per batch instead
of two or three per text, rows and sender slots locked a batch at a time, the updates
written together at commit. A text that fails to prepare has the failure recorded on it
and the rest of the batch goes on; a database error ends the batch (the job then claims
and prepares text by text).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from smsdesk.db import claim_loaded
from smsdesk.models import Customer, Message, Store, utcnow
from smsdesk.reasons import Reason
from smsdesk.services import rate_limit, send_outcomes, sending
from smsdesk.services.stores import sender_of
from smsdesk.sms.base import SentMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """One provider call to make: the claim that allows it and what to send."""

    claim: sending.Claim
    outgoing: sending.Outgoing


def claim_and_prepare(session: Session, *, limit: int, lease: float, owner: str,
                      now: datetime | None = None) -> tuple[int, list[Call]]:
    """Claim up to ``limit`` due texts and prepare each; returns (how many were claimed, calls to make).

    The caller commits before making any call: that commit is the claim and the fence (the
    texts are claimed in this very transaction, so the fence holds by construction). A
    database error ends the whole batch (the caller may go text by text instead).
    """
    now = now or utcnow()
    claimed = _claim(session, limit=limit, lease=lease, owner=owner, now=now)
    admitted = [(claim, row) for claim, row in
                ((claim, _admit(session, claim, loaded, now=now)) for claim, loaded in claimed) if row is not None]
    # The senders' slot rows are locked last, so a concurrent worker waits for them only
    # while this transaction writes and commits.
    slots = rate_limit.lock_senders(session, {sender_of(store).key for _, (_, _, store) in admitted}, now)
    calls = []
    for claim, (message, customer, store) in admitted:
        outgoing = sending.schedule(session, message, customer, store, lease=lease, now=now, slots=slots)
        if outgoing is not None:
            calls.append(Call(claim, outgoing))
    return len(claimed), calls


def _claim(session: Session, *, limit: int, lease: float, owner: str,
           now: datetime) -> list[tuple[sending.Claim, tuple[Message, Customer, Store]]]:
    """Claim due texts (UPDATE ... RETURNING), with each one's customer and store, in queue order."""
    messages = sorted(claim_loaded(session, Message, **sending.claim_of_due(limit=limit, lease=lease, owner=owner,
                                                                             now=now)),
                      key=lambda message: (message.due_at, message.id))
    if not messages:
        return []
    rows = session.execute(
        select(Message.id, Customer, Store).join(Customer, Customer.id == Message.customer_id)
        .join(Store, Store.id == Message.store_id).where(Message.id.in_([message.id for message in messages]))
    ).tuples()
    related = {message_id: (customer, store) for message_id, customer, store in rows}
    return [(sending.Claim(message.id, owner, message.lease_generation), (message, *related[message.id]))
            for message in messages]


def _admit(session: Session, claim: sending.Claim, loaded: tuple[Message, Customer, Store], *,
           now: datetime) -> tuple[Message, Customer, Store] | None:
    # No savepoint per text (it would flush every text on its own): before it raises, a
    # text's checks have written at most its suppression, never a fence.
    try:
        return sending.admit(session, claim, loaded, now=now)
    except DBAPIError:
        raise  # the transaction is broken: the batch is rolled back as a whole
    except Exception as exc:  # one text's bad data or store must not stop the others
        reason, detail = not_prepared(claim, exc)
        send_outcomes.record_not_prepared(session, claim, reason=reason, detail=detail)
        return None


def not_prepared(claim: sending.Claim, exc: Exception) -> tuple[Reason, str]:
    """Why preparing this text failed (reason, detail), logged once."""
    if isinstance(exc, sending.BadStoreSettings):
        log.warning("message %s: %s", claim.message_id, exc)
        return Reason.BAD_STORE_SETTINGS, str(exc)
    log.error("message %s: preparing the send failed", claim.message_id, exc_info=exc)
    return Reason.SEND_ERROR, f"{type(exc).__name__}: {exc}"


def record_sent_many(session: Session, sent: dict[int, SentMessage]) -> None:
    """``send_outcomes.mark_sent`` for many texts (message id -> the provider's answer), locked in one query."""
    held = set(session.scalars(select(Message.provider_sid)
                               .where(Message.provider_sid.in_({answer.sid for answer in sent.values()}))))
    messages = session.scalars(select(Message).where(Message.id.in_(sent)).order_by(Message.id)
                               .with_for_update().execution_options(populate_existing=True))
    for message in messages:
        send_outcomes.record_sent(session, message, sent[message.id], maybe_held=sent[message.id].sid in held)
