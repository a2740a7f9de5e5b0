"""services/metrics.py against hand-computed values: a fixed set of conversations with known
timestamps -> first-response and resolution medians and 90th percentiles (nearest rank) per
store and per agent, the automatic share, CSAT per week, and a custom ``elapsed``."""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, timezone

import pytest

from smsdesk.models import (
    Conversation,
    ConversationClose,
    Direction,
    Feedback,
    Message,
    MessageStatus,
)
from smsdesk.services.desk_settings import business_elapsed
from smsdesk.services.metrics import (
    BadRange,
    Times,
    csat_by_week,
    date_range,
    latest_comments,
    percentile,
    response_metrics,
    section,
)
from tests.support.desk import WEEKDAYS, configure

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
DAY = timedelta(days=1)
M, H = timedelta(minutes=1), timedelta(hours=1)
_phones = itertools.count(100)


class Thread:
    """One conversation, written text by text at known instants."""

    def __init__(self, db_session, make, store):
        self.session = db_session
        customer = make.customer(store, f"+1502555{next(_phones):04d}")
        self.conversation = Conversation(store_id=store.id, customer_id=customer.id)
        db_session.add(self.conversation)
        db_session.flush()

    def text(self, at, body="Where is my order?") -> Message:
        return self._add(at, Direction.IN, "inbound", body, MessageStatus.RECEIVED, None)

    def reply(self, at, agent, kind="agent_reply") -> Message:
        return self._add(at, Direction.OUT, kind, "On its way", MessageStatus.DELIVERED, agent)

    def close(self, at, agent) -> None:
        self.session.add(ConversationClose(store_id=self.conversation.store_id, conversation_id=self.conversation.id,
                                           agent_id=agent.id if agent else None, closed_at=at))
        self.session.flush()

    def rating(self, at, body, score, *, opened) -> None:
        request = self.reply(at - H, None, kind="feedback_request")
        message = self.text(at, body)
        self.session.add(Feedback(store_id=self.conversation.store_id, customer_id=self.conversation.customer_id,
                                  conversation_id=self.conversation.id, request_message_id=request.id,
                                  message_id=message.id, score=score, comment="" if not opened else body[2:],
                                  opened=opened, created_at=at))
        self.session.flush()

    def _add(self, at, direction, kind, body, status, agent) -> Message:
        message = Message(store_id=self.conversation.store_id, customer_id=self.conversation.customer_id,
                          conversation_id=self.conversation.id, direction=direction, kind=kind, body=body,
                          status=status, created_at=at, agent_id=agent.id if agent else None)
        self.session.add(message)
        self.session.flush()
        return message


