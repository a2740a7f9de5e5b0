"""Send-time rules (smsdesk/services/compliance.py): opt-outs, consent, quiet hours, caps,
and that every decision is recorded and shown by the API."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from smsdesk.models import AuditEvent, Checkout, Customer, Message, MessageStatus, Store
from smsdesk.services import compliance
from smsdesk.services.outbox import enqueue_text
from tests.services.test_checkouts import sweep

NEW_YORK, BERLIN = "America/New_York", "Europe/Berlin"
PHONE = "+12125550123"  # a New York number
NOON = datetime(2025, 6, 10, 16, 0, tzinfo=timezone.utc)  # 12:00 in New York
HOUR = timedelta(hours=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize("now, zone, window, expected", [
    (utc(2025, 6, 11, 3, 0), NEW_YORK, "20:00-08:00", utc(2025, 6, 11, 12, 0)),  # 23:00 -> 08:00 next day
    (utc(2025, 6, 10, 11, 59), NEW_YORK, "20:00-08:00", utc(2025, 6, 10, 12, 0)),  # 07:59 -> 08:00 today
    (utc(2025, 6, 10, 12, 0), NEW_YORK, "20:00-08:00", None),  # 08:00 sharp is allowed
    (utc(2025, 6, 10, 23, 59), NEW_YORK, "20:00-08:00", None),  # 19:59
    (utc(2025, 6, 11, 0, 0), NEW_YORK, "20:00-08:00", utc(2025, 6, 11, 12, 0)),  # 20:00 starts them
    (utc(2025, 1, 15, 2, 30), NEW_YORK, "21:00-09:00", utc(2025, 1, 15, 14, 0)),  # winter (EST)
    (utc(2025, 3, 9, 4, 0), NEW_YORK, "20:00-08:00", utc(2025, 3, 9, 12, 0)),  # over the DST switch
    (utc(2025, 6, 10, 0, 30), BERLIN, "01:00-06:00", utc(2025, 6, 10, 4, 0)),  # window inside one day
    (utc(2025, 6, 10, 5, 0), BERLIN, "01:00-06:00", None),
    (utc(2025, 6, 11, 3, 0), NEW_YORK, "", utc(2025, 6, 11, 12, 0)),  # empty: the default
    (utc(2025, 6, 11, 3, 0), NEW_YORK, "00:00-00:00", None),  # equal ends: no quiet hours
])
def test_quiet_hours_end(now, zone, window, expected):
    assert compliance.quiet_hours_end(now, zone=zone, window=window) == expected


@pytest.mark.parametrize("body, expected", [
    ("Your cart is waiting", "Your cart is waiting Reply STOP to opt out."),
    ("Your cart is waiting.  \n", "Your cart is waiting. Reply STOP to opt out."),
    ("Your cart is waiting. Reply STOP to opt out.", "Your cart is waiting. Reply STOP to opt out."),
    ("Cart saved! Text stop to unsubscribe", "Cart saved! Text stop to unsubscribe"),
    ("Nonstop deals", "Nonstop deals Reply STOP to opt out."),
    ("Don't stop now!", "Don't stop now! Reply STOP to opt out."),
    ("Txt STOP to end", "Txt STOP to end"),
    ("Reply STOP to opt out.\nCart: https://x.example", "Reply STOP to opt out.\nCart: https://x.example "
                                                        "Reply STOP to opt out."),
])
def test_every_marketing_text_ends_with_an_opt_out_line(body, expected):
    assert compliance.with_opt_out_line(body) == expected


@pytest.mark.parametrize("phone, store_zone, expected", [
    ("+13105550123", NEW_YORK, "America/Los_Angeles"),  # the number's own zone wins
    ("+12125550123", "America/Chicago", NEW_YORK),
    ("+33612345678", NEW_YORK, "Europe/Paris"),
    ("+15005550006", "America/Chicago", "America/Chicago"),  # a number with no zone: the store's
])
def test_recipient_zone(phone, store_zone, expected):
    assert compliance.recipient_zone(Customer(phone=phone), Store(timezone=store_zone)) == expected


@pytest.mark.parametrize("window, expected", [
    ("21:30-07:15", ((21, 30), (7, 15))),
    (None, ((20, 0), (8, 0))),
    ("25:00-08:00", ((20, 0), (8, 0))),  # never trust a stored string
    ("8pm-8am", ((20, 0), (8, 0))),
])
def test_parse_quiet_hours(window, expected):
    start, end = compliance.parse_quiet_hours(window)
    assert ((start.hour, start.minute), (end.hour, end.minute)) == expected


@pytest.fixture
def store(make):
    return make.store(rate_per_second=100.0)


def outbound(db_session, store, customer, *, kind="cart_reminder_2", marketing=True, status=None,
             attempted_at=None, checkout_id=None) -> Message:
    message = enqueue_text(db_session, store=store, customer=customer, kind=kind, body="Your cart is waiting",
                           marketing=marketing, due_at=NOON - HOUR, checkout_id=checkout_id)
    if status is not None:
        message.status, message.attempted_at = status, attempted_at
    db_session.commit()
    return message


def decide(db_session, store, customer, message, now=NOON) -> compliance.Decision:
    return compliance.decide(db_session, message=message, customer=customer, store=store, now=now)


@pytest.mark.parametrize("opted_out, consent, kind, marketing, expected", [
    (True, True, "order_shipped", False, ("suppress", "opted_out")),
    (True, False, "opt_out_confirmation", False, ("send", None)),
    (False, False, "order_shipped", False, ("send", None)),
    (False, False, "cart_reminder_1", True, ("suppress", "no_consent")),
    (True, True, "cart_reminder_1", True, ("suppress", "opted_out")),
    (False, True, "cart_reminder_1", True, ("send", None)),
])
def test_decision_by_consent_and_opt_out(db_session, store, make, opted_out, consent, kind, marketing, expected):
    customer = make.customer(store, PHONE, opted_out=opted_out, marketing_consent=consent)
    message = outbound(db_session, store, customer, kind=kind, marketing=marketing)
    decision = decide(db_session, store, customer, message)
    assert (decision.action, decision.reason) == expected


@pytest.mark.parametrize("hours_ago, expected", [
    ((1, 5, 23), ("suppress", "marketing_cap")),
    ((1, 5, 25), ("send", None)),  # the oldest one left the rolling 24 h
    ((1, 5), ("send", None)),
])
def test_at_most_three_marketing_texts_per_rolling_day(db_session, store, make, hours_ago, expected):
    customer = make.customer(store, PHONE, marketing_consent=True)
    for hours in hours_ago:
        outbound(db_session, store, customer, status=MessageStatus.SENT, attempted_at=NOON - hours * HOUR)
    outbound(db_session, store, customer, kind="order_shipped", marketing=False, status=MessageStatus.SENT,
             attempted_at=NOON - HOUR)  # order texts are not marketing: never counted
    message = outbound(db_session, store, customer)
    decision = decide(db_session, store, customer, message)
    assert (decision.action, decision.reason) == expected


@pytest.mark.parametrize("status, hours_ago, expected", [
    (MessageStatus.SENT, 23, ("suppress", "sequence_cap")),
    (MessageStatus.SENDING, 0, ("suppress", "sequence_cap")),  # may be at the provider right now
    (MessageStatus.SENT, 25, ("send", None)),
    (MessageStatus.SUPPRESSED, 1, ("send", None)),  # never went out: no sequence started
])
def test_one_reminder_sequence_per_day(db_session, store, make, status, hours_ago, expected):
    customer = make.customer(store, PHONE, marketing_consent=True)
    outbound(db_session, store, customer, kind="cart_reminder_1", status=status,
             attempted_at=NOON - hours_ago * HOUR)
    message = outbound(db_session, store, customer, kind="cart_reminder_1")
    decision = decide(db_session, store, customer, message)
    assert (decision.action, decision.reason) == expected


def test_reminder_for_a_bought_cart_is_cancelled(db_session, store, make):
    customer = make.customer(store, PHONE, marketing_consent=True)
    checkout = Checkout(store_id=store.id, token="t", status="completed")
    db_session.add(checkout)
    db_session.commit()
    message = outbound(db_session, store, customer, checkout_id=checkout.id)
    decision = decide(db_session, store, customer, message)
    assert (decision.action, decision.reason) == ("cancel", "checkout_completed")


def test_quiet_hours_come_before_the_caps(db_session, store, make):
    customer = make.customer(store, PHONE, marketing_consent=True)
    message = outbound(db_session, store, customer)
    decision = decide(db_session, store, customer, message, now=utc(2025, 6, 11, 3, 0))
    assert (decision.action, decision.reason, decision.until) == ("defer", "quiet_hours", utc(2025, 6, 11, 12, 0))


def test_store_quiet_hours_apply(db_session, make):
    store = make.store(quiet_hours="09:00-17:00", rate_per_second=100.0)
    customer = make.customer(store, PHONE, marketing_consent=True)
    message = outbound(db_session, store, customer)
    decision = decide(db_session, store, customer, message)  # 12:00 in New York
    assert (decision.action, decision.until) == ("defer", utc(2025, 6, 10, 21, 0))


@pytest.fixture
def auth(make):
    return {"Authorization": f"Bearer {make.token()}"}


def api_message(client, auth, message) -> dict:
    detail = client.get(f"/api/conversations/{message.conversation_id}", headers=auth).json
    return next(m for m in detail["messages"] if m["id"] == message.id)


def test_deferral_is_recorded_and_shown_by_the_api(app, client, auth, db_session, store, make, twilio_server):
    customer = make.customer(store, PHONE, marketing_consent=True)
    message = outbound(db_session, store, customer)
    assert sweep(app, utc(2025, 6, 11, 3, 0)) == 0
    shown = api_message(client, auth, message)
    assert (shown["status"], shown["reason"], shown["due_at"]) == ("scheduled", "quiet_hours", "2025-06-11T12:00:00Z")
    db_session.fresh()
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.reason, audit.detail) == ("deferred", "quiet_hours",
                                                          {"until": "2025-06-11T12:00:00+00:00"})
    assert twilio_server.messages == []


@pytest.mark.parametrize("customer_fields, reason", [
    ({"marketing_consent": False}, "no_consent"),
    ({"marketing_consent": True, "opted_out": True}, "opted_out"),
])
def test_suppression_is_recorded_and_shown_by_the_api(app, client, auth, db_session, store, make, twilio_server,
                                                      customer_fields, reason):
    customer = make.customer(store, PHONE, **customer_fields)
    message = outbound(db_session, store, customer)
    assert sweep(app, NOON) == 0
    shown = api_message(client, auth, message)
    assert (shown["status"], shown["reason"]) == ("suppressed", reason)
    db_session.fresh()
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.message_id == message.id))
    assert (audit.action, audit.reason, audit.source) == ("suppressed", reason, "compliance")
