"""Cursors, limits and since tokens: round trips, and strict refusals (never an exception past BadPage)."""
from datetime import datetime, timezone

import pytest

from smsdesk.services.paging import BadPage, decode_cursor, encode_cursor, next_since, parse_limit, parse_since

AT = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=timezone.utc)


def test_cursor_round_trip_keeps_microseconds_and_ids():
    token = encode_cursor("cw", AT, 42)
    assert "=" not in token and decode_cursor(token, "cw", (datetime, int)) == [AT, 42]


@pytest.mark.parametrize("token", [encode_cursor("cr", AT, 42), encode_cursor("cw", AT), encode_cursor("cw", AT, -1),
                                   encode_cursor("cw", AT, 2**31), encode_cursor("cw", AT, True),
                                   encode_cursor("cw", "noon", 1), "", "!!", "e30", "x" * 500])
def test_a_cursor_of_another_list_or_shape_is_refused(token):
    with pytest.raises(BadPage) as refused:
        decode_cursor(token, "cw", (datetime, int))
    assert refused.value.code == "invalid_cursor"


@pytest.mark.parametrize(("value", "limit"), [(None, 50), ("1", 1), ("200", 200)])
def test_limits(value, limit):
    assert parse_limit(value) == limit


@pytest.mark.parametrize("value", ["0", "201", "-5", "1.5", "", "٣"])
def test_bad_limits(value):
    with pytest.raises(BadPage):
        parse_limit(value)


def test_since_accepts_z_offsets_and_naive_utc():
    assert parse_since("2026-11-25T12:00:00.123456Z") == AT
    assert parse_since("2026-11-25T13:00:00.123456+01:00") == AT
    assert parse_since("2026-11-25T12:00:00.123456") == AT
    assert parse_since(next_since(AT)) < AT


@pytest.mark.parametrize("value", ["", "yesterday", "2026-02-30T00:00:00", "1" * 41])
def test_bad_since(value):
    with pytest.raises(BadPage):
        parse_since(value)
