"""Revenue attribution: which marketing text an order is credited to.

An order is attributed to the last marketing text of its store the customer clicked (a short
link's ``link_clicks`` row) within the store's click window before the order; else, where the
owner turned view attribution on, to the last marketing text sent to the customer (sent or
delivered) within the shorter view window; else to none. Windows are half-open: a click exactly
``click_window_hours`` before the order is outside, one at the order's own instant inside.

The order's time is when smsdesk first recorded it (``orders.created_at``): the platforms'
events carry no order time of their own (smsdesk.events.OrderInfo), and the webhook arrives
within seconds. Attribution happens once, when the order is first recorded with its customer,
in the same INSERT (one indexed query; none for an order without a customer, nor in the apply
job for a customer its transaction created, who can have clicked nothing yet); a later refund or
cancellation leaves it (the report counts the order's total as recorded then).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from smsdesk.enums import Attribution, Direction, MessageStatus
from smsdesk.models import LinkClick, Message, Order
from smsdesk.services import preload
from smsdesk.services.short_links import settings_for

RECEIVED = (MessageStatus.SENT, MessageStatus.DELIVERED)  # what a view counts: the text reached the phone


@dataclass(frozen=True)
class Credit:
    message_id: int
    how: Attribution
    at: datetime  # the click, or the text's sending


def credit_for(session: Session, *, store_id: int, customer_id: int, at: datetime) -> Credit | None:
    """The text an order of ``customer_id`` placed at ``at`` is credited to, if any (one query)."""
    settings = settings_for(session, store_id)
    click_since = at - timedelta(hours=settings.click_window_hours)
    clicks = (select(LinkClick.message_id.label("message_id"), LinkClick.clicked_at.label("at"),
                     literal(0).label("rank"))
              .join(Message, Message.id == LinkClick.message_id)
              .where(LinkClick.customer_id == customer_id, LinkClick.store_id == store_id,
                     LinkClick.clicked_at > click_since, LinkClick.clicked_at <= at, Message.marketing.is_(True)))
    query = clicks
    if settings.view_attribution:
        view_since = at - timedelta(hours=settings.view_window_hours)
        views = (select(Message.id.label("message_id"), Message.sent_at.label("at"), literal(1).label("rank"))
                 .where(Message.customer_id == customer_id, Message.store_id == store_id,
                        Message.direction == Direction.OUT, Message.marketing.is_(True),
                        Message.status.in_(RECEIVED), Message.sent_at > view_since, Message.sent_at <= at))
        both = union_all(clicks, views).subquery()
        query = select(both.c.message_id, both.c.at, both.c.rank).order_by(both.c.rank, both.c.at.desc())
    else:
        query = clicks.order_by(LinkClick.clicked_at.desc(), LinkClick.id.desc())
    row = session.execute(query.limit(1)).first()
    if row is None:
        return None
    when = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=timezone.utc)  # SQLite: naive UTC
    return Credit(row.message_id, Attribution.CLICK if row.rank == 0 else Attribution.VIEW, when)


def attribute(session: Session, order: Order, *, at: datetime) -> Credit | None:
    """Credit ``order`` (placed at ``at``, with its customer set) to a text, if one qualifies."""
    if order.customer_id is None or preload.known(session, "credit", order.store_id, order.customer_id) is None:
        return None  # no customer, or one this batch created (services/customers.py): nothing to look up
    credit = credit_for(session, store_id=order.store_id, customer_id=order.customer_id, at=at)
    if credit is not None:
        order.attributed_message_id, order.attribution, order.attributed_at = credit.message_id, credit.how, credit.at
    return credit
