"""What happens when a customer's text still waits for an agent after keywords and automatic
answers: the away message outside business hours, and automatic assignment when the
conversation starts waiting with it (services/inbound.py calls ``text_waits``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from smsdesk.models import Conversation, Customer, Message, Store
from smsdesk.services import assignment, away
from smsdesk.services.desk_settings import settings_for


def text_waits(session: Session, *, store: Store, customer: Customer, message: Message,
               now: datetime | None = None) -> None:
    """Act on an inbound text that waits for an agent (``now``: when it came, by default)."""
    settings = settings_for(session, store.id)
    if settings is None or not (settings.away_message or settings.assignment):  # both off: as before
        return
    conversation = session.get_one(Conversation, message.conversation_id)
    if conversation.waiting_since is None:  # answered automatically after all
        return
    now = now or message.created_at
    away.acknowledge(session, store=store, customer=customer, conversation=conversation, now=now)
    if conversation.waiting_since == message.created_at:  # nothing was waiting before this text
        assignment.started_waiting(session, conversation=conversation, now=now)
