"""Send what is due: claim outbox rows, check compliance, call the provider, record the answer."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from smsdesk.services import sending
from smsdesk.sms.base import AmbiguousSendError, PermanentSendError, RetryableSendError, SmsProvider

log = logging.getLogger(__name__)
BATCH = 50  # messages claimed per transaction


def send_due(sessions: sessionmaker[Session], provider: SmsProvider, *, status_callback: str | None,
             batch: int = BATCH) -> int:
    """Drain due messages until none are left; returns how many provider calls were made."""
    calls = 0
    while True:
        with sessions.begin() as session:
            ids = sending.claim_due(session, limit=batch)
        for message_id in ids:
            calls += send_one(sessions, provider, message_id, status_callback=status_callback)
        if len(ids) < batch:
            return calls


def send_one(sessions: sessionmaker[Session], provider: SmsProvider, message_id: int, *,
             status_callback: str | None) -> int:
    """Send one claimed message; returns 1 if the provider was called, else 0."""
    with sessions.begin() as session:
        outgoing = sending.prepare(session, message_id)
    if outgoing is None:
        return 0
    try:
        sent = provider.send(outgoing.to, outgoing.body, sender=outgoing.sender,
                             status_callback=status_callback, validity_period=outgoing.validity_seconds)
    except RetryableSendError as exc:
        with sessions.begin() as session:
            sending.mark_retry(session, message_id, error=exc.message, retry_after=exc.retry_after, code=exc.code)
    except PermanentSendError as exc:
        with sessions.begin() as session:
            sending.mark_failed(session, message_id, error=exc.message, code=exc.code)
    except AmbiguousSendError as exc:
        # Left "sending": when the lease runs out, reconcile asks the provider before any resend.
        log.warning("message %s: ambiguous send (%s); reconcile will decide", message_id, exc.message)
    else:
        with sessions.begin() as session:
            sending.mark_sent(session, message_id, sent)
    return 1
