"""Abandoned-cart reminders go only to a number that consented: the checkout's contact phone,
or another number its consent statements name (smsdesk/services/checkouts.py)."""
import pytest
from sqlalchemy import select

from smsdesk.events import CartItem, CheckoutUpdated, CustomerInfo, SmsConsent
from smsdesk.models import Checkout, ConsentSource, Customer
from smsdesk.reasons import Reason
from smsdesk.services.customers import set_opted_out
from tests.services.test_checkouts import BASE, HOUR, MINUTE, PHONE, reminders, sweep, update

CONTACT, CONSENTING = "+12125550100", PHONE


@pytest.fixture
def store(make):
    return make.store(rate_per_second=100.0)  # as test_checkouts': both reminders in one sweep


def cart_with(*statements, contact=CONTACT):
    """A checkout whose contact phone is ``contact`` and whose consent names other numbers."""
    consents = tuple(SmsConsent(phone=phone, granted=granted, source=ConsentSource.SHOPIFY)
                     for phone, granted in statements)
    return CheckoutUpdated(token="tok-1", customer=CustomerInfo(phone=contact, first_name="Emma", consents=consents),
                           recovery_url="https://shop.example.com/cart/tok-1", total="54.00", currency="USD",
                           items=(CartItem("Wool Mittens", 1),))


def test_reminder_goes_only_to_the_number_that_consented(app, db_session, store, twilio_server):
    update(db_session, store, cart_with((CONSENTING, True)), BASE)
    assert sweep(app, BASE + HOUR) == 1
    assert [m["to"] for m in twilio_server.messages] == [CONSENTING]
    checkout = db_session.scalar(select(Checkout))
    contact = db_session.get(Customer, checkout.customer_id)
    assert (checkout.phone, contact.marketing_consent, checkout.no_text_reason) == (CONTACT, False, None)
    [reminder] = reminders(db_session)
    assert db_session.get(Customer, reminder.customer_id).phone == CONSENTING


# (statements of the checkout, numbers consented/opted out before, expected recipient, expected reason)
RECIPIENTS = {
    "the contact phone consents": ([(CONTACT, True)], {}, CONTACT, None),
    "another number consents": ([(CONSENTING, True)], {}, CONSENTING, None),
    "the consenting number first, though the contact consented before": (
        [(CONSENTING, True)], {CONTACT: "consented"}, CONSENTING, None),
    "nothing said, the contact consented before": ([], {CONTACT: "consented"}, CONTACT, None),
    "nothing said, nobody consented": ([], {}, None, Reason.NO_CONSENT),
    "the other number says no": ([(CONSENTING, False)], {CONSENTING: "consented"}, None, Reason.NO_CONSENT),
    "the consenting number opted out": ([(CONSENTING, True)], {CONSENTING: "opted_out"}, None, Reason.OPTED_OUT),
    "the consenting number opted out, the contact consented": (
        [(CONSENTING, True)], {CONSENTING: "opted_out", CONTACT: "consented"}, CONTACT, None),
}


@pytest.mark.parametrize("statements, before, recipient, reason", RECIPIENTS.values(), ids=RECIPIENTS.keys())
def test_reminder_recipient_table(db_session, store, make, statements, before, recipient, reason):
    for phone, state in before.items():
        customer = make.customer(store, phone, marketing_consent=True)
        if state == "opted_out":
            set_opted_out(db_session, customer, True, source="test")
    db_session.commit()
    update(db_session, store, cart_with(*statements), BASE)
    assert [db_session.get(Customer, m.customer_id).phone for m in reminders(db_session)] == (
        [recipient] if recipient else [])
    assert db_session.scalar(select(Checkout)).no_text_reason == reason


def test_consent_moving_to_another_number_moves_the_reminder(app, db_session, store, twilio_server):
    update(db_session, store, cart_with((CONTACT, True)), BASE)
    update(db_session, store, cart_with((CONTACT, False), (CONSENTING, True)), BASE + MINUTE)
    assert sweep(app, BASE + 2 * HOUR) == 1
    assert [m["to"] for m in twilio_server.messages] == [CONSENTING]


def test_send_time_checks_the_recipients_own_consent(app, db_session, store, twilio_server):
    update(db_session, store, cart_with((CONSENTING, True)), BASE)
    contact = db_session.scalar(select(Customer).where(Customer.phone == CONTACT))
    contact.marketing_consent = True  # the contact's consent is not the recipient's
    consenting = db_session.scalar(select(Customer).where(Customer.phone == CONSENTING))
    consenting.marketing_consent = False  # revoked behind the outbox's back
    db_session.commit()
    assert sweep(app, BASE + 2 * HOUR) == 0
    [reminder] = reminders(db_session)
    assert (reminder.status.value, reminder.reason) == ("suppressed", Reason.NO_CONSENT)
