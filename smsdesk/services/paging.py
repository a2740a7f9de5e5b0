"""Keyset pagination for every list (DESIGN §8): ``limit``, an opaque ``cursor`` and ``since``.

A cursor is base64url of a small JSON array naming the list and the sort key of the last row
shown; it is checked strictly on the way back in, so a forged or stale one is a 400, never a 500.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone

from smsdesk.services.untrusted import MAX_DB_INT, small_int

DEFAULT_LIMIT = 50  # rows per answer
MAX_LIMIT = 200
MAX_CURSOR = 200  # characters; ours are well under 100
# Rows are stamped with the writer's clock at flush time and become visible at commit, so a
# change can surface up to a transaction's length "in the past". The next ``since`` token
# reaches back this far: a client sees such late rows (and maybe a row twice, harmlessly).
SINCE_OVERLAP = timedelta(seconds=5)


class BadPage(ValueError):
    """A ``limit``, ``cursor`` or ``since`` that can't be used; ``code`` names which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def parse_limit(value: str | None) -> int:
    """``?limit=``: a whole number from 1 to MAX_LIMIT (DEFAULT_LIMIT when absent)."""
    if value is None:
        return DEFAULT_LIMIT
    limit = small_int(value)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise BadPage("invalid_limit", f"limit must be a number from 1 to {MAX_LIMIT}")
    return limit


def encode_cursor(kind: str, *key: object) -> str:
    """An opaque token for the row after ``key`` in list ``kind``."""
    raw = json.dumps([kind, *[_plain(part) for part in key]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str, kind: str, shape: tuple[type, ...]) -> list:
    """The key inside a cursor of list ``kind``, whose parts have the types in ``shape``
    (``datetime`` parts travel as ISO text; ``int`` parts are ids)."""
    try:
        if len(value) > MAX_CURSOR:
            raise ValueError
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        found = json.loads(raw.decode())
        if not isinstance(found, list) or len(found) != len(shape) + 1 or found[0] != kind:
            raise ValueError
        return [_typed(part, want) for part, want in zip(found[1:], shape, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise BadPage("invalid_cursor", "cursor is not one this list gave out (pass next_cursor unchanged)") from None


def parse_since(value: str) -> datetime:
    """``?since=``: an ISO 8601 time (``next_since`` of an earlier answer); naive means UTC."""
    try:
        if len(value) > 40:
            raise ValueError
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise BadPage("invalid_since", "since must be an ISO 8601 time such as 2026-11-25T12:00:00Z") from None
    return at


def next_since(started: datetime) -> str:
    """The ``since`` token for the next poll of an answer computed at ``started``."""
    return _iso(started - SINCE_OVERLAP)


def _plain(part: object) -> object:
    return _iso(part) if isinstance(part, datetime) else part


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _typed(part: object, want: type) -> object:
    if want is datetime:
        if not isinstance(part, str):
            raise ValueError
        return parse_since(part)
    if want is int:
        if not isinstance(part, int) or isinstance(part, bool) or not 0 <= part <= MAX_DB_INT:
            raise ValueError
        return part
    if want is bool:
        if not isinstance(part, bool):
            raise ValueError
        return part
    raise TypeError(want)
