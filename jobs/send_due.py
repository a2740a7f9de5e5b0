"""Send what is due: claim outbox rows, check compliance, call the provider, record the answer."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import utcnow
from smsdesk.services import sending
from smsdesk.sms.base import AmbiguousSendError, PermanentSendError, RetryableSendError, SmsProvider

log = logging.getLogger(__name__)
BATCH = 50  # messages claimed per transaction
# Seconds before reconcile looks up an ambiguous send: long enough for the provider's
# message list to show a text it did take.
AMBIGUOUS_SETTLE = 5.0


def send_due(sessions: sessionmaker[Session], provider: SmsProvider, *, status_callback: str | None,
             batch: int = BATCH, lease: float = sending.LEASE) -> int:
    """Drain due messages until none are left; returns how many provider calls were made."""
    calls = 0
    while True:
        with sessions.begin() as session:
            ids = sending.claim_due(session, limit=batch, lease=lease)
        for message_id in ids:
            calls += send_one(sessions, provider, message_id, status_callback=status_callback, lease=lease)
        if len(ids) < batch:
            return calls


def send_one(sessions: sessionmaker[Session], provider: SmsProvider, message_id: int, *,
             status_callback: str | None, lease: float = sending.LEASE) -> int:
    """Send one claimed message; returns 1 if the provider was called, else 0."""
    with sessions.begin() as session:
        outgoing = sending.prepare(session, message_id, lease=lease)
    if outgoing is None:
        return 0
    time.sleep(max(0.0, (outgoing.send_at - utcnow()).total_seconds()))  # at most sending.SLOT_WAIT
    try:
        sent = provider.send(outgoing.to, outgoing.body, sender=outgoing.sender,
                             status_callback=callback_url(status_callback, message_id),
                             validity_period=outgoing.validity_seconds)
    except RetryableSendError as exc:
        with _recording(sessions) as session:
            _slow_down(session, outgoing, exc)
            sending.mark_retry(session, message_id, error=exc.message, retry_after=exc.retry_after, code=exc.code)
    except PermanentSendError as exc:
        with _recording(sessions) as session:
            sending.mark_failed(session, message_id, error=exc.message, code=exc.code)
    except Exception as exc:  # noqa: BLE001 - AmbiguousSendError, or a bug: the text may be out
        _ambiguous(sessions, message_id, exc)
    else:
        with _recording(sessions) as session:
            sending.mark_sent(session, message_id, sent)
    return 1


@contextmanager
def _recording(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that records the provider's answer (see sending.relax_durability)."""
    with sessions.begin() as session:
        sending.relax_durability(session)
        yield session


def callback_url(base: str | None, message_id: int) -> str | None:
    """The status callback for one message: our id lets a callback beat our own commit."""
    return f"{base}?message_id={message_id}" if base else None


def _slow_down(session: Session, outgoing: sending.Outgoing, exc: RetryableSendError) -> None:
    """A rate limit or a full sender queue pauses the whole sender, not just this text."""
    if exc.code in sending.SLOW_DOWN_CODES or exc.http_status == 429:
        pause = exc.retry_after if exc.retry_after is not None else sending.BACKOFF_BASE
        sending.slow_sender(session, sender_key=outgoing.sender.key, seconds=pause)


def _ambiguous(sessions: sessionmaker[Session], message_id: int, exc: Exception) -> None:
    """Leave the row ``sending``: reconcile asks the provider before any resend."""
    if isinstance(exc, AmbiguousSendError):
        error = exc.message
        log.warning("message %s: ambiguous send (%s); reconcile will decide", message_id, error)
    else:
        error = f"unexpected {type(exc).__name__}"
        log.exception("message %s: unexpected error around the provider call; reconcile will decide", message_id)
    with _recording(sessions) as session:
        sending.mark_ambiguous(session, message_id, error=error, settle=AMBIGUOUS_SETTLE)
