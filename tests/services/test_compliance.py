"""Send-time rules (smsdesk/services/compliance.py): opt-outs, consent, quiet hours, caps,
and that every decision is recorded and shown by the API."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from smsdesk.models import AuditEvent, Checkout, LinkSettings, Message, MessageStatus, Store
from smsdesk.reasons import Reason
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
    (utc(2025, 6, 10, 12, 0), NEW_YORK, "20:00-08:00", utc(2025, 6, 10, 12, 0)),  # 08:00 sharp is allowed
    (utc(2025, 6, 10, 23, 59), NEW_YORK, "20:00-08:00", utc(2025, 6, 10, 23, 59)),  # 19:59
    (utc(2025, 6, 11, 0, 0), NEW_YORK, "20:00-08:00", utc(2025, 6, 11, 12, 0)),  # 20:00 starts them
    (utc(2025, 1, 15, 2, 30), NEW_YORK, "21:00-09:00", utc(2025, 1, 15, 14, 0)),  # winter (EST)
    (utc(2025, 3, 9, 4, 0), NEW_YORK, "20:00-08:00", utc(2025, 3, 9, 12, 0)),  # spring forward: 08:00 EDT
    (utc(2025, 11, 2, 5, 30), NEW_YORK, "20:00-08:00", utc(2025, 11, 2, 13, 0)),  # fall back: 08:00 EST
    (utc(2025, 3, 30, 0, 30), BERLIN, "01:00-06:00", utc(2025, 3, 30, 4, 0)),  # DST day in Berlin: 06:00 CEST
    (utc(2025, 6, 10, 0, 30), BERLIN, "01:00-06:00", utc(2025, 6, 10, 4, 0)),  # window inside one day
    (utc(2025, 6, 10, 5, 0), BERLIN, "01:00-06:00", utc(2025, 6, 10, 5, 0)),
    (utc(2025, 6, 11, 3, 0), NEW_YORK, "", utc(2025, 6, 11, 12, 0)),  # empty: the default
    (utc(2025, 6, 11, 3, 0), NEW_YORK, "00:00-00:00", utc(2025, 6, 11, 3, 0)),  # equal ends: no quiet hours
])
def test_store_quiet_hours_in_one_zone(now, zone, window, expected):
    assert compliance.allowed_from(now, zones=[zone], window=window) == expected


MADRID, CANARY = "Europe/Madrid", "Atlantic/Canary"


@pytest.mark.parametrize("now, zones, expected", [
    # allowed only where every zone allows it: the westernmost zone opens last, the easternmost closes first
    (utc(2025, 6, 9, 23, 30), [MADRID, CANARY], utc(2025, 6, 10, 7, 0)),  # 01:30 Madrid -> 08:00 Canary
    (utc(2025, 6, 10, 17, 30), [MADRID, CANARY], utc(2025, 6, 10, 17, 30)),  # 19:30 Madrid, 18:30 Canary
    (utc(2025, 6, 10, 18, 30), [MADRID, CANARY], utc(2025, 6, 11, 7, 0)),  # 20:30 Madrid: closed there
    (utc(2025, 1, 15, 7, 30), [MADRID, CANARY], utc(2025, 1, 15, 8, 0)),  # winter: 08:00 Canary = 08:00 UTC
    (utc(2025, 6, 10, 10, 0), ["America/Boise", "America/Los_Angeles"], utc(2025, 6, 10, 15, 0)),
    # Cocos (+6:30) opens last and Lord Howe (+10:30) closes first: 11:30-19:30 in Sydney
    (utc(2025, 6, 9, 17, 0), ["Australia/Sydney", "Australia/Lord_Howe", "Indian/Cocos"],
     utc(2025, 6, 10, 1, 30)),
    # Kaliningrad to Kamchatka spans 10 hours: one 12-hour day each leaves 2 hours in common
    (utc(2025, 6, 10, 12, 0), ["Europe/Kaliningrad", "Asia/Kamchatka"], utc(2025, 6, 11, 6, 0)),
])
def test_every_candidate_zone_must_allow_the_hour(now, zones, expected):
    assert compliance.allowed_from(now, zones=zones, window="20:00-08:00") == expected


def test_no_common_hour_in_any_zone_means_none():
    zones = ["Pacific/Auckland", "Atlantic/Azores"]  # UTC+12 and UTC+0 in June: 08-20 never overlap
    assert compliance.allowed_from(utc(2025, 6, 10, 12, 0), zones=zones, window="20:00-08:00") is None


@pytest.mark.parametrize("body, expected", [
    ("Your cart is waiting", "Your cart is waiting Reply STOP to opt out."),
    ("Your cart is waiting.  \n", "Your cart is waiting. Reply STOP to opt out."),
    ("Your cart is waiting. Reply STOP to opt out.", "Your cart is waiting. Reply STOP to opt out."),
    ("Cart saved! Text stop to unsubscribe", "Cart saved! Text stop to unsubscribe"),
    ("Nonstop deals", "Nonstop deals Reply STOP to opt out."),
    ("Don't stop now!", "Don't stop now! Reply STOP to opt out."),
    ("Txt STOP to end", "Txt STOP to end"),
    ("Reply STOP to opt out.\nCart: https://x.example", ("Reply STOP to opt out.\nCart: https://x.example "
                                                         "Reply STOP to opt out.")),
])
def test_every_marketing_text_ends_with_an_opt_out_line(body, expected):
    assert compliance.with_opt_out_line(body) == expected


@pytest.mark.parametrize("phone, store_zone, expected", [
    ("+13105550123", NEW_YORK, ("America/Los_Angeles",)),  # the number's own zone wins
    ("+12125550123", "America/Chicago", (NEW_YORK,)),
    ("+33612345678", NEW_YORK, ("Europe/Paris",)),  # a foreign number: its own country's zone
    ("+34612345678", NEW_YORK, (CANARY, MADRID)),  # a Spanish mobile: mainland or Canary Islands
    ("+12083012345", BERLIN, ("America/Boise", "America/Los_Angeles")),  # never the store's zone
    ("+15005550006", "America/Chicago", ("America/Chicago",)),  # a number with no place: the store's
    ("+15005550006", "Not/A_Zone", ("UTC",)),
])
def test_recipient_zones(phone, store_zone, expected):
    assert compliance.recipient_zones(phone, Store(timezone=store_zone)) == expected


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
def store(make, db_session):
    store = make.store(rate_per_second=100.0)
    # The caps on their own: smart sending (default 16 h) would stop a second text first
    # (tests/services/test_smart_sending.py).
    db_session.add(LinkSettings(store_id=store.id, smart_sending_hours=0))
    db_session.commit()
    return store


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
    (True, True, "order_shipped", False, ("suppress", Reason.OPTED_OUT)),
    (True, False, "opt_out_confirmation", False, ("send", None)),
    (False, False, "order_shipped", False, ("send", None)),
    (False, False, "cart_reminder_1", True, ("suppress", Reason.NO_CONSENT)),
    (True, True, "cart_reminder_1", True, ("suppress", Reason.OPTED_OUT)),
    (False, True, "cart_reminder_1", True, ("send", None)),
])
def test_decision_by_consent_and_opt_out(db_session, store, make, opted_out, consent, kind, marketing, expected):
    customer = make.customer(store, PHONE, opted_out=opted_out, marketing_consent=consent)
    message = outbound(db_session, store, customer, kind=kind, marketing=marketing)
    decision = decide(db_session, store, customer, message)
    assert (decision.action, decision.reason) == expected


@pytest.mark.parametrize("hours_ago, expected", [
    ((1, 5, 23), ("suppress", Reason.MARKETING_CAP)),
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
    (MessageStatus.SENT, 23, ("suppress", Reason.SEQUENCE_CAP)),
    (MessageStatus.SENDING, 0, ("suppress", Reason.SEQUENCE_CAP)),  # may be at the provider right now
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
    assert (decision.action, decision.reason) == ("cancel", Reason.CHECKOUT_COMPLETED)


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


SEND, DEFER, SUPPRESS = "send", "defer", "suppress"


@pytest.mark.parametrize("case, phone, store_zone, window, now, expected", [
    # the bugs seen: the store's zone was used for numbers that say where they are
    ("Madrid 01:30, New York store", "+34612345678", NEW_YORK, "20:00-08:00", utc(2025, 6, 9, 23, 30),
     (DEFER, Reason.QUIET_HOURS, utc(2025, 6, 10, 7, 0))),  # 08:00 on the Canaries = 09:00 Madrid
    ("Madrid landline 01:30", "+34911234567", NEW_YORK, "20:00-08:00", utc(2025, 6, 9, 23, 30),
     (DEFER, Reason.QUIET_HOURS, utc(2025, 6, 10, 6, 0))),
    ("Tenerife 07:30", "+34922123456", BERLIN, "20:00-08:00", utc(2025, 6, 10, 6, 30),
     (DEFER, Reason.QUIET_HOURS, utc(2025, 6, 10, 7, 0))),
    ("Sydney mobile 03:00, New York store", "+61412345678", NEW_YORK, "20:00-08:00", utc(2025, 6, 9, 17, 0),
     (DEFER, Reason.QUIET_HOURS, utc(2025, 6, 10, 1, 30))),  # 08:00 on Cocos, 11:30 in Sydney
    ("Sydney landline 03:00", "+61291234567", NEW_YORK, "20:00-08:00", utc(2025, 6, 9, 17, 0),
     (DEFER, Reason.QUIET_HOURS, utc(2025, 6, 9, 22, 0))),
    ("Boise 04:00, Berlin store", "+12083012345", BERLIN, "20:00-08:00", utc(2025, 6, 10, 10, 0),
     (DEFER, Reason.QUIET_HOURS, utc(2025, 6, 10, 15, 0))),  # 09:00 Boise = 08:00 in the panhandle
    ("Toronto 21:30, late store: no US law", "+14165550123", NEW_YORK, "22:00-07:00", utc(2025, 6, 11, 1, 30),
     (SEND, None, None)),
    ("a number with no place: the store's zone", "+15005550006", BERLIN, "20:00-08:00", utc(2025, 6, 10, 19, 0),
     (DEFER, Reason.QUIET_HOURS, utc(2025, 6, 11, 6, 0))),
    # the legal floor: the owner's quiet hours can only narrow it
    ("Florida 20:30, store quiet from 21:00", "+13055550123", NEW_YORK, "21:00-08:00", utc(2025, 6, 11, 0, 30),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 11, 12, 0))),
    ("Florida 19:30", "+13055550123", NEW_YORK, "21:00-08:00", utc(2025, 6, 10, 23, 30), (SEND, None, None)),
    ("Florida 850, listed as Eastern only", "+18505550123", NEW_YORK, "21:00-08:00", utc(2025, 6, 11, 0, 30),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 11, 12, 0))),
    ("Oklahoma 20:15", "+14055550123", NEW_YORK, "22:00-07:00", utc(2025, 6, 11, 1, 15),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 11, 13, 0))),
    ("New York 21:30, store quiet from 22:00: federal", "+12125550123", NEW_YORK, "22:00-07:00",
     utc(2025, 6, 11, 1, 30), (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 11, 12, 0))),
    ("New York 07:30, store open from 07:00: federal", "+12125550123", NEW_YORK, "22:00-07:00",
     utc(2025, 6, 10, 11, 30), (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 10, 12, 0))),
    ("New Jersey 20:30: 21:00 like federal", "+12015550123", NEW_YORK, "21:00-08:00", utc(2025, 6, 11, 0, 30),
     (SEND, None, None)),
    ("Connecticut 08:30", "+12035550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 10, 12, 30),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 10, 13, 0))),
    ("Maryland 20:10", "+14105550123", NEW_YORK, "21:00-08:00", utc(2025, 6, 11, 0, 10),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 11, 12, 0))),
    # day-of-week rules (2025-06-07 is a Saturday)
    ("Texas Sunday 10:00", "+12145550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 8, 15, 0),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 8, 17, 0))),
    ("Texas Saturday 10:00", "+12145550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 7, 15, 0), (SEND, None, None)),
    ("Texas Monday 08:30", "+12145550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 9, 13, 30),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 9, 14, 0))),
    ("Rhode Island Sunday noon", "+14015550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 8, 16, 0),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 9, 13, 0))),  # Monday 09:00
    ("Rhode Island Saturday 17:30", "+14015550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 7, 21, 30),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 9, 13, 0))),
    ("Rhode Island Saturday 10:30", "+14015550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 7, 14, 30),
     (SEND, None, None)),
    ("Rhode Island Friday 18:30", "+14015550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 6, 22, 30),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 7, 14, 0))),  # Saturday 10:00
    ("Rhode Island on Victory Day (Monday)", "+14015550123", NEW_YORK, "20:00-08:00", utc(2025, 8, 11, 14, 0),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 8, 12, 13, 0))),
    ("Rhode Island the day after", "+14015550123", NEW_YORK, "20:00-08:00", utc(2025, 8, 12, 14, 0),
     (SEND, None, None)),
    ("Louisiana on Mardi Gras", "+15045550123", NEW_YORK, "20:00-08:00", utc(2025, 3, 4, 16, 0),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 3, 5, 14, 0))),
    ("Alabama on Thanksgiving", "+12055550123", NEW_YORK, "20:00-08:00", utc(2025, 11, 27, 18, 0),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 11, 28, 14, 0))),
    ("Florida on Thanksgiving: no holiday rule", "+13055550123", NEW_YORK, "20:00-08:00",
     utc(2025, 11, 27, 18, 0), (SEND, None, None)),
    ("Mississippi Sunday noon", "+16015550123", NEW_YORK, "20:00-08:00", utc(2025, 6, 8, 17, 0),
     (DEFER, Reason.LEGAL_HOURS, utc(2025, 6, 9, 13, 0))),  # Monday 08:00 Central
    # DST transition days, Florida (spring forward 2025-03-09, fall back 2025-11-02)
    ("Florida 07:30 EDT on the spring-forward day", "+13055550123", NEW_YORK, "20:00-08:00",
     utc(2025, 3, 9, 11, 30), (DEFER, Reason.QUIET_HOURS, utc(2025, 3, 9, 12, 0))),
    ("Florida 07:30 EST on the fall-back day", "+13055550123", NEW_YORK, "20:00-08:00",
     utc(2025, 11, 2, 12, 30), (DEFER, Reason.QUIET_HOURS, utc(2025, 11, 2, 13, 0))),
    ("Florida 20:30 EDT before fall back", "+13055550123", NEW_YORK, "21:00-08:00",
     utc(2025, 11, 2, 0, 30), (DEFER, Reason.LEGAL_HOURS, utc(2025, 11, 2, 13, 0))),
])
def test_hours_decision(case, phone, store_zone, window, now, expected):
    decision = compliance.hours_decision(phone, store=Store(timezone=store_zone, quiet_hours=window), now=now)
    got = (SEND, None, None) if decision is None else (decision.action, decision.reason, decision.until)
    assert got == expected, case


@pytest.mark.parametrize("phone, window, now, words", [
    ("+34612345678", "20:00-08:00", utc(2025, 6, 9, 23, 30), ["quiet hours 20:00-08:00", "Atlantic/Canary"]),
    ("+13055550123", "21:00-08:00", utc(2025, 6, 11, 0, 30), ["Florida", "501.616", "America/New_York"]),
    ("+14015550123", "20:00-08:00", utc(2025, 6, 8, 16, 0), ["Rhode Island", "none on Sun", "5-61"]),
])
def test_deferral_detail_names_the_rule_and_the_zone(phone, window, now, words):
    decision = compliance.hours_decision(phone, store=Store(timezone=NEW_YORK, quiet_hours=window), now=now)
    assert all(word in decision.detail for word in words), decision.detail


def test_no_hour_allowed_in_every_zone_suppresses(monkeypatch):
    monkeypatch.setattr(compliance, "phone_timezones", lambda phone, fallback: ("Pacific/Auckland", "Atlantic/Azores"))
    decision = compliance.hours_decision("+6421123456", store=Store(timezone=NEW_YORK), now=utc(2025, 6, 10, 12, 0))
    assert (decision.action, decision.reason, decision.until) == (SUPPRESS, Reason.QUIET_HOURS, None)
    assert "Pacific/Auckland, Atlantic/Azores" in decision.detail


@pytest.mark.parametrize("phone, sent_hours_ago, expected", [
    ("+13055550123", (1, 5, 9), (SUPPRESS, Reason.STATE_CAP)),  # Florida: 3 per 24 h
    ("+14055550123", (1, 5, 9), (SUPPRESS, Reason.STATE_CAP)),  # Oklahoma
    ("+14105550123", (1, 5, 9), (SUPPRESS, Reason.STATE_CAP)),  # Maryland
    ("+13055550123", (1, 5, 25), (SEND, None)),  # the oldest left the rolling 24 h
    ("+13055550123", (1, 5), (SEND, None)),
    ("+12125550123", (1, 5, 9), (SUPPRESS, Reason.MARKETING_CAP)),  # New York: no state cap, smsdesk's own
])
def test_state_caps(db_session, store, make, phone, sent_hours_ago, expected):
    customer = make.customer(store, phone, marketing_consent=True)
    for hours in sent_hours_ago:
        outbound(db_session, store, customer, status=MessageStatus.SENT, attempted_at=NOON - hours * HOUR)
    message = outbound(db_session, store, customer)
    decision = decide(db_session, store, customer, message)
    assert (decision.action, decision.reason) == expected
    if decision.reason is Reason.STATE_CAP:
        assert "at most 3 per 24 h" in decision.detail


def test_legal_hours_deferral_is_recorded_with_its_rule(app, client, auth, db_session, make, twilio_server):
    store = make.store(quiet_hours="21:00-08:00", rate_per_second=100.0)
    customer = make.customer(store, "+13055550123", marketing_consent=True)
    message = outbound(db_session, store, customer)
    assert sweep(app, utc(2025, 6, 11, 0, 30)) == 0  # 20:30 in Miami
    shown = api_message(client, auth, message)
    assert (shown["status"], shown["reason"], shown["due_at"]) == ("scheduled", "legal_hours", "2025-06-11T12:00:00Z")
    db_session.fresh()
    assert "501.616" in db_session.get(Message, message.id).reason_detail
    assert twilio_server.messages == []
