"""When the team is back, as the customer reads it: in the store's time zone and in the
language of the text it goes into ("tomorrow at 9:00 AM", "mañana a las 9:00", "demain à
9 h 00", "morgen um 9:00 Uhr"). English follows the store's clock (12-hour in the US and other
12-hour countries); Spanish too ("9:00 a. m."); French and German always use 24 hours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smsdesk.services.business_hours import Schedule, zone_of


@dataclass(frozen=True)
class _Words:
    today: str  # each with {when}; "day" and "date" also with {day}, and "date" with {n} and {month}
    tomorrow: str
    day: str
    date: str
    days: tuple[str, ...]
    months: tuple[str, ...]


_WORDS = {
    "en": _Words("today at {when}", "tomorrow at {when}", "{day} at {when}", "{day}, {month} {n} at {when}",
                 ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
                 ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")),
    "es": _Words("hoy {when}", "mañana {when}", "el {day} {when}", "el {day} {n} de {month} {when}",
                 ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
                 ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                  "octubre", "noviembre", "diciembre")),
    "fr": _Words("aujourd'hui à {when}", "demain à {when}", "{day} à {when}", "{day} {n} {month} à {when}",
                 ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
                 ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                  "octobre", "novembre", "décembre")),
    "de": _Words("heute um {when}", "morgen um {when}", "{day} um {when}", "{day}, {n}. {month} um {when}",
                 ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
                 ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                  "Oktober", "November", "Dezember")),
}


def clock(at: datetime, *, twelve_hour: bool, language: str = "en") -> str:
    """The time of day: "9:00 AM" / "17:30" in English; "a las 9:00" ("a la 1:00", "a las
    9:00 a. m."), "9 h 00" and "9:00 Uhr" in Spanish, French and German."""
    minutes = f"{at.minute:02d}"
    if language == "fr":
        return f"{at.hour} h {minutes}"
    if language == "de":
        return f"{at.hour}:{minutes} Uhr"
    hour = ((at.hour % 12) or 12) if twelve_hour else at.hour
    if language == "es":
        suffix = (" a. m." if at.hour < 12 else " p. m.") if twelve_hour else ""
        return f"{'a la' if hour == 1 else 'a las'} {hour}:{minutes}{suffix}"
    return f"{hour}:{minutes} {'AM' if at.hour < 12 else 'PM'}" if twelve_hour else f"{hour}:{minutes}"


def back_at_text(schedule: Schedule | None, back: datetime, now: datetime, *, twelve_hour: bool,
                 language: str = "en") -> str:
    """When the team is back, in the schedule's zone: "today at 1:00 PM", "tomorrow at 9:00 AM",
    "Monday at 9:00 AM", a week on "Monday, Dec 14 at 9:00 AM"; the same in Spanish, French or
    German, and in English for any other ``language``."""
    language = language if language in _WORDS else "en"
    words = _WORDS[language]
    zone = zone_of(schedule.timezone if schedule else "UTC")
    local_back, local_now = back.astimezone(zone), now.astimezone(zone)
    days = (local_back.date() - local_now.date()).days
    when = clock(local_back, twelve_hour=twelve_hour, language=language)
    if days == 0:
        return words.today.format(when=when)
    if days == 1:
        return words.tomorrow.format(when=when)
    day = words.days[local_back.weekday()]
    if days < 7:
        return words.day.format(day=day, when=when)
    return words.date.format(day=day, n=local_back.day, month=words.months[local_back.month - 1], when=when)
