"""Secrets at rest: store secrets and API tokens are encrypted in the database, rotate with
the keys in [security] secret_keys, and reach the CLI without the command line."""

from datetime import datetime

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from smsdesk import crypto, db
from smsdesk.cli import cli as smsdesk_cli
from smsdesk.config import load_config
from smsdesk.models import Store
from tests.conftest import FERNET_KEY
from tests.webhooks.payloads import GENERIC_SECRET


def raw_store(db_session, slug: str):
    """What the database holds for a store's secrets, as stored."""
    db_session.fresh()
    return db_session.execute(text("SELECT webhook_secret, webhook_secret_previous, api_token FROM stores "
                                   "WHERE slug = :slug"), {"slug": slug}).one()


@pytest.fixture
def cli(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def run(*args, env=None, input=None):
        env = {"SMSDESK_DATABASE_URL": database_url, "SMSDESK_SCHEDULER_ENABLED": "false", **(env or {})}
        return CliRunner().invoke(smsdesk_cli, list(args), env=env, input=input, catch_exceptions=False)
    return run


def test_secrets_are_encrypted_in_the_database(make, db_session):
    make.store(slug="enc", webhook_secret="shpss_visible", api_token="tok_visible")
    stored = raw_store(db_session, "enc")
    assert "visible" not in stored.webhook_secret and "visible" not in stored.api_token
    assert crypto.decrypt(stored.webhook_secret) == "shpss_visible"
    assert db_session.scalar(select(Store.api_token).where(Store.slug == "enc")) == "tok_visible"


def test_reencrypt_moves_every_secret_to_the_newest_key(cli, make, db_session):
    make.store(slug="rot", webhook_secret="s1", api_token="t1")
    new_key = Fernet.generate_key().decode()
    try:
        result = cli("secrets", "reencrypt", env={"SMSDESK_SECURITY_SECRET_KEYS": f"{new_key},{FERNET_KEY}"})
        assert result.exit_code == 0 and "1 store" in result.output
        stored = raw_store(db_session, "rot")
        assert Fernet(new_key.encode()).decrypt(stored.webhook_secret.encode()) == b"s1"
        crypto.configure([new_key])  # the old key is gone: the secrets still open
        db_session.expire_all()
        assert db_session.scalar(select(Store.api_token).where(Store.slug == "rot")) == "t1"
    finally:
        crypto.configure([FERNET_KEY])


def test_a_wrong_key_is_a_clear_error(make, db_session):
    make.store(slug="wrong", webhook_secret="s1")
    crypto.configure([Fernet.generate_key().decode()])
    try:
        db_session.expire_all()
        with pytest.raises(crypto.SecretsUnavailable, match="does not open"):
            db_session.scalar(select(Store.webhook_secret).where(Store.slug == "wrong"))
    finally:
        crypto.configure([FERNET_KEY])


@pytest.fixture
def scratch_url(tmp_path, database_url):
    """An empty database of the run's backend: a SQLite file, or a PostgreSQL schema of its own."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE; CREATE SCHEMA {SCRATCH_SCHEMA}")
    yield f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{SCRATCH_SCHEMA}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {SCRATCH_SCHEMA} CASCADE")
    admin.dispose()


SCRATCH_SCHEMA = "secrets_migration_test"
OLD_STORE = {"id": 1, "slug": "s", "name": "S", "platform": "bigcommerce", "webhook_secret": "plain-secret",
             "api_token": "plain-token", "country": "US", "timezone": "UTC", "quiet_hours": "", "rate_per_second": 1,
             "help_text": "", "send_opt_out_confirmation": True, "created_at": datetime(2026, 1, 1)}
OLD_CUSTOMER = {"id": 1, "store_id": 1, "phone": "+15025550123", "first_name": "", "last_name": "", "email": "",
                "marketing_consent": False, "opted_out": False, "created_at": datetime(2026, 1, 1)}


def insert_row(conn, table: str, row: dict) -> None:
    conn.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)


def test_migration_encrypts_plaintext_secrets(scratch_url):
    from alembic import command

    engine = db.make_engine(scratch_url)
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007_agent_sessions")
        insert_row(conn, "stores", OLD_STORE)
        insert_row(conn, "customers", OLD_CUSTOMER)  # on SQLite the store is rebuilt under it
    db.upgrade(engine)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT webhook_secret, api_token FROM stores")).one()
        store = conn.execute(select(Store.webhook_secret, Store.api_token)).one()
        customers = conn.execute(text("SELECT count(*) FROM customers")).scalar()
    engine.dispose()
    assert "plain" not in raw.webhook_secret and "plain" not in raw.api_token
    assert tuple(store) == ("plain-secret", "plain-token") and customers == 1


@pytest.mark.parametrize("value, keys", [
    ("k1,k2", ["k1", "k2"]), (' ["k1", "k2"] ', ["k1", "k2"]), ("k1", ["k1"]), ("", [])])
def test_secret_keys_from_the_environment(tmp_path, value, keys):
    config = load_config(None,
                         environ={"SMSDESK_SECURITY_SECRET_KEYS": value, "SMSDESK_CONFIG": ""})
    assert config.security.secret_keys == keys


def test_a_bad_key_names_the_key_not_its_value(cli):
    result = cli("init", env={"SMSDESK_SECURITY_SECRET_KEYS": "not-a-fernet-key"})
    assert result.exit_code == 2 and "key 1 is not a Fernet key" in result.output
    assert "not-a-fernet-key" not in result.output


def test_without_keys_sqlite_gets_a_key_file_and_postgres_is_refused(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    [key] = crypto.keys_for([], url)
    key_file = tmp_path / "dev.db.key"
    assert key_file.read_text().strip() == key and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert crypto.keys_for([], url) == [key]  # read again, not replaced
    assert key not in caplog.text and str(key_file) in caplog.text
    with pytest.raises(crypto.SecretsUnavailable, match="must be set"):
        crypto.keys_for([], "postgresql+psycopg://x@127.0.0.1/db")


def test_store_add_reads_the_secret_from_the_environment_or_a_prompt(cli, db_session):
    assert cli("store", "add", "--slug", "env", "--name", "E", "--platform", "generic",
               env={"SMSDESK_WEBHOOK_SECRET": GENERIC_SECRET}).exit_code == 0
    result = cli("store", "add", "--slug", "asked", "--name", "A", "--platform", "bigcommerce",
                 "--store-hash", "abc", input="typed-secret\ntyped-token\n")
    assert result.exit_code == 0 and "typed" not in result.output
    stores = {s.slug: s for s in db_session.scalars(select(Store))}
    assert stores["env"].webhook_secret == GENERIC_SECRET
    assert (stores["asked"].webhook_secret, stores["asked"].api_token) == ("typed-secret", "typed-token")


def test_store_secret_rotation_from_the_cli(cli, make, db_session):
    make.store(slug="cli", webhook_secret="old")
    db_session.commit()
    assert cli("store", "secret", "--slug", "cli", "--add", input="new\n").exit_code == 0
    assert "drop the old one first" in cli("store", "secret", "--slug", "cli", "--add",
                                           env={"SMSDESK_WEBHOOK_SECRET": "third"}).output
    db_session.fresh()
    store = db_session.scalar(select(Store).where(Store.slug == "cli"))
    assert (store.webhook_secret, store.webhook_secret_previous) == ("new", "old")
    assert "old secret dropped" in cli("store", "secret", "--slug", "cli", "--drop-old").output
    db_session.fresh()
    assert db_session.scalar(select(Store.webhook_secret_previous).where(Store.slug == "cli")) is None
