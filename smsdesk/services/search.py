"""Inbox search by phone, name, order number and message text, through one document per customer.

``search_docs`` (migration 0015, kept by database triggers) holds per customer their name and
phone, their order numbers, and the tail of their latest texts, so a search reads 100,000
documents instead of 1,000,000 texts. PostgreSQL answers ``LIKE '%term%'`` from a pg_trgm GIN
index per column (documents are lower case, so LIKE does); SQLite a MATCH on the FTS5 trigram
table ``doc_search``. A trigram index can't help with fewer than three characters: shorter
terms scan the documents (slower, same answer).

A term can be selective ("4567", "#1042": the index hands over a few hundred documents, and
their conversations are sorted) or broad ("parcel", in every other document: sorting them all
would cost the most exactly when the first page is found at once). ``search_condition`` first
counts the term in the latest few hundred documents: common there, it is broad. Else it probes
the index for at most PROBE documents, and sorts their conversations. A broad term is answered
by reading the list in its own order and checking each conversation on its own document
(``mentions``), which stops as soon as a page is full.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, func, literal_column, or_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import column, table

from smsdesk.models import SearchDoc

_HasColumn = ColumnElement[int] | InstrumentedAttribute[int]
TRIGRAM = 3  # characters a trigram index needs
PROBE = 1_000  # matching documents beyond which a term counts as broad
SAMPLE, DENSE = 500, 0.05  # a term in 5% of the latest 500 documents is broad at once (``_dense``)
DOC_FTS = table("doc_search", column("rowid"))


def search_condition(session: Session, search: str, customer_id: _HasColumn,
                     store_ids: list[int] | None = None) -> tuple[ColumnElement[bool], bool]:
    """A condition on ``customer_id``: the customer matches ``search`` (see the module's note);
    ``store_ids``: the stores the user may see (None: all), which also narrow the probe. And
    whether the condition lists the matching customers (at most PROBE): their rows are then
    best found by customer and sorted, not by walking a list's order and checking each."""
    if _dense(session, search, store_ids):
        return mentions(search, customer_id), False
    probe = matching_customers(search, dialect=session.get_bind().dialect.name)
    if store_ids is not None:
        probe = probe.where(SearchDoc.store_id.in_(store_ids))
    found = _probe(session, probe.limit(PROBE + 1), indexed=all(len(term) >= TRIGRAM for _, term in _terms(search)))
    if len(found) <= PROBE:
        return (customer_id.in_(found), True) if found else (false(), False)
    return mentions(search, customer_id), False


def _dense(session: Session, search: str, store_ids: list[int] | None) -> bool:
    """Whether the term is in at least DENSE of the SAMPLE latest documents: then reading the
    list in order finds a page within a few hundred rows, and the probe (whose bitmap of a
    term in every document costs ~40 ms at 100,000) is skipped. Costs ~1 ms."""
    latest = select(SearchDoc.who, SearchDoc.orders, SearchDoc.texts)
    if store_ids is not None:
        latest = latest.where(SearchDoc.store_id.in_(store_ids))
    sample = latest.order_by(SearchDoc.customer_id.desc()).limit(SAMPLE).subquery()
    hits = session.scalar(select(func.count()).select_from(sample).where(_contains(_terms(search), sample.c)))
    return (hits or 0) >= SAMPLE * DENSE


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


def _contains(terms: list[tuple[str, str]], columns=None) -> ColumnElement[bool]:
    """LIKE on the lower-case documents, which pg_trgm's GIN indexes answer (and which still
    works, by scanning, anywhere); several times cheaper per row than ILIKE."""
    source = SearchDoc if columns is None else columns
    checks = []
    for names, term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        checks += [getattr(source, name).like(pattern.lower(), escape="\\") for name in names.split()]
    return or_(*checks)


def _phrase(term: str) -> str:
    """The term as one FTS5 phrase (its own quotes doubled), so FTS5 query syntax in what an
    agent types is plain text."""
    return '"' + term.replace('"', '""') + '"'
