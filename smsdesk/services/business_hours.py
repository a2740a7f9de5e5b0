"""Business hours: a store's weekly schedule in its time zone, and what is asked of it (open
now? back when? how much business time between two instants?). Pure: no database, no Flask.

A schedule holds, per weekday, zero or more intervals [opens, closes) of local wall time in
minutes after midnight; ``closes`` may be 24:00 (1440). An interval past midnight (22:00-02:00)
is refused: split it into 22:00-24:00 and the next day's 00:00-02:00. Intervals of one day may
not overlap.

``None`` instead of a schedule means the store set no hours: always open. A schedule with no
interval at all is never open (``next_open`` is None).

Daylight saving time: an interval is the time between its opening and its closing instant on
that date, and a wall time is read as the clock shows it. A time the clock shows twice (fall
back) is its first occurrence; a time it skips (spring forward) is the instant of the jump. So
01:30-03:30 lasts 1 h on a spring-forward day (America/New_York, Europe/Berlin) and 3 h on a
fall-back day: a team that opens at 01:30 stays open while the clock goes back.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
DAY = timedelta(days=1)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LOOKAHEAD_DAYS = 8  # a weekly schedule opens within 7 days or never; one more for a DST-shifted edge
# "9", "09:00", "17:30", "24:00"; intervals "09:00-17:30" (also with an en dash or "to"),
# separated by commas or semicolons.
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_RANGE = re.compile(r"\s*(?:-|–|—|\bto\b)\s*")
_LIST = re.compile(r"[,;]")
CLOSED_WORDS = frozenset({"", "closed", "-", "none"})


class InvalidSchedule(ValueError):
    """A schedule that can't be used; ``weekday`` names the day at fault (None: the whole)."""

    def __init__(self, message: str, *, weekday: int | None = None):
        super().__init__(message)
        self.weekday = weekday


@dataclass(frozen=True, order=True)
class Interval:
    """Open from ``opens`` to ``closes`` (minutes after local midnight) on ``weekday`` (0=Monday)."""

    weekday: int
    opens: int
    closes: int


@dataclass(frozen=True)
class Schedule:
    """A checked weekly schedule in the IANA time zone ``timezone``."""

    timezone: str
    intervals: tuple[Interval, ...]
    by_day: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check(self.intervals)
        ordered = tuple(sorted(self.intervals))
        object.__setattr__(self, "intervals", ordered)
        object.__setattr__(self, "by_day", tuple(tuple((i.opens, i.closes) for i in ordered if i.weekday == day)
                                                 for day in range(7)))

    @classmethod
    def from_rows(cls, timezone_name: str, rows: Iterable[Sequence[int]]) -> Schedule:
        """From the stored form ``[[weekday, opens, closes], ...]``; InvalidSchedule if unusable."""
        try:
            intervals = tuple(Interval(int(day), int(opens), int(closes)) for day, opens, closes in rows)
        except (TypeError, ValueError):
            raise InvalidSchedule("a schedule is a list of [weekday, opens, closes] numbers") from None
        return cls(timezone_name, intervals)

    def rows(self) -> list[list[int]]:
        return [[i.weekday, i.opens, i.closes] for i in self.intervals]


def check(intervals: Iterable[Interval]) -> None:
    """InvalidSchedule unless every interval is inside its day and none overlaps another."""
    previous: Interval | None = None
    for interval in sorted(intervals):
        day = interval.weekday
        if not 0 <= day <= 6:
            raise InvalidSchedule(f"weekday {day} is not 0 (Monday) to 6 (Sunday)")
        _check_one(interval)
        if previous is not None and previous.weekday == day and interval.opens < previous.closes:
            raise InvalidSchedule(f"{span_text(previous.opens, previous.closes)} and "
                                  f"{span_text(interval.opens, interval.closes)} overlap", weekday=day)
        previous = interval


def _check_one(interval: Interval) -> None:
    day, opens, closes = interval.weekday, interval.opens, interval.closes
    if not (0 <= opens < MINUTES_PER_DAY and 0 <= closes <= MINUTES_PER_DAY):
        raise InvalidSchedule("times must be from 00:00 to 24:00", weekday=day)
    if closes == opens:
        raise InvalidSchedule(f"{span_text(opens, closes)} opens and closes at the same time", weekday=day)
    if closes < opens:
        raise InvalidSchedule(f"{span_text(opens, closes)} runs past midnight: split it into "
                              f"{clock_text(opens)}-24:00 and 00:00-{clock_text(closes)} of the next day",
                              weekday=day)


# --------------------------------------------------------------------------
# The owner's notation: "09:00-12:00, 13:00-17:30" per day
# --------------------------------------------------------------------------


