"""Server push for the open inbox: server-sent events fed by PostgreSQL LISTEN/NOTIFY.

Migration 0015 makes PostgreSQL itself announce every change the list shows: a trigger on
``conversations`` (a new text in or out, status, assignment, unread all bump ``updated_at``)
calls ``pg_notify(CHANNEL, '<store id> <conversation id>')``, which listeners receive when the
writing transaction commits, whoever wrote (web request, webhook job, sender, CLI).

A stream is a poke, not the data: each event says "something in your stores changed" and the
page then asks ``/inbox/list?since=`` as before, so the since-walk stays the one place that
decides what a user sees, and a missed event costs nothing (the page polls once whenever the
stream (re)opens). A stream lasts ``server.event_stream_seconds`` and then ends; the browser's
EventSource reconnects after ``retry``. That bounds how long a request holds a web worker and a
database connection, so the app can run under any gunicorn worker class (README, "Scale-out").
SQLite has no NOTIFY: pages there keep polling.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
from sqlalchemy import Engine

CHANNEL = "smsdesk_inbox"
RETRY_MS = 1_000  # how soon the browser reconnects after a stream ends
HEARTBEAT_SECONDS = 10.0  # a comment line now and then, so proxies keep an idle stream open


def push_available(engine: Engine, seconds: float) -> bool:
    """Whether pages may listen instead of polling: PostgreSQL, and streams not switched off."""
    return engine.dialect.name == "postgresql" and seconds > 0


def inbox_events(engine: Engine, store_ids: list[int] | None, *, seconds: float) -> Iterator[str]:
    """SSE frames for ``seconds``: one ``change`` event per burst of notifications about the
    stores in ``store_ids`` (None: every store). Opens its own connection (LISTEN needs one that
    stays outside the pool's transactions) and closes it when the stream ends or the client goes."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    allowed = None if store_ids is None else set(store_ids)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield f"retry: {RETRY_MS}\nevent: ready\ndata: {{}}\n\n"
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            changed = _changed_stores(conn, min(left, HEARTBEAT_SECONDS))
            wanted = changed if allowed is None else changed & allowed
            if wanted:
                yield f"event: change\ndata: {{\"stores\": {sorted(wanted)}}}\n\n"
            elif not changed:
                yield ": idle\n\n"


def _changed_stores(conn: psycopg.Connection, timeout: float) -> set[int]:
    """Store ids of the notifications that arrive within ``timeout`` (a burst after the first
    is collected for a moment, so a batch of writes makes one event, not hundreds).
    ``notifies(timeout=, stop_after=)`` needs psycopg 3.2 (setup.cfg)."""
    stores: set[int] = set()
    for notify in conn.notifies(timeout=timeout, stop_after=1):
        stores.add(_store_of(notify.payload))
    if stores:
        for notify in conn.notifies(timeout=0.05):
            stores.add(_store_of(notify.payload))
    return stores


def _store_of(payload: str) -> int:
    store, _, _conversation = payload.partition(" ")
    return int(store)
