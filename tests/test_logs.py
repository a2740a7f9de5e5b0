"""Log hygiene: phone numbers are masked to their last four digits in every handler the app
sets up, and the run's log scan (tests/support/log_scan.py) finds what would leak."""
import logging

import pytest

from smsdesk import logs
from tests.support.log_scan import LogScan, leaks


@pytest.mark.parametrize("raw, shown", [
    ("from +15025550123", "from ***0123"),
    ("to +49 151 12345678", "to ***5678"),
    ("(502) 555-0123 or 502.555.0123", "***0123 or ***0123"),
    ("national 5025550123", "national ***0123"),
    ("url: /Messages.json?To=%2B15025550123&PageSize=20", "url: /Messages.json?To=***0123&PageSize=20"),
    ("order 1042 at 2026-11-25 11:47:11, sid SM0123456789012345abcdef", None),  # not phones: kept
])
def test_mask_phones(raw, shown):
    assert logs.mask_phones(raw) == (shown or raw)


@pytest.fixture
def logger():
    """A logger whose lines go through a handler set up like the app's."""
    handler = LogScan()
    log = logging.getLogger("tests.logs")
    log.addHandler(handler)
    logs.install(log)
    yield log, handler
    log.removeHandler(handler)


def test_a_logged_phone_is_masked_in_message_and_traceback(logger):
    log, handler = logger
    log.warning("inbound SMS from %s", "+15025550123")
    try:
        raise ValueError("Key (phone)=(+15025550124) already exists")
    except ValueError:
        log.exception("insert failed")
    text = "\n".join(handler.lines)
    assert "***0123" in text and "***0124" in text
    assert "5550123" not in text and "5550124" not in text


def test_the_scan_finds_secrets_and_phones():
    lines = ["INFO x: token shpss_0123456789abcdef used", "INFO x: texted ***0123", "INFO x: to 5025550123",
             "INFO x: raw +447700900123"]
    found = leaks(lines, secrets={"shpss_0123456789abcdef", "s"}, phones={"+15025550123"})
    assert [f.split(" in: ")[0] for f in found] == ["secret shp…", "phone …0123", "E.164 number …0123"]
