"""smsdesk/services/inbound.py: carrier keywords (DESIGN §7) from real-world replies."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from smsdesk.models import AuditEvent, Conversation, Customer, Message, utcnow
from smsdesk.services.inbound import handle_inbound, keyword
from smsdesk.services.outbox import enqueue_text
from tests.factories import Factory

_sids = itertools.count(1)

# (what customers actually send, what it means)
REPLIES = [
    ("STOP", "stop"), ("stop", "stop"), (" Stop ", "stop"), ("stop.", "stop"), ("STOP!", "stop"),
    ("Stop!!!", "stop"), ("STOP ALL", "stop"), ("stopall", "stop"), ("Stop please", "stop"),
    ("please stop", "stop"), ("STOP 🛑", "stop"), ("Unsubscribe", "stop"), ("unsubscribe me", "stop"),
    ("Cancel", "stop"), ("END", "stop"), ("quit", "stop"), ("Opt out", "stop"), ("opt-out", "stop"),
    ("REVOKE", "stop"), ("Arrêt", "stop"), ("stop texting me", "stop"), ("\nSTOP\n", "stop"),
    ("START", "start"), ("Start", "start"), ("yes", "start"), ("Yes please", "start"), ("UNSTOP", "start"),
    ("HELP", "help"), ("help?", "help"), ("Info", "help"), ("aide", "help"), ("help me", "help"),
    ("don't stop my order", None), ("Please don't cancel my order!", None), ("Can I cancel my order?", None),
    ("stop by the store tomorrow", None), ("I need help with my order", None), ("Where is my package?", None),
    ("yes it arrived, thanks", None), ("Stopped by but you were closed", None), ("Thank you", None),
    ("", None), ("   ", None), ("🛑", None), ("12345", None),
]


@pytest.mark.parametrize("body, expected", REPLIES)
def test_keyword_table(body, expected):
    assert keyword(body) == expected


def text_in(db_session, store, body, *, phone="+15025550123"):
    customer = Factory(db_session).customer(store, phone)
    answer = handle_inbound(db_session, store=store, customer=customer, body=body, provider_sid=f"SMin{next(_sids)}")
    db_session.commit()
    return customer, answer


def outbound(db_session, **filters) -> list[Message]:
    return list(db_session.scalars(select(Message).filter_by(direction="out", **filters).order_by(Message.id)))


def test_stop_cancels_pending_and_confirms_once(db_session, make):
    store = make.store()
    customer = make.customer(store)
    pending = enqueue_text(db_session, store=store, customer=customer, kind="order_shipped", body="Shipped",
                           due_at=utcnow() + timedelta(hours=1))
    db_session.commit()

    text_in(db_session, store, "Stop.")
    text_in(db_session, store, "STOP")  # a second STOP: still opted out, no second confirmation
    db_session.fresh()

    assert db_session.get(Message, pending.id).status.value == "cancelled"
    assert [m.kind for m in outbound(db_session, status="queued")] == ["opt_out_confirmation"]
    assert db_session.get(Customer, customer.id).opted_out is True


def test_no_confirmation_when_the_platform_sends_its_own(db_session, make):
    store = make.store(send_opt_out_confirmation=False)
    customer, _ = text_in(db_session, store, "STOP")
    assert customer.opted_out is True and outbound(db_session) == []
    customer, _ = text_in(db_session, store, "START")
    assert customer.opted_out is False and outbound(db_session) == []


def test_consent_changes_are_logged_with_source_and_time(db_session, make):
    store = make.store()
    text_in(db_session, store, "stop")
    text_in(db_session, store, "start")
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action.in_(["opted_out", "opted_in"]))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.source, e.reason) for e in events] == [("opted_out", "keyword", "stop"),
                                                                ("opted_in", "keyword", "start")]
    assert all(e.at is not None for e in events)


def test_start_opts_back_in_and_confirms(db_session, make):
    store = make.store()
    text_in(db_session, store, "STOP")
    customer, _ = text_in(db_session, store, "Start")
    assert customer.opted_out is False
    assert [m.kind for m in outbound(db_session)] == ["opt_out_confirmation", "opt_in_confirmation"]


def test_yes_from_a_subscribed_customer_waits_for_an_agent(db_session, make):
    store = make.store()
    text_in(db_session, store, "yes")
    conversation = db_session.scalar(select(Conversation))
    assert conversation.waiting_since is not None and outbound(db_session) == []


def test_help_answers_with_the_carrier_required_content(db_session, make):
    store = make.store(name="Acme Outfitters", help_text="support@acme.example")
    _, answer = text_in(db_session, store, "HELP")
    for required in ("Acme Outfitters", "STOP", "Msg & data rates may apply", "support@acme.example"):
        assert required in answer
    assert db_session.scalar(select(Conversation)).waiting_since is None


def test_ordinary_text_containing_stop_is_not_an_opt_out(db_session, make):
    store = make.store()
    customer, answer = text_in(db_session, store, "don't stop my order")
    assert customer.opted_out is False and answer is None
    assert db_session.scalar(select(Conversation)).waiting_since is not None