def parse_day(weekday: int, text: str) -> list[Interval]:
    """One day's intervals from text like "9:00-12:00, 13:00-17:30" ("" or "closed": none)."""
    if text.strip().lower() in CLOSED_WORDS:
        return []
    intervals = []
    for part in _LIST.split(text):
        if not part.strip():
            continue
        ends = _RANGE.split(part.strip())
        if len(ends) != 2:
            raise InvalidSchedule(f"{part.strip()!r} is not an interval like 09:00-17:30", weekday=weekday)
        intervals.append(Interval(weekday, _minutes(weekday, ends[0]), _minutes(weekday, ends[1])))
    check(intervals)
    return intervals


def _minutes(weekday: int, text: str) -> int:
    match = _TIME.match(text.strip())
    hours, minutes = (int(match.group(1)), int(match.group(2) or 0)) if match else (-1, -1)
    if not (0 <= hours <= 24 and 0 <= minutes <= 59) or (hours == 24 and minutes):
        raise InvalidSchedule(f"{text.strip()!r} is not a time like 09:00 (00:00 to 24:00)", weekday=weekday)
    return hours * 60 + minutes


def day_text(schedule: Schedule | None, weekday: int) -> str:
    """A day's intervals in the owner's notation ("" when closed)."""
    if schedule is None:
        return ""
    return ", ".join(span_text(opens, closes) for opens, closes in schedule.by_day[weekday])


def span_text(opens: int, closes: int) -> str:
    return f"{clock_text(opens)}-{clock_text(closes)}"


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------
# Questions asked of a schedule
# --------------------------------------------------------------------------


def is_open(schedule: Schedule | None, at: datetime) -> bool:
    """Whether the team is at work at ``at`` (an aware datetime); always with no schedule."""
    if schedule is None:
        return True
    _aware(at)
    return any(start <= at < end for start, end in _spans_around(schedule, at, days_before=1, days_after=0))


def next_open(schedule: Schedule | None, at: datetime) -> datetime | None:
    """``at`` when open then, else the next opening instant (UTC); None if it never opens."""
    if schedule is None:
        return at
    _aware(at)
    for start, end in _spans_around(schedule, at, days_before=1, days_after=LOOKAHEAD_DAYS):
        if end > at:
            return max(start, at)
    return None


def open_seconds_between(schedule: Schedule | None, start: datetime, end: datetime) -> float:
    """Seconds of business time from ``start`` to ``end`` (0 when end is not after start).

    Walks the local days between them (each day's instants are computed once and cached), so
    a span of weeks costs a few microseconds per day."""
    _aware(start)
    _aware(end)
    if end <= start:
        return 0.0
    if schedule is None:
        return (end - start).total_seconds()
    zone = zone_of(schedule.timezone)
    day, last = start.astimezone(zone).date() - DAY, end.astimezone(zone).date()
    total = 0.0
    while day <= last:
        for opens, closes in _day_spans(schedule.timezone, schedule.by_day[day.weekday()], day):
            if opens < end and closes > start:
                total += (min(closes, end) - max(opens, start)).total_seconds()
        day += DAY
    return total


def _spans_around(schedule: Schedule, at: datetime, *, days_before: int, days_after: int
                  ) -> Iterator[tuple[datetime, datetime]]:
    """The open spans (UTC) of the local days around ``at``, in order."""
    day = at.astimezone(zone_of(schedule.timezone)).date()
    for offset in range(-days_before, days_after + 1):
        current = day + timedelta(days=offset)
        yield from _day_spans(schedule.timezone, schedule.by_day[current.weekday()], current)


def _aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business hours need aware datetimes (UTC from the database)")


@functools.lru_cache(maxsize=64)
def zone_of(name: str) -> ZoneInfo:
    """The time zone; UTC for a name this system does not know (stores' zones are checked on save)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@functools.lru_cache(maxsize=16384)
def _day_spans(zone_name: str, intervals: tuple[tuple[int, int], ...], day: date
               ) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC instants of one local day's intervals; an interval DST leaves empty is dropped."""
    zone = zone_of(zone_name)
    spans = ((instant(zone, day, opens), instant(zone, day, closes)) for opens, closes in intervals)
    return tuple((start, end) for start, end in spans if end > start)


def instant(zone: ZoneInfo, day: date, minute: int) -> datetime:
    """The UTC instant the wall clock of ``zone`` shows ``minute`` after midnight on ``day``:
    its first occurrence when shown twice, the instant of the jump when skipped."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = wall.replace(tzinfo=zone).astimezone(timezone.utc)  # fold=0: the first occurrence
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    return _jump(zone, wall)


def _jump(zone: ZoneInfo, wall: datetime) -> datetime:
    """The instant the clock skipped ``wall`` (spring forward): between reading ``wall`` with
    the new offset (before the jump) and with the old one (after it), to the second."""
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    after = datetime.fromtimestamp(high, timezone.utc).astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, timezone.utc).astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, timezone.utc)
