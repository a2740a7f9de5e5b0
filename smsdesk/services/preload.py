"""Rows loaded once for a batch of events, so applying each event finds them in memory.

The apply job (jobs/apply_events.py) applies up to a few hundred deliveries of one store in one
transaction. Looking up each event's customer, order, conversation, texts and templates with
queries of their own was most of its round trips; the job fetches them for the whole batch in
a few queries (``load``, ``customers.preload_customers``), and the lookups
(``customers.find_customer`` and ``is_suppressed``, ``orders`` finding an order,
``conversations.touch_conversation``, ``outbox.find_by_dedupe_key``,
``template_store.resolve_template``) ask ``known`` first. A key loaded and not found is known to
be absent; a row created in the batch is added (``remember``).

Nothing here decides anything on its own: the unique constraints do. A row another process
inserts meanwhile (a customer texting in) makes this batch's insert fail, and the job applies
the batch again one delivery at a time without preloading (``insert`` then guards each insert
with a savepoint, as outside a batch).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.models import AbTest, Message, Order, Store, Template
from smsdesk.services.template_kinds import KINDS

KEY = "smsdesk.preloaded"
UNKNOWN = object()  # what ``known`` answers for a key the batch did not load


def known(session: Session, *key: Any) -> Any:
    """The row loaded (or remembered) under ``key``, None when known absent, else UNKNOWN."""
    rows = session.info.get(KEY)
    return UNKNOWN if rows is None else rows.get(key, UNKNOWN)


def remember(session: Session, *key: Any, row: Any) -> None:
    """Note a row this batch created (or found) under ``key``; nothing outside a batch."""
    rows = session.info.get(KEY)
    if rows is not None:
        rows[key] = row


def active(session: Session) -> bool:
    """True while a batch's rows are preloaded: inserts need no savepoint of their own."""
    return KEY in session.info


def unknown(session: Session, *key: Any) -> None:
    """Stop answering ``key`` from memory (what was loaded under it may be stale now)."""
    rows = session.info.get(KEY)
    if rows is not None:
        rows.pop(key, None)


def forget(session: Session) -> None:
    """Stop answering from memory (after a rollback, or before an event that deletes rows)."""
    session.info.pop(KEY, None)


class Conflict(Exception):
    """A row another process inserted after the batch was loaded: the job applies the delivery
    again on its own, without preloading."""


def insert(session: Session, row: object) -> None:
    """Insert ``row`` now (it gets its id). Outside a batch a savepoint guards it, so a duplicate
    raises IntegrityError with the transaction still usable; in a batch a duplicate raises
    Conflict (the callers' IntegrityError fallbacks would read the batch's stale answers)."""
    if active(session):
        session.add(row)
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc
        return
    with session.begin_nested():
        session.add(row)


def load(session: Session, store: Store, *, order_ids: Iterable[str], dedupe_keys: Iterable[str]) -> None:
    """Load, for one store, the orders of ``order_ids``, the texts of ``dedupe_keys``, the store's
    templates and its running A/B tests (customers: ``customers.preload_customers``); from now on
    the lookups answer these keys from memory."""
    order_ids, keys = set(order_ids), set(dedupe_keys)
    found = session.scalars(select(Order).where(Order.store_id == store.id, Order.external_id.in_(order_ids)))
    rows: dict[tuple, Any] = {("order", store.id, order_id): None for order_id in order_ids}
    rows.update({("order", store.id, order.external_id): order for order in found})
    rows.update({("text", key): None for key in keys})
    texts = session.scalars(select(Message).where(Message.dedupe_key.in_(keys)))
    rows.update({("text", text.dedupe_key): text for text in texts})
    templates: dict[str, list[Template]] = {kind: [] for kind in KINDS}
    for template in session.scalars(select(Template).where(Template.store_id == store.id)):
        templates.setdefault(template.kind, []).append(template)
    rows.update({("templates", store.id, kind): versions for kind, versions in templates.items()})
    running = session.scalars(select(AbTest).where(AbTest.store_id == store.id, AbTest.ended_at.is_(None)))
    rows[("ab_tests", store.id)] = {(test.kind, test.language): test for test in running}  # services/ab_tests.py
    remember_all(session, rows)


def remember_all(session: Session, rows: dict[tuple, Any]) -> None:
    """Start answering from memory (when not yet) and note ``rows`` (key tuple -> row or None)."""
    session.info.setdefault(KEY, {}).update(rows)
