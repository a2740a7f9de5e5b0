"""Catch-up polls (jobs/catch_up.py): which stores are due, where each poll starts and ends,
recording what it found as deliveries of normalized events, and telling the owner when the
platform changed orders that no webhook told us of.

What a poll finds is recorded as a ``received`` WebhookDelivery of the store's platform
(delivery id ``catch-up:<order>@<its update time>``), so jobs/apply_events.py applies it like
any webhook, and the order service's once-per-stage texts make a change seen by webhook and by
poll one text. Polls read (watermark, now - settle]: a younger change may still have its
webhook on the way. A change older than that which the database does not show yet (and no
delivery is waiting to be applied) is one the webhooks missed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from smsdesk import events as ev
from smsdesk.enums import DUE_DELIVERIES, DeliveryStatus
from smsdesk.events import encode
from smsdesk.models import CatchUpState, Order, Shipment, Store, WebhookDelivery
from smsdesk.platforms import PLATFORMS
from smsdesk.platforms.http import Credentials
from smsdesk.platforms.spec import Polled
from smsdesk.retry import backoff
from smsdesk.services.orders import STAGES

OFF = "catch-up off: the store has no API credentials"
DELIVERY_PREFIX = "catch-up:"
TOPIC = "catch-up"
MAX_BACKOFF = 3600.0  # seconds between polls of a store whose API keeps failing, at most


@dataclass(frozen=True)
class PollJob:
    """One store's poll, as plain data for the API calls made outside any transaction."""

    store_id: int
    source: str
    credentials: Credentials
    country: str
    since: datetime
    until: datetime


def due_stores(session: Session, *, now: datetime) -> list[int]:
    """Stores whose platform can be polled and whose next poll is due (or never ran)."""
    pollable = [spec.platform for spec in PLATFORMS.values() if spec.poll is not None]
    rows = session.execute(select(Store.id, CatchUpState.next_poll_at).outerjoin(
        CatchUpState, CatchUpState.store_id == Store.id).where(Store.platform.in_(pollable)).order_by(Store.id))
    return [store_id for store_id, next_at in rows if next_at is None or next_at <= now]


def start(session: Session, store_id: int, *, now: datetime, interval: float, settle: float) -> PollJob | None:
    """Take the store's poll (the next one is due an interval from now) and say what to read;
    None when there is nothing to poll: no credentials ("catch-up off"), or the first poll,
    which only sets the watermark (orders from before smsdesk watched the store get no texts)."""
    store = session.get_one(Store, store_id)
    state = _claim(session, store_id, now=now)
    if state is None:
        return None  # another worker polls it, or did a moment ago
    state.next_poll_at = now + timedelta(seconds=interval)
    spec = PLATFORMS[store.platform]
    credentials = Credentials.of(store)
    if spec.poll is None or not spec.has_credentials(credentials):
        state.error = OFF
        return None
    until = now - timedelta(seconds=settle)
    if state.watermark is None:
        state.watermark, state.error = until, ""
        return None
    return PollJob(store_id=store_id, source=store.platform.value, credentials=credentials, country=store.country,
                   since=state.watermark, until=until)


def record(session: Session, job: PollJob, polled: Polled, *, now: datetime) -> int:
    """Record what a poll found (changes already recorded are skipped), note the changes no
    webhook delivered, and move the watermark on; returns how many changes were new."""
    state = _state(session, job.store_id)
    keys = [DELIVERY_PREFIX + change.key[:240] for change in polled.changes]
    seen = set(session.scalars(select(WebhookDelivery.delivery_id).where(
        WebhookDelivery.store_id == job.store_id, WebhookDelivery.source == job.source,
        WebhookDelivery.delivery_id.in_(keys)))) if keys else set()
    judged = not _waiting(session, job.store_id)
    missed: list[datetime] = []
    new = 0
    for key, change in zip(keys, polled.changes, strict=True):
        if key in seen or not change.events:
            continue  # read before (an overlapping window), or nothing smsdesk acts on (an unpaid order)
        seen.add(key)
        new += 1
        if judged and not all(_known(session, job.store_id, event) for event in change.events):
            missed.append(change.changed_at)
        session.add(WebhookDelivery(
            store_id=job.store_id, source=job.source, delivery_id=key, topic=TOPIC, status=DeliveryStatus.RECEIVED,
            events=[encode(event) for event in change.events], error="", attempts=0, next_attempt_at=now,
            received_at=now))
    _note_missed(state, missed, judged=judged and new > 0)
    last = max((change.changed_at for change in polled.changes), default=job.until)
    state.watermark = job.until if polled.complete else max(min(last, job.until), job.since)
    state.polled_at, state.attempts, state.error = now, 0, ""
    session.flush()
    return new


