"""Per-sender rate limit shared by all workers (``sender_slots``).

Every provider call takes a slot from its sender's limit (one row per from-number or
messaging service, locked for the instant of the reservation), so any number of workers
together keep to ``Store.rate_per_second``. A text whose slot lies further ahead goes back
to the queue with the slot reserved (``Message.slot_at``) instead of holding a worker.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from smsdesk.models import Message, MessageStatus, SenderSlot, utcnow

DEFAULT_RATE = 1.0  # texts per second: one long code (Twilio queues anything faster)


def take_slot(session: Session, message: Message, *, sender_key: str, rate: float | None, now: datetime) -> datetime:
    """When this message may be handed to the provider: its reserved slot, else a new one."""
    slot = _locked_slot(session, sender_key, now)
    paused_until = slot.paused_until or now
    if message.slot_at is not None and paused_until <= max(now, message.slot_at):
        return max(now, message.slot_at)  # reserved earlier and the sender was not paused since
    start = max(now, slot.next_free_at, paused_until)
    usable = rate if rate is not None and math.isfinite(rate) and rate > 0 else DEFAULT_RATE
    slot.next_free_at = start + timedelta(seconds=1.0 / usable)
    return start


def defer(message: Message, send_at: datetime) -> None:
    """Back to the queue until its reserved slot; not an attempt."""
    message.status, message.claimed_until = MessageStatus.QUEUED, None
    message.due_at = message.slot_at = send_at


def slow_sender(session: Session, *, sender_key: str, seconds: float, now: datetime | None = None) -> None:
    """Pause a sender (the provider asked us to slow down); reserved slots move past the pause."""
    now = now or utcnow()
    slot = _locked_slot(session, sender_key, now)
    until = now + timedelta(seconds=seconds)
    slot.paused_until = max(slot.paused_until or until, until)
    slot.next_free_at = max(slot.next_free_at, until)


def _locked_slot(session: Session, sender_key: str, now: datetime) -> SenderSlot:
    """The sender's slot row, created when new, locked until the transaction ends."""
    slot = session.get(SenderSlot, sender_key, with_for_update=True, populate_existing=True)
    if slot is not None:
        return slot
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Two workers may meet a new sender at once: one insert wins, both then lock that row.
    session.execute(insert(SenderSlot).values(sender_key=sender_key, next_free_at=now)
                    .on_conflict_do_nothing(index_elements=["sender_key"]))
    return session.get_one(SenderSlot, sender_key, with_for_update=True, populate_existing=True)
