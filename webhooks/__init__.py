"""Inbound webhooks: one adapter module per shop platform, plus Twilio's callbacks.

Every shop request goes the same way: find the store -> verify -> decode -> parse into
normalized events -> record the delivery with its events (one insert that drops duplicates,
one commit) -> answer. Bad input is refused at once (4xx) and records nothing. Applying the
events (customers, orders, conversations, texts) is jobs/apply_events.py's work, within about
a second. No network call happens here (DESIGN §1): a platform whose payloads only name what
changed (BigCommerce) has its delivery recorded as ``pending`` for the fetch job
(jobs/fetch_pending.py).
"""
from __future__ import annotations

import logging
import threading
import time
import weakref

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import Connection, event, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from smsdesk.db import THREAD_CONNECTIONS, end_read, get_session, write_begins_with_insert
from smsdesk.enums import DUE_DELIVERIES, DeliveryStatus
from smsdesk.events import encode
from smsdesk.group_commit import GroupCommit
from smsdesk.models import Store, WebhookDelivery, utcnow
from smsdesk.services.untrusted import unstorable
from smsdesk.thread_connections import ThreadConnections
from webhooks.base import BadPayload, WebhookAdapter
from webhooks.bigcommerce import BigCommerceAdapter
from webhooks.generic import GenericAdapter
from webhooks.shopify import ShopifyAdapter
from webhooks.woocommerce import WooCommerceAdapter

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

ADAPTERS: dict[str, WebhookAdapter] = {adapter.source: adapter for adapter in (
    ShopifyAdapter(), WooCommerceAdapter(), BigCommerceAdapter(), GenericAdapter())}


def answer(status: str, code: int = 200, message: str = ""):
    body = {"status": status}
    if message:
        body["message"] = message
    return jsonify(body), code


def refuse(error: str, code: int, message: str):
    """An error answer: ``{"error", "message"}`` like the API's (``status`` kept for old clients)."""
    return jsonify({"status": "error", "error": error, "message": message}), code


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """413 and the like as JSON too (a platform logs the answer it got)."""
    return refuse(exc.name.lower().replace(" ", "_"), exc.code or 400, exc.description or exc.name)


@bp.post("/<source>")
@write_begins_with_insert
def receive_by_header(source: str):
    adapter = ADAPTERS.get(source)
    if adapter is None or adapter.path_has_slug:
        return refuse("not_found", 404, f"no webhook endpoint for {source!r}")
    return receive(adapter, slug=None)


@bp.post("/<source>/<slug>")
@write_begins_with_insert
def receive_by_slug(source: str, slug: str):
    adapter = ADAPTERS.get(source)
    if adapter is None or not adapter.path_has_slug:
        return refuse("not_found", 404, f"no webhook endpoint for {source!r}")
    if unstorable(slug):
        return refuse("not_found", 404, "unknown store")
    return receive(adapter, slug=slug)


def receive(adapter: WebhookAdapter, *, slug: str | None):
    body = request.get_data(cache=True)  # raises 413 past server.max_body_bytes
    if any(unstorable(value) for _, value in request.headers.items()):
        return refuse("bad_header", 400, "headers may not contain NUL characters")
    store = find_store(adapter, slug)
    if store is None:
        return refuse("not_found", 404, "unknown store")
    if adapter.is_ping(request, body):  # unsigned by the platform (WooCommerce), and it changes nothing
        return answer("ok")
    if not adapter.verify(store, request, body):
        log.warning("webhook %s for store %s: bad signature", adapter.source, store.slug)
        return refuse("invalid_signature", 401, "invalid signature")
    try:
        topic = adapter.topic(request, body)
        payload = adapter.load(body)
        events = adapter.parse(store, topic, payload)
    except BadPayload as exc:
        return refuse("bad_payload", 400, str(exc))
    delivery_id = adapter.delivery_id(request, body)
    if adapter.fetches_later(topic):
        recorded = record(adapter, store=store, topic=topic, delivery_id=delivery_id, status=DeliveryStatus.PENDING,
                          payload=payload)
    else:
        recorded = record(adapter, store=store, topic=topic, delivery_id=delivery_id,
                          status=DeliveryStatus.RECEIVED if events else DeliveryStatus.IGNORED, events=events)
    if not recorded:
        return answer("duplicate")
    if events:
        current_app.extensions["smsdesk.events_received"]()
    return answer("accepted" if events or adapter.fetches_later(topic) else "ignored")


def record(adapter: WebhookAdapter, *, store: Store, topic: str, delivery_id: str, status: DeliveryStatus,
           events: list | None = None, payload: dict | None = None) -> bool:
    """Remember the delivery (with its events, or the payload to fetch from) in one insert and
    one commit; False when it was recorded before.

    ``received`` and ``pending`` deliveries are due now: jobs/apply_events.py applies the events,
    jobs/fetch_pending.py fetches a pending one's details first.
    """
    now = utcnow()
    due = status in DUE_DELIVERIES
    values = {"store_id": store.id, "source": adapter.source, "delivery_id": delivery_id[:255], "topic": topic[:100],
              "status": status, "payload": payload,
              "events": [encode(event) for event in events] if events else None,
              "error": "", "attempts": 0, "next_attempt_at": now if due else None, "received_at": now}
    try:
        return _insert(values)
    except IntegrityError:  # the store was deleted meanwhile: nothing to record it for
        log.warning("webhook %s for store %s: not recorded, the store is gone", adapter.source, store.slug)
        return False


