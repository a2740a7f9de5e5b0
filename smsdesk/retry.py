"""Waiting before asking again: exponential backoff and the Retry-After header, for every
outbound API (the SMS provider, the shop platforms' APIs)."""
from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def backoff(attempts: int, *, base: float, cap: float) -> float:
    """Exponential backoff with full jitter, in seconds: up to ``base`` * 2^(attempts-1), at most ``cap``."""
    return random.uniform(0, min(cap, base * 2 ** max(attempts - 1, 0)))


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value)
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _seconds_until(value: str) -> float | None:
    when = http_date_of(value)
    return None if when is None else (when - datetime.now(timezone.utc)).total_seconds()


def http_date_of(value: object) -> datetime | None:
    """An RFC 2822 date (HTTP headers, BigCommerce's V2 dates) as an aware datetime; None if unreadable."""
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
