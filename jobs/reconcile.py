"""Reconcile: decide what happened to texts left ``sending`` (a crash or an ambiguous answer).

The provider is asked whether it has the text (to + body, since the attempt began): if
so the row becomes ``sent`` with that sid, otherwise it goes back to the queue. A text is
therefore never sent twice and never lost.

Two guards keep that true with many workers:

* the lease end read with the row is a fence: if a worker renewed the lease (it is
  sending right now) by the time reconcile decides, reconcile leaves the row alone;
* a match whose sid already belongs to another of our messages is not this text (the
  same body to the same phone twice, e.g. an agent's "Thanks!"), so it counts as not found.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import Customer, Message, MessageStatus
from smsdesk.services import sending
from smsdesk.sms.base import SendError, SentMessage, SmsProvider

log = logging.getLogger(__name__)
BATCH = 50
CLOCK_SKEW = timedelta(minutes=2)  # the provider's clock vs ours when filtering by date


@dataclass(frozen=True)
class Stranded:
    """A row left ``sending``, as read under lock before the provider lookup."""

    message_id: int
    lease_end: datetime
    to: str
    body: str
    attempted_at: datetime


def reconcile(sessions: sessionmaker[Session], provider: SmsProvider, *, batch: int = BATCH) -> int:
    """Resolve rows whose lease expired in ``sending``; returns how many were resolved."""
    resolved = 0
    for row in _stranded(sessions, batch):
        try:
            found = provider.find_sent(row.to, row.body, sent_after=row.attempted_at - CLOCK_SKEW)
        except SendError as exc:
            log.warning("reconcile %s: lookup failed (%s); will try again", row.message_id, exc.message)
            continue
        with sessions.begin() as session:
            resolved += resolve(session, row, found)
    return resolved


def _stranded(sessions: sessionmaker[Session], batch: int) -> list[Stranded]:
    with sessions.begin() as session:
        expired = sending.expired_sending(session, limit=batch)
        rows = []
        for message_id, lease_end in expired:
            message = session.get(Message, message_id)
            phone = session.get(Customer, message.customer_id).phone
            rows.append(Stranded(message_id, lease_end, phone, message.body, message.attempted_at or lease_end))
        return rows


def resolve(session: Session, row: Stranded, found: SentMessage | None) -> int:
    """Apply the lookup's answer if the row is still as we saw it; returns 1 if applied."""
    message = session.get(Message, row.message_id, with_for_update=True, populate_existing=True)
    if message is None or message.status != MessageStatus.SENDING or message.claimed_until != row.lease_end:
        return 0  # a worker renewed the lease or someone resolved it meanwhile
    if found is not None and _owned_by_another(session, found.sid, row.message_id):
        found = None
    if found is not None:
        log.info("reconcile %s: found at the provider as %s", row.message_id, found.sid)
        sending.mark_sent(session, row.message_id, found, source="reconcile")
    else:
        log.info("reconcile %s: not at the provider; back to the queue", row.message_id)
        sending.mark_retry(session, row.message_id, error="not found at the provider after an interrupted send")
    return 1


def _owned_by_another(session: Session, sid: str, message_id: int) -> bool:
    owner = session.scalar(select(Message.id).where(Message.provider_sid == sid))
    return owner is not None and owner != message_id
