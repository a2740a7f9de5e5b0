"""smsdesk/services/consent.py: an append-only consent history per number, and what changes it."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from smsdesk.events import CustomerInfo, SmsConsent
from smsdesk.models import Consent, ConsentLevel, ConsentSource, ConsentState, Customer
from smsdesk.services.consent import record_consent
from smsdesk.services.customers import upsert_customer
from smsdesk.services.inbound import handle_inbound
from smsdesk.services.send_outcomes import opt_out_unsubscribed

PHONE, OTHER = "+12125550123", "+12125550199"
T0 = datetime(2025, 6, 10, 14, 0, tzinfo=timezone.utc)
_sids = itertools.count(1)
SINGLE, CONFIRMED, UNKNOWN = ConsentLevel.SINGLE_OPT_IN, ConsentLevel.CONFIRMED_OPT_IN, ConsentLevel.UNKNOWN


def says(granted: bool, level: ConsentLevel = SINGLE, *, minutes: int = 0, word: str = "") -> SmsConsent:
    return SmsConsent(phone=PHONE, granted=granted, source=ConsentSource.SHOPIFY, level=level,
                      platform_state=word, at=T0 + timedelta(minutes=minutes))


def history(db_session) -> list[tuple[str, str, str]]:
    rows = db_session.scalars(select(Consent).order_by(Consent.id))
    return [(row.state.value, row.level.value, row.platform_state) for row in rows]


# (statements in arrival order, rows expected, cache at the end)
CASES = {
    "a grant": ([says(True)], [("granted", "single_opt_in", "")], True),
    "the same grant again writes nothing": ([says(True), says(True, minutes=5)], [("granted", "single_opt_in", "")],
                                            True),
    "a confirmed opt-in upgrades a single one": (
        [says(True), says(True, CONFIRMED, minutes=5)],
        [("granted", "single_opt_in", ""), ("granted", "confirmed_opt_in", "")], True),
    "a weaker level later is no change": (
        [says(True, CONFIRMED), says(True, UNKNOWN, minutes=5)], [("granted", "confirmed_opt_in", "")], True),
    "unsubscribed withdraws": (
        [says(True), says(False, UNKNOWN, minutes=5, word="unsubscribed")],
        [("granted", "single_opt_in", ""), ("withdrawn", "unknown", "unsubscribed")], False),
    "pending is not consent": ([says(False, CONFIRMED, word="pending")],
                               [("withdrawn", "confirmed_opt_in", "pending")], False),
    "a late, older grant does not undo a withdrawal": (
        [says(False, word="unsubscribed", minutes=10), says(True, minutes=5)],
        [("withdrawn", "single_opt_in", "unsubscribed")], False),
    "a late, older withdrawal does not undo a grant": (
        [says(True, minutes=10), says(False, word="unsubscribed", minutes=5)], [("granted", "single_opt_in", "")],
        True),
    "a new grant after a withdrawal counts": (
        [says(True), says(False, word="redacted", minutes=5), says(True, minutes=10)],
        [("granted", "single_opt_in", ""), ("withdrawn", "single_opt_in", "redacted"),
         ("granted", "single_opt_in", "")], True),
}


@pytest.mark.parametrize("statements, rows, cached", CASES.values(), ids=CASES.keys())
def test_history_rules(db_session, make, statements, rows, cached):
    store = make.store()
    customer = make.customer(store, PHONE)
    for statement in statements:
        record_consent(db_session, customer, statement, now=T0)
    db_session.commit()
    assert history(db_session) == rows
    assert customer.marketing_consent is cached


def test_row_keeps_its_evidence(db_session, make):
    store = make.store()
    customer = make.customer(store, PHONE)
    statement = SmsConsent(phone=PHONE, granted=True, source=ConsentSource.SHOPIFY, level=CONFIRMED,
                           platform_state="subscribed", collected_from="SHOPIFY", at=T0, delivery_id="evt-42")
    record_consent(db_session, customer, statement)
    db_session.commit()
    row = db_session.scalar(select(Consent))
    assert (row.store_id, row.phone, row.customer_id, row.state, row.level, row.source) == (
        store.id, PHONE, customer.id, ConsentState.GRANTED, CONFIRMED, ConsentSource.SHOPIFY)
    assert (row.collected_from, row.delivery_id, row.at) == ("SHOPIFY", "evt-42", T0)
    assert row.recorded_at > T0


def test_consent_lands_on_the_number_it_names(db_session, make):
    store = make.store()
    info = CustomerInfo(phone=PHONE, first_name="Emma", consents=(
        SmsConsent(phone=OTHER, granted=True, source=ConsentSource.SHOPIFY, at=T0),))
    contact = upsert_customer(db_session, store_id=store.id, info=info, source="shopify")
    db_session.commit()
    other = db_session.scalar(select(Customer).where(Customer.phone == OTHER))
    assert (contact.phone, contact.marketing_consent) == (PHONE, False)
    assert (other.marketing_consent, other.first_name) == (True, "Emma")
    assert [row.phone for row in db_session.scalars(select(Consent))] == [OTHER]


def test_a_no_for_an_unknown_other_number_creates_nobody(db_session, make):
    store = make.store()
    info = CustomerInfo(phone=PHONE, consents=(
        SmsConsent(phone=OTHER, granted=False, source=ConsentSource.SHOPIFY, platform_state="not_subscribed"),))
    upsert_customer(db_session, store_id=store.id, info=info, source="shopify")
    db_session.commit()
    assert db_session.scalars(select(Customer.phone)).all() == [PHONE]
    assert db_session.scalar(select(Consent)) is None


def text_in(db_session, store, customer, body):
    handle_inbound(db_session, store=store, customer=customer, body=body, provider_sid=f"SMc{next(_sids)}")
    db_session.commit()


def test_stop_writes_a_withdrawn_row(db_session, make):
    store = make.store()
    customer = make.customer(store, PHONE)
    record_consent(db_session, customer, says(True))
    text_in(db_session, store, customer, "Stop please")
    last = db_session.scalars(select(Consent).order_by(Consent.id)).all()[-1]
    assert (last.state, last.source, last.platform_state, last.collected_from) == (
        ConsentState.WITHDRAWN, ConsentSource.KEYWORD, "Stop please", "sms")
    assert (customer.marketing_consent, customer.opted_out) == (False, True)


def test_start_lifts_the_opt_out_but_is_no_marketing_consent(db_session, make):
    store = make.store()
    customer = make.customer(store, PHONE)
    record_consent(db_session, customer, says(True))
    text_in(db_session, store, customer, "STOP")
    text_in(db_session, store, customer, "START")
    assert (customer.opted_out, customer.marketing_consent) == (False, False)
    assert [row.state for row in db_session.scalars(select(Consent).order_by(Consent.id))] == [
        ConsentState.GRANTED, ConsentState.WITHDRAWN]
    # The store's old record ("subscribed" since before the STOP) does not bring it back ...
    record_consent(db_session, customer, says(True, minutes=5))
    assert customer.marketing_consent is False
    # ... a consent the store collected after the STOP does.
    record_consent(db_session, customer, SmsConsent(phone=PHONE, granted=True, source=ConsentSource.GENERIC))
    assert customer.marketing_consent is True


def test_provider_unsubscribed_error_withdraws(db_session, make):
    store = make.store()
    customer = make.customer(store, PHONE)
    record_consent(db_session, customer, says(True))
    opt_out_unsubscribed(db_session, customer.id)
    db_session.commit()
    last = db_session.scalars(select(Consent).order_by(Consent.id)).all()[-1]
    assert (last.state, last.source, last.platform_state) == (ConsentState.WITHDRAWN, ConsentSource.PROVIDER,
                                                              "error 21610")


def test_a_long_stop_message_is_kept_short(db_session, make):
    store = make.store()
    customer = make.customer(store, PHONE)
    text_in(db_session, store, customer, "STOP " + "please " * 300)
    row = db_session.scalar(select(Consent))
    assert row.state == ConsentState.WITHDRAWN and len(row.platform_state) == 40
