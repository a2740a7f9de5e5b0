"""Response metrics for the owners' dashboard: first-response and resolution times (median and
90th percentile) per store and per agent, the share of texts answered automatically, and CSAT.

Definitions (the dashboard shows them too):
- A customer's text is *answered automatically* when smsdesk took it as a STOP/HELP keyword or
  as a plain rating (services/feedback.py), or when the first answer sent into the conversation
  after it (an agent's reply or a text of an automatic kind), within ``AUTO_WINDOW`` and before
  the customer's next text, is of an automatic kind (``AUTOMATIC_KINDS`` but ``NOT_ANSWERS``).
- Any other customer text *starts waiting* unless the conversation is waiting already.
- *First response*: from the text that started waiting to the next agent reply in that
  conversation. A conversation closed without a reply gives no first-response time.
- *Resolution*: from the first text that started waiting after the previous close (or ever) to
  the next close by an agent (``conversation_closes``). Per agent: the one who closed it.
- A time counts in the range of the text that started it. Times are ``elapsed(store_id, start,
  end)`` seconds: wall-clock by default; business hours when the caller passes such a function.
- Percentiles are nearest-rank: the p-th of n sorted values is the ceil(p/100 * n)-th, so the
  median of an even count is the lower middle one; no value is interpolated.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from smsdesk.models import Agent, ConversationClose, Direction, Feedback, Message
from smsdesk.services.inbound import keyword
from smsdesk.services.replies import AGENT_REPLY
from smsdesk.services.template_kinds import AUTOMATIC_KINDS

Elapsed = Callable[[int, datetime, datetime], float]  # (store id, start, end) -> seconds that count
AUTO_WINDOW = timedelta(minutes=10)  # an automatic answer follows its text at once
LOOKBACK = timedelta(days=7)  # texts before the range tell whether a conversation was waiting already
# Automatic, but no answer to what the customer wrote: they ask or acknowledge (the away message,
# a hand-off's acknowledgement), and the text still waits for an agent.
NOT_ANSWERS = frozenset({"feedback_request", "handoff_ack", "away_message"})
ANSWER_KINDS = frozenset(AUTOMATIC_KINDS - NOT_ANSWERS)
CONSUMED_KEYWORDS = ("stop", "help")  # taken by smsdesk, never for the agents (inbound.py)
KEYWORD_LENGTH = 40  # characters: a longer text is no keyword, so its body is not read


def wall_clock(_store_id: int, start: datetime, end: datetime) -> float:
    """Seconds between two instants: the default ``elapsed``."""
    return (end - start).total_seconds()


def percentile(values: Iterable[float], p: float) -> float | None:
    """The nearest-rank p-th percentile (0 < p <= 100) of ``values``; None for none."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Times:
    """How many times were measured, their median and 90th percentile (seconds)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Times:
        return cls(len(values), percentile(values, 50), percentile(values, 90))


@dataclass
class _Samples:
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One line of the table: a store or an agent, and their times."""

    name: str
    first_response: Times
    resolution: Times


@dataclass
class ResponseMetrics:
    """The figures for a set of stores over ``[start, end)``."""

    overall: Row
    stores: list[Row]
    agents: list[Row]
    inbound: int = 0  # customer texts in the range
    automatic: int = 0  # of them, answered automatically
    waiting: int = 0  # texts in the range that started waiting and got no agent reply (yet)

    @property
    def automatic_share(self) -> float | None:
        return self.automatic / self.inbound if self.inbound else None


@dataclass
class _Tally:
    """Counts of one run over a store's texts."""

    store: _Samples = field(default_factory=_Samples)
    agents: dict[int, _Samples] = field(default_factory=lambda: defaultdict(_Samples))
    inbound: int = 0
    automatic: int = 0
    waiting: int = 0


@dataclass(frozen=True)
class _Event:
    at: datetime
    order: int  # at the same instant: the customer's text, then answers, then a close
    id: int
    direction: Direction | None = None  # None: a close
    kind: str = ""
    body: str = ""
    agent_id: int | None = None


