"""Send what is due: claim outbox rows, check compliance, call the provider, record the answer.

A worker keeps up to ``concurrency`` provider calls in flight (a thread pool) and a few
prepared texts queued for its threads, so a thread that frees up rarely waits for the
next claim; a queued text whose lease no longer covers its call is not sent but put back
(sending.START_WITHIN). The pool's threads only talk to the provider. The database work is done in batches
(services/send_batch.py) by two threads: this job's thread claims and prepares the texts
for the idle threads in one transaction, committed before their calls start; a recorder
thread records, in one transaction, every answer that came back meanwhile. Whatever goes
wrong with one text is recorded on that text; the others go on.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from smsdesk import db
from smsdesk.models import utcnow
from smsdesk.services import delivery, rate_limit, send_batch, send_outcomes, sending
from smsdesk.services.send_batch import Call
from smsdesk.sms.base import (
    AmbiguousSendError,
    PermanentSendError,
    RetryableSendError,
    SentMessage,
    SmsProvider,
)

log = logging.getLogger(__name__)
CONCURRENCY = 16  # provider calls in flight per worker (``[scheduler] concurrency``)
# Claim when this share of the threads (1/CLAIM_EVERY) has room in the queue: fewer, larger
# batches cost less per text than claiming for every thread that frees up. At 1 a worker
# claims a whole round of calls while the previous round is in flight (bench/drain.py: one
# worker 0.89-0.91 of the raw loop, against 0.72-0.75 at 4 and 0.80-0.86 at 2).
CLAIM_EVERY = 1
# Seconds before reconcile looks up an ambiguous send: long enough for the provider's
# message list to show a text it did take.
AMBIGUOUS_SETTLE = 5.0


class NotStarted(Exception):
    """A prepared text waited for a free thread until its lease could no longer cover the call."""


@dataclass(frozen=True)
class Answer:
    """What the provider said to one call: the accepted text, or the exception it raised."""

    call: Call
    sent: SentMessage | None = None
    error: Exception | None = None


def send_due(sessions: sessionmaker[Session], provider: SmsProvider, *, status_callback: str | None,
             lease: float = sending.LEASE, concurrency: int = CONCURRENCY, media_base: str = "") -> int:
    """Drain due messages until none are left; returns how many provider calls were made."""
    owner = sending.worker_id()
    calls = 0
    with _Recorder(sessions) as recorder, ThreadPoolExecutor(max_workers=concurrency,
                                                            thread_name_prefix="send") as pool:
        running: set[Future[Answer]] = set()  # calls in flight and queued
        step = max(1, concurrency // CLAIM_EVERY)
        while True:
            # One claim (step) more than the threads: the next claim overlaps the calls, and a queued
            # text waits only for the first threads to free up.
            idle = concurrency + step - len(running)
            ready = idle >= step or not running
            recorded = recorder.recorded
            claimed, batch = _claim(sessions, limit=idle, lease=lease, owner=owner) if ready else (0, [])
            for call in batch:
                future = pool.submit(call_provider, provider, call, status_callback=status_callback,
                                     media_base=media_base)
                future.add_done_callback(recorder.take)
                running.add(future)
            if not running:
                # Nothing claimed may only mean: a customer's next text waited for an answer
                # being recorded. Claim again if any answer was recorded since this claim began.
                if claimed or recorder.flush() > recorded:
                    continue
                return calls
            done, running = wait(running, return_when=FIRST_COMPLETED)
            calls += len(done)


class _Recorder:
    """Records the answers from its own thread, as many per transaction as came in meanwhile,
    so the job's thread goes on claiming while answers are written."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions
        self._answers: list[Answer] = []
        self._unrecorded = 0  # answers taken and not yet recorded
        self.recorded = 0  # answers recorded so far
        self._closing = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="send-record", daemon=True)

    def __enter__(self) -> _Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()

    def take(self, future: Future[Answer]) -> None:
        """Queue a finished call's answer (a done callback, run by the pool's thread)."""
        with self._cond:
            self._answers.append(future.result())
            self._unrecorded += 1
            self._cond.notify_all()

    def flush(self) -> int:
        """Wait until every answer taken so far is recorded; returns how many were recorded in all."""
        with self._cond:
            self._cond.wait_for(lambda: self._unrecorded == 0)
            return self.recorded

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._answers or self._closing)
                answers, self._answers = self._answers, []
            if not answers:
                return  # closing, and everything recorded
            record_answers(self._sessions, answers)
            with self._cond:
                self._unrecorded -= len(answers)
                self.recorded += len(answers)
                self._cond.notify_all()


def _claim(sessions: sessionmaker[Session], *, limit: int, lease: float, owner: str) -> tuple[int, list[Call]]:
    """Claim and prepare texts for ``limit`` idle threads; committed (and fenced) on return."""
    try:
        with sessions.begin() as session:
            return send_batch.claim_and_prepare(session, limit=limit, lease=lease, owner=owner)
    except Exception:  # e.g. one text's data breaks a statement: go text by text
        log.warning("claiming a batch failed; claiming and preparing text by text", exc_info=True)
    try:
        with sessions.begin() as session:
            claims = sending.claim_due(session, limit=limit, lease=lease, owner=owner)
    except Exception:  # database gone? calls in flight still get their answers recorded
        log.exception("claiming due texts failed")
        return 0, []
    prepared = [(claim, _prepare_one(sessions, claim, lease=lease)) for claim in claims]
    return len(claims), [Call(claim, outgoing) for claim, outgoing in prepared if outgoing is not None]


