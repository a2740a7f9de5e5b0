"""Fetch what thin callbacks (BigCommerce's) name, then apply the events (DESIGN §1).

A platform whose registry entry (smsdesk.platforms.PLATFORMS) has a ``fetch`` sends thin
callbacks. The webhook request recorded each one as a ``pending`` WebhookDelivery due now. This
job claims due ones (SKIP LOCKED on PostgreSQL, under a lease so a crashed worker's claim
comes back), calls the store's API outside any transaction, and applies the events in one
transaction. Failures that may pass (429, 5xx, connection errors) are retried with
exponential backoff (honouring Retry-After); after MAX_ATTEMPTS, or on an error that will
not pass (404, a refused token), the delivery is ``failed`` with the reason in ``error``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from smsdesk.db import claim_rows
from smsdesk.enums import DeliveryStatus
from smsdesk.models import Store, WebhookDelivery, utcnow
from smsdesk.platforms import PLATFORMS, platform_of
from smsdesk.platforms.http import ApiError, Credentials
from smsdesk.retry import backoff as jittered
from smsdesk.services import audit
from smsdesk.services.events import apply_event

log = logging.getLogger(__name__)
# The webhook sources whose deliveries are fetched (thin callbacks).
SOURCES = tuple(spec.platform.value for spec in PLATFORMS.values() if spec.fetch is not None)
BATCH = 5  # deliveries claimed per transaction
# Seconds a claimed delivery belongs to one worker: a whole batch at its worst (3 requests
# each, every one running into the connect + read timeouts of platforms/http.py) fits in it.
LEASE = 300
MAX_ATTEMPTS = 6  # fetches before a retryable failure becomes "failed"
BACKOFF_BASE = 5.0  # seconds; doubled per attempt, with full jitter
BACKOFF_CAP = 900.0  # seconds


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter, in seconds (smsdesk.retry with this job's base and cap)."""
    return jittered(attempts, base=BACKOFF_BASE, cap=BACKOFF_CAP)


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery, as plain data for the API calls made outside the transaction."""

    delivery_id: int
    source: str
    payload: dict[str, Any]
    country: str
    credentials: Credentials


def fetch_pending(sessions: sessionmaker[Session], *, client_factory: Callable[[Credentials], Any] | None = None,
                  clock: Callable[[], datetime] = utcnow, delay: Callable[[int], float] = backoff,
                  batch: int = BATCH) -> int:
    """Process due pending deliveries until none are left; returns how many were tried."""
    tried = 0
    while True:
        with sessions.begin() as session:
            claimed = [load(session, i) for i in claim_due(session, limit=batch, now=clock())]
        for job in claimed:
            process(sessions, job, client_factory=client_factory, clock=clock, delay=delay)
        tried += len(claimed)
        if len(claimed) < batch:
            return tried


def claim_due(session: Session, *, limit: int, now: datetime) -> list[int]:
    """Lease up to ``limit`` due pending deliveries and return their ids (one more attempt each)."""
    return claim_rows(
        session, WebhookDelivery,
        where=[WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now,
               WebhookDelivery.source.in_(SOURCES)],
        order_by=[WebhookDelivery.next_attempt_at, WebhookDelivery.id], limit=limit,
        values={"next_attempt_at": now + timedelta(seconds=LEASE), "attempts": WebhookDelivery.attempts + 1},
    )


def load(session: Session, delivery_id: int) -> Claimed:
    delivery = session.get_one(WebhookDelivery, delivery_id)
    store = session.get_one(Store, delivery.store_id)
    return Claimed(delivery_id=delivery.id, source=delivery.source, payload=delivery.payload or {},
                   country=store.country, credentials=Credentials.of(store))


def process(sessions: sessionmaker[Session], job: Claimed, *, client_factory: Callable[[Credentials], Any] | None,
            clock: Callable[[], datetime], delay: Callable[[int], float]) -> None:
    """Fetch one delivery's order and apply its events; on failure retry later or give up."""
    spec = platform_of(job.source)
    try:
        assert spec is not None and spec.fetch is not None and spec.client is not None  # SOURCES says so
        client = (client_factory or spec.client)(job.credentials)
        events = spec.fetch(client, job.payload, job.country)
        with sessions.begin() as session:
            delivery = session.get_one(WebhookDelivery, job.delivery_id)
            store = session.get_one(Store, delivery.store_id)
            for event in events:
                apply_event(session, store=store, event=event, source=job.source, delivery_id=delivery.delivery_id)
            delivery.status, delivery.error, delivery.next_attempt_at = DeliveryStatus.PROCESSED, "", None
    except ApiError as exc:
        _failed_attempt(sessions, job.delivery_id, reason=exc.reason, retryable=exc.retryable,
                        retry_after=exc.retry_after, now=clock(), delay=delay)
    except Exception as exc:
        log.exception("%s delivery %s: could not be applied", job.source, job.delivery_id)
        _failed_attempt(sessions, job.delivery_id, reason=f"internal error: {type(exc).__name__}",
                        retryable=True, retry_after=None, now=clock(), delay=delay)


def _failed_attempt(sessions: sessionmaker[Session], delivery_id: int, *, reason: str, retryable: bool,
                    retry_after: float | None, now: datetime, delay: Callable[[int], float]) -> None:
    with sessions.begin() as session:
        delivery = session.get_one(WebhookDelivery, delivery_id)
        delivery.error = reason[:500]
        if retryable and delivery.attempts < MAX_ATTEMPTS:
            wait = max(retry_after or 0.0, delay(delivery.attempts))
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            log.info("%s delivery %s: %s; retrying in %.0f s", delivery.source, delivery_id, reason, wait)
            return
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        if retryable:
            delivery.error = f"gave up after {delivery.attempts} attempts: {reason}"[:500]
        audit.record(session, "fetch_failed", store_id=delivery.store_id, reason=delivery.error[:255],
                     source=delivery.source, detail={"delivery": delivery.delivery_id, "topic": delivery.topic})
        log.warning("%s delivery %s failed: %s", delivery.source, delivery_id, delivery.error)