def _insert(values: dict) -> bool:
    """Insert the delivery unless (store, source, delivery id) is taken (a retry, or a concurrent
    request with it); True when inserted. On PostgreSQL a duplicate is no error: no line in its
    log repeating the key."""
    if current_app.extensions["smsdesk.engine"].dialect.name == "postgresql":
        # One statement in autocommit is its own durable transaction, on the thread's own
        # connection (smsdesk/thread_connections.py); safe to repeat on a new one: a repeat
        # finds its key taken.
        connections: ThreadConnections = current_app.extensions[THREAD_CONNECTIONS]
        row = tuple(_pg_value(values[column]) for column in DELIVERY_COLUMNS)
        try:
            return connections.run(lambda cursor: cursor.execute(PG_INSERT, row).rowcount) == 1
        except connections.dbapi.IntegrityError as exc:
            raise IntegrityError(PG_INSERT, None, exc) from None  # no row values in the error
    # SQLite: the webhooks this process records at the same moment share one transaction and
    # one commit (smsdesk/group_commit.py); each is answered after the commit that holds it.
    writes: GroupCommit[dict, bool] = current_app.extensions[DELIVERY_WRITES]
    return writes.write(values)


def _sqlite_insert(conn: Connection, values: dict) -> bool:
    """One delivery's insert in a group commit's transaction (DEFERRED: the first insert takes
    the write lock); False when its key is taken. A failed insert undoes only itself."""
    try:
        conn.execute(SQLITE_INSERT, values)
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_UNIQUE":
            return False
        raise
    return True


def _pg_value(value: object) -> object:
    if isinstance(value, (dict, list)):
        from psycopg.types.json import Json  # psycopg is installed only with PostgreSQL (the postgres extra)
        return Json(value)
    return value.value if isinstance(value, DeliveryStatus) else value


# -- stores, cached per process -------------------------------------------------------------

# Seconds a process serves a store from memory. A change made in this process (a rotated or
# dropped secret, a removed store) takes effect at once (see _forget_changed_stores); one made
# by another process within this many seconds.
STORE_TTL = 2.0


class StoreCache:
    """One app's stores by (source, lookup key), each with the moment it must be looked up again."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], tuple[float, Store]] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Store | None:
        cached = self.entries.get(key)
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    def put(self, key: tuple[str, str], store: Store) -> None:
        with self.lock:
            self.entries[key] = (time.monotonic() + STORE_TTL, store)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_caches: weakref.WeakSet[StoreCache] = weakref.WeakSet()


def find_store(adapter: WebhookAdapter, slug: str | None) -> Store | None:
    """The store this request is for: from memory when seen in the last STORE_TTL seconds,
    else looked up (an unknown store is looked up every time, so a new one works at once)."""
    cache: StoreCache = current_app.extensions["smsdesk.webhook_stores"]
    lookup = adapter.store_key(request, slug)
    key = (adapter.source, lookup) if lookup else None
    store = cache.get(key) if key else None
    if store is not None:
        return store
    session = get_session()
    store = adapter.find_store(session, request, slug)
    end_read(session)  # verifying and parsing hold no lock; the insert takes SQLite's write lock
    if store is not None and key:
        session.expunge(store)  # read-only from here on, also by other requests of this process
        cache.put(key, store)
    return store


@event.listens_for(Session, "after_flush")
def _forget_changed_stores(session: Session, _context) -> None:
    """A store written by this process empties the caches: a dropped secret stops verifying now."""
    if any(cache.entries for cache in _caches) and any(
            isinstance(obj, Store) for obj in (*session.new, *session.dirty, *session.deleted)):
        for cache in list(_caches):
            cache.clear()


# What record() writes, in this order. A taken DELIVERY_KEY (WebhookDelivery's unique constraint)
# inserts nothing; another violation (a vanished store) still raises IntegrityError.
DELIVERY_COLUMNS = ("store_id", "source", "delivery_id", "topic", "status", "payload", "events", "error", "attempts",
                    "next_attempt_at", "received_at")
DELIVERY_KEY = ["store_id", "source", "delivery_id"]
PG_INSERT = (f"INSERT INTO {WebhookDelivery.__tablename__} ({', '.join(DELIVERY_COLUMNS)}) "
             f"VALUES ({', '.join(['%s'] * len(DELIVERY_COLUMNS))}) ON CONFLICT ({', '.join(DELIVERY_KEY)}) DO NOTHING")
# A plain INSERT: SQLAlchemy caches its compiled form, not that of the SQLite dialect's own
# insert() (which ON CONFLICT needs): compiling that took 0.3 ms of every webhook.
SQLITE_INSERT = insert(WebhookDelivery).inline()
DELIVERY_WRITES = "smsdesk.delivery_writes"  # app.extensions: SQLite's GroupCommit of deliveries


def init_app(app) -> None:
    from webhooks import twilio  # its module imports this package, so it is loaded here

    # Called after a delivery with events is committed; the scheduler (when this process runs
    # one) replaces it with a nudge that runs the apply job now instead of on its next tick.
    app.extensions.setdefault("smsdesk.events_received", lambda: None)
    app.extensions["smsdesk.webhook_stores"] = cache = StoreCache()
    if app.extensions["smsdesk.engine"].dialect.name == "sqlite":
        app.extensions[DELIVERY_WRITES] = GroupCommit(app.extensions["smsdesk.read_engine"], _sqlite_insert)
    _caches.add(cache)
    app.register_blueprint(bp)
    app.register_blueprint(twilio.bp)
