"""Catch-up polls: ask each store's platform API for the orders changed since the last poll
and record them as normalized events (smsdesk/services/catch_up.py), so what webhooks dropped
is still texted, once.

The API calls happen outside any transaction. A poll that fails (429 with Retry-After, a
throttled Shopify query, 5xx, no connection) keeps its watermark and the store is polled
again later, backing off while it keeps failing; other stores go on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import utcnow
from smsdesk.platforms import platform_of
from smsdesk.platforms.http import ApiError, Credentials
from smsdesk.services import catch_up

log = logging.getLogger(__name__)


def catch_up_stores(sessions: sessionmaker[Session], *, interval: float, settle: float,
                    clock: Callable[[], datetime] = utcnow,
                    client_factory: Callable[[str, Credentials], Any] | None = None) -> int:
    """Poll every due store once; returns how many new changes were recorded.

    ``client_factory(source, credentials)`` builds the API client (the registry's by default).
    """
    with sessions.begin() as session:
        due = catch_up.due_stores(session, now=clock())
    return sum(poll_store(sessions, store_id, interval=interval, settle=settle, clock=clock,
                          client_factory=client_factory) for store_id in due)


def poll_store(sessions: sessionmaker[Session], store_id: int, *, interval: float, settle: float,
               clock: Callable[[], datetime], client_factory: Callable[[str, Credentials], Any] | None) -> int:
    try:
        with sessions.begin() as session:
            job = catch_up.start(session, store_id, now=clock(), interval=interval, settle=settle)
    except IntegrityError:  # another worker created the store's state row first: its poll
        return 0
    if job is None:
        return 0
    spec = platform_of(job.source)
    try:
        assert spec is not None and spec.poll is not None and spec.client is not None  # start() checked
        client = client_factory(job.source, job.credentials) if client_factory else spec.client(job.credentials)
        polled = spec.poll(client, job.since, job.until, job.country)
        with sessions.begin() as session:
            return catch_up.record(session, job, polled, now=clock())
    except ApiError as exc:
        reason, retry_after = exc.reason, exc.retry_after
    except Exception as exc:
        log.exception("catch-up poll of store %s failed", store_id)
        reason, retry_after = f"internal error: {type(exc).__name__}", None
    log.info("catch-up poll of store %s: %s", store_id, reason)
    with sessions.begin() as session:
        catch_up.failed(session, store_id, reason=reason, retry_after=retry_after, now=clock(), interval=interval)
    return 0
