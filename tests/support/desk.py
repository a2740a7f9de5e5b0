"""Arranging a store's hours and routing settings and its agents' presence in tests."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from smsdesk.models import Agent, Store, utcnow
from smsdesk.services.business_hours import parse_day
from smsdesk.services.desk_settings import settings_row

WEEKDAYS = "mon tue wed thu fri sat sun".split()


def configure(session: Session, store: Store, *, hours: dict[str, str] | None = None, away_message: bool = False,
              assignment: bool = False, agent_limit: int = 10, answer_minutes: int = 15) -> None:
    """Set the store's desk settings and commit. ``hours`` maps "mon".."sun" to the owner's
    notation ("09:00-17:30"); None: no business hours (always open), {}: never open."""
    row = settings_row(session, store.id)
    row.use_hours = hours is not None
    row.schedule = None if hours is None else [
        [i.weekday, i.opens, i.closes] for day, text in hours.items() for i in parse_day(WEEKDAYS.index(day), text)]
    row.away_message, row.assignment = away_message, assignment
    row.agent_limit, row.answer_minutes = agent_limit, answer_minutes
    session.commit()


OFFICE = {day: "09:00-17:30" for day in WEEKDAYS[:5]} | {"sat": "10:00-14:00"}


def seen(session: Session, *agents: Agent, at: datetime | None = None) -> None:
    """Mark agents as seen at ``at`` (now by default)."""
    for agent in agents:
        agent.last_seen_at = at or utcnow()
    session.commit()
