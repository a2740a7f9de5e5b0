"""Inbound webhooks: one adapter module per shop platform, plus Twilio's callbacks.

Every shop request goes the same way: find the store -> verify -> decode -> drop
duplicates -> parse into normalized events -> apply them and record the delivery in one
transaction -> answer. No network call happens here (DESIGN §1): a platform whose payloads
only name what changed (BigCommerce) has its delivery recorded as ``pending`` for the
fetch job (jobs/fetch_pending.py).
"""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from smsdesk.db import get_session
from smsdesk.models import WebhookDelivery, utcnow
from smsdesk.services.events import apply_event
from smsdesk.services.untrusted import unstorable
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
def receive_by_header(source: str):
    adapter = ADAPTERS.get(source)
    if adapter is None or adapter.path_has_slug:
        return refuse("not_found", 404, f"no webhook endpoint for {source!r}")
    return receive(adapter, slug=None)


@bp.post("/<source>/<slug>")
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
    session = get_session()
    store = adapter.find_store(session, request, slug)
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
        return record_pending(adapter, store=store, topic=topic, delivery_id=delivery_id, payload=payload)
    return record(adapter, store=store, topic=topic, delivery_id=delivery_id, events=events)


def record(adapter: WebhookAdapter, *, store, topic: str, delivery_id: str, events: list):
    """Apply the events and remember the delivery, in one transaction."""
    session = get_session()
    if _seen(session, store.id, adapter.source, delivery_id):
        return answer("duplicate")
    status = "processed" if events else "ignored"
    try:
        with session.begin_nested():
            session.add(WebhookDelivery(store_id=store.id, source=adapter.source, delivery_id=delivery_id[:255],
                                        topic=topic[:100], status=status))
        for event in events:
            apply_event(session, store=store, event=event, source=adapter.source, delivery_id=delivery_id)
        session.commit()
    except IntegrityError:  # the same delivery is being processed by a concurrent request
        session.rollback()
        return answer("duplicate")
    return answer("accepted" if events else "ignored")


def record_pending(adapter: WebhookAdapter, *, store, topic: str, delivery_id: str, payload: dict):
    """Remember a thin delivery for the fetch job, due now; a repeat of it is a duplicate."""
    session = get_session()
    if _seen(session, store.id, adapter.source, delivery_id):
        return answer("duplicate")
    try:
        session.add(WebhookDelivery(store_id=store.id, source=adapter.source, delivery_id=delivery_id[:255],
                                    topic=topic[:100], status="pending", payload=payload,
                                    next_attempt_at=utcnow()))
        session.commit()
    except IntegrityError:  # the same delivery is being recorded by a concurrent request
        session.rollback()
        return answer("duplicate")
    return answer("accepted")


def _seen(session, store_id: int, source: str, delivery_id: str) -> bool:
    return session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.store_id == store_id, WebhookDelivery.source == source,
        WebhookDelivery.delivery_id == delivery_id[:255])) is not None


def init_app(app) -> None:
    from webhooks import twilio  # its module imports this package, so it is loaded here

    app.register_blueprint(bp)
    app.register_blueprint(twilio.bp)
