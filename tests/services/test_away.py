"""smsdesk/services/away.py: outside business hours a waiting text gets one acknowledgement per
conversation per 12 hours, saying when the team is back; inside hours, for keywords and for
opted-out customers, none."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from smsdesk.models import Conversation, Message, MessageStatus
from smsdesk.services.conversations import receive_inbound
from smsdesk.services.inbound import handle_inbound
from smsdesk.services.template_store import save_template
from smsdesk.services.waiting import text_waits
from tests.support.desk import OFFICE, configure

_sids = itertools.count(1)
SATURDAY_AFTERNOON = datetime(2026, 12, 5, 20, tzinfo=timezone.utc)  # 15:00 EST, after Saturday's 10-14


def text_at(db_session, store, customer, at: datetime, body: str = "Where is my order?") -> None:
    """A customer's text received at ``at`` (the routing clock), as handle_inbound records it."""
    message = receive_inbound(db_session, store=store, customer=customer, body=body,
                              provider_sid=f"SMaway{next(_sids)}")
    text_waits(db_session, store=store, customer=customer, message=message, now=at)
    db_session.commit()


def away_texts(db_session, **filters) -> list[Message]:
    db_session.fresh()
    return list(db_session.scalars(select(Message).filter_by(kind="away_message", **filters).order_by(Message.id)))


def test_once_per_conversation_per_12_hours_saying_when_the_team_is_back(db_session, make):
    store = make.store(timezone="America/New_York")
    configure(db_session, store, hours=OFFICE, away_message=True)
    customer = make.customer(store)

    text_at(db_session, store, customer, SATURDAY_AFTERNOON)
    [first] = away_texts(db_session)
    assert first.body == ("Acme Outfitters: Thanks for your message! "
                          "Our team is back Monday at 9:00 AM and will reply then.")
    assert first.status == MessageStatus.QUEUED and first.customer_id == customer.id and not first.marketing

    text_at(db_session, store, customer, SATURDAY_AFTERNOON + timedelta(hours=3))
    text_at(db_session, store, customer, SATURDAY_AFTERNOON + timedelta(hours=11, minutes=59))
    assert len(away_texts(db_session)) == 1

    text_at(db_session, store, customer, SATURDAY_AFTERNOON + timedelta(hours=12))  # Sunday 03:00 EST
    second = away_texts(db_session)[1]
    assert second.body.endswith("Our team is back tomorrow at 9:00 AM and will reply then.")
    assert len(away_texts(db_session)) == 2


def test_each_conversation_gets_its_own(db_session, make):
    store = make.store()
    configure(db_session, store, hours=OFFICE, away_message=True)
    for phone in ("+15025550101", "+15025550102"):
        text_at(db_session, store, make.customer(store, phone), SATURDAY_AFTERNOON)
    assert len(away_texts(db_session)) == 2


def test_none_inside_business_hours(db_session, make):
    store = make.store()
    configure(db_session, store, hours=OFFICE, away_message=True)
    customer = make.customer(store)
    text_at(db_session, store, customer, datetime(2026, 12, 1, 15, tzinfo=timezone.utc))  # Tuesday 10:00 EST
    text_at(db_session, store, customer, datetime(2026, 12, 5, 18, 59, tzinfo=timezone.utc))  # Saturday 13:59
    assert away_texts(db_session) == []


def test_none_when_switched_off_or_without_business_hours(db_session, make):
    off = make.store()
    configure(db_session, off, hours=OFFICE, away_message=False)
    always = make.store()
    configure(db_session, always, hours=None, away_message=True)  # no hours: always open
    for store in (off, always):
        text_at(db_session, store, make.customer(store), SATURDAY_AFTERNOON)
    assert away_texts(db_session) == []