@pytest.fixture
def scene(db_session, make):
    """Two stores, agents Ann and Ben; the times each conversation gives are noted beside it."""
    s1, s2 = make.store(name="One"), make.store(name="Two")
    ann, ben = make.agent(email="ann@example.com"), make.agent(email="ben@example.com")
    c1 = Thread(db_session, make, s1)
    c1.text(T0)
    c1.text(T0 + 2 * M)  # waiting already
    c1.reply(T0 + 10 * M, ann)  # first response 600 s (Ann)
    c1.close(T0 + H, ann)  # resolution 3600 s (Ann)
    c2 = Thread(db_session, make, s1)
    c2.text(T0 + H)
    c2.reply(T0 + H + 30 * M, ben)  # 1800 s (Ben)
    c2.text(T0 + 2 * H)
    c2.reply(T0 + 2 * H + 5 * M, ann)  # 300 s (Ann)
    c2.close(T0 + 5 * H, ben)  # resolution from T0+1h: 14400 s (Ben)
    c3 = Thread(db_session, make, s1)
    c3.text(T0 + 3 * H, "HELP")  # a keyword: automatic
    c3.reply(T0 + 3 * H, None, kind="help_reply")
    c3.text(T0 + 4 * H, "what is this number?")
    c3.reply(T0 + 4 * H + M, None, kind="help_reply")  # an automatic answer within 10 min: automatic
    c3.text(T0 + 5 * H, "thanks")  # waits, never answered
    c4 = Thread(db_session, make, s1)
    c4.rating(T0 + 6 * H, "5", 5, opened=False)  # a plain rating: automatic
    c4.rating(T0 + 7 * H, "1 late", 1, opened=True)  # a low one waits
    c4.reply(T0 + 7 * H + 20 * M, ben)  # 1200 s (Ben)
    c4.close(T0 + 8 * H, ann)  # 3600 s (Ann)
    c5 = Thread(db_session, make, s1)
    c5.text(T0 - 2 * DAY)  # before the range: it was waiting already when the range began
    c5.text(T0 + H)  # no new wait
    c5.reply(T0 + 90 * M, ann)  # answers a wait that began before the range: not counted
    c6 = Thread(db_session, make, s1)
    c6.text(T0 + 9 * H)
    c6.close(T0 + 10 * H, ann)  # closed without a reply: no first response; resolution 3600 s (Ann)
    c7 = Thread(db_session, make, s1)
    c7.text(T0 + DAY + H)  # after the range
    c7.reply(T0 + DAY + 2 * H, ann)
    t1 = Thread(db_session, make, s2)
    t1.text(T0)
    t1.reply(T0 + 20 * M, ann)  # 1200 s (Ann), store Two
    db_session.commit()
    return {"stores": {s1.id: "One", s2.id: "Two"}, "ann": ann, "ben": ben}


def test_percentiles_are_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([7], 90) == 7
    assert percentile([4, 1, 3, 2], 50) == 2  # the lower middle of an even count
    assert percentile(range(1, 11), 90) == 9 and percentile(range(1, 12), 90) == 10
    assert percentile([1, 2], 100) == 2


def test_times_per_store_and_per_agent(db_session, scene):
    result = response_metrics(db_session, stores=scene["stores"], start=T0, end=T0 + DAY)
    one, two = result.stores
    assert (one.name, one.first_response, one.resolution) == (
        "One", Times(4, 600, 1800), Times(4, 3600, 14400))  # [300, 600, 1200, 1800]; [3600 x3, 14400]
    assert (two.first_response, two.resolution) == (Times(1, 1200, 1200), Times(0, None, None))
    assert result.overall.first_response == Times(5, 1200, 1800)  # [300, 600, 1200, 1200, 1800]
    agents = {row.name: row for row in result.agents}
    assert agents["ann@example.com"].first_response == Times(3, 600, 1200)  # [300, 600, 1200]
    assert agents["ann@example.com"].resolution == Times(3, 3600, 3600)
    assert agents["ben@example.com"].first_response == Times(2, 1200, 1800)
    assert agents["ben@example.com"].resolution == Times(1, 14400, 14400)


def test_automatic_share_and_texts_still_waiting(db_session, scene):
    result = response_metrics(db_session, stores=scene["stores"], start=T0, end=T0 + DAY)
    # In range: c1 2, c2 2, c3 3, c4 2, c5 1, c6 1, store Two 1; automatic: HELP, the answered question, the "5".
    assert (result.inbound, result.automatic) == (12, 3)
    assert result.automatic_share == pytest.approx(3 / 12)
    assert result.waiting == 1  # c3's "thanks"


