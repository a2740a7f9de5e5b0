"""Fixtures: a migrated test database (SQLite by default, or $SMSDESK_TEST_DATABASE_URL),
the app wired to a real Twilio-compatible HTTP server, and a client per test."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import CodeType

import pytest
from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from smsdesk import crypto, db
from smsdesk.app import create_app
from smsdesk.models import Base
from tests import factories
from tests.support.twilio_server import TwilioTestServer

pytest_plugins = [
    "tests.support.bigcommerce_fixtures",  # BigCommerce API server, store and fetch job
    "tests.support.catch_up_fixtures",  # Shopify and WooCommerce API servers, catch-up polls
    "tests.support.log_scan",  # fails the run if any log line holds a secret or a customer's phone
]

REPO = Path(__file__).resolve().parents[1]
# Screenshots of the browser tests: an ignored folder, unless --update-screenshots asks to retake
# the tracked ones the README shows (tests never rewrite tracked files otherwise).
SCREENSHOTS_TRACKED = REPO / "docs" / "screenshots"
SCREENSHOTS_SCRATCH = REPO / "build" / "screenshots"  # build/ is in .gitignore


def pytest_addoption(parser):
    parser.addoption("--update-screenshots", action="store_true", default=False,
                     help="browser tests write their screenshots to docs/screenshots/ (tracked) "
                          "instead of build/screenshots/")


@pytest.fixture(scope="session")
def screenshots(request) -> Path:
    """Where the browser tests save screenshots (see --update-screenshots)."""
    folder = SCREENSHOTS_TRACKED if request.config.getoption("--update-screenshots") else SCREENSHOTS_SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    return folder


PUBLIC_URL = "https://smsdesk.test"
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "test-auth-token-0123456789abcdef"
# Secrets at rest: every app of the run (and every subprocess, through the environment) uses
# this key; migrations and test sessions encrypt with it too.
FERNET_KEY = "kT3CE1bo2X0w8JmHjZ6Vh8tq4SxwKfVxg4p2WfY5nP8="
os.environ["SMSDESK_SECURITY_SECRET_KEYS"] = FERNET_KEY
crypto.configure([FERNET_KEY])


class SharedTemplateCode(BytecodeCache):
    """Compiled Jinja templates shared by every app of the run: each test builds its own app,
    whose Jinja environment would otherwise parse and compile every template it renders again
    (~40 ms a template). A template whose source changed has another checksum: compiled anew."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        checksum, code = self.codes.get(bucket.key, (None, None))
        if code is not None and checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self.codes[bucket.key] = (bucket.checksum, bucket.code)


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCode()}


class TestSession(Session):
    def fresh(self) -> None:
        """Forget everything loaded: the next read sees what the app committed since."""
        self.rollback()
        self.expire_all()


# PostgreSQL commits of the run (this process and the workers it starts) return before the WAL
# reaches the disk: the database server never crashes in a test, and waiting for the flush cost
# a few ms per commit, tens of thousands of times. The app's own setting is untouched.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")
MEMORY_DISK = Path("/dev/shm")  # tmpfs: SQLite's fsync on every commit (synchronous=FULL) costs nothing


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> Iterator[str]:
    url = os.environ.get("SMSDESK_TEST_DATABASE_URL")
    if url:
        yield _own_database(url, worker_id)
        return
    if not (MEMORY_DISK.is_dir() and os.access(MEMORY_DISK, os.W_OK)):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    folder = Path(tempfile.mkdtemp(prefix="smsdesk-test-", dir=MEMORY_DISK))
    yield f"sqlite:///{folder / 'test.db'}"
    shutil.rmtree(folder, ignore_errors=True)


