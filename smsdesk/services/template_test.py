""""Send a test to my phone" from the template editor: which number, and queueing the text.

A number typed with ``+`` (or ``00``) is taken as written; a national number is read in the
store's country, and the editor's hint shows an example from that country, so what the owner
sees and what we dial agree. The answer names the number the text went to.
"""
from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import geocoder
from sqlalchemy.orm import Session

from smsdesk.models import Store
from smsdesk.services.customers import get_or_create_customer
from smsdesk.services.outbox import enqueue_text
from smsdesk.services.phones import textable_phone
from smsdesk.services.template_store import resolve_template
from smsdesk.services.templates import TemplateError, render_message, sample_context

TEST_KIND = "template_test"  # the kind recorded for "send a test to my phone"


class SendTestRefused(Exception):
    """Why the test text was not queued, in words for the owner."""


@dataclass(frozen=True)
class PhoneHint:
    """An example number of the store's country, as typed at home and from abroad."""

    country: str  # "Germany"
    national: str  # "01512 3456789"
    international: str  # "+49 1512 3456789"


def phone_hint(country_code: str) -> PhoneHint:
    """phonenumbers' example mobile number for the store's country (US when it has none)."""
    region = (country_code or "US").upper()
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE) \
        or phonenumbers.example_number_for_type("US", phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None  # phonenumbers ships an example mobile for the US
    return PhoneHint(country=geocoder.country_name_for_number(example, "en") or region,
                     national=phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL),
                     international=phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def readable(e164: str) -> str:
    """"+49 1512 3456789" for "+4915123456789"."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_for_test(raw: str, store: Store) -> str:
    """The E.164 number a typed test number means; raises SendTestRefused."""
    check = textable_phone(raw, [store.country])
    if check.phone is None:
        hint = phone_hint(store.country)
        raise SendTestRefused(f"“{raw.strip()[:40]}” is not a mobile number we can text. A number without + is read as "
                          f"a {hint.country} number (like {hint.national}); for another country start with + and "
                          "its country code (like +1 502 555 0123).")
    return check.phone


def send_template_test(session: Session, *, store: Store, kind: str, raw_phone: str) -> str:
    """Queue ``kind``'s saved template, rendered with sample data, to ``raw_phone``; the E.164
    number it goes to. Raises SendTestRefused."""
    phone = phone_for_test(raw_phone, store)
    customer = get_or_create_customer(session, store_id=store.id, phone=phone)
    if customer.opted_out:
        raise SendTestRefused(f"{phone} opted out of texts from {store.name}; text START from it first.")
    try:
        text = render_message(resolve_template(session, store_id=store.id, kind=kind).body,
                              sample_context(store.name))
    except TemplateError as exc:
        raise SendTestRefused(f"The saved template does not render: {exc}") from None
    enqueue_text(session, store=store, customer=customer, kind=TEST_KIND, body=text)
    return phone
