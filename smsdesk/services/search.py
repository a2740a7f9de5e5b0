"""Inbox search by phone, name, order number and message text, through a trigram index.

PostgreSQL answers ``ILIKE '%term%'`` from pg_trgm GIN indexes; SQLite from FTS5 tables with
the trigram tokenizer (both made by migration 0011). A trigram index can't help with fewer
than three characters, so shorter terms fall back to a plain scan (slower, same answer).

A term can be selective ("Larsen", "#1042": the index hands over a few hundred customers, and
their conversations are sorted) or broad ("parcel", in a fifth of all texts: collecting every
match costs a second at 1M texts). ``search_condition`` probes the index for at most PROBE
matches; past that the list is read in its own order and each conversation checked on its
own rows (``mentions``), which stops as soon as a page is full.
"""
from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    false,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import column, table

from smsdesk.models import Customer, Message, Order

_HasColumn = ColumnElement[int] | InstrumentedAttribute[int]
TRIGRAM = 3  # characters a trigram index needs
PROBE = 1_000  # index matches (texts, orders, customers) beyond which a term counts as broad
# Spelled exactly as the PostgreSQL index expression, so the planner recognises it.
FULL_NAME: ColumnElement[str] = literal_column("(customers.first_name || ' ' || customers.last_name)", String)
CUSTOMER_FTS = table("customer_search", column("rowid"))
ORDER_FTS = table("order_search", column("rowid"))
MESSAGE_FTS = table("message_search", column("rowid"))


def search_condition(session: Session, search: str, customer_id: _HasColumn) -> ColumnElement[bool]:
    """A condition on ``customer_id``: the customer matches ``search`` (see the module's note)."""
    dialect = session.get_bind().dialect.name
    found = list(session.scalars(matching_customers(search, dialect=dialect, everything=False).limit(PROBE + 1)))
    if len(found) <= PROBE:
        return customer_id.in_(set(found)) if found else false()
    return mentions(search, customer_id)


def matching_customers(search: str, *, dialect: str, everything: bool = True) -> CompoundSelect:
    """Ids of customers whose name, phone, order number or any text contains ``search``
    (``everything=False``: with repeats, which lets a LIMIT stop the index scans early)."""
    parts = [(_fts_part if dialect == "sqlite" else _like_part)(what, term) for what, term in _terms(search)]
    return union(*parts) if everything else union_all(*parts)


def mentions(search: str, customer_id: _HasColumn) -> ColumnElement[bool]:
    """Whether the customer ``customer_id`` matches ``search``, checked on that customer's own
    rows (a few texts and orders, through their customer_id indexes)."""
    checks = []
    for what, term in _terms(search):
        part = _like_part(what, term)
        key = {"customer": Customer.id, "phone": Customer.id, "order": Order.customer_id}.get(what, Message.customer_id)
        # OFFSET 0 keeps PostgreSQL from turning the check into a hashed subplan, which would
        # collect every match first (200,000 texts for "parcel": 350 ms), the very thing avoided here.
        checks.append(part.where(key == customer_id).offset(0).exists())
    return or_(*checks)


def _terms(search: str) -> list[tuple[str, str]]:
    """What to look for where: the term in names, phones and texts, the number without its
    '#' in order numbers, and the digits of a formatted phone number in phones."""
    term = search.strip()
    digits = "".join(ch for ch in term if ch.isdigit())
    number = term.replace("#", "").strip()
    terms = [("customer", term), ("message", term)]
    if number:
        terms.append(("order", number))
    if digits and digits != term:
        terms.append(("phone", digits))
    return terms


def _like_part(what: str, term: str) -> Select:
    """ILIKE, which pg_trgm's GIN indexes answer (and which still works, by scanning, anywhere)."""
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    def has(expression) -> ColumnElement[bool]:
        return expression.ilike(pattern, escape="\\")

    if what == "customer":
        return select(Customer.id).where(has(FULL_NAME) | has(Customer.phone))
    if what == "phone":
        return select(Customer.id).where(has(Customer.phone))
    if what == "order":
        return select(Order.customer_id).where(has(Order.number), Order.customer_id.is_not(None))
    return select(Message.customer_id).where(has(Message.body))


def _fts_part(what: str, term: str) -> Select:
    """An FTS5 trigram MATCH of the term as one quoted phrase (its own quotes doubled), so
    FTS5 query syntax in what an agent types is plain text."""
    if len(term) < TRIGRAM:
        return _like_part(what, term)
    phrase = '"' + term.replace('"', '""') + '"'
    if what in ("customer", "phone"):
        return select(CUSTOMER_FTS.c.rowid).where(literal_column("customer_search").op("MATCH")(phrase))
    # Joined rather than ``id IN (...)``: rows then stream from the index and a LIMIT stops early.
    if what == "order":
        return (select(Order.customer_id).join_from(ORDER_FTS, Order, Order.id == ORDER_FTS.c.rowid)
                .where(literal_column("order_search").op("MATCH")(phrase), Order.customer_id.is_not(None)))
    return (select(Message.customer_id).join_from(MESSAGE_FTS, Message, Message.id == MESSAGE_FTS.c.rowid)
            .where(literal_column("message_search").op("MATCH")(phrase)))
