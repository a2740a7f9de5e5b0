"""Rows loaded once for a batch of events, so applying each event finds them in memory.

The apply job (jobs/apply_events.py) applies up to a few hundred deliveries of one store in one
transaction. Looking up each event's customer, order, conversation, texts and templates with
queries of their own was most of its round trips; the job fetches them for the whole batch in
a few queries (``load``, ``customers.preload_customers``), and the lookups
(``customers.find_customer`` and ``is_suppressed``, ``orders`` finding an order,
``conversations.touch_conversation``, ``outbox.find_by_dedupe_key``,
``template_store.resolve_template``) ask ``known`` first. A key loaded and not found is known to
be absent; a row created in the batch is added (``remember``).

In a batch, ``insert`` writes nothing yet: the row gets an id reserved for it (a block of the
table's sequence on PostgreSQL; past the table's highest id on SQLite, whose write lock the
batch holds) and its column defaults, and the job flushes the chunk's rows together, a few
multi-row INSERTs, parents first (the models' many-to-one relationships order them).

Nothing here decides anything on its own: the unique constraints do. A row another process
inserts meanwhile (a customer texting in) makes the chunk's INSERT fail, and the job applies
the chunk again one delivery at a time without preloading (``insert`` then guards each insert
with a savepoint, as outside a batch).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from smsdesk.models import AbTest, Message, Order, Store, Template
from smsdesk.services.template_kinds import KINDS

KEY = "smsdesk.preloaded"
UNKNOWN = object()  # what ``known`` answers for a key the batch did not load
Row = TypeVar("Row")


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


def insert(session: Session, row: Any) -> None:
    """Insert ``row``. Outside a batch now, in a savepoint, so a duplicate raises IntegrityError
    with the transaction still usable. In a batch at the chunk's flush: the row gets its id and
    column defaults now, and a duplicate fails the chunk (the callers' IntegrityError fallbacks
    would read the batch's stale answers)."""
    if not active(session):
        with session.begin_nested():
            session.add(row)
        return
    for key, value, call in _defaults(row.__class__):
        if key not in row.__dict__:
            setattr(row, key, value(None) if call else value)  # SQLAlchemy's makers take a context
    row.id = _reserved_id(session, type(row))
    session.add(row)
    remember(session, "new", type(row), row.id, row=row)


def get(session: Session, model: type[Row], row_id: int) -> Row | None:
    """``session.get``, which finds a row the batch will insert only by flushing the batch so far."""
    found = known(session, "new", model, row_id)
    return session.get(model, row_id) if found is UNKNOWN else found


def expect(session: Session, count: int) -> None:
    """Say how many deliveries the batch's next rows are for: ids are reserved that many at a time."""
    remember_all(session, {("expected",): max(count, 1)})


@cache
def _defaults(model: Any) -> tuple[tuple[str, Any, bool], ...]:
    """What the model's INSERT fills in a column left unset, as (attribute, value, whether the
    value is a maker to call): its Python-side default, a number as server default, else NULL.
    (Left unset, an attribute is unloaded after the flush, and reading it is a query; a server
    default is fetched by RETURNING, which SQLite then sends row by row.)"""
    found = []
    for prop in inspect(model).column_attrs:
        column = prop.columns[0]
        default, server_default = column.default, getattr(column.server_default, "arg", None)
        if default is not None and (default.is_scalar or default.is_callable):
            found.append((prop.key, default.arg, default.is_callable))
        elif column.server_default is None and not column.primary_key:
            found.append((prop.key, None, False))
        elif isinstance(server_default, str) and server_default.isdigit():
            found.append((prop.key, int(server_default), False))
    return tuple(found)


def _reserved_id(session: Session, model: Any) -> int:
    rows = session.info[KEY]
    ids = rows.get(("ids", model))
    if not ids:
        ids = rows[("ids", model)] = deque(_reserve(session, model, rows.get(("expected",), 1)))
    return ids.popleft()


def _reserve(session: Session, model: Any, count: int) -> list[int]:
    """``count`` ids for new rows of ``model``, no other transaction can take."""
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(model.__tablename__, "id")
        return list(session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count))))
    top = session.scalar(select(func.max(model.id))) or 0  # an ORM query: autoflushed, our pending rows count
    return list(range(top + 1, top + 1 + count))


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