def test_none_for_keywords_and_opted_out_customers_through_handle_inbound(db_session, make):
    store = make.store()
    configure(db_session, store, hours={}, away_message=True)  # an empty schedule: never open
    customer = make.customer(store, "+15025550111")

    for keyword in ("HELP", "STOP", "Where is my order?", "START"):  # opted out by STOP when the question comes
        handle_inbound(db_session, store=store, customer=customer, body=keyword, provider_sid=f"SMkw{next(_sids)}")
        db_session.commit()
    assert away_texts(db_session) == []

    other = make.customer(store, "+15025550112")
    handle_inbound(db_session, store=store, customer=other, body="hello?", provider_sid=f"SMkw{next(_sids)}")
    db_session.commit()
    [ack] = away_texts(db_session)
    assert ack.customer_id == other.id
    assert ack.body == "Acme Outfitters: Thanks for your message! Our team will reply as soon as we can."


def test_none_when_an_automatic_answer_already_took_the_text(db_session, make):
    store = make.store()
    configure(db_session, store, hours={}, away_message=True)
    customer = make.customer(store)
    message = receive_inbound(db_session, store=store, customer=customer, body="where is my order",
                              provider_sid="SMauto1")
    db_session.get_one(Conversation, message.conversation_id).waiting_since = None  # answered (h24's auto answer)
    text_waits(db_session, store=store, customer=customer, message=message, now=SATURDAY_AFTERNOON)
    db_session.commit()
    assert away_texts(db_session) == []


def test_the_owner_can_edit_or_disable_the_text(db_session, make):
    store = make.store()
    configure(db_session, store, hours=OFFICE, away_message=True)
    save_template(db_session, store_id=store.id, kind="away_message",
                  body="{{ store.name }}: closed now, back {{ hours.back_at }}.")
    db_session.commit()
    text_at(db_session, store, make.customer(store, "+15025550121"), SATURDAY_AFTERNOON)
    assert [m.body for m in away_texts(db_session)] == ["Acme Outfitters: closed now, back Monday at 9:00 AM."]

    save_template(db_session, store_id=store.id, kind="away_message", body="x", enabled=False)
    db_session.commit()
    text_at(db_session, store, make.customer(store, "+15025550122"), SATURDAY_AFTERNOON)
    assert len(away_texts(db_session)) == 1


def test_a_24_hour_clock_outside_12_hour_countries(db_session, make):
    store = make.store(timezone="Europe/Berlin", country="DE")
    configure(db_session, store, hours=OFFICE, away_message=True)
    text_at(db_session, store, make.customer(store, "+4915112345678"), datetime(2026, 12, 5, 20, tzinfo=timezone.utc))
    [ack] = away_texts(db_session)
    assert "back Monday at 9:00 and will reply then." in ack.body


def test_it_is_sent_like_any_text(db_session, make, drain, twilio_server):
    store = make.store()
    configure(db_session, store, hours={}, away_message=True)
    customer = make.customer(store)
    handle_inbound(db_session, store=store, customer=customer, body="anyone there?", provider_sid="SMsend1")
    db_session.commit()
    assert drain() == 1
    [ack] = away_texts(db_session)
    assert ack.status == MessageStatus.SENT and ack.provider_sid


@pytest.mark.parametrize(("language", "said"), [
    ("es", "Ahora estamos fuera de horario; volvemos el lunes a las 9:00 a. m. y te responderemos entonces."),
    ("fr", "Nous sommes actuellement fermés et serons de retour lundi à 9 h 00 pour vous répondre."),
    ("de", "Wir sind gerade nicht erreichbar und ab Montag um 9:00 Uhr wieder für Sie da."),
])
def test_the_back_time_is_in_the_customers_language(db_session, make, language, said):
    store = make.store(timezone="America/New_York")
    configure(db_session, store, hours=OFFICE, away_message=True)
    customer = make.customer(store, language=language)
    text_at(db_session, store, customer, SATURDAY_AFTERNOON)
    [away] = away_texts(db_session)
    assert away.body.endswith(said)


def test_a_language_without_a_version_gets_the_store_default_and_its_back_time(db_session, make):
    store = make.store(timezone="America/New_York")
    store.default_language = "de"
    configure(db_session, store, hours=OFFICE, away_message=True)
    customer = make.customer(store, language="it")  # no Italian version: the store's German one
    text_at(db_session, store, customer, SATURDAY_AFTERNOON)
    [away] = away_texts(db_session)
    assert away.body.endswith("ab Montag um 9:00 Uhr wieder für Sie da.")
