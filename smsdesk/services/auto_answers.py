"""Automatic answers to a customer's text (issue 15): where an order is, an owner's FAQ entry, and
"a person will reply" when the customer asks for one.

Called by services/inbound.py for every text that is not a carrier keyword. Silence is always
safe: when the classifier (services/intents.py) or the order lookup is not sure, nothing is sent
and the text waits for an agent as before. An answer goes through the outbox (enqueue_kind: the
store's template, opt-outs at send time, one per inbound text by its dedupe key) and takes the
text out of the queue, except in a conversation an agent is working.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smsdesk.models import (
    Conversation,
    Customer,
    Direction,
    FaqEntry,
    Handoff,
    Message,
    Order,
    Shipment,
    Store,
    utcnow,
)
from smsdesk.services import faq, shipments
from smsdesk.services.intents import Classification, Intent, classify
from smsdesk.services.languages import ENGLISH
from smsdesk.services.orders import order_context
from smsdesk.services.outbox import enqueue_kind
from smsdesk.services.privacy import is_erased
from smsdesk.services.template_store import language_of
from smsdesk.services.templates import build_context

RECENT = timedelta(days=60)  # orders a "where is my order" may mean without naming one
HANDOFF_FOR = timedelta(hours=24)  # a request for a person holds this long unless an agent replies
# What the answer says of an order in each of its states; the rest (a stub, a declined payment) is for an agent.
ANSWER_STATUS = {"placed": "confirmed", "shipped": "shipped", "in_transit": "shipped",
                 "out_for_delivery": "out_for_delivery", "ready_for_pickup": "ready_for_pickup",
                 "delivered": "delivered", "cancelled": "cancelled", "refunded": "refunded"}


@dataclass(frozen=True)
class OrderPick:
    """The order a question means, or why there is none to answer with."""

    order: Order | None
    reason: str


def pick_order(session: Session, *, store: Store, customer: Customer, numbers: tuple[str, ...],
               now: datetime, bare: tuple[str, ...] = ()) -> OrderPick:
    """The customer's order named by number, else their only recent order; None when unsure.

    ``bare``: numbers said without "#" or "order": one of the customer's order numbers names it,
    any other (a zip code, a price) names nothing."""
    orders = list(session.scalars(select(Order).where(Order.store_id == store.id, Order.customer_id == customer.id)
                                  .order_by(Order.created_at.desc(), Order.id.desc())))
    if not numbers:
        numbers = tuple(n for n in bare if any(_plain(o.number) == n or o.external_id == n for o in orders))
    if numbers:
        named = [o for o in orders if _plain(o.number) in numbers or o.external_id in numbers]
        if len(named) == 1 and len(numbers) == 1:
            return OrderPick(named[0], f"names order #{numbers[0]}")
        return OrderPick(None, f"names {', '.join('#' + n for n in numbers)}: not exactly one of this customer's")
    recent = [o for o in orders if o.created_at >= now - RECENT]
    if len(recent) == 1:
        return OrderPick(recent[0], "the customer's only recent order")
    if not recent:
        return OrderPick(None, "no recent order for this customer")
    return OrderPick(None, f"{len(recent)} recent orders and none named")


def _plain(number: str) -> str:
    return (number or "").lstrip("#").strip()


def auto_answer(session: Session, *, store: Store, customer: Customer, message: Message,
                now: datetime | None = None) -> bool:
    """Answer ``message`` automatically when sure; True when an answer was queued (the text may
    still wait for an agent, in a conversation one is working)."""
    now = now or utcnow()
    settings = faq.settings_of(session, store)
    if not (settings.order_status or settings.faq) or customer.opted_out or is_erased(customer):
        return False
    conversation = session.get_one(Conversation, message.conversation_id)
    entries = faq.entries_of(session, store) if settings.faq else []
    result = classify(message.body, faq=faq.candidates(entries), order_status=settings.order_status)
    if result.intent is Intent.HANDOFF:
        return _hand_off(session, store=store, customer=customer, message=message, conversation=conversation,
                         result=result, now=now, ack=settings.handoff_ack)
    if not result.sure or _handed_off(session, conversation, now):
        return False
    if result.intent is Intent.ORDER_STATUS:
        pick = pick_order(session, store=store, customer=customer, numbers=result.order_numbers, now=now,
                          bare=result.bare_numbers)
        if pick.order is None or pick.order.status not in ANSWER_STATUS:
            return False
        context = order_context(store, pick.order, customer, package=_newest_package(session, pick.order))
        context["answer"] = {"status": ANSWER_STATUS[pick.order.status], "text": ""}
        sent = _enqueue(session, store=store, customer=customer, kind="order_status_answer", context=context,
                        language=result.language, message=message, order_id=pick.order.id)
    else:
        entry = session.get_one(FaqEntry, result.faq_entry_id)
        context = _plain_context(store, customer, text=entry.answer)
        sent = _enqueue(session, store=store, customer=customer, kind="faq_answer", context=context,
                        language=result.language, message=message)
    if sent and not agent_working(session, conversation, message):
        _answered(conversation, message)
    return sent


def _newest_package(session: Session, order: Order) -> Shipment | None:
    """The latest package with tracking: its link is the one the customer wants (the order's own
    tracking columns mirror it, but a platform may only have told of the package)."""
    tracked = [p for p in shipments.packages_of(session, order) if p.tracking_url or p.tracking_number]
    return tracked[-1] if tracked else None


def _plain_context(store: Store, customer: Customer, *, text: str) -> dict[str, Any]:
    context = build_context(store={"name": store.name, "support_contact": store.help_text},
                            customer={"first_name": customer.first_name})
    context["answer"] = {"status": "", "text": text}
    return context


def _enqueue(session: Session, *, store: Store, customer: Customer, kind: str, context: dict, language: str,
             message: Message, order_id: int | None = None) -> bool:
    """Queue the answer once per inbound text, in the language the question was asked in when the
    classifier recognised one other than English, else in the customer's (services/template_store.py)."""
    if language == ENGLISH:
        language = language_of(store, customer)
    return enqueue_kind(session, store=store, customer=customer, kind=kind, context=context,
                        dedupe_key=f"answer:{message.id}", order_id=order_id,
                        language=language) is not None


