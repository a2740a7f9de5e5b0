"""Inbox search by phone, name, order number and message text, through one document per customer.

``search_docs`` (migration 0013, kept by database triggers) holds per customer their name and
phone, their order numbers, and the tail of their latest texts, so a search reads 100,000
documents instead of 1,000,000 texts. PostgreSQL answers ``ILIKE '%term%'`` from a pg_trgm GIN
index per column (documents are lower case, so LIKE does); SQLite a MATCH on the FTS5 trigram table ``doc_search``. A trigram index can't
help with fewer than three characters: shorter terms scan the documents (slower, same answer).

A term can be selective ("4567", "#1042": the index hands over a few hundred documents, and
their conversations are sorted) or broad ("parcel", in every other document: sorting them all
would cost the most exactly when the first page is found at once). ``search_condition`` probes
the index for at most PROBE documents; past that the list is read in its own order and each
conversation checked on its own document (``mentions``), which stops as soon as a page is full.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, literal_column, or_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import column, table

from smsdesk.models import SearchDoc

_HasColumn = ColumnElement[int] | InstrumentedAttribute[int]
TRIGRAM = 3  # characters a trigram index needs
PROBE = 1_000  # matching documents beyond which a term counts as broad
DOC_FTS = table("doc_search", column("rowid"))


def search_condition(session: Session, search: str, customer_id: _HasColumn,
                     store_ids: list[int] | None = None) -> ColumnElement[bool]:
    """A condition on ``customer_id``: the customer matches ``search`` (see the module's note);
    ``store_ids``: the stores the user may see (None: all), which also narrow the probe."""
    probe = matching_customers(search, dialect=session.get_bind().dialect.name)
    if store_ids is not None:
        probe = probe.where(SearchDoc.store_id.in_(store_ids))
    found = _probe(session, probe.limit(PROBE + 1), indexed=all(len(term) >= TRIGRAM for _, term in _terms(search)))
    if len(found) <= PROBE:
        return customer_id.in_(found) if found else false()
    return mentions(search, customer_id)


def _probe(session: Session, probe: Select, *, indexed: bool) -> list[int]:
    """Run the probe. With a LIMIT, PostgreSQL reckons a term in one document of ten is found
    soonest by reading the table (it then checks ~10,000 documents: 200 ms); the index's
    bitmap hands over only matches. So the probe runs with sequential scans off (for this
    statement only), unless the term is too short for the index."""
    postgres = session.get_bind().dialect.name == "postgresql" and indexed
    if postgres:
        session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        return list(session.scalars(probe))
    finally:
        if postgres:
            session.execute(text("SET LOCAL enable_seqscan = on"))


def matching_customers(search: str, *, dialect: str) -> Select:
    """Ids of customers whose document matches ``search``, from the dialect's index."""
    terms = _terms(search)
    if dialect == "sqlite" and all(len(term) >= TRIGRAM for _, term in terms):
        match = " OR ".join(f"{{{columns}}} : {_phrase(term)}" for columns, term in terms)
        return (select(SearchDoc.customer_id).select_from(DOC_FTS)
                .join(SearchDoc, SearchDoc.customer_id == DOC_FTS.c.rowid)
                .where(literal_column("doc_search").op("MATCH")(match)))
    return select(SearchDoc.customer_id).where(_contains(terms))


def mentions(search: str, customer_id: _HasColumn) -> ColumnElement[bool]:
    """Whether the customer ``customer_id`` matches ``search``, checked on their own document
    (one primary-key lookup)."""
    # OFFSET 0 keeps PostgreSQL from turning the check into a hashed subplan, which would
    # collect every matching document first, the very thing avoided here.
    return (select(SearchDoc.customer_id).where(SearchDoc.customer_id == customer_id, _contains(_terms(search)))
            .offset(0).exists())


def _terms(search: str) -> list[tuple[str, str]]:
    """(columns, term): the term in names, phones and texts, the number without its '#' in
    order numbers, and the digits of a formatted phone number in phones."""
    term = search.strip()
    digits = "".join(ch for ch in term if ch.isdigit())
    number = term.replace("#", "").strip()
    terms = [("who texts", term)]
    if number:
        terms.append(("orders", number))
    if digits and digits != term:
        terms.append(("who", digits))
    return terms


def _contains(terms: list[tuple[str, str]]) -> ColumnElement[bool]:
    """LIKE on the lower-case documents, which pg_trgm's GIN indexes answer (and which still
    works, by scanning, anywhere); several times cheaper per row than ILIKE."""
    checks = []
    for columns, term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        checks += [getattr(SearchDoc, name).like(pattern.lower(), escape="\\") for name in columns.split()]
    return or_(*checks)


def _phrase(term: str) -> str:
    """The term as one FTS5 phrase (its own quotes doubled), so FTS5 query syntax in what an
    agent types is plain text."""
    return '"' + term.replace('"', '""') + '"'
