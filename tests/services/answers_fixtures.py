"""Shared arrangements for the automatic-answer tests: a store with answers on, FAQ entries, and
customers with orders."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select

from smsdesk.models import Customer, FaqEntry, Message, Order, Store, utcnow
from smsdesk.services import faq
from smsdesk.services.inbound import handle_inbound
from tests.factories import Factory

_sids = itertools.count(1)
_phones = itertools.count(1000)

FAQ = {
    "Returns": (["How do I return an item?", "What is your return policy?", "Can I return something?",
                 "Quelle est votre politique de retour ?"],
                "Returns are free within 30 days: start one at acme.example/returns."),
    "Sizing": (["What size should I get?", "Do your shoes run small?", "Do you have a size chart?",
                "Which size fits me?"],
               "Our shoes run true to size; the size chart is at acme.example/sizes."),
    "Discounts": (["Do you have a discount code?", "Any promo codes?", "Is there a coupon?"],
                  "Sign up at acme.example/news for 10% off your first order."),
    "International shipping": (["Do you ship to Canada?", "Do you ship internationally?",
                                "¿Hacen envíos a Canadá?"],
                               "We ship to the US, Canada and the EU; rates show at checkout."),
    "Hours": (["What are your opening hours?", "When are you open?"],
              "We answer texts Monday to Friday, 9am to 6pm Eastern."),
}
TRACKING = "https://track.example.com/1Z999AA10123456784"


def answering_store(session, *, make: Factory | None = None, order_status: bool = True, faq_on: bool = True,
                    **fields) -> Store:
    """``make``: the test's factory, so its agents hold a role at the store too."""
    store = (make or Factory(session)).store(**fields)
    faq.save_settings(session, store, {"order_status": "on" if order_status else "",
                                       "faq": "on" if faq_on else "", "handoff_ack": "on"})
    for title, (questions, answer) in FAQ.items():
        session.add(FaqEntry(store_id=store.id, title=title, questions=questions, answer=answer))
    session.commit()
    return store


def order(session, store: Store, customer: Customer, number: str, *, status: str = "shipped",
          created_at: datetime | None = None, tracking_url: str = TRACKING) -> Order:
    row = Order(store_id=store.id, external_id=f"ext-{customer.id}-{number}", number=number,
                customer_id=customer.id, phone=customer.phone, status=status, tracking_company="UPS",
                tracking_number="1Z999AA10123456784", tracking_url=tracking_url,
                created_at=created_at or utcnow() - timedelta(days=3))
    session.add(row)
    session.commit()
    return row


def customer_with(session, store: Store, kind: str) -> Customer:
    """'one': order #1042 shipped; 'two': #2001 placed and #2002 delivered; 'none': no order."""
    customer = Factory(session).customer(store, f"+1502555{next(_phones):04d}", first_name="Emma")
    if kind == "one":
        order(session, store, customer, "1042")
        order(session, store, customer, "0042", status="delivered", created_at=utcnow() - timedelta(days=200))
    elif kind == "two":
        order(session, store, customer, "2001", status="placed")
        order(session, store, customer, "2002", status="delivered", created_at=utcnow() - timedelta(days=1))
    return customer


def text_in(session, store: Store, customer: Customer, body: str, *, sid: str | None = None) -> Message | None:
    handle_inbound(session, store=store, customer=customer, body=body, provider_sid=sid or f"SMans{next(_sids)}")
    session.commit()
    return session.scalar(select(Message).where(Message.customer_id == customer.id, Message.direction == "in")
                          .order_by(Message.id.desc()).limit(1))


def answers_to(session, message: Message) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.dedupe_key == f"answer:{message.id}")))
