"""smsdesk/services/back_time.py: when the team is back, in the customer's language, as a native
speaker writes it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from smsdesk.services.back_time import back_at_text, clock
from smsdesk.services.business_hours import Schedule
from smsdesk.services.templates import render_message

BERLIN = Schedule("Europe/Berlin", ())  # only its zone is read
SATURDAY_MORNING = datetime(2026, 12, 5, 8, tzinfo=timezone.utc)  # 09:00 in Berlin


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize(("language", "today", "tomorrow", "monday", "a_week_on"), [
    ("en", "today at 13:00", "tomorrow at 9:00", "Monday at 9:00", "Monday, Dec 14 at 9:00"),
    ("es", "hoy a las 13:00", "mañana a las 9:00", "el lunes a las 9:00", "el lunes 14 de diciembre a las 9:00"),
    ("fr", "aujourd'hui à 13 h 00", "demain à 9 h 00", "lundi à 9 h 00", "lundi 14 décembre à 9 h 00"),
    ("de", "heute um 13:00 Uhr", "morgen um 9:00 Uhr", "Montag um 9:00 Uhr", "Montag, 14. Dezember um 9:00 Uhr"),
])
def test_each_language_says_today_tomorrow_a_weekday_and_a_date(language, today, tomorrow, monday, a_week_on):
    def said(back: datetime, now: datetime) -> str:
        return back_at_text(BERLIN, back, now, twelve_hour=False, language=language)
    assert said(utc(2026, 12, 5, 12), SATURDAY_MORNING) == today
    assert said(utc(2026, 12, 7, 8), utc(2026, 12, 6, 12)) == tomorrow
    assert said(utc(2026, 12, 7, 8), SATURDAY_MORNING) == monday
    assert said(utc(2026, 12, 14, 8), utc(2026, 12, 7, 17)) == a_week_on


def test_spanish_and_english_follow_a_twelve_hour_store_french_and_german_do_not():
    one_pm, one_am = utc(2026, 12, 5, 13), utc(2026, 12, 5, 1)
    assert clock(one_pm, twelve_hour=True) == "1:00 PM"
    assert clock(one_pm, twelve_hour=True, language="es") == "a la 1:00 p. m."
    assert clock(one_am, twelve_hour=False, language="es") == "a la 1:00"
    assert clock(one_pm, twelve_hour=False, language="es") == "a las 13:00"
    assert clock(one_pm, twelve_hour=True, language="fr") == "13 h 00"
    assert clock(one_pm, twelve_hour=True, language="de") == "13:00 Uhr"


def test_an_unknown_language_reads_english():
    assert back_at_text(BERLIN, utc(2026, 12, 7, 8), SATURDAY_MORNING, twelve_hour=False, language="it") == (
        "Monday at 9:00")


def test_a_templates_full_stop_after_a_spanish_time_is_not_doubled():
    back = back_at_text(BERLIN, utc(2026, 12, 7, 13), SATURDAY_MORNING, twelve_hour=True, language="es")
    assert back == "el lunes a las 2:00 p. m."
    said = render_message("Volvemos {{ back }}. ¡Gracias!", {"back": back})
    assert said == "Volvemos el lunes a las 2:00 p. m. ¡Gracias!"
    # An ellipsis is kept whole after the abbreviation's own period (as the RAE writes "etc....").
    assert render_message("{{ back }}...", {"back": back}) == "el lunes a las 2:00 p. m...."
