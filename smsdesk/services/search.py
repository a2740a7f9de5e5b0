"""Inbox search by phone, name, order number and message text, through a trigram index.

PostgreSQL answers ``ILIKE '%term%'`` from pg_trgm GIN indexes; SQLite from FTS5 tables with
the trigram tokenizer (both made by migration 0008). A trigram index can't help with fewer
than three characters, so shorter terms fall back to a plain scan (slower, same answer).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, CompoundSelect, Select, String, literal_column, select, union
from sqlalchemy.sql import column, table

from smsdesk.models import Customer, Message, Order

TRIGRAM = 3  # characters a trigram index needs
# Spelled exactly as the PostgreSQL index expression, so the planner recognises it.
FULL_NAME: ColumnElement[str] = literal_column("(customers.first_name || ' ' || customers.last_name)", String)
CUSTOMER_FTS = table("customer_search", column("rowid"))
ORDER_FTS = table("order_search", column("rowid"))
MESSAGE_FTS = table("message_search", column("rowid"))


def matching_customers(search: str, *, dialect: str) -> CompoundSelect:
    """Ids of customers whose name, phone, order number or any text contains ``search``."""
    term = search.strip()
    digits = "".join(ch for ch in term if ch.isdigit())
    number = term.replace("#", "").strip()
    build = _fts_part if dialect == "sqlite" else _like_part
    parts = [build("customer", term), build("message", term)]
    if number:
        parts.append(build("order", number))
    if digits and digits != term:
        parts.append(build("phone", digits))
    return union(*parts)


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
    if what == "order":
        ids = select(ORDER_FTS.c.rowid).where(literal_column("order_search").op("MATCH")(phrase))
        return select(Order.customer_id).where(Order.id.in_(ids), Order.customer_id.is_not(None))
    ids = select(MESSAGE_FTS.c.rowid).where(literal_column("message_search").op("MATCH")(phrase))
    return select(Message.customer_id).where(Message.id.in_(ids))
