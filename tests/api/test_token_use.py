"""Reading the API writes nothing each call: a token's last use is recorded once a minute, and on
SQLite a reading request never takes the write lock."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import make_url, select, update

from smsdesk.models import ApiToken


@pytest.fixture
def headers(make):
    return {"Authorization": f"Bearer {make.token(role='owner')}"}


def last_used(db_session):
    db_session.fresh()
    return db_session.scalar(select(ApiToken.last_used_at))


def test_a_token_use_is_recorded_at_most_once_a_minute(client, headers, db_session):
    assert client.get("/api/conversations", headers=headers).status_code == 200
    first = last_used(db_session)
    assert first is not None
    assert client.get("/api/conversations", headers=headers).status_code == 200
    assert last_used(db_session) == first

    db_session.execute(update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
    db_session.commit()
    assert client.get("/api/conversations", headers=headers).status_code == 200
    assert last_used(db_session) > first - timedelta(minutes=2)


def test_reads_do_not_wait_for_sqlite_write_lock(client, headers, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL readers never wait for writers")
    assert client.get("/api/conversations", headers=headers).status_code == 200  # records the token's use
    writer = sqlite3.connect(make_url(database_url).database, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a webhook or a job holds the write lock
    try:
        assert client.get("/api/conversations", headers=headers).status_code == 200
        assert client.get("/healthz").json == {"status": "ok", "db": "ok"}
    finally:
        writer.execute("ROLLBACK")
        writer.close()
