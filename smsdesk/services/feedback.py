"""Customer feedback (CSAT): asking for a rating after a delivery or a closed conversation, and
recording the customer's answer.

A request is a scheduled text (``due_at`` = the event plus the store's delay), not a job of its
own: the send_due sweep already drains due texts by an indexed ``due_at``, and opt-outs are
checked there at send time. Quiet hours (which the send-time check applies to marketing only) are
applied here, by moving ``due_at`` out of them when the request is scheduled. Exactly once: the
dedupe key names the order or the close; at most one request per customer per ``REQUEST_EVERY``.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, attributes

from smsdesk.models import (
    Conversation,
    ConversationClose,
    ConversationStatus,
    Customer,
    Direction,
    Feedback,
    FeedbackSettings,
    Message,
    MessageStatus,
    Order,
    Store,
    utcnow,
)
from smsdesk.reasons import Reason
from smsdesk.services import compliance
from smsdesk.services.outbox import enqueue_kind
from smsdesk.services.privacy import is_erased
from smsdesk.services.ratings import Rating, parse_rating
from smsdesk.services.templates import build_context

REQUEST_KIND = "feedback_request"
REQUEST_EVERY = timedelta(days=7)  # a customer with three deliveries in a week is asked once
ANSWER_WITHIN = timedelta(days=7)  # a rating counts this long after its request was sent
LOW_SCORE = 2  # this score or lower opens the conversation for an agent
# A request that never reached the customer does not count against REQUEST_EVERY.
_NOT_ASKED = (MessageStatus.CANCELLED, MessageStatus.SUPPRESSED, MessageStatus.FAILED, MessageStatus.UNDELIVERED)
_ASKED = (MessageStatus.SENT, MessageStatus.DELIVERED)


def settings_for(session: Session, store_id: int) -> FeedbackSettings:
    """The store's feedback settings; the defaults (both off) when it never saved any."""
    found = session.get(FeedbackSettings, store_id)
    if found is not None:
        return found
    return FeedbackSettings(store_id=store_id, after_delivered=False, after_close=False,
                            delivered_delay_hours=24, close_delay_hours=24)


def after_delivered(session: Session, *, store: Store, order: Order, customer: Customer,
                    now: datetime | None = None) -> Message | None:
    """Schedule the rating request for a delivered order, when the store asks after deliveries."""
    settings = settings_for(session, store.id)
    if not settings.after_delivered:
        return None
    due = (now or utcnow()) + timedelta(hours=settings.delivered_delay_hours)
    return _request(session, store=store, customer=customer, due=due, order=order,
                    key=f"feedback:order:{store.id}:{order.id}")


def after_close(session: Session, *, closed: ConversationClose, now: datetime | None = None) -> Message | None:
    """Schedule the rating request for a conversation an agent closed, when the store asks after closes."""
    settings = settings_for(session, closed.store_id)
    if not settings.after_close or closed.agent_id is None:
        return None
    conversation = session.get_one(Conversation, closed.conversation_id)
    due = (now or utcnow()) + timedelta(hours=settings.close_delay_hours)
    return _request(session, store=conversation.store, customer=conversation.customer, due=due, order=None,
                    key=f"feedback:close:{closed.id}")


def _request(session: Session, *, store: Store, customer: Customer, due: datetime, order: Order | None,
             key: str) -> Message | None:
    if customer.opted_out or is_erased(customer) or _recently_asked(session, customer.id, due):
        return None
    hours = compliance.hours_decision(customer.phone, store=store, now=due)
    if hours is not None and hours.until is None:
        return None  # no hour in the coming days is allowed for this number
    context = build_context(store={"name": store.name, "support_contact": store.help_text},
                            customer={"first_name": customer.first_name},
                            order={"number": (order.number or order.external_id)} if order else None)
    return enqueue_kind(session, store=store, customer=customer, kind=REQUEST_KIND, context=context,
                        dedupe_key=key, due_at=hours.until if hours else due, order_id=order.id if order else None)