def response_metrics(session: Session, *, stores: dict[int, str], start: datetime, end: datetime,
                     elapsed: Elapsed = wall_clock, agent_names: dict[int, str] | None = None) -> ResponseMetrics:
    """First-response and resolution times and the automatic share of ``stores`` (id -> name)
    for texts in ``[start, end)``; see the module for the definitions."""
    overall, per_agent = _Samples(), defaultdict[int, _Samples](_Samples)
    rows, totals = [], _Tally()
    for store_id, name in stores.items():
        tally = _store_tally(session, store_id, start=start, end=end, elapsed=elapsed)
        rows.append(Row(name, Times.of(tally.store.first_response), Times.of(tally.store.resolution)))
        overall.first_response += tally.store.first_response
        overall.resolution += tally.store.resolution
        for agent_id, samples in tally.agents.items():
            per_agent[agent_id].first_response += samples.first_response
            per_agent[agent_id].resolution += samples.resolution
        totals.inbound, totals.automatic = totals.inbound + tally.inbound, totals.automatic + tally.automatic
        totals.waiting += tally.waiting
    names = agent_names if agent_names is not None else _agent_names(session, list(per_agent))
    agents = sorted((Row(names.get(agent_id, f"agent {agent_id}"), Times.of(s.first_response), Times.of(s.resolution))
                     for agent_id, s in per_agent.items()), key=lambda row: row.name)
    return ResponseMetrics(overall=Row("All", Times.of(overall.first_response), Times.of(overall.resolution)),
                           stores=rows, agents=agents, inbound=totals.inbound, automatic=totals.automatic,
                           waiting=totals.waiting)