def failed(session: Session, store_id: int, *, reason: str, retry_after: float | None, now: datetime,
           interval: float) -> None:
    """A poll that did not get its answers: the watermark stays, the next poll waits longer
    each time (and at least what the platform asked for with Retry-After)."""
    state = _state(session, store_id)
    state.attempts += 1
    state.error = reason[:500]
    wait = max(retry_after or 0.0, interval + backoff(state.attempts, base=interval, cap=MAX_BACKOFF))
    state.next_poll_at = now + timedelta(seconds=wait)


def warning(state: CatchUpState | None) -> str:
    """What the owner should hear about a store's catch-up ("" when all is well)."""
    if state is None:
        return ""
    if state.missed_since is not None:
        return (f"webhooks look broken since {state.missed_since:%Y-%m-%d %H:%M} UTC: catch-up polls found "
                f"{state.missed_changes} change(s) no webhook delivered")
    return state.error


def warnings(session: Session, store_ids: list[int] | None = None) -> list[tuple[Store, str]]:
    """(store, warning) for each store (of ``store_ids``, else all) with something to say."""
    query = select(Store, CatchUpState).join(CatchUpState, CatchUpState.store_id == Store.id).order_by(Store.slug)
    if store_ids is not None:
        query = query.where(Store.id.in_(store_ids))
    return [(store, text) for store, state in session.execute(query) if (text := warning(state))]


def _claim(session: Session, store_id: int, *, now: datetime) -> CatchUpState | None:
    """The store's state row, locked (SKIP LOCKED on PostgreSQL; SQLite serializes writers), if
    its poll is still due; None when another worker holds it or took the poll since we looked."""
    state = session.scalar(select(CatchUpState).where(CatchUpState.store_id == store_id)
                           .with_for_update(skip_locked=True))
    if state is None:
        if session.scalar(select(CatchUpState.store_id).where(CatchUpState.store_id == store_id)) is not None:
            return None  # locked by another worker
        return _state(session, store_id)  # the first poll ever (two at once: one insert fails, see the job)
    return state if state.next_poll_at is None or state.next_poll_at <= now else None


def _state(session: Session, store_id: int) -> CatchUpState:
    state = session.get(CatchUpState, store_id)
    if state is None:
        state = CatchUpState(store_id=store_id, attempts=0, error="", missed_changes=0)
        session.add(state)
    return state


def _note_missed(state: CatchUpState, missed: list[datetime], *, judged: bool) -> None:
    if missed:
        first = min(missed)
        state.missed_since = min(state.missed_since, first) if state.missed_since else first
        state.missed_changes += len(missed)
    elif judged:  # changes came, and webhooks had told of every one: they work (again)
        state.missed_since, state.missed_changes = None, 0


def _waiting(session: Session, store_id: int) -> bool:
    """True while deliveries of the store wait to be applied or fetched: the database does not
    show yet what they say, so it can't tell which changes webhooks missed."""
    return session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.store_id == store_id, WebhookDelivery.status.in_(DUE_DELIVERIES)).limit(1)) is not None


def _known(session: Session, store_id: int, event: ev.Event) -> bool:
    """Whether the database already shows what ``event`` says (a webhook told us)."""
    if not isinstance(event, (ev.OrderPlaced, ev.OrderCancelled, ev.OrderRefunded, ev.PaymentDeclined,
                              ev.ShipmentUpdated)):
        return True  # polls read orders only
    order = session.scalar(select(Order).where(Order.store_id == store_id,
                                               Order.external_id == event.order.external_id))
    if order is None or order.status == "new":
        return False
    if isinstance(event, ev.OrderCancelled):
        return order.status == "cancelled"
    if isinstance(event, ev.OrderRefunded):
        return event.partial is not False or order.status == "refunded"
    if not isinstance(event, ev.ShipmentUpdated) or event.status == "failure":
        return True
    if order.status in ("cancelled", "refunded"):
        return True  # shipping news of an ended order changes nothing
    if not event.shipment_id:
        return STAGES.get(order.status, -1) >= STAGES[event.status]
    package = session.scalar(select(Shipment).where(Shipment.order_id == order.id,
                                                    Shipment.external_id == event.shipment_id))
    return package is not None and STAGES.get(package.status, -1) >= STAGES[event.status]
