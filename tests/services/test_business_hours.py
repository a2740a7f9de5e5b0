"""smsdesk/services/business_hours.py: open or not, back when, and business seconds between two
instants, across daylight saving time changes (values computed by hand in the comments)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from smsdesk.services.back_time import back_at_text
from smsdesk.services.business_hours import (
    Interval,
    InvalidSchedule,
    Schedule,
    day_text,
    is_open,
    next_open,
    open_seconds_between,
    parse_day,
)
from smsdesk.services.desk_settings import business_elapsed
from tests.support.desk import OFFICE, configure

UTC = timezone.utc
HOUR = 3600.0
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def schedule(zone: str, *intervals: tuple[int, str, str]) -> Schedule:
    return Schedule(zone, tuple(Interval(day, _m(opens), _m(closes)) for day, opens, closes in intervals))


def _m(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def office(zone: str = "America/New_York") -> Schedule:
    """Mon-Fri 09:00-17:30, Sat 10:00-14:00, closed on Sunday."""
    return schedule(zone, *[(day, "09:00", "17:30") for day in range(5)], (SAT, "10:00", "14:00"))


def every_day(zone: str, opens: str, closes: str) -> Schedule:
    return schedule(zone, *[(day, opens, closes) for day in range(7)])


# --- the DST days: an interval 01:30-03:30 on the day of the change ------------------------------
# America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
# Europe/Berlin:    2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
# All four are Sundays. 01:30-03:30 lasts 1 h when the clock skips an hour and 3 h when it
# repeats one (the team opened at the first 01:30 and stays until 03:30).
DST_DAYS = [
    # zone, day, opens (UTC), closes (UTC), open seconds
    ("America/New_York", (2026, 3, 8), utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30), 1 * HOUR),
    ("America/New_York", (2026, 11, 1), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8, 30), 3 * HOUR),
    ("Europe/Berlin", (2026, 3, 29), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), 1 * HOUR),
    ("Europe/Berlin", (2026, 10, 25), utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 2, 30), 3 * HOUR),
]


@pytest.mark.parametrize("zone, day, opens, closes, seconds", DST_DAYS)
def test_an_interval_on_the_day_the_clock_changes(zone, day, opens, closes, seconds):
    hours = schedule(zone, (SUN, "01:30", "03:30"))
    around = (utc(*day) - timedelta(days=2), utc(*day) + timedelta(days=2))  # only that Sunday in between
    assert open_seconds_between(hours, *around) == seconds
    assert not is_open(hours, opens - timedelta(seconds=1))
    assert is_open(hours, opens) and is_open(hours, closes - timedelta(seconds=1))
    assert not is_open(hours, closes)
    assert next_open(hours, opens - timedelta(hours=5)) == opens
    assert open_seconds_between(hours, opens + timedelta(minutes=15), closes) == seconds - 15 * 60


def test_the_repeated_hour_is_open_both_times():
    hours = schedule("America/New_York", (SUN, "01:30", "03:30"))
    assert is_open(hours, utc(2026, 11, 1, 5, 45))  # 01:45 EDT, the first time
    assert is_open(hours, utc(2026, 11, 1, 6, 45))  # 01:45 EST, the second time


def test_an_interval_inside_the_skipped_hour_is_never_open():
    hours = schedule("America/New_York", (SUN, "02:00", "02:30"), (MON, "09:00", "10:00"))
    assert open_seconds_between(hours, utc(2026, 3, 7), utc(2026, 3, 9)) == 0.0
    # Opening inside the skipped hour: open from the jump (03:00 EDT = 07:00 UTC).
    late = schedule("America/New_York", (SUN, "02:30", "04:00"))
    assert next_open(late, utc(2026, 3, 8)) == utc(2026, 3, 8, 7, 0)
    assert open_seconds_between(late, utc(2026, 3, 7), utc(2026, 3, 9)) == 1 * HOUR


@pytest.mark.parametrize("start, end, hours", [
    # Around the clock in New York: Saturday 00:00 EST to Monday 00:00 EDT is 48 wall hours, 47 real.
    (utc(2026, 3, 7, 5), utc(2026, 3, 9, 4), 47),
    # Saturday 00:00 EDT to Monday 00:00 EST: 49 real hours.
    (utc(2026, 10, 31, 4), utc(2026, 11, 2, 5), 49),
    # Four weeks from Monday 2026-03-02 00:00 EST across the change: 28 * 24 - 1.
    (utc(2026, 3, 2, 5), utc(2026, 3, 30, 4), 671),
])
def test_open_seconds_spanning_a_change_around_the_clock(start, end, hours):
    assert open_seconds_between(every_day("America/New_York", "00:00", "24:00"), start, end) == hours * HOUR


def test_open_seconds_of_office_hours_across_the_change_and_weeks():
    hours = office()
    # Friday 2026-03-06 12:00 EST to Monday 2026-03-09 10:00 EDT: Fri 5.5 h, Sat 4 h, Sun 0, Mon 1 h.
    assert open_seconds_between(hours, utc(2026, 3, 6, 17), utc(2026, 3, 9, 14)) == 10.5 * HOUR
    # A week is 5 * 8.5 + 4 = 46.5 h: eight weeks from Monday 2026-01-05 00:00 EST (winter only) ...
    assert open_seconds_between(hours, utc(2026, 1, 5, 5), utc(2026, 3, 2, 5)) == 8 * 46.5 * HOUR
    # ... and four weeks across the March change (no interval touches the skipped hour).
    assert open_seconds_between(hours, utc(2026, 3, 2, 5), utc(2026, 3, 30, 4)) == 4 * 46.5 * HOUR
    # Berlin, Monday 2026-10-19 00:00 CEST to Monday 2026-11-02 00:00 CET, across the October change.
    assert open_seconds_between(office("Europe/Berlin"), utc(2026, 10, 18, 22), utc(2026, 11, 1, 23)) == \
        2 * 46.5 * HOUR


def test_open_seconds_inside_one_interval_and_backwards():
    hours = office()
    # Tuesday 2026-12-01 10:00 to 10:20 EST.
    assert open_seconds_between(hours, utc(2026, 12, 1, 15), utc(2026, 12, 1, 15, 20)) == 20 * 60
    assert open_seconds_between(hours, utc(2026, 12, 1, 16), utc(2026, 12, 1, 15)) == 0.0


def test_next_open_over_a_weekend():
    hours = office()  # December: EST, UTC-5
    monday_nine = utc(2026, 12, 7, 14)
    assert next_open(hours, utc(2026, 12, 5, 20)) == monday_nine  # Saturday 15:00, after Saturday's hours
    assert next_open(hours, utc(2026, 12, 6, 17)) == monday_nine  # Sunday noon
    assert next_open(hours, utc(2026, 12, 4, 23)) == utc(2026, 12, 5, 15)  # Friday 18:00 -> Saturday 10:00
    assert next_open(hours, utc(2026, 12, 7, 13)) == monday_nine  # Monday 08:00
    inside = utc(2026, 12, 7, 15)
    assert is_open(hours, inside) and next_open(hours, inside) == inside


def test_next_open_a_week_on_when_the_only_interval_has_passed():
    hours = schedule("Europe/Berlin", (WED, "10:00", "11:00"))
    after = utc(2026, 12, 2, 10, 30)  # Wednesday 11:30 CET
    back = next_open(hours, after)
    assert back == utc(2026, 12, 9, 9)
    assert back_at_text(hours, back, after, twelve_hour=False) == "Wednesday, Dec 9 at 10:00"


def test_no_schedule_is_always_open_and_no_interval_is_never_open():
    at = utc(2026, 12, 6, 3)
    assert is_open(None, at) and next_open(None, at) == at
    assert open_seconds_between(None, at, at + timedelta(hours=2)) == 2 * HOUR
    closed = Schedule("America/New_York", ())
    assert not is_open(closed, at) and next_open(closed, at) is None
    assert open_seconds_between(closed, at, at + timedelta(days=30)) == 0.0


def test_back_at_reads_naturally_in_the_store_zone():
    hours = office()
    saturday_evening = utc(2026, 12, 5, 23)  # 18:00 EST
    assert back_at_text(hours, utc(2026, 12, 7, 14), saturday_evening, twelve_hour=True) == "Monday at 9:00 AM"
    friday_night = utc(2026, 12, 4, 23)
    assert back_at_text(hours, utc(2026, 12, 5, 15), friday_night, twelve_hour=True) == "tomorrow at 10:00 AM"
    early = utc(2026, 12, 7, 11)  # Monday 06:00
    assert back_at_text(hours, utc(2026, 12, 7, 14), early, twelve_hour=True) == "today at 9:00 AM"
    # Late Sunday evening in New York is Monday in UTC: "tomorrow" is the store's tomorrow.
    assert back_at_text(hours, utc(2026, 12, 7, 14), utc(2026, 12, 7, 4), twelve_hour=True) == "tomorrow at 9:00 AM"
    berlin = office("Europe/Berlin")
    assert back_at_text(berlin, utc(2026, 12, 7, 8), utc(2026, 12, 5, 20), twelve_hour=False) == "Monday at 9:00"
    assert back_at_text(berlin, utc(2026, 12, 7, 16), utc(2026, 12, 7, 9), twelve_hour=True) == "today at 5:00 PM"


@pytest.mark.parametrize("text, expected", [
    ("09:00-17:30", [(540, 1050)]),
    ("9-17", [(540, 1020)]),
    ("9:00 – 12:00, 13:00 – 17:30", [(540, 720), (780, 1050)]),
    ("13:00-17:30; 09:00-12:00", [(780, 1050), (540, 720)]),
    ("18:00 to 24:00", [(1080, 1440)]),
    ("", []), ("closed", []), ("  Closed ", []),
])
def test_parse_a_day(text, expected):
    assert [(i.opens, i.closes) for i in parse_day(TUE, text)] == expected


@pytest.mark.parametrize("text, message", [
    ("22:00-02:00", "runs past midnight: split it into 22:00-24:00 and 00:00-02:00 of the next day"),
    ("09:00-12:00, 11:00-13:00", "09:00-12:00 and 11:00-13:00 overlap"),
    ("09:00-09:00", "opens and closes at the same time"),
    ("25:00-26:00", "is not a time like 09:00"),
    ("09:60-10:00", "is not a time like 09:00"),
    ("24:30-24:45", "is not a time like 09:00"),
    ("nine to five", "is not a time like 09:00"),
    ("09:00", "is not an interval like 09:00-17:30"),
])
def test_parse_refuses_with_a_reason(text, message):
    with pytest.raises(InvalidSchedule, match=message.replace("(", r"\(")) as caught:
        parse_day(THU, text)
    assert caught.value.weekday == THU


def test_a_schedule_checks_itself_and_round_trips():
    with pytest.raises(InvalidSchedule, match="overlap"):
        Schedule("UTC", (Interval(MON, 540, 720), Interval(MON, 600, 700)))
    with pytest.raises(InvalidSchedule, match="weekday 7"):
        Schedule("UTC", (Interval(7, 540, 720),))
    with pytest.raises(InvalidSchedule):
        Schedule.from_rows("UTC", [["x", 1]])
    hours = office()
    assert Schedule.from_rows(hours.timezone, hours.rows()) == hours
    assert day_text(hours, SAT) == "10:00-14:00" and day_text(hours, SUN) == "" and day_text(None, MON) == ""


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        is_open(office(), datetime(2026, 12, 1, 12))


def test_a_long_span_is_quick():
    """A year of office hours (dozens of intervals a week), many times: h26's metrics call this
    per conversation. Generous bound; it takes a few milliseconds."""
    hours = office("Europe/Berlin")
    started = time.perf_counter()
    for shift in range(20):
        start = utc(2026, 1, 1) + timedelta(hours=shift)
        seconds = open_seconds_between(hours, start, start + timedelta(days=365))
    assert time.perf_counter() - started < 2.0
    assert 52 * 46.5 * HOUR < seconds < 53 * 46.5 * HOUR


def test_business_elapsed_per_store(make, db_session):
    """What the dashboard's response metrics take: each store's own hours, wall-clock without."""
    office_store, plain = make.store(timezone="America/New_York"), make.store()
    configure(db_session, office_store, hours=OFFICE)
    elapsed = business_elapsed(db_session)
    friday_noon, monday_ten = utc(2026, 3, 6, 17), utc(2026, 3, 9, 14)  # across the March change
    assert elapsed(office_store.id, friday_noon, monday_ten) == 10.5 * HOUR
    assert elapsed(plain.id, friday_noon, monday_ten) == 69 * HOUR
