"""Log hygiene: phone numbers in log lines are cut to their last four digits.

SQL parameters never reach a log (the engines hide them, smsdesk/db.py); this filter covers
what code and libraries write themselves: an inbound number, an exception's text. It sits on
the handlers, so every record (ours and libraries') passes it before it is written.
"""
from __future__ import annotations

import logging
import re

from flask.logging import default_handler

KEPT_DIGITS = 4  # a masked number still tells agents which customer a line is about
PHONE = re.compile(
    r"\+\d(?:[\s-]?\d){6,14}"  # E.164, maybe grouped: +15025550123, +49 151 12345678
    r"|%2B\d{7,15}(?!\d)"  # E.164 in a URL's query, as an HTTP error names it: To=%2B15025550123
    r"|(?<![\w+])\d{10,15}(?!\w)"  # a national number written as one run: 5025550123
    r"|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b",  # (502) 555-0123, 502.555.0123
    re.IGNORECASE,
)


def mask_phones(text: str) -> str:
    """``text`` with every phone-like number reduced to ``***`` and its last four digits."""
    return PHONE.sub(_mask, text)


def _mask(match: re.Match) -> str:
    return "***" + re.sub(r"\D", "", match.group())[-KEPT_DIGITS:]


class MaskPhones(logging.Filter):
    """Rewrites a record's message (and its exception text) with phone numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler's own error report
            return True
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler that may write our records (idempotent); called by the
    app factory and by the CLI after it sets up logging."""
    handlers = [*(logger or logging.getLogger()).handlers, default_handler]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, MaskPhones) for f in handler.filters):
            handler.addFilter(MaskPhones())