def _hand_off(session: Session, *, store: Store, customer: Customer, message: Message,
              conversation: Conversation, result: Classification, now: datetime, ack: bool) -> bool:
    """Hold automatic answers for this conversation; acknowledge once per hand-off. The text waits."""
    already = _handed_off(session, conversation, now)
    row = session.get(Handoff, conversation.id)
    if row is None:
        try:
            with session.begin_nested():  # a concurrent text of the same customer may ask at once
                session.add(Handoff(conversation_id=conversation.id, requested_at=now, message_id=message.id))
        except IntegrityError:
            row = session.get_one(Handoff, conversation.id)
    if row is not None:
        row.requested_at, row.message_id = now, message.id
    if already or not ack:
        return False
    return _enqueue(session, store=store, customer=customer, kind="handoff_ack",
                    context=_plain_context(store, customer, text=""), language=result.language, message=message)


def _handed_off(session: Session, conversation: Conversation, now: datetime) -> bool:
    """Whether the customer asked for a person and no agent replied since, within HANDOFF_FOR."""
    row = session.get(Handoff, conversation.id)
    if row is None or row.requested_at < now - HANDOFF_FOR:
        return False
    replied = session.scalar(select(Message.id).where(
        Message.conversation_id == conversation.id, Message.direction == Direction.OUT,
        Message.agent_id.is_not(None), Message.created_at >= row.requested_at).limit(1))
    return replied is None


def agent_working(session: Session, conversation: Conversation, message: Message) -> bool:
    """Assigned to an agent, or an agent replied after the customer's previous text: the
    conversation is theirs, and an automatic answer must not take it out of the queue."""
    if conversation.assigned_agent_id is not None:
        return True
    previous = session.scalar(select(Message.created_at).where(
        Message.conversation_id == conversation.id, Message.direction == Direction.IN, Message.id != message.id,
        Message.created_at <= message.created_at).order_by(Message.created_at.desc(), Message.id.desc()).limit(1))
    query = select(Message.id).where(Message.conversation_id == conversation.id, Message.direction == Direction.OUT,
                                     Message.agent_id.is_not(None))
    if previous is not None:
        query = query.where(Message.created_at >= previous)
    return session.scalar(query.limit(1)) is not None


def _answered(conversation: Conversation, message: Message) -> None:
    """Answered automatically: the text no longer waits, unless an older one still does."""
    if conversation.waiting_since == message.created_at:
        conversation.waiting_since = None