def _recently_asked(session: Session, customer_id: int, due: datetime) -> bool:
    """Whether a request to this customer is due (or went out) within REQUEST_EVERY of ``due``."""
    return session.scalar(select(Message.id).where(
        Message.customer_id == customer_id, Message.kind == REQUEST_KIND, Message.direction == Direction.OUT,
        Message.status.not_in(_NOT_ASKED),
        Message.due_at > due - REQUEST_EVERY, Message.due_at < due + REQUEST_EVERY).limit(1)) is not None


def cancel_unsent(session: Session, *, origin: str, store_id: int, customer_id: int | None = None,
                  detail: str = "feedback requests turned off") -> int:
    """Cancel the requests not sent yet of one origin ("order" or "close"), of the store (the
    owner turned them off) or of one customer of it."""
    by_customer = [] if customer_id is None else [Message.customer_id == customer_id]
    result = session.execute(
        update(Message).where(Message.store_id == store_id, *by_customer, Message.kind == REQUEST_KIND,
                              Message.status.in_((MessageStatus.SCHEDULED, MessageStatus.QUEUED)),
                              Message.dedupe_key.like(f"feedback:{origin}:%"))
        .values(status=MessageStatus.CANCELLED, reason=Reason.TEMPLATE_DISABLED, reason_detail=detail,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


def take_rating(session: Session, *, customer: Customer, message: Message, now: datetime | None = None) -> bool:
    """Record ``message`` as the customer's rating when it answers their latest open request.

    True when it did (nothing else should act on the text). A plain high score does not leave the
    conversation waiting; a low score, a comment or a picture does, for an agent to follow up.
    """
    conversation = session.get_one(Conversation, message.conversation_id)
    before = _status_before(conversation)  # read before any query: a flush would forget it
    rating = parse_rating(message.body)
    request = _open_request(session, customer.id, now or utcnow()) if rating is not None else None
    if rating is None or request is None:
        # Talking again: "how did we do?" about the closed conversation would come mid-way.
        cancel_unsent(session, origin="close", store_id=message.store_id, customer_id=customer.id,
                      detail="the customer wrote again")
        return False
    opened = rating.score <= LOW_SCORE or bool(rating.comment) or message.media_count > 0
    if not _record(session, request=request, message=message, rating=rating, opened=opened):
        return False
    if not opened:
        _not_waiting(conversation, message, status_before=before)
    return True


def _status_before(conversation: Conversation) -> ConversationStatus:
    """The conversation's status before this text made it open (its unflushed change)."""
    previous = attributes.get_history(conversation, "status").deleted
    return previous[0] if previous else conversation.status


def _open_request(session: Session, customer_id: int, now: datetime) -> Message | None:
    """The customer's latest request sent within ANSWER_WITHIN, when it is not rated yet."""
    latest = session.scalar(select(Message).where(
        Message.customer_id == customer_id, Message.kind == REQUEST_KIND, Message.direction == Direction.OUT,
        Message.status.in_(_ASKED), Message.sent_at.is_not(None), Message.sent_at >= now - ANSWER_WITHIN,
        Message.sent_at <= now).order_by(Message.sent_at.desc(), Message.id.desc()).limit(1))
    if latest is None:
        return None
    rated = session.scalar(select(Feedback.id).where(Feedback.request_message_id == latest.id))
    return None if rated is not None else latest


def _record(session: Session, *, request: Message, message: Message, rating: Rating, opened: bool) -> bool:
    row = Feedback(store_id=message.store_id, customer_id=message.customer_id,
                   conversation_id=message.conversation_id, order_id=request.order_id,
                   request_message_id=request.id, message_id=message.id, score=rating.score,
                   comment=rating.comment[:2000], opened=opened, created_at=message.created_at)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a second reply to the same request raced this one: that one is the rating
        return False
    return True


def _not_waiting(conversation: Conversation, message: Message, *, status_before: ConversationStatus) -> None:
    """A plain score is answered by being recorded: the conversation stays as it was."""
    if conversation.waiting_since == message.created_at:  # nothing else was waiting before it
        conversation.waiting_since = None
        conversation.status = status_before
        conversation.unread = max(0, conversation.unread - 1)
