"""Reconcile: decide what happened to texts left ``sending`` (a crash or an ambiguous answer).

The provider is asked whether it has the text (to + body, since the attempt began): if
so the row becomes ``sent`` with that sid, otherwise it goes back to the queue. A text is
therefore never sent twice and never lost.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import Customer, Message, MessageStatus
from smsdesk.services import sending
from smsdesk.sms.base import SendError, SmsProvider

log = logging.getLogger(__name__)
BATCH = 50
CLOCK_SKEW = timedelta(minutes=2)  # the provider's clock vs ours when filtering by date sent


def reconcile(sessions: sessionmaker[Session], provider: SmsProvider, *, batch: int = BATCH) -> int:
    """Resolve rows whose lease expired in ``sending``; returns how many were resolved."""
    with sessions.begin() as session:
        ids = sending.expired_sending(session, limit=batch)
        rows = [(m.id, session.get(Customer, m.customer_id).phone, m.body, m.attempted_at)
                for m in (session.get(Message, i) for i in ids)]
    resolved = 0
    for message_id, to, body, attempted_at in rows:
        try:
            found = provider.find_sent(to, body, sent_after=attempted_at - CLOCK_SKEW)
        except SendError as exc:
            log.warning("reconcile %s: lookup failed (%s); will try again", message_id, exc.message)
            continue
        with sessions.begin() as session:
            resolved += _resolve(session, message_id, found)
    return resolved


def _resolve(session: Session, message_id: int, found) -> int:
    message = session.get(Message, message_id, with_for_update=True)
    if message is None or message.status != MessageStatus.SENDING:
        return 0  # someone else resolved it meanwhile
    if found is not None:
        sending.mark_sent(session, message_id, found)
    else:
        sending.mark_retry(session, message_id, error="not found at the provider after an interrupted send")
    return 1