def _own_database(url: str, worker_id: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, made on first use
    (``<name>_gw0``, ...); a plain run uses the database as given."""
    if worker_id == "master":
        return url
    target = make_url(url)
    own = target.set(database=f"{target.database}_{worker_id}")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}):
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    admin.dispose()
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = db.make_engine(database_url)
    db.rebuild(engine)  # start from nothing, then migrate the way `smsdesk init` does
    yield engine
    engine.dispose()


# After a test on PostgreSQL: what TRUNCATE ... RESTART IDENTITY CASCADE did, at a fraction of its
# cost (TRUNCATE rewrites every table's and index's files: ~0.1-0.4 s a test). Triggers (the search
# documents') and foreign-key checks are off for the DELETEs; used sequences restart at 1.
PG_EMPTY_TABLES = """DO $$
DECLARE name text;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOREACH name IN ARRAY ARRAY[{tables}] LOOP
    EXECUTE 'DELETE FROM ' || quote_ident(name);
  END LOOP;
  FOR name IN SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences
              WHERE last_value IS NOT NULL LOOP
    EXECUTE 'ALTER SEQUENCE ' || name || ' RESTART';
  END LOOP;
END $$"""


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after a test that touched the database."""
    yield
    if "engine" not in request.fixturenames:
        return
    engine = request.getfixturevalue("engine")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            tables = ", ".join(f"'{table.name}'" for table in Base.metadata.sorted_tables)
            conn.execute(text(PG_EMPTY_TABLES.format(tables=tables)))
        else:
            # Orders and messages refer to each other (an order's attributed text): check at the end.
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def twilio_server_session():
    with TwilioTestServer(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN) as server:
        yield server


@pytest.fixture
def twilio_server(twilio_server_session):
    twilio_server_session.reset()
    yield twilio_server_session
    twilio_server_session.reset()


def app_settings(database_url: str, twilio_url: str) -> dict:
    return {
        "server": {"public_url": PUBLIC_URL, "secret_key": "test-secret-key", "max_body_bytes": 65536,
                   "event_stream_seconds": 0.5},  # PostgreSQL's inbox event streams end soon in tests
        "database": {"url": database_url},
        "sms": {"provider": "twilio"},
        "twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "api_base": twilio_url},
        "scheduler": {"enabled": False},
        "security": {"secret_keys": [FERNET_KEY]},
    }


@pytest.fixture
def app(engine, database_url, twilio_server):
    """The app; a webhook's events are applied right after its commit, by the apply job run
    inline (in production the scheduler runs it within a second), so tests read the effects
    at once. tests/jobs/test_apply_events.py covers the job on its own (``app_applying_later``)."""
    app = create_app(app_settings(database_url, twilio_server.url))
    app.config["TESTING"] = True
    app.extensions["smsdesk.events_received"] = app.extensions["smsdesk.apply_events"]
    yield app
    db.dispose(app)


@pytest.fixture
def app_applying_later(app):
    """The app with webhooks only recording deliveries: the test runs the apply job itself."""
    app.extensions["smsdesk.events_received"] = lambda: None
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app, database_url):
    """A session for arranging and asserting; commit what the app must see.

    On SQLite it begins DEFERRED so a test's open read never holds the write lock the app
    needs; call ``db_session.fresh()`` before reading what the app wrote since.
    """
    engine = db.make_engine(database_url, sqlite_begin="DEFERRED")
    session = TestSession(engine, expire_on_commit=False)
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def make(db_session):
    """Factories bound to the test's session: make.store(...), make.agent(...), make.token(...)."""
    return factories.Factory(db_session)


@pytest.fixture
def drain(app):
    """Run the sender job once, as the scheduler would; returns provider calls made."""
    from jobs.scheduler import media_base_url, status_callback_url
    from jobs.send_due import send_due

    def run() -> int:
        app.extensions["smsdesk.apply_events"]()  # what webhooks recorded comes first
        # One call at a time: tests read the texts in the order they were queued. Concurrent
        # sending is what tests/jobs/test_many_workers.py and test_send_guarantees.py exercise.
        return send_due(app.extensions["smsdesk.sessions"], app.extensions["smsdesk.provider"],
                        status_callback=status_callback_url(app), concurrency=1, media_base=media_base_url(app))
    return run
