"""Apply received webhook deliveries: customers, orders, checkouts, conversations, texts.

The webhook request only recorded the delivery (``received``, with its normalized events) and
answered. This job takes one store at a time (its row locked FOR NO KEY UPDATE SKIP LOCKED on
PostgreSQL, so concurrent workers never apply one store's deliveries side by side; SQLite
serializes writers anyway) and applies that store's due deliveries in id order, that is in
the order they arrived, marking each ``processed`` in the same transaction. Nothing is
leased: a crash rolls the whole batch back and the deliveries stay ``received``, so each is
applied exactly once, later. A delivery whose events raise is retried with backoff, then
``failed`` with the reason in ``error``; the rest of its batch goes on.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from smsdesk.enums import DeliveryStatus
from smsdesk.events import (
    CheckoutCompleted,
    CheckoutUpdated,
    CustomerDataRequested,
    CustomerRedacted,
    Event,
    OrderPlaced,
    ShopRedacted,
    decode,
)
from smsdesk.models import Customer, Order, Store, WebhookDelivery, utcnow
from smsdesk.platforms.payload import read_phone
from smsdesk.services import audit, checkouts, conversations, customers, preload
from smsdesk.services.events import apply_event
from smsdesk.services.orders import KIND_FOR_STATUS, stage_key

log = logging.getLogger(__name__)
BATCH = 200  # deliveries read per transaction at most
# Seconds of applying per transaction (one commit per batch is what makes a backlog cheap).
# On SQLite webhooks wait for the write lock meanwhile, so this bounds what a batch adds to a
# webhook's answer time. On PostgreSQL webhooks wait for no lock of a batch. Their p99 under
# load once followed the batch's length (0.5 s batches 143-381 ms, 0.1 s 28-56 ms); since the
# door inserts on a connection of its own it does not (bench/ingest.py's load at 2 and 8
# connections, alternated: p99 8.5-10.3 / 18.9-20.5 ms at 0.3 s and 0.5 s, 8.9-10.0 /
# 19.6-20.6 ms at 0.1 s), while 0.1 s batches left twice the backlog behind.
BATCH_SECONDS = {"sqlite": 0.025, "postgresql": 0.3}
# Seconds of a batch when no delivery arrived during the last one: only a backlog is left, and
# longer batches apply it faster (fewer commits, each chunk's rows loaded for more deliveries).
# The first webhook to arrive meanwhile waits one such batch at most (SQLite: at 0.25 s that
# lifted bench/ingest.py's p99 to 206 ms once), then the next batch is short again.
CATCH_UP_SECONDS = {"sqlite": 0.08, "postgresql": 0.5}
# Seconds a SQLite worker waits after each batch before it takes the write lock again: a
# webhook waiting for the lock polls (SQLite's busy handler sleeps between tries), and a
# worker that re-locks at once would keep it out for as long as there is a backlog.
SQLITE_PAUSE = 0.025
# Deliveries read (and their rows loaded) first in a batch; each next chunk twice as many. A
# chunk costs ~20 round trips whatever its size (services/preload.py); SQLite's short batches
# apply few deliveries, and a chunk they leave unfinished was read and loaded for nothing.
FIRST_CHUNK = {"sqlite": 4, "postgresql": 16}
CANDIDATES = 50  # due deliveries looked at to find a store no other worker is applying
ERASING = (CustomerRedacted, ShopRedacted, CustomerDataRequested)  # privacy events: no preloaded rows for them
CHECKOUT_EVENTS = (CheckoutUpdated, CheckoutCompleted)  # they create checkouts: none preloaded for orders then
MAX_ATTEMPTS = 5  # tries before a delivery whose events raise becomes "failed"
RETRY_BASE = 2.0  # seconds before the second try; doubled per try


def apply_events(sessions: sessionmaker[Session], *, clock: Callable[[], datetime] = utcnow,
                 batch: int = BATCH, batch_seconds: float | None = None) -> int:
    """Apply due received deliveries until none are left; returns how many were handled.

    A batch lasts about BATCH_SECONDS while deliveries keep arriving, CATCH_UP_SECONDS when
    none arrived during the last batch (``batch_seconds``: always that long)."""
    handled, newest = 0, None
    while True:
        with sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            latest = session.scalar(select(func.max(WebhookDelivery.id)))
            bounds = CATCH_UP_SECONDS if newest is not None and latest == newest else BATCH_SECONDS
            newest = latest
            seconds = bounds[dialect] if batch_seconds is None else batch_seconds
            count = apply_batch(session, now=clock(), limit=batch, seconds=seconds)
        if not count:
            return handled
        handled += count
        if dialect == "sqlite":
            time.sleep(SQLITE_PAUSE)


def apply_batch(session: Session, *, now: datetime, limit: int, seconds: float) -> int:
    """Apply one store's due deliveries (at most ``limit``, for about ``seconds``); returns how many.

    They are read in growing chunks (FIRST_CHUNK, then twice as many each time), each chunk's rows
    loaded together: a short batch (SQLite's) reads and loads little more than it applies."""
    store = lock_next_store(session, now=now)
    if store is None:
        return 0
    deadline, done, after = time.monotonic() + seconds, 0, 0
    size = FIRST_CHUNK[session.get_bind().dialect.name]
    while done < limit:
        asked = min(size, limit - done)
        chunk = list(session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.store_id == store.id, WebhookDelivery.id > after, *_due(now))
            .order_by(WebhookDelivery.id).limit(asked)))
        applied = _apply_in_turn(session, store, chunk, now=now, deadline=deadline, first=done == 0)
        done += applied
        if not applied or applied == len(chunk) < asked or time.monotonic() > deadline:
            return done  # none due any more, or out of time
        after, size = chunk[applied - 1].id, size * 2
    return done


