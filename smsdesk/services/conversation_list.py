"""The reply queue, one keyset page at a time (DESIGN §8), and what changed since a poll.

Order: conversations waiting for an answer first, oldest wait first ``(waiting_since, id)``;
then the others, latest text first ``(last_message_at desc, id desc)``. Each half is one
range scan of its own index (migration 0011), so a page costs the same at any depth.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Row, Select, func, select, tuple_
from sqlalchemy.orm import Session

from smsdesk.models import Conversation, ConversationStatus, Store, utcnow
from smsdesk.services.failures import latest_outbound_failed
from smsdesk.services.paging import DEFAULT_LIMIT, BadPage, decode_cursor, encode_cursor, next_since
from smsdesk.services.queries import LIST_COLUMNS, row_extras, summary
from smsdesk.services.search import mentions, search_condition

WAITING, REST, CHANGED = "cw", "cr", "cs"  # cursor kinds: in the waiting half, the rest, a since-walk


@dataclass
class ConversationFilters:
    """What an agent narrows the list to (every filter optional but ``status``)."""

    status: str = "open"  # open | closed | all
    store_slug: str | None = None
    search: str | None = None
    assigned_to: int | None = None
    store_ids: list[int] | None = None  # the user's stores; None: every store (an admin)
    failed: bool = False  # only conversations whose latest text to the customer failed


@dataclass
class ConversationPage:
    conversations: list[dict]
    next_cursor: str | None
    next_since: str
    removed: list[int] = field(default_factory=list)  # since-answers: changed, no longer in the list
    keys: dict[int, str] = field(default_factory=dict)  # id -> sort_key, for the web page

    def as_json(self, *, since: bool) -> dict:
        data: dict = {"conversations": self.conversations, "next_cursor": self.next_cursor,
                      "next_since": self.next_since}
        if since:
            data["removed"] = self.removed
        return data


def list_conversations(session: Session, filters: ConversationFilters, *, limit: int = DEFAULT_LIMIT,
                       cursor: str | None = None) -> ConversationPage:
    """One page of the list; ``cursor`` is a previous page's ``next_cursor``."""
    started = utcnow()
    key = _queue_key(cursor)
    query, listed = _matching(session, select(*LIST_COLUMNS), filters)  # once: a search probes its index here
    found: list[Row] = []
    if key is None or key[0] == WAITING:
        found = _fetch(session, _ordered(query, waiting=True, after=key, listed=listed), limit + 1)
    if len(found) <= limit:
        after = key if key is not None and key[0] == REST else None
        found += _fetch(session, _ordered(query, waiting=False, after=after, listed=listed), limit + 1 - len(found))
    page, more = found[:limit], len(found) > limit
    return ConversationPage(_summaries(session, page), _queue_cursor(page[-1]) if more else None,
                            next_since(started), keys={c.id: sort_key(c) for c in page})