def send_one(sessions: sessionmaker[Session], provider: SmsProvider, claim: sending.Claim, *,
             status_callback: str | None, lease: float = sending.LEASE) -> int:
    """Fence, send and record one claimed message; returns 1 if the provider was called, else 0. Never raises."""
    outgoing = _prepare_one(sessions, claim, lease=lease)
    if outgoing is None:
        return 0
    record_answers(sessions, [call_provider(provider, Call(claim, outgoing), status_callback=status_callback)])
    return 1


def _prepare_one(sessions: sessionmaker[Session], claim: sending.Claim, *, lease: float) -> sending.Outgoing | None:
    """Prepare one claimed text in its own transaction (the fence); a failure is recorded on it."""
    try:
        with sessions.begin() as session:
            return sending.prepare(session, claim, lease=lease)
    except Exception as exc:
        _not_prepared(sessions, claim, exc)
        return None


def _not_prepared(sessions: sessionmaker[Session], claim: sending.Claim, exc: Exception) -> None:
    """Record why this text could not be prepared; it counts as an attempt."""
    reason, detail = send_batch.not_prepared(claim, exc)
    try:
        with sessions.begin() as session:
            send_outcomes.record_not_prepared(session, claim, reason=reason, detail=detail)
    except Exception:
        log.exception("message %s: could not record why it was not prepared", claim.message_id)


def call_provider(provider: SmsProvider, call: Call, *, status_callback: str | None, media_base: str = "") -> Answer:
    """Wait for the text's rate slot, hand it to the provider; never raises."""
    outgoing = call.outgoing
    now = utcnow()
    if now > outgoing.start_by:  # waited in the queue too long: the call could outlast the lease
        return Answer(call, error=NotStarted())
    time.sleep(max(0.0, (outgoing.send_at - now).total_seconds()))  # at most sending.SLOT_WAIT
    try:
        sent = provider.send(outgoing.to, outgoing.body, sender=outgoing.sender,
                             status_callback=callback_url(status_callback, outgoing.message_id),
                             validity_period=outgoing.validity_seconds,
                             media_urls=[f"{media_base}/{token}" for token in outgoing.media_tokens])
    except Exception as exc:  # recorded by the job's thread
        return Answer(call, error=exc)
    return Answer(call, sent=sent)


def record_answers(sessions: sessionmaker[Session], answers: list[Answer]) -> None:
    """Record the answers in one transaction; if that fails, each in its own. Never raises."""
    try:
        with _recording(sessions) as session:
            _record(session, answers)
        return
    except Exception:
        if len(answers) == 1:
            log.exception("message %s: could not record the outcome; reconcile will decide",
                          answers[0].call.claim.message_id)
            return
        log.warning("recording %d answers together failed; recording them one by one", len(answers), exc_info=True)
    for answer in answers:
        record_answers(sessions, [answer])


def _record(session: Session, answers: list[Answer]) -> None:
    sent = {answer.call.claim.message_id: answer.sent for answer in answers if answer.sent is not None}
    if sent:
        send_batch.record_sent_many(session, sent)
        for outcome in sent.values():
            if outcome.status in delivery.FAILED_WORDS:  # known at once: recorded as its callback would be
                delivery.apply_status(session, sid=outcome.sid, status=outcome.status,
                                      error_code=str(outcome.error_code or ""))
    for answer in answers:
        if answer.error is not None:
            _record_error(session, answer.call, answer.error)


def _record_error(session: Session, call: Call, exc: Exception) -> None:
    if isinstance(exc, NotStarted):
        send_outcomes.put_back(session, call.claim)
    elif isinstance(exc, RetryableSendError):
        _slow_down(session, call.outgoing, exc)
        send_outcomes.mark_retry(session, call.claim, error=exc.message, retry_after=exc.retry_after, code=exc.code)
    elif isinstance(exc, PermanentSendError):
        send_outcomes.mark_failed(session, call.claim, error=exc.message, code=exc.code)
    else:  # AmbiguousSendError, or a bug: the text may be out
        _ambiguous(session, call.claim, exc)


@contextmanager
def _recording(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that records the provider's answers (see db.relax_durability)."""
    with sessions.begin() as session:
        db.relax_durability(session)
        yield session


def callback_url(base: str | None, message_id: int) -> str | None:
    """The status callback for one message: our id lets a callback beat our own commit."""
    return f"{base}?message_id={message_id}" if base else None


def _slow_down(session: Session, outgoing: sending.Outgoing, exc: RetryableSendError) -> None:
    """A rate limit or a full sender queue pauses the whole sender, not just this text."""
    if exc.code in sending.SLOW_DOWN_CODES or exc.http_status == 429:
        pause = exc.retry_after if exc.retry_after is not None else send_outcomes.BACKOFF_BASE
        rate_limit.slow_sender(session, sender_key=outgoing.sender.key, seconds=pause)


def _ambiguous(session: Session, claim: sending.Claim, exc: Exception) -> None:
    """Leave the row ``sending``: reconcile asks the provider before any resend."""
    if isinstance(exc, AmbiguousSendError):
        error = exc.message
        log.warning("message %s: ambiguous send (%s); reconcile will decide", claim.message_id, error)
    else:
        error = f"unexpected {type(exc).__name__}"
        log.error("message %s: unexpected error around the provider call; reconcile will decide",
                  claim.message_id, exc_info=exc)
    send_outcomes.mark_ambiguous(session, claim, error=error, settle=AMBIGUOUS_SETTLE)
