"""A pytest plugin: every log record of the whole run, written through a handler set up the
way the app sets up its own (smsdesk.logs.install), is scanned at the end for secrets and
customers' phone numbers. A find fails the run and names what leaked (masked) and where.

Secrets are every value the run stored encrypted (crypto.encrypt sees each webhook secret
and API token, whichever path stored it) plus the configured keys and tokens; phones are
those of every customer row the run inserted.
"""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import event

from smsdesk import crypto, logs
from smsdesk.cli import QUIET_LOGGERS
from smsdesk.models import Customer

MIN_SECRET = 8  # characters: shorter test secrets ("s", "old") are words that logs hold anyway
FORMAT = "%(levelname)s %(name)s: %(message)s"
E164 = re.compile(r"\+\d{8,15}")
SECRETS: set[str] = set()
PHONES: set[str] = set()


class LogScan(logging.Handler):
    """Keeps every formatted line of the run."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def leaks(lines: list[str], *, secrets: set[str], phones: set[str]) -> list[str]:
    """What the lines give away: each find as '<what> in: <line start>'."""
    found = []
    for line in lines:
        shown = line[:120].replace("\n", " ")
        found += [f"secret {s[:3]}… in: {shown}" for s in secrets if len(s) >= MIN_SECRET and s in line]
        found += [f"phone …{p[-4:]} in: {shown}" for p in phones if p in line or p[-10:] in line]
        found += [f"E.164 number …{m[-4:]} in: {shown}" for m in E164.findall(line)]
    return found


def remember(*values: str | None) -> None:
    SECRETS.update(v for v in values if v)


def _recording(encrypt):
    def recording(plain: str) -> str:
        remember(plain)
        return encrypt(plain)
    return recording


def pytest_configure(config: pytest.Config) -> None:
    scan = LogScan()
    config.stash[SCAN] = scan
    root = logging.getLogger()
    root.addHandler(scan)
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))  # INFO lines are scanned too
    for name in (*QUIET_LOGGERS, "sqlalchemy"):  # as `smsdesk run` does; SQL echo would only slow the run
        logging.getLogger(name).setLevel(logging.WARNING)
    logs.install()
    crypto.encrypt = _recording(crypto.encrypt)  # type: ignore[assignment]
    event.listen(Customer, "before_insert", lambda _mapper, _conn, row: PHONES.add(row.phone))


def pytest_sessionfinish(session: pytest.Session) -> None:
    scan = session.config.stash.get(SCAN, None)
    if scan is None:
        return
    from tests.conftest import FERNET_KEY, TWILIO_TOKEN

    remember(FERNET_KEY, TWILIO_TOKEN)
    found = leaks(scan.lines, secrets=SECRETS, phones=PHONES)
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"LOG SCAN: {len(found)} leak(s) in {len(scan.lines)} log lines:", red=True)
            for item in found[:20]:
                reporter.write_line("  " + item)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


SCAN = pytest.StashKey[LogScan]()