def changed_conversations(session: Session, filters: ConversationFilters, *, since: datetime,
                          limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> ConversationPage:
    """Conversations changed after ``since``, oldest change first: the ones still matching the
    filters in full, the ids of the others in ``removed`` (closed, reassigned ...)."""
    started = utcnow()
    query = _scoped(select(*LIST_COLUMNS), filters).where(Conversation.updated_at > since)
    if cursor is not None:
        changed_at, last_id = decode_cursor(cursor, CHANGED, (datetime, int))
        query = query.where(tuple_(Conversation.updated_at, Conversation.id) > tuple_(changed_at, last_id))
    found = _fetch(session, query.order_by(Conversation.updated_at, Conversation.id), limit + 1)
    page, more = found[:limit], len(found) > limit
    still = set(session.scalars(_matching_rows(select(Conversation.id), filters)
                                .where(Conversation.id.in_([c.id for c in page])))) if page else set()
    shown = [c for c in page if c.id in still]
    next_cursor = encode_cursor(CHANGED, page[-1].updated_at, page[-1].id) if more else None
    return ConversationPage(_summaries(session, shown), next_cursor, next_since(started),
                            [c.id for c in page if c.id not in still], {c.id: sort_key(c) for c in shown})


def sort_key(conversation: Row) -> str:
    """A string that sorts like the list, for a page that places changed rows itself."""
    if conversation.waiting_since is not None:
        return f"0{_micros(conversation.waiting_since):020d}{conversation.id:012d}"
    return f"1{10**19 - _micros(conversation.last_message_at):020d}{10**12 - conversation.id:012d}"


def _micros(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


def _queue_key(cursor: str | None) -> list | None:
    if cursor is None:
        return None
    try:
        return [WAITING, *decode_cursor(cursor, WAITING, (datetime, int))]
    except BadPage:
        return [REST, *decode_cursor(cursor, REST, (datetime, int))]


def _queue_cursor(last: Row) -> str:
    if last.waiting_since is not None:
        return encode_cursor(WAITING, last.waiting_since, last.id)
    return encode_cursor(REST, last.last_message_at, last.id)


def _ordered(query: Select, *, waiting: bool, after: list | None, listed: bool = False) -> Select:
    """One half of the list, in its order; ``listed``: a search listed its few matching customers."""
    # Then no index may serve the half's own condition: SQLite's statistics count the 95,000
    # conversations nobody waits on as one value of waiting_since, reckon ``IS NULL`` finds ~20 of
    # them, and walked that index in order checking each row against the list (36 ms at 100,000)
    # instead of looking the listed customers up and sorting their conversations (~1 ms).
    waiting_since = func.coalesce(Conversation.waiting_since, Conversation.waiting_since) if listed \
        else Conversation.waiting_since
    if waiting:
        query = query.where(waiting_since.is_not(None))
        if after is not None:
            query = query.where(tuple_(Conversation.waiting_since, Conversation.id) > tuple_(after[1], after[2]))
        return query.order_by(Conversation.waiting_since, Conversation.id)
    query = query.where(waiting_since.is_(None))
    if after is not None:
        query = query.where(tuple_(Conversation.last_message_at, Conversation.id) < tuple_(after[1], after[2]))
    return query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())


def _scoped(query: Select, filters: ConversationFilters) -> Select:
    """Which conversations a caller may see at all: the user's stores (services/access.py), the store."""
    if filters.store_ids is not None:
        query = query.where(Conversation.store_id.in_(filters.store_ids))
    if filters.store_slug:
        query = query.where(Conversation.store_id.in_(select(Store.id).where(Store.slug == filters.store_slug)))
    return query


def _matching(session: Session, query: Select, filters: ConversationFilters) -> tuple[Select, bool]:
    """``query`` narrowed by every filter, and whether its search listed the matching customers
    (``search_condition``)."""
    query, search = _filtered(query, filters), _search(filters)
    if search is None:
        return query, False
    condition, listed = search_condition(session, search, Conversation.customer_id, filters.store_ids)
    return query.where(condition), listed


def _matching_rows(query: Select, filters: ConversationFilters) -> Select:
    """``query`` narrowed by every filter, for a few known rows: a search is then cheapest
    checked on each row's own texts and orders."""
    query, search = _filtered(query, filters), _search(filters)
    return query if search is None else query.where(mentions(search, Conversation.customer_id))


def _filtered(query: Select, filters: ConversationFilters) -> Select:
    """``query`` narrowed by every filter but the search."""
    query = _scoped(query, filters)
    if filters.status != "all":
        query = query.where(Conversation.status == ConversationStatus(filters.status))
    if filters.assigned_to is not None:
        query = query.where(Conversation.assigned_agent_id == filters.assigned_to)
    if filters.failed:
        query = query.where(latest_outbound_failed())
    return query


def _search(filters: ConversationFilters) -> str | None:
    return filters.search if filters.search and filters.search.strip() else None


def _fetch(session: Session, query: Select, limit: int) -> list[Row]:
    """Up to ``limit`` rows of LIST_COLUMNS."""
    return list(session.execute(query.limit(limit))) if limit > 0 else []


def _summaries(session: Session, rows: list[Row]) -> list[dict]:
    extras = row_extras(session, [row.id for row in rows])
    return [summary(row, extras) for row in rows if row.id in extras.people]  # (unless deleted meanwhile)


def waiting_count(session: Session, store_ids: list[int] | None) -> int:
    """How many open conversations wait for an agent in the user's stores (the tab title's count)."""
    query = select(func.count()).select_from(Conversation).where(
        Conversation.status == ConversationStatus.OPEN, Conversation.waiting_since.is_not(None))
    if store_ids is not None:
        query = query.where(Conversation.store_id.in_(store_ids))
    return session.scalar(query) or 0