def lock_next_store(session: Session, *, now: datetime) -> Store | None:
    """The store of the longest-waiting due delivery that no other worker is applying, locked."""
    candidates = session.scalars(select(WebhookDelivery.store_id).where(*_due(now))
                                 .order_by(WebhookDelivery.next_attempt_at).limit(CANDIDATES))
    for store_id in dict.fromkeys(candidates):
        # NO KEY: a webhook's insert of a delivery takes KEY SHARE on its store and must not wait.
        store = session.scalar(select(Store).where(Store.id == store_id)
                               .with_for_update(skip_locked=True, key_share=True))
        if store is not None:
            return store
    return None


def _due(now: datetime) -> list:
    return [WebhookDelivery.status == DeliveryStatus.RECEIVED, WebhookDelivery.next_attempt_at <= now]


def _apply_in_turn(session: Session, store: Store, deliveries: list[WebhookDelivery], *, now: datetime,
                   deadline: float, first: bool) -> int:
    """Apply the deliveries in order with the rows they name loaded together, and their new rows
    written together at the end (services/preload.py), all in one savepoint. If one raises, or
    the INSERTs meet a row another process inserted meanwhile, the savepoint is rolled back and
    each delivery applied alone without preloading: the others then just work, and one that
    raises again is recorded with its error. Past ``deadline`` it stops (though the ``first``
    chunk of a batch applies at least one). Returns how many were handled."""
    tried: list[WebhookDelivery] = []
    try:
        with session.begin_nested():
            _apply_together(session, store, deliveries, tried, deadline=deadline, first=first)
    except Exception as exc:
        log.info("store %s: a chunk of %d deliveries is applied one by one (%s)", store.slug, len(tried),
                 type(exc).__name__)
        preload.forget(session)  # it may remember rows of the rolled-back savepoint
        for delivery in tried:
            _apply_alone(session, store, delivery, now=now)
    else:
        _mark_processed(session, [delivery.id for delivery in tried])
    conversations.touch_changed(session)
    return len(tried)


def _apply_together(session: Session, store: Store, deliveries: list[WebhookDelivery],
                    tried: list[WebhookDelivery], *, deadline: float, first: bool) -> None:
    """Apply the deliveries' events in turn (each added to ``tried`` first), then flush their rows."""
    events = {delivery.id: _events(delivery) for delivery in deliveries}
    for delivery in deliveries:
        if (tried or not first) and time.monotonic() > deadline:
            break
        erases = any(isinstance(event, ERASING) for event in events[delivery.id] or ())
        if erases:
            preload.forget(session)  # it deletes rows the batch may have loaded
        elif not tried or not preload.active(session):
            _preload(session, store, [events[d.id] for d in deliveries[len(tried):]])
        tried.append(delivery)
        _apply_events(session, store, delivery, events=events[delivery.id])
        if erases:
            preload.forget(session)
    session.flush()


