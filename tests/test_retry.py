"""smsdesk.retry: the one backoff and the one Retry-After reader every outbound API uses."""
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from smsdesk.retry import backoff, http_date_of, retry_after_seconds


def test_backoff_doubles_up_to_its_cap_with_jitter():
    assert all(0 <= backoff(1, base=5, cap=900) <= 5 for _ in range(100))
    assert max(backoff(4, base=5, cap=900) for _ in range(200)) > 20  # up to 40, jittered
    assert all(backoff(30, base=5, cap=900) <= 900 for _ in range(100))


def test_retry_after_reads_seconds_and_dates():
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds("7") == 7.0 and 85 <= retry_after_seconds(soon) <= 90
    assert retry_after_seconds("-3") == 0.0 and retry_after_seconds("nan") is None
    assert retry_after_seconds("later") is None and retry_after_seconds(None) is None


def test_http_dates_as_bigcommerce_sends_them():
    assert http_date_of("Mon, 11 Mar 2019 15:17:25 +0000") == datetime(2019, 3, 11, 15, 17, 25, tzinfo=timezone.utc)
    assert http_date_of("") is None and http_date_of(None) is None
