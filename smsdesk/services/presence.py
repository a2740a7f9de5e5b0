"""Whether an agent is at work: seen lately (any signed-in page or API request) and not away.

Automatic assignment (services/assignment.py) only gives conversations to agents present now.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from smsdesk.models import Agent, utcnow

# last_seen_at is written at most once a minute per agent (like API tokens' last_used_at): a
# write per request would make every read a writer. An open inbox polls every few seconds.
SEEN_TOUCH_EVERY = timedelta(minutes=1)
SEEN_WITHIN = timedelta(minutes=5)  # seen this recently: at work (well above SEEN_TOUCH_EVERY)


def needs_touch(agent: Agent, *, now: datetime | None = None) -> bool:
    """True when the agent's last_seen_at is older than SEEN_TOUCH_EVERY (or unset)."""
    return agent.last_seen_at is None or agent.last_seen_at <= (now or utcnow()) - SEEN_TOUCH_EVERY


def touch_seen(session: Session, agent_id: int, *, now: datetime | None = None) -> None:
    """Record that the agent is at work now, unless another request did within the minute."""
    now = now or utcnow()
    session.execute(update(Agent).where(
        Agent.id == agent_id, or_(Agent.last_seen_at.is_(None), Agent.last_seen_at <= now - SEEN_TOUCH_EVERY),
    ).values(last_seen_at=now).execution_options(synchronize_session=False))


def seen_in_request(session: Session, agent: Agent) -> None:
    """For a signed-in request: record the agent as seen when due, in transactions of its own.

    The request's transaction is ended first: on SQLite a reading request began DEFERRED, and one
    whose first statement writes waits for the write lock instead of failing on a stale read."""
    now = utcnow()
    if not needs_touch(agent, now=now):
        return
    session.commit()
    touch_seen(session, agent.id, now=now)
    session.commit()
    set_committed_value(agent, "last_seen_at", now)  # what the row holds now, without a second write


def set_away(agent: Agent, away: bool, *, now: datetime | None = None) -> None:
    """Mark the agent away (no new assignments) or back at work."""
    if away and agent.away_since is None:
        agent.away_since = now or utcnow()
    elif not away:
        agent.away_since = None


def availability(agent: Agent, *, now: datetime | None = None) -> dict:
    """What the API answers about the agent's presence."""
    now = now or utcnow()
    seen = agent.last_seen_at is not None and agent.last_seen_at > now - SEEN_WITHIN
    return {"away": agent.away_since is not None, "away_since": _iso(agent.away_since),
            "last_seen_at": _iso(agent.last_seen_at), "available": seen and agent.away_since is None}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None
