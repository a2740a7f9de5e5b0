"""Shopify SMS consent: each statement on the number it is about, and reminders only to it.

Checkout payloads start from the real sample (contact phone from its shipping address,
+1(502)-459-2181; the customer record's phone +16136120707; updated_at 2012-10-12).
"""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from smsdesk.models import Checkout, Consent, Customer, Message
from smsdesk.reasons import Reason
from smsdesk.services.inbound import handle_inbound
from tests.factories import shopify_headers, shopify_order
from tests.webhooks.payloads import shopify_checkout

CONTACT = "+15024592181"  # the sample's shipping phone
RECORD_PHONE = "+16136120707"  # the sample's customer record phone
SMS_PHONE = "+12125550123"
CONSENT_AT = "2025-05-01T10:00:00-04:00"


def post(client, store, payload, topic="checkouts/update", event_id=None):
    body = json.dumps(payload).encode()
    return client.post("/webhooks/shopify", data=body,
                       headers=shopify_headers(store, body, topic=topic, event_id=event_id))


def customer_record(state, *, level="single_opt_in", at=CONSENT_AT, phone=RECORD_PHONE):
    """The checkout's customer with an ``sms_marketing_consent`` as Shopify's customer object has it."""
    customer = dict(shopify_checkout()["customer"], phone=phone)
    customer["sms_marketing_consent"] = {"state": state, "opt_in_level": level, "consent_updated_at": at,
                                         "consent_collected_from": "SHOPIFY"}
    return customer


def customer(db_session, phone) -> Customer | None:
    return db_session.scalar(select(Customer).where(Customer.phone == phone))


def reminder_phones(db_session) -> list[str]:
    messages = db_session.scalars(select(Message).where(Message.kind == "cart_reminder_1"))
    pending = [m for m in messages if m.status.value in ("scheduled", "queued")]
    return [db_session.get(Customer, m.customer_id).phone for m in pending]


def test_box_ticked_with_another_phone_consents_that_phone_only(client, make, db_session):
    """The bug: consent was stored on the contact phone and the reminder scheduled to it."""
    store = make.store()
    checkout = shopify_checkout(phone="+1 502-459-2181", buyer_accepts_sms_marketing=True,
                                sms_marketing_phone="+1 212-555-0123")
    assert post(client, store, checkout, event_id="evt-consent-1").json["status"] == "accepted"
    db_session.fresh()
    assert customer(db_session, CONTACT).marketing_consent is False
    assert customer(db_session, SMS_PHONE).marketing_consent is True
    [row] = db_session.scalars(select(Consent)).all()
    assert (row.phone, row.state.value, row.level.value, row.source.value) == (
        SMS_PHONE, "granted", "single_opt_in", "shopify")
    assert (row.platform_state, row.collected_from, row.delivery_id) == (
        "buyer_accepts_sms_marketing", "checkout", "evt-consent-1")
    assert row.at == datetime(2012, 10, 12, 11, 5, 27, tzinfo=timezone.utc)  # the checkout's updated_at
    assert reminder_phones(db_session) == [SMS_PHONE]
    saved = db_session.scalar(select(Checkout))
    assert (saved.phone, saved.marketing_consent, saved.no_text_reason) == (CONTACT, True, None)


def test_box_ticked_without_any_checkout_phone_is_no_consent(client, make, db_session):
    store = make.store()
    post(client, store, shopify_checkout(buyer_accepts_sms_marketing=True, sms_marketing_phone=None, phone=None))
    db_session.fresh()
    assert db_session.scalar(select(Consent)) is None  # the shipping phone never ticked the box
    assert reminder_phones(db_session) == []
    assert db_session.scalar(select(Checkout)).no_text_reason == Reason.NO_CONSENT


def test_unticked_box_withdraws_nothing(client, make, db_session):
    store = make.store()
    post(client, store, shopify_checkout(buyer_accepts_sms_marketing=True, sms_marketing_phone=SMS_PHONE))
    post(client, store, shopify_checkout(buyer_accepts_sms_marketing=False, sms_marketing_phone=SMS_PHONE,
                                         phone=SMS_PHONE))
    db_session.fresh()
    assert customer(db_session, SMS_PHONE).marketing_consent is True
    assert reminder_phones(db_session) == [SMS_PHONE]


# (sms_marketing_consent.state, opt_in_level) -> (row state, reminder planned?, reason the checkout gives)
STATES = {
    "subscribed single": ("subscribed", "single_opt_in", "granted", True, None),
    "subscribed confirmed": ("subscribed", "confirmed_opt_in", "granted", True, None),
    "pending confirmation is no consent": ("pending", "confirmed_opt_in", "withdrawn", False, Reason.NO_CONSENT),
    "not subscribed": ("not_subscribed", "single_opt_in", "withdrawn", False, Reason.NO_CONSENT),
    "unsubscribed": ("unsubscribed", "single_opt_in", "withdrawn", False, Reason.NO_CONSENT),
    "redacted": ("redacted", "unknown", "withdrawn", False, Reason.NO_CONSENT),
    "unknown level": ("subscribed", "something_new", "granted", True, None),
}


