"""Assignment time-out: a conversation automatic assignment gave to an agent who did not answer
within the store's answer time goes back to the queue and to the next available agent other
than that one (services/assignment.py). A sweep of the indexed ``answer_due_at`` column."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from smsdesk.models import utcnow
from smsdesk.services.assignment import answer_overdue, due_routings

BATCH = 100  # conversations per transaction


def return_unanswered(sessions: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Act on every conversation whose answer time is up; returns how many went back to the queue."""
    now = now or utcnow()
    returned = 0
    while True:
        with sessions.begin() as session:
            due = due_routings(session, now=now, limit=BATCH)
            returned += sum(answer_overdue(session, routing, now=now) for routing in due)
        if len(due) < BATCH:
            return returned
