"""Send what is due: claim outbox rows, check compliance, call the provider, record the answer.

A worker keeps up to ``concurrency`` provider calls in flight (a thread pool) and claims only
as many texts as it has idle threads, so every claimed text is prepared at once, far inside
its lease. Whatever goes wrong with one text is recorded on that text; the others go on.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import utcnow
from smsdesk.reasons import Reason
from smsdesk.services import rate_limit, sending
from smsdesk.sms.base import (
    AmbiguousSendError,
    PermanentSendError,
    RetryableSendError,
    SmsProvider,
)

log = logging.getLogger(__name__)
CONCURRENCY = 4  # provider calls in flight per worker (``[scheduler] concurrency``)
# Seconds before reconcile looks up an ambiguous send: long enough for the provider's
# message list to show a text it did take.
AMBIGUOUS_SETTLE = 5.0


def send_due(sessions: sessionmaker[Session], provider: SmsProvider, *, status_callback: str | None,
             lease: float = sending.LEASE, concurrency: int = CONCURRENCY) -> int:
    """Drain due messages until none are left; returns how many provider calls were made."""
    owner = sending.worker_id()
    calls = 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send") as pool:
        running: set[Future[int]] = set()
        while True:
            idle = concurrency - len(running)
            claims = _claim(sessions, limit=idle, lease=lease, owner=owner) if idle else []
            running |= {pool.submit(send_one, sessions, provider, claim, status_callback=status_callback,
                                    lease=lease) for claim in claims}
            if not running:
                return calls
            done, running = wait(running, return_when=FIRST_COMPLETED)
            calls += sum(future.result() for future in done)


def _claim(sessions: sessionmaker[Session], *, limit: int, lease: float, owner: str) -> list[sending.Claim]:
    with sessions.begin() as session:
        return sending.claim_due(session, limit=limit, lease=lease, owner=owner)


def send_one(sessions: sessionmaker[Session], provider: SmsProvider, claim: sending.Claim, *,
             status_callback: str | None, lease: float = sending.LEASE) -> int:
    """Send one claimed message; returns 1 if the provider was called, else 0. Never raises."""
    try:
        return _send_one(sessions, provider, claim, status_callback=status_callback, lease=lease)
    except Exception:  # recording failed (database gone?): the row stays ``sending`` for reconcile
        log.exception("message %s: could not record the outcome; reconcile will decide", claim.message_id)
        return 0


def _send_one(sessions: sessionmaker[Session], provider: SmsProvider, claim: sending.Claim, *,
              status_callback: str | None, lease: float) -> int:
    try:
        with sessions.begin() as session:  # commits the fence before the provider call
            outgoing = sending.prepare(session, claim, lease=lease)
    except Exception as exc:  # one text's bad data or store must not stop the others
        _not_prepared(sessions, claim, exc)
        return 0
    if outgoing is None:
        return 0
    time.sleep(max(0.0, (outgoing.send_at - utcnow()).total_seconds()))  # at most sending.SLOT_WAIT
    try:
        sent = provider.send(outgoing.to, outgoing.body, sender=outgoing.sender,
                             status_callback=callback_url(status_callback, claim.message_id),
                             validity_period=outgoing.validity_seconds)
    except RetryableSendError as exc:
        with _recording(sessions) as session:
            _slow_down(session, outgoing, exc)
            sending.mark_retry(session, claim, error=exc.message, retry_after=exc.retry_after, code=exc.code)
    except PermanentSendError as exc:
        with _recording(sessions) as session:
            sending.mark_failed(session, claim, error=exc.message, code=exc.code)
    except Exception as exc:  # AmbiguousSendError, or a bug: the text may be out
        _ambiguous(sessions, claim, exc)
    else:
        with _recording(sessions) as session:
            sending.mark_sent(session, claim.message_id, sent)
    return 1


def _not_prepared(sessions: sessionmaker[Session], claim: sending.Claim, exc: Exception) -> None:
    """Record why this text could not be prepared; it counts as an attempt."""
    if isinstance(exc, sending.BadStoreSettings):
        reason, detail = Reason.BAD_STORE_SETTINGS, str(exc)
        log.warning("message %s: %s", claim.message_id, detail)
    else:
        reason, detail = Reason.SEND_ERROR, f"{type(exc).__name__}: {exc}"
        log.exception("message %s: preparing the send failed", claim.message_id)
    with sessions.begin() as session:
        sending.record_not_prepared(session, claim, reason=reason, detail=detail)


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
        rate_limit.slow_sender(session, sender_key=outgoing.sender.key, seconds=pause)


def _ambiguous(sessions: sessionmaker[Session], claim: sending.Claim, exc: Exception) -> None:
    """Leave the row ``sending``: reconcile asks the provider before any resend."""
    if isinstance(exc, AmbiguousSendError):
        error = exc.message
        log.warning("message %s: ambiguous send (%s); reconcile will decide", claim.message_id, error)
    else:
        error = f"unexpected {type(exc).__name__}"
        log.exception("message %s: unexpected error around the provider call; reconcile will decide",
                      claim.message_id)
    with _recording(sessions) as session:
        sending.mark_ambiguous(session, claim, error=error, settle=AMBIGUOUS_SETTLE)
