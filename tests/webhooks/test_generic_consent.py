"""Generic events: ``customer.sms_marketing_consent`` is a single opt-in of the customer's phone,
given as of the delivery that says so (its ``webhook-id`` kept as the evidence)."""
import pytest
from sqlalchemy import select

from smsdesk.models import Checkout, Consent, Customer
from smsdesk.reasons import Reason
from tests.webhooks.payloads import GENERIC_SECRET, UNPACED, as_body, generic_event, generic_headers

PHONE = "+4915112345678"
CHECKOUT = {"token": "abc", "recovery_url": "https://shop.example.de/cart/abc", "total": "54.00", "currency": "EUR"}


@pytest.fixture
def store(make):
    return make.store(platform="generic", domain=None, webhook_secret=GENERIC_SECRET, country="DE",
                      timezone="Europe/Berlin", rate_per_second=UNPACED)


def post_checkout(client, store, consent, msg_id):
    customer = {"first_name": "Jonas", "phone": "0151 12345678", "country": "DE"}
    if consent != "absent":
        customer["sms_marketing_consent"] = consent
    body = as_body(generic_event("checkout.updated", checkout=CHECKOUT, customer=customer))
    response = client.post(f"/webhooks/generic/{store.slug}", data=body, headers=generic_headers(body, msg_id=msg_id))
    assert response.status_code == 200


def test_consent_row_names_the_delivery(client, store, db_session):
    post_checkout(client, store, True, "msg_consent_1")
    db_session.fresh()
    [row] = db_session.scalars(select(Consent)).all()
    assert (row.phone, row.state.value, row.level.value, row.source.value, row.delivery_id) == (
        PHONE, "granted", "single_opt_in", "generic", "msg_consent_1")
    assert db_session.scalar(select(Customer)).marketing_consent is True


# (what the deliveries say, in order) -> (consent states recorded, consent now, checkout's reason)
SEQUENCES = {
    "yes": ([True], ["granted"], True, None),
    "yes, then no": ([True, False], ["granted", "withdrawn"], False, Reason.NO_CONSENT),
    "yes, then nothing said": ([True, "absent"], ["granted"], True, None),
    "nothing said": (["absent"], [], False, Reason.NO_CONSENT),
    "not a boolean says nothing": (["yes"], [], False, Reason.NO_CONSENT),
    "no, then yes": ([False, True], ["withdrawn", "granted"], True, None),
}


@pytest.mark.parametrize("said, states, consent, reason", SEQUENCES.values(), ids=SEQUENCES.keys())
def test_consent_sequences(client, store, db_session, said, states, consent, reason):
    for n, value in enumerate(said):
        post_checkout(client, store, value, f"msg_seq_{n}")
    db_session.fresh()
    assert [row.state.value for row in db_session.scalars(select(Consent).order_by(Consent.id))] == states
    assert db_session.scalar(select(Customer)).marketing_consent is consent
    assert db_session.scalar(select(Checkout)).no_text_reason == reason