def test_a_custom_elapsed_is_used(db_session, make):
    """Only 09:00-17:00 UTC counts: a text at 16:30 answered at 09:15 the next day waited 45 minutes."""
    store = make.store()
    agent = make.agent()
    thread = Thread(db_session, make, store)
    thread.text(T0 + 7 * H + 30 * M)  # 16:30
    thread.reply(T0 + DAY + 15 * M, agent)  # 09:15 the next day
    thread.close(T0 + DAY + H, agent)  # 10:00
    db_session.commit()
    calls = []

    def office_seconds(store_id, start, end):
        calls.append(store_id)
        total, day = 0.0, start.date()
        while day <= end.date():
            opens = datetime.combine(day, time(9), tzinfo=timezone.utc)
            closes = datetime.combine(day, time(17), tzinfo=timezone.utc)
            total += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
            day += DAY
        return total

    stores = {store.id: "Shop"}
    wall = response_metrics(db_session, stores=stores, start=T0, end=T0 + DAY)
    office = response_metrics(db_session, stores=stores, start=T0, end=T0 + DAY, elapsed=office_seconds)
    assert wall.overall.first_response.median == 16 * 3600 + 45 * 60
    assert office.overall.first_response.median == 45 * 60
    assert office.overall.resolution.median == 90 * 60
    assert set(calls) == {store.id}


def test_csat_per_week_and_latest_comments(db_session, make):
    store = make.store()
    thread = Thread(db_session, make, store)
    for at, body, score, opened in ((T0, "5", 5, False), (T0 + DAY, "4", 4, False),
                                    (T0 + 2 * DAY, "1 never came", 1, True), (T0 + 7 * DAY, "3 ok I guess", 3, True)):
        thread.rating(at, body, score, opened=opened)
    db_session.commit()
    weeks = csat_by_week(db_session, store_ids=[store.id], start=T0, end=T0 + 14 * DAY)
    assert [(w.week, w.count, round(w.average, 3), round(w.satisfied_share, 3)) for w in weeks] == [
        (date(2026, 11, 2), 3, 3.333, 0.667), (date(2026, 11, 9), 1, 3.0, 0.0)]
    comments = latest_comments(db_session, store_ids=[store.id], start=T0, end=T0 + 14 * DAY)
    assert [(c.score, c.comment) for c in comments] == [(3, "ok I guess"), (1, "never came")]
    assert csat_by_week(db_session, store_ids=[store.id], start=T0 + 8 * DAY, end=T0 + 14 * DAY) == []


def test_date_range_defaults_and_refusals():
    today = date(2026, 12, 3)
    assert date_range(None, None, zone="UTC", today=today) == (date(2026, 11, 4), today)
    assert date_range("2026-11-01", "2026-11-30", zone="UTC", today=today) == (date(2026, 11, 1), date(2026, 11, 30))
    for first, last in (("2026-13-01", None), ("2026-11-30", "2026-11-01"), ("2024-01-01", "2026-01-01"), ("x", "y")):
        with pytest.raises(BadRange):
            date_range(first, last, zone="UTC", today=today)


def test_section_covers_whole_local_days(db_session, scene):
    got = section(db_session, stores=scene["stores"], first_day=date(2026, 11, 2), last_day=date(2026, 11, 2),
                  zone="UTC")
    assert got.responses.overall.first_response == Times(5, 1200, 1800)
    assert [w.count for w in got.csat] == [2]


def test_business_hours_from_the_hours_page_and_the_away_message(db_session, make):
    """The store's own schedule (/hours) counts through business_elapsed, and its away message
    acknowledges without answering: the text still waits for the agent."""
    store = make.store(timezone="UTC")
    configure(db_session, store, hours={day: "09:00-17:00" for day in WEEKDAYS[:5]}, away_message=True)
    agent = make.agent()
    thread = Thread(db_session, make, store)
    thread.text(T0 + 8 * H + 30 * M)  # Monday 17:30, after hours
    thread.reply(T0 + 8 * H + 30 * M, None, kind="away_message")
    thread.reply(T0 + DAY + 15 * M, agent)  # Tuesday 09:15
    db_session.commit()
    result = response_metrics(db_session, stores={store.id: "Shop"}, start=T0, end=T0 + DAY,
                              elapsed=business_elapsed(db_session))
    assert (result.inbound, result.automatic) == (1, 0)
    assert result.overall.first_response.median == 15 * 60