@pytest.mark.parametrize("state, level, row_state, planned, reason", STATES.values(), ids=STATES.keys())
def test_customer_record_states(client, make, db_session, state, level, row_state, planned, reason):
    store = make.store()
    checkout = shopify_checkout(phone=RECORD_PHONE, customer=customer_record(state, level=level))
    post(client, store, checkout, event_id=f"evt-{state}")
    db_session.fresh()
    [row] = db_session.scalars(select(Consent)).all()
    expected_level = level if level in ("single_opt_in", "confirmed_opt_in", "unknown") else "unknown"
    assert (row.phone, row.state.value, row.level.value, row.platform_state) == (
        RECORD_PHONE, row_state, expected_level, state)
    assert (row.collected_from, row.delivery_id, row.at) == (
        "SHOPIFY", f"evt-{state}", datetime(2025, 5, 1, 14, 0, tzinfo=timezone.utc))
    assert reminder_phones(db_session) == ([RECORD_PHONE] if planned else [])
    assert db_session.scalar(select(Checkout)).no_text_reason == reason


def test_undated_not_subscribed_record_does_not_undo_the_ticked_box(client, make, db_session):
    store = make.store()
    checkout = shopify_checkout(phone=RECORD_PHONE, buyer_accepts_sms_marketing=True,
                                customer=customer_record("not_subscribed", at=None))
    post(client, store, checkout)
    db_session.fresh()
    assert [(row.state.value, row.platform_state) for row in db_session.scalars(select(Consent))] == [
        ("granted", "buyer_accepts_sms_marketing")]
    assert reminder_phones(db_session) == [RECORD_PHONE]


def test_record_consent_belongs_to_the_records_phone(client, make, db_session):
    store = make.store()  # contact phone: the shipping one; the record's phone is another
    post(client, store, shopify_checkout(customer=customer_record("subscribed")))
    db_session.fresh()
    assert [row.phone for row in db_session.scalars(select(Consent))] == [RECORD_PHONE]
    assert customer(db_session, CONTACT).marketing_consent is False
    assert reminder_phones(db_session) == [RECORD_PHONE]


def test_pending_after_subscribed_takes_the_reminder_back(client, make, db_session):
    store = make.store()
    post(client, store, shopify_checkout(phone=RECORD_PHONE, customer=customer_record("subscribed")))
    later = "2025-05-02T10:00:00-04:00"
    post(client, store, shopify_checkout(phone=RECORD_PHONE, customer=customer_record("unsubscribed", at=later)))
    db_session.fresh()
    [reminder] = db_session.scalars(select(Message)).all()
    assert (reminder.status.value, reminder.reason) == ("cancelled", Reason.NO_CONSENT)
    assert [row.state.value for row in db_session.scalars(select(Consent).order_by(Consent.id))] == [
        "granted", "withdrawn"]


def test_reordered_deliveries_keep_the_newest_statement(client, make, db_session):
    store = make.store()
    later = "2025-05-02T10:00:00-04:00"
    post(client, store, shopify_checkout(phone=RECORD_PHONE, customer=customer_record("unsubscribed", at=later)))
    post(client, store, shopify_checkout(phone=RECORD_PHONE, customer=customer_record("subscribed")))  # older
    db_session.fresh()
    assert customer(db_session, RECORD_PHONE).marketing_consent is False
    assert reminder_phones(db_session) == []


def test_stop_outlives_the_platforms_older_consent(client, make, db_session):
    store = make.store()
    checkout = shopify_checkout(buyer_accepts_sms_marketing=True, sms_marketing_phone=SMS_PHONE)
    post(client, store, checkout)
    sms_customer = customer(db_session, SMS_PHONE)
    handle_inbound(db_session, store=store, customer=sms_customer, body="STOP", provider_sid="SMstop1")
    handle_inbound(db_session, store=store, customer=sms_customer, body="START", provider_sid="SMstart1")
    db_session.commit()
    post(client, store, checkout)  # the same checkout again: its box was ticked before the STOP
    db_session.fresh()
    assert customer(db_session, SMS_PHONE).marketing_consent is False
    assert reminder_phones(db_session) == []
    assert db_session.scalar(select(Checkout)).no_text_reason == Reason.NO_CONSENT
    ticked_again = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    post(client, store, dict(checkout, updated_at=ticked_again))  # ticked again after the STOP: consent
    db_session.fresh()
    assert customer(db_session, SMS_PHONE).marketing_consent is True
    assert db_session.scalar(select(Checkout)).no_text_reason is None


def test_order_record_consent_lands_on_the_records_phone_not_the_order_phone(client, make, db_session):
    store = make.store()
    post(client, store, shopify_checkout(phone=RECORD_PHONE, customer=customer_record("subscribed")))
    order = shopify_order()  # phone +557734881234; its customer record (+16136120707) says not_subscribed
    order["customer"]["sms_marketing_consent"]["consent_updated_at"] = "2025-06-01T00:00:00Z"
    post(client, store, order, topic="orders/create")
    db_session.fresh()
    assert customer(db_session, RECORD_PHONE).marketing_consent is False
    assert customer(db_session, "+557734881234") is None  # a Brazilian landline: never a customer to text
    assert {row.phone for row in db_session.scalars(select(Consent))} == {RECORD_PHONE}
