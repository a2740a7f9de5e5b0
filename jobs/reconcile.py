"""Reconcile: decide what happened to texts left ``sending`` (a crash or an ambiguous answer).

Reconcile first reclaims the row (its own owner id and a new lease generation), so the
worker that held it can no longer pass the fence and send it. Then the provider is asked
whether it has the text (to + body, since the attempt began): if so the row becomes
``sent`` with that sid, otherwise it goes back to the queue. If the provider cannot answer,
the row is looked up again later; after ``send_outcomes.MAX_LOOKUPS`` failed lookups it ends
``failed`` with reason ``outcome_unknown``.

A match whose sid already belongs to another of our messages is not this text (the same
body to the same phone twice, e.g. an agent's "Thanks!"), so it counts as not found.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import Customer, Message
from smsdesk.services import send_outcomes, sending
from smsdesk.sms.base import SendError, SentMessage, SmsProvider

log = logging.getLogger(__name__)
BATCH = 50
CLOCK_SKEW = timedelta(minutes=2)  # the provider's clock vs ours when filtering by date


@dataclass(frozen=True)
class Stranded:
    """A row left ``sending``, reclaimed by reconcile for one lookup."""

    claim: sending.Claim
    to: str
    body: str
    attempted_at: datetime


def reconcile(sessions: sessionmaker[Session], provider: SmsProvider, *, batch: int = BATCH,
              lease: float = sending.LEASE) -> int:
    """Resolve up to ``batch`` rows whose lease expired in ``sending``; returns how many were resolved.

    One row is reclaimed at a time, right before its lookup, so no reclaimed row waits
    behind other lookups until its new lease runs out.
    """
    resolved = 0
    for _ in range(batch):
        rows = _stranded(sessions, 1, lease)
        if not rows:
            break
        row = rows[0]
        try:
            resolved += _reconcile_one(sessions, provider, row)
        except Exception:  # one row's trouble must not hold up the others
            log.exception("reconcile %s: failed; the row is looked at again after its lease", row.claim.message_id)
    return resolved


def _reconcile_one(sessions: sessionmaker[Session], provider: SmsProvider, row: Stranded) -> int:
    try:
        found = provider.find_sent(row.to, row.body, sent_after=row.attempted_at - CLOCK_SKEW)
    except SendError as exc:
        log.warning("reconcile %s: lookup failed (%s)", row.claim.message_id, exc.message)
        with sessions.begin() as session:
            send_outcomes.record_lookup_failed(session, row.claim, error=exc.message)
        return 0
    with sessions.begin() as session:
        return resolve(session, row, found)


def _stranded(sessions: sessionmaker[Session], batch: int, lease: float) -> list[Stranded]:
    with sessions.begin() as session:
        rows = []
        for claim in sending.reclaim_expired(session, limit=batch, lease=lease):
            message = session.get_one(Message, claim.message_id)
            phone = session.get_one(Customer, message.customer_id).phone
            attempted_at = message.attempted_at or message.created_at
            rows.append(Stranded(claim, phone, message.body, attempted_at))
        return rows


def resolve(session: Session, row: Stranded, found: SentMessage | None) -> int:
    """Apply the lookup's answer if reconcile's claim still holds the row; returns 1 if applied."""
    message = session.scalar(select(Message).where(*row.claim.held()).with_for_update()
                             .execution_options(populate_existing=True))
    if message is None:
        return 0  # resolved meanwhile (a status callback, a late answer)
    if found is None and message.provider_sid:
        found = SentMessage(sid=message.provider_sid, status="sent")  # a callback proved the provider has it
    if found is not None and _owned_by_another(session, found.sid, row.claim.message_id):
        found = None
    if found is not None:
        log.info("reconcile %s: found at the provider as %s", row.claim.message_id, found.sid)
        send_outcomes.mark_sent(session, row.claim.message_id, found, source="reconcile")
    else:
        log.info("reconcile %s: not at the provider; back to the queue", row.claim.message_id)
        send_outcomes.mark_retry(session, row.claim, error="not found at the provider after an interrupted send")
    return 1


def _owned_by_another(session: Session, sid: str, message_id: int) -> bool:
    owner = session.scalar(select(Message.id).where(Message.provider_sid == sid))
    return owner is not None and owner != message_id