def _mark_processed(session: Session, ids: list[int]) -> None:
    """The chunk's applied deliveries marked processed in one UPDATE (in the batch's transaction,
    so they commit with what they applied)."""
    if ids:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                        .values(status=DeliveryStatus.PROCESSED, error="", next_attempt_at=None))


def _events(delivery: WebhookDelivery) -> list[Event] | None:
    """The delivery's events with their phones read; None when they can't be decoded (applying
    it then raises, and that is recorded)."""
    try:
        return [replace(event, customer=read_phone(event.customer)) for event in map(decode, delivery.events or [])]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _preload(session: Session, store: Store, batch: list[list[Event] | None]) -> None:
    """Load what these events name: customers of their phones, their orders and order texts, templates."""
    events = [event for events in batch for event in events or ()]
    phones = {phone for event in events for phone in (event.customer.phone, *(c.phone for c in event.customer.consents))
              if phone}
    order_ids = {event.order.external_id for event in events if hasattr(event, "order")}
    kinds = set(KIND_FOR_STATUS.values())
    preload.expect(session, len(batch))
    customers.preload_customers(session, store_id=store.id, phones=phones)
    preload.load(session, store, order_ids=order_ids,
                 dedupe_keys={stage_key(store.id, order_id, kind) for order_id in order_ids for kind in kinds})
    if any(isinstance(event, CHECKOUT_EVENTS) for event in events):
        preload.unknown(session, "open_checkouts", store.id)  # a checkout these create would be missed
        return
    known = [preload.known(session, "customer", store.id, phone) for phone in phones]
    known += [preload.known(session, "order", store.id, order_id) for order_id in order_ids]
    tokens = {event.order.checkout_token for event in events if isinstance(event, OrderPlaced)
              and event.order.checkout_token}
    customer_ids = {row.id for row in known if isinstance(row, Customer)}
    customer_ids |= {row.customer_id for row in known if isinstance(row, Order) and row.customer_id is not None}
    checkouts.preload_open(session, store_id=store.id, tokens=tokens, customer_ids=customer_ids)


def apply_delivery(session: Session, store: Store, delivery: WebhookDelivery, *,
                   events: list[Event] | None = None) -> None:
    """Apply the delivery's events (``events``: already decoded) and mark it processed (in the
    caller's transaction)."""
    _apply_events(session, store, delivery, events=events)
    delivery.status, delivery.error, delivery.next_attempt_at = DeliveryStatus.PROCESSED, "", None


def _apply_events(session: Session, store: Store, delivery: WebhookDelivery, *,
                  events: list[Event] | None = None) -> None:
    for event in [decode(data) for data in delivery.events or []] if events is None else events:
        apply_event(session, store=store, event=event, source=delivery.source, delivery_id=delivery.delivery_id)


def _apply_alone(session: Session, store: Store, delivery: WebhookDelivery, *, now: datetime) -> None:
    try:
        with session.begin_nested():
            apply_delivery(session, store, delivery)
    except Exception as exc:
        log.exception("delivery %s of store %s: its events could not be applied", delivery.id, store.slug)
        _failed_attempt(session, delivery, reason=f"internal error: {type(exc).__name__}", now=now)


def _failed_attempt(session: Session, delivery: WebhookDelivery, *, reason: str, now: datetime) -> None:
    delivery.attempts += 1
    delivery.error = reason[:500]
    if delivery.attempts < MAX_ATTEMPTS:
        delivery.next_attempt_at = now + timedelta(seconds=RETRY_BASE * 2 ** (delivery.attempts - 1))
        return
    delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    delivery.error = f"gave up after {delivery.attempts} attempts: {reason}"[:500]
    audit.record(session, "apply_failed", store_id=delivery.store_id, reason=delivery.error[:255],
                 source=delivery.source, detail={"delivery": delivery.delivery_id, "topic": delivery.topic})
