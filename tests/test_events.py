"""smsdesk/events.py: an event survives ``encode`` then ``decode`` (the webhook door stores it, the
apply job reads it back), and stored data that is not an event is refused with KeyError,
TypeError or ValueError (jobs/apply_events.py records such a delivery as failed)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from smsdesk.events import (
    CartItem,
    CheckoutUpdated,
    CustomerInfo,
    CustomerRedacted,
    OrderInfo,
    OrderPlaced,
    PhoneCandidate,
    ShipmentUpdated,
    SmsConsent,
    Tracking,
    UnreadPhones,
    decode,
    encode,
)
from smsdesk.models import ConsentLevel, ConsentSource
from smsdesk.reasons import Reason

text = st.text(max_size=20)
consents = st.builds(SmsConsent, phone=text, granted=st.booleans(), source=st.sampled_from(ConsentSource),
                     level=st.sampled_from(ConsentLevel),
                     at=st.none() | st.datetimes(timezones=st.just(timezone.utc)))
customers = st.builds(
    CustomerInfo, phone=st.none() | text, phone_problem=st.none() | st.sampled_from(Reason), first_name=text,
    consents=st.lists(consents, max_size=2).map(tuple), language=st.none() | text,
    unread=st.none() | st.builds(UnreadPhones, candidates=st.lists(st.builds(PhoneCandidate, raw=st.none() | text,
                                                                             country=st.none() | text),
                                                                   max_size=2).map(tuple),
                                 countries=st.lists(st.none() | text, max_size=2).map(tuple)))
items = st.lists(st.builds(CartItem, title=text, quantity=st.integers(0, 99)), max_size=3).map(tuple)
orders = st.builds(OrderInfo, external_id=text, checkout_token=st.none() | text, item_count=st.integers(0, 99),
                   items=items)
events = st.one_of(
    st.builds(OrderPlaced, order=orders, customer=customers),
    st.builds(ShipmentUpdated, order=orders, status=text, tracking=st.builds(Tracking, number=text), customer=customers,
              items=items),
    st.builds(CheckoutUpdated, token=text, customer=customers, items=items),
    st.builds(CustomerRedacted, customer=customers, order_ids=st.lists(text, max_size=3).map(tuple)),
)


@given(events)
def test_an_event_survives_encode_then_decode(event):
    assert decode(encode(event)) == event


def test_encoded_data_is_plain_json_values():
    at = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    event = OrderPlaced(order=OrderInfo("1001", items=(CartItem("Mittens", 2),)),
                        customer=CustomerInfo(phone="+15025550123", phone_problem=None, consents=(
                            SmsConsent("+15025550123", True, ConsentSource.SHOPIFY, at=at),)))
    data = encode(event)
    assert data["type"] == "OrderPlaced"
    assert data["order"]["items"] == [{"title": "Mittens", "quantity": 2}]
    assert data["customer"]["consents"][0]["source"] == ConsentSource.SHOPIFY.value
    assert data["customer"]["consents"][0]["at"] == at.isoformat()


GOOD = encode(OrderPlaced(order=OrderInfo("1001"), customer=CustomerInfo(phone="+15025550123")))


@pytest.mark.parametrize("data, error", [
    ({**GOOD, "type": "OrderEaten"}, KeyError),  # no such event
    ({key: value for key, value in GOOD.items() if key != "type"}, KeyError),
    ({**GOOD, "colour": "red"}, KeyError),  # no such field
    ({**GOOD, "order": {"number": "1"}}, TypeError),  # a required field missing
    ({**GOOD, "customer": {**GOOD["customer"], "phone_problem": "no_such_reason"}}, ValueError),
    ({**GOOD, "customer": {**GOOD["customer"], "consents": [
        {"phone": "+1", "granted": True, "source": "shopify", "at": "yesterday"}]}}, ValueError),
    ({**GOOD, "order": {"external_id": "1", "items": 5}}, TypeError),  # not a list
], ids=["unknown type", "no type", "unknown field", "missing field", "bad enum", "bad datetime", "bad list"])
def test_data_that_is_no_event_is_refused(data, error):
    with pytest.raises(error):
        decode(data)
