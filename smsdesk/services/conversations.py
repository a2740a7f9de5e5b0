"""Conversations: one thread per store and customer, and the agents' reply queue."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, attributes

from smsdesk.models import (
    Agent,
    Conversation,
    ConversationStatus,
    Customer,
    Direction,
    Message,
    MessageStatus,
    Order,
    Store,
    utcnow,
)
from smsdesk.services import preload

INBOUND = "inbound"
FAILED_STATUSES = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)


def touch_conversation(session: Session, *, store_id: int, customer_id: int, at: datetime) -> Conversation:
    """The conversation for this customer at this store (created when new), marked active at ``at``."""
    conversation = _find(session, store_id, customer_id)
    if conversation is None:
        conversation = Conversation(store_id=store_id, customer_id=customer_id, last_message_at=at)
        try:
            preload.insert(session, conversation)
        except IntegrityError:  # created concurrently
            conversation = _find(session, store_id, customer_id)
        preload.remember(session, "conversation", store_id, customer_id, row=conversation)
    assert conversation is not None  # it exists now: we or the concurrent writer created it
    conversation.last_message_at = max(conversation.last_message_at, at)
    return conversation


def _find(session: Session, store_id: int, customer_id: int) -> Conversation | None:
    found = preload.known(session, "conversation", store_id, customer_id)
    if found is not preload.UNKNOWN:
        return found
    return session.scalar(
        select(Conversation).where(Conversation.store_id == store_id, Conversation.customer_id == customer_id)
    )


def find_inbound(session: Session, provider_sid: str) -> Message | None:
    return session.scalar(select(Message).where(Message.provider_sid == provider_sid))


def receive_inbound(
    session: Session, *, store: Store, customer: Customer, body: str, provider_sid: str,
) -> Message | None:
    """Record a text from a customer and put the conversation in the reply queue.

    Returns None when this provider sid was already recorded (a retried webhook).
    """
    if find_inbound(session, provider_sid) is not None:
        return None
    now = utcnow()
    conversation = touch_conversation(session, store_id=store.id, customer_id=customer.id, at=now)
    message = Message(
        store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
        direction=Direction.IN, kind=INBOUND, body=body, status=MessageStatus.RECEIVED,
        provider_sid=provider_sid, created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same MessageSid raced us
        return None
    conversation.status = ConversationStatus.OPEN
    conversation.waiting_since = conversation.waiting_since or now
    conversation.unread += 1
    return message


def mark_read(conversation: Conversation) -> None:
    conversation.unread = 0


def assign(conversation: Conversation, agent: Agent | None) -> None:
    conversation.assigned_agent_id = agent.id if agent else None


def close(conversation: Conversation) -> None:
    conversation.status = ConversationStatus.CLOSED
    conversation.waiting_since = None


def reopen(conversation: Conversation) -> None:
    conversation.status = ConversationStatus.OPEN


def add_note(session: Session, *, store: Store, customer: Customer, body: str, dedupe_key: str) -> Message | None:
    """An internal note for the agents (never sent); it puts the conversation in the queue."""
    if session.scalar(select(Message.id).where(Message.dedupe_key == dedupe_key)) is not None:
        return None
    now = utcnow()
    conversation = touch_conversation(session, store_id=store.id, customer_id=customer.id, at=now)
    note = Message(store_id=store.id, customer_id=customer.id, conversation_id=conversation.id,
                   direction=Direction.OUT, kind="note", body=body, status=MessageStatus.NOTE,
                   dedupe_key=dedupe_key, created_at=now)
    preload.insert(session, note)  # in a batch of events: an id of the batch's, not SQLite's next rowid
    conversation.status = ConversationStatus.OPEN
    conversation.waiting_since = conversation.waiting_since or now
    conversation.unread += 1
    return note


@event.listens_for(Session, "before_flush")
def _touch_for_list_changes(session: Session, _context, _instances) -> None:
    """The list shows the customer and their latest order: a change to either is a change of
    their conversations for ``?since=`` polls (their own changes bump ``updated_at`` by onupdate)."""
    changed = {row.customer_id if isinstance(row, Order) else row.id
               for row in (*session.new, *session.dirty)
               if isinstance(row, Order | Customer) and (row in session.new or session.is_modified(row))}
    changed.discard(None)
    if changed and preload.active(session):  # a batch touches them once, at its end (touch_changed)
        session.info.setdefault(TOUCHES, set()).update(changed)
    elif changed:
        # Core, on the flush's connection: an ORM bulk update can't run inside a flush.
        session.connection().execute(
            update(Conversation).where(Conversation.customer_id.in_(changed)).values(updated_at=utcnow()))
    failed = {row.conversation_id for row in session.dirty if isinstance(row, Message) and _newly_failed(row)}
    failed.discard(None)
    if failed:  # the list marks a conversation whose latest text to the customer failed
        session.connection().execute(
            update(Conversation).where(Conversation.id.in_(failed)).values(updated_at=utcnow()))


TOUCHES = "smsdesk.list_touches"  # session.info: customers whose conversations a batch changed


def touch_changed(session: Session) -> None:
    """Mark the conversations of the customers and orders a batch of events changed, in one
    UPDATE (outside a batch each flush does it for its own changes)."""
    session.flush()
    changed = session.info.pop(TOUCHES, None)
    if changed:
        session.execute(update(Conversation).where(Conversation.customer_id.in_(changed))
                        .values(updated_at=utcnow()).execution_options(synchronize_session=False))


def _newly_failed(message: Message) -> bool:
    return any(status in FAILED_STATUSES for status in attributes.get_history(message, "status").added)