def _agent_names(session: Session, agent_ids: list[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    return dict(session.execute(select(Agent.id, Agent.email).where(Agent.id.in_(agent_ids))).tuples().all())


def _store_tally(session: Session, store_id: int, *, start: datetime, end: datetime, elapsed: Elapsed) -> _Tally:
    threads = _threads(session, store_id, start - LOOKBACK, end + LOOKBACK)
    consumed = _rated(session, store_id, start - LOOKBACK, end + LOOKBACK)
    tally = _Tally()
    for events in threads.values():
        _replay(events, store_id=store_id, start=start, end=end, consumed=consumed, elapsed=elapsed, tally=tally)
    return tally


def _threads(session: Session, store_id: int, since: datetime, until: datetime) -> dict[int, list[_Event]]:
    """Each conversation's texts, answers and closes in ``[since, until)``, in order (two range
    scans of the (store_id, created_at) and (store_id, closed_at) indexes)."""
    threads: dict[int, list[_Event]] = defaultdict(list)
    texts = session.execute(
        select(Message.conversation_id, Message.created_at, Message.id, Message.direction, Message.kind,
               case((func.length(Message.body) <= KEYWORD_LENGTH, Message.body), else_=""), Message.agent_id)
        .where(Message.store_id == store_id, Message.created_at >= since, Message.created_at < until,
               Message.conversation_id.is_not(None),
               or_(Message.direction == Direction.IN, Message.kind.in_((AGENT_REPLY, *AUTOMATIC_KINDS)))))
    for conversation_id, at, message_id, direction, kind, body, agent_id in texts:
        threads[conversation_id].append(_Event(at, 0 if direction == Direction.IN else 1, message_id, direction,
                                               kind, body if direction == Direction.IN else "", agent_id))
    closes = session.execute(
        select(ConversationClose.conversation_id, ConversationClose.closed_at, ConversationClose.id,
               ConversationClose.agent_id)
        .where(ConversationClose.store_id == store_id, ConversationClose.closed_at >= since,
               ConversationClose.closed_at < until))
    for conversation_id, at, close_id, agent_id in closes:
        threads[conversation_id].append(_Event(at, 2, close_id, agent_id=agent_id))
    for events in threads.values():
        events.sort(key=lambda event: (event.at, event.order, event.id))
    return threads


def _rated(session: Session, store_id: int, since: datetime, until: datetime) -> set[int]:
    """Ids of texts taken as a plain rating (not left for an agent)."""
    return set(session.scalars(select(Feedback.message_id).where(
        Feedback.store_id == store_id, Feedback.created_at >= since, Feedback.created_at < until,
        Feedback.opened.is_(False))))


def _answered_automatically(events: list[_Event], index: int, consumed: set[int]) -> bool:
    text = events[index]
    if text.id in consumed or keyword(text.body) in CONSUMED_KEYWORDS:
        return True
    for later in islice(events, index + 1, None):
        if later.direction == Direction.IN or later.at - text.at > AUTO_WINDOW:
            return False
        if later.direction == Direction.OUT and (later.kind == AGENT_REPLY or later.kind in ANSWER_KINDS):
            return later.kind in ANSWER_KINDS
    return False


def _replay(events: list[_Event], *, store_id: int, start: datetime, end: datetime, consumed: set[int],
            elapsed: Elapsed, tally: _Tally) -> None:
    """Walk one conversation in order, collecting the times that started in ``[start, end)``."""
    waiting_since: datetime | None = None  # unanswered since (first response)
    open_since: datetime | None = None  # waiting first since the last close (resolution)
    for index, event in enumerate(events):
        in_range = start <= event.at < end
        if event.direction == Direction.IN:
            automatic = _answered_automatically(events, index, consumed)
            tally.inbound += in_range
            tally.automatic += in_range and automatic
            if not automatic:
                waiting_since, open_since = waiting_since or event.at, open_since or event.at
        elif event.direction == Direction.OUT and event.kind == AGENT_REPLY and waiting_since is not None:
            _add(tally, event.agent_id, "first_response", waiting_since, event.at, store_id, start, end, elapsed)
            waiting_since = None
        elif event.direction is None and open_since is not None:  # a close
            _add(tally, event.agent_id, "resolution", open_since, event.at, store_id, start, end, elapsed)
            waiting_since = open_since = None
    if waiting_since is not None and start <= waiting_since < end:
        tally.waiting += 1


def _add(tally: _Tally, agent_id: int | None, metric: str, began: datetime, ended: datetime, store_id: int,
         start: datetime, end: datetime, elapsed: Elapsed) -> None:
    if not start <= began < end:
        return
    seconds = max(0.0, elapsed(store_id, began, ended))
    getattr(tally.store, metric).append(seconds)
    if agent_id is not None:
        getattr(tally.agents[agent_id], metric).append(seconds)


# -- CSAT --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsatWeek:
    """Ratings given in one week (Monday to Sunday, UTC)."""

    week: date
    count: int
    average: float
    satisfied_share: float  # share of 4 and 5


@dataclass(frozen=True)
class Comment:
    at: datetime
    score: int
    comment: str
    conversation_id: int | None


def csat_by_week(session: Session, *, store_ids: list[int], start: datetime, end: datetime) -> list[CsatWeek]:
    """Count, average and share of 4-5 of the ratings in ``[start, end)``, per week, oldest first."""
    scores: dict[date, list[int]] = defaultdict(list)
    for at, score in session.execute(select(Feedback.created_at, Feedback.score).where(
            Feedback.store_id.in_(store_ids), Feedback.created_at >= start, Feedback.created_at < end)):
        day = at.date()
        scores[day - timedelta(days=day.weekday())].append(score)
    return [CsatWeek(week, len(values), sum(values) / len(values), sum(v >= 4 for v in values) / len(values))
            for week, values in sorted(scores.items())]


def latest_comments(session: Session, *, store_ids: list[int], start: datetime, end: datetime,
                    limit: int = 10) -> list[Comment]:
    """The newest ratings with words, newest first."""
    rows = session.execute(select(Feedback.created_at, Feedback.score, Feedback.comment, Feedback.conversation_id)
                           .where(Feedback.store_id.in_(store_ids), Feedback.created_at >= start,
                                  Feedback.created_at < end, Feedback.comment != "")
                           .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit))
    return [Comment(*row) for row in rows]


# -- the dashboard's section -------------------------------------------------------------------

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a bounded scan: at most a year of one store's texts per request


class BadRange(ValueError):
    """A ?from=/?to= the dashboard can't use (the message says why)."""


@dataclass(frozen=True)
class Section:
    """Everything the dashboard's response-metrics section shows."""

    first_day: date
    last_day: date
    responses: ResponseMetrics
    csat: list[CsatWeek]
    comments: list[Comment]


def date_range(first: str | None, last: str | None, *, zone: str, today: date) -> tuple[date, date]:
    """The days asked for (``YYYY-MM-DD``, both included); the last DEFAULT_DAYS by default."""
    try:
        last_day = date.fromisoformat(last) if last else today
        first_day = date.fromisoformat(first) if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise BadRange("from and to are dates like 2026-12-01") from None
    if first_day > last_day:
        raise BadRange("from must not be after to")
    if (last_day - first_day).days >= MAX_DAYS:
        raise BadRange(f"a range of at most {MAX_DAYS} days")
    return first_day, last_day


def section(session: Session, *, stores: dict[int, str], first_day: date, last_day: date, zone: str,
            elapsed: Elapsed = wall_clock) -> Section:
    """The section's figures for ``stores`` over the local days ``first_day``..``last_day``."""
    start = datetime.combine(first_day, time.min, tzinfo=ZoneInfo(zone))
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=ZoneInfo(zone))
    ids = list(stores)
    return Section(first_day, last_day, response_metrics(session, stores=stores, start=start, end=end, elapsed=elapsed),
                   csat_by_week(session, store_ids=ids, start=start, end=end),
                   latest_comments(session, store_ids=ids, start=start, end=end))
