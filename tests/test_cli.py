"""The smsdesk command: init, store, agent, token; bad input exits non-zero with one line."""
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from smsdesk.cli import cli as smsdesk_cli
from smsdesk.models import Agent, Customer, Membership, Store
from smsdesk.services.access import store_ids_for
from smsdesk.services.auth import agent_for_token, check_password
from tests.web.conftest import PASSWORD
from tests.webhooks.payloads import GENERIC_SECRET


@pytest.fixture
def cli(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray ./smsdesk.toml
    env = {"SMSDESK_DATABASE_URL": database_url, "SMSDESK_SCHEDULER_ENABLED": "false"}

    def run(*args, input=None, **extra_env):
        return CliRunner().invoke(smsdesk_cli, list(args), env={**env, "SMSDESK_AGENT_PASSWORD": None, **extra_env},
                                  input=input, catch_exceptions=False)
    return run


def test_init_is_idempotent(cli):
    for _ in range(2):
        result = cli("init")
        assert result.exit_code == 0 and "database ready" in result.output


def test_store_add_and_list(cli, db_session):
    result = cli("store", "add", "--slug", "acme", "--name", "Acme", "--platform", "shopify",
                 "--domain", "Acme.myshopify.com", "--webhook-secret", "s3cret", "--from-number", "(415) 555-0100")
    assert result.exit_code == 0 and "/webhooks/shopify" in result.output
    store = db_session.scalar(select(Store))
    assert (store.domain, store.from_number) == ("acme.myshopify.com", "+14155550100")
    listed = cli("store", "list")
    assert "acme\tshopify\tAcme\tacme.myshopify.com\t+14155550100" in listed.output


@pytest.mark.parametrize("args, message", [
    (["--slug", "Bad Slug!"], "slug must be lowercase"),
    (["--timezone", "Mars/Olympus"], "is not a known time zone"),
    (["--from-number", "not-a-phone"], "is not a phone number"),
    (["--platform", "magento"], "Invalid value for '--platform'"),
])
def test_store_add_bad_input(cli, db_session, args, message):
    base = {"--slug": "acme", "--name": "Acme", "--platform": "woocommerce", "--webhook-secret": "s"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = cli("store", "add", *[x for pair in base.items() for x in pair])
    assert result.exit_code != 0 and message in result.output
    assert db_session.scalar(select(Store)) is None


def test_store_add_without_keyword_confirmations(cli, db_session):
    result = cli("store", "add", "--slug", "quiet", "--name", "Q", "--platform", "generic",
                 "--webhook-secret", GENERIC_SECRET, "--no-opt-out-confirmation")
    assert result.exit_code == 0
    assert db_session.scalar(select(Store)).send_opt_out_confirmation is False


def test_duplicate_slug_is_refused(cli):
    args = ["store", "add", "--slug", "acme", "--name", "A", "--platform", "generic", "--webhook-secret",
            GENERIC_SECRET]
    assert cli(*args).exit_code == 0
    again = cli(*args)
    assert again.exit_code != 0 and "already exists" in again.output


def test_agent_and_token(cli, make, db_session):
    acme, other = make.store(slug="acme"), make.store(slug="other")
    assert cli("agent", "add", "--email", "Ann@Example.com", "--password", "long enough pw",
               "--role", "owner", "--store", "acme").exit_code == 0
    result = cli("token", "create", "--email", "ann@example.com")
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("sd_")
    agent = agent_for_token(db_session, token)
    assert agent.email == "ann@example.com" and not agent.is_admin
    assert memberships(db_session, agent) == {(acme.id, "owner")}
    assert other.id not in store_ids_for(db_session, agent)
    assert token not in db_session.scalar(select(Agent.password_hash))
    # the app's own cost (werkzeug's default scrypt): the factories' agents use a cheap one
    assert agent.password_hash.startswith("scrypt:32768:8:1$")


def memberships(session, agent) -> set:
    session.fresh()
    rows = session.scalars(select(Membership).where(Membership.agent_id == agent.id))
    return {(m.store_id, m.role.value) for m in rows}


def test_agent_add_at_several_stores_and_again_on_an_existing_user(cli, make, db_session):
    one, two, three = make.store(slug="one"), make.store(slug="two"), make.store(slug="three")
    result = cli("agent", "add", "--email", "bo@example.com", "--role", "agent", "--store", "one", "--store", "two",
                 SMSDESK_AGENT_PASSWORD="from the environment")
    assert result.exit_code == 0 and "agent of one, two" in result.output
    bo = db_session.scalar(select(Agent).where(Agent.email == "bo@example.com"))
    assert check_password(db_session, "bo@example.com", "from the environment").id == bo.id
    assert memberships(db_session, bo) == {(one.id, "agent"), (two.id, "agent")}
    # An existing user: more stores, or another role; the password stays (none is asked for).
    assert cli("agent", "add", "--email", "bo@example.com", "--role", "owner", "--store", "three",
               "--store", "one").exit_code == 0
    assert memberships(db_session, bo) == {(one.id, "owner"), (two.id, "agent"), (three.id, "owner")}
    assert cli("agent", "remove", "--email", "bo@example.com", "--store", "two").exit_code == 0
    assert memberships(db_session, bo) == {(one.id, "owner"), (three.id, "owner")}
    assert check_password(db_session, "bo@example.com", "from the environment") is not None


def test_agent_add_prompts_for_the_password(cli, db_session):
    result = cli("agent", "add", "--email", "ad@example.com", "--role", "admin",
                 input="typed secret pw\ntyped secret pw\n")
    assert result.exit_code == 0, result.output
    assert "typed secret pw" not in result.output  # hidden input
    admin = check_password(db_session, "ad@example.com", "typed secret pw")
    assert admin.is_admin and memberships(db_session, admin) == set()


def test_store_add_refuses_another_stores_sender(cli, make):
    make.store(slug="first", from_number="+14155550100", messaging_service_sid="MG" + "a" * 32)
    base = ["store", "add", "--slug", "second", "--name", "S", "--platform", "shopify", "--webhook-secret", "s"]
    for extra in (["--from-number", "(415) 555-0100"], ["--messaging-service-sid", "MG" + "a" * 32]):
        result = cli(*base, *extra)
        assert result.exit_code != 0 and "already another store's sender" in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_demo_can_make_a_user_owner_of_the_demo_store(cli, make, db_session):
    user = make.agent(stores=[])
    result = cli("demo", "--email", user.email)
    assert result.exit_code == 0, result.output
    demo = db_session.scalar(select(Store).where(Store.slug == "demo"))
    assert memberships(db_session, user) == {(demo.id, "owner")}


@pytest.mark.parametrize("args, message", [
    (["agent", "add", "--email", "nope", "--password", "long enough", "--role", "admin"], "not an email address"),
    (["agent", "add", "--email", "a@b.co", "--password", "short", "--role", "admin"], "at least 8"),
    (["agent", "add", "--email", "a@b.co", "--password", "long enough", "--role", "owner"], "at least one --store"),
    (["agent", "add", "--email", "a@b.co", "--password", "long enough", "--role", "agent", "--store", "nope"],
     "no store 'nope'"),
    (["agent", "add", "--email", "a@b.co", "--password", "long enough", "--role", "admin", "--store", "x"],
     "leave out --store"),
    (["token", "create", "--email", "ghost@example.com"], "no agent with email"),
    (["agent", "remove", "--email", "ghost@example.com"], "no agent with email"),
    (["token", "list", "--email", "ghost@example.com"], "no agent with email"),
    (["token", "revoke", "--id", "999"], "no token with id 999"),
])
def test_bad_agent_input(cli, args, message):
    result = cli(*args)
    assert result.exit_code != 0 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_token_list_and_revoke(cli, make, db_session):
    agent = make.agent()
    kept, revoked = make.token(agent), make.token(agent)
    listed = cli("token", "list", "--email", agent.email)
    ids = [int(line.split("\t")[0]) for line in listed.output.splitlines()]
    assert listed.exit_code == 0 and len(ids) == 2 and "last used never" in listed.output
    assert kept not in listed.output and revoked not in listed.output  # only hashes are kept
    result = cli("token", "revoke", "--id", str(ids[1]))
    assert result.exit_code == 0 and f"token {ids[1]} revoked" in result.output
    db_session.fresh()
    assert agent_for_token(db_session, revoked) is None
    assert agent_for_token(db_session, kept).id == agent.id
    assert cli("token", "list", "--email", agent.email).output.startswith(f"{ids[0]}\t")


def test_agent_remove_ends_tokens_and_login(cli, make, db_session):
    agent = make.agent()
    token = make.token(agent)
    result = cli("agent", "remove", "--email", agent.email)
    assert result.exit_code == 0 and "removed" in result.output
    db_session.fresh()
    assert agent_for_token(db_session, token) is None
    assert check_password(db_session, agent.email, PASSWORD) is None
    assert cli("agent", "remove", "--email", agent.email).exit_code != 0  # already gone
    assert cli("token", "create", "--email", agent.email).exit_code != 0


def test_bad_config_value_is_one_line(cli, monkeypatch):
    result = CliRunner().invoke(smsdesk_cli, ["init"], env={"SMSDESK_SERVER_MAX_BODY_BYTES": "huge"})
    assert result.exit_code != 0
    assert result.output.strip() == "Error: configuration: server.max_body_bytes: expected an integer, got 'huge'"


def test_demo_posts_orders_that_queue_texts(cli, db_session):
    from smsdesk.models import Message

    for _ in range(2):  # running it again adds nothing
        result = cli("demo")
        assert result.exit_code == 0, result.output
    messages = db_session.scalars(select(Message).order_by(Message.id)).all()
    assert [m.kind for m in messages] == ["order_confirmed", "order_confirmed"]
    assert "#1001" in messages[0].body and "Demo Outfitters" in messages[0].body


@pytest.mark.parametrize("args, message", [
    (["store", "add", "--slug", "x"], "Error: Missing option '--name'."),
    (["frobnicate"], "Error: No such command 'frobnicate'."),
])
def test_console_script_errors_are_one_line(args, message, tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "smsdesk.cli", *args], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and result.stderr.strip() == message and result.stdout == ""


def test_customer_export_and_erase(cli, make, db_session):
    store = make.store(slug="acme")
    make.customer(store, "+15025550123", first_name="Dora", email="dora@example.com")
    exported = cli("customer", "export", "--store", "acme", "--phone", "(502) 555-0123")
    assert exported.exit_code == 0
    assert json.loads(exported.output)["customer"]["email"] == "dora@example.com"
    erased = cli("customer", "erase", "--store", "acme", "--phone", "+15025550123")
    assert erased.exit_code == 0 and "customer erased: customers 1" in erased.output
    db_session.fresh()
    assert db_session.scalar(select(Customer.first_name)) == ""
    missing = cli("customer", "export", "--store", "acme", "--phone", "+15025550123")
    assert missing.exit_code == 2 and "no customer with phone" in missing.output
    assert cli("customer", "erase", "--store", "nope", "--phone", "+15025550123").exit_code == 2


def test_store_add_says_when_the_webhook_address_is_the_default(cli, db_session):
    args = ("store", "add", "--slug", "acme", "--name", "Acme", "--platform", "woocommerce", "--webhook-secret", "s")
    result = cli(*args)
    assert "http://127.0.0.1:8025/webhooks/woocommerce/acme" in result.output
    assert "default server.public_url" in result.output
    result = cli(*args[:3], "acme2", *args[4:], SMSDESK_SERVER_PUBLIC_URL="https://sms.example.com")
    assert "https://sms.example.com/webhooks/woocommerce/acme2" in result.output and "default" not in result.output


@pytest.mark.parametrize("env, host, expected", [
    ({}, "127.0.0.1", "http://127.0.0.1:9123"),
    ({}, "0.0.0.0", "http://127.0.0.1:9123"),
    ({"SMSDESK_SERVER_PUBLIC_URL": "https://sms.example.com"}, "127.0.0.1", "https://sms.example.com"),
])
def test_run_port_is_the_public_url_unless_one_is_configured(database_url, monkeypatch, tmp_path, env, host,
                                                             expected):
    import click

    from smsdesk.cli import make_app
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMSDESK_DATABASE_URL", database_url)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = make_app(click.Context(smsdesk_cli, obj={"config_path": None}), port_of=(host, 9123))
    try:
        assert app.config["SMSDESK"].server.public_url == expected
    finally:
        app.extensions["smsdesk.engine"].dispose()


def test_demo_says_which_database_it_wrote_to(cli, tmp_path):
    result = cli("demo", SMSDESK_DATABASE_URL="sqlite:///elsewhere.db")
    assert result.exit_code == 0, result.output
    assert f"database: sqlite:///{tmp_path.resolve() / 'elsewhere.db'}" in result.output
    assert "did not exist and was created now" in result.output
    again = cli("demo", SMSDESK_DATABASE_URL="sqlite:///elsewhere.db")
    assert "did not exist" not in again.output


def test_store_api_saves_encrypted_credentials_from_the_environment(cli, db_session):
    from sqlalchemy import text

    cli("store", "add", "--slug", "woo", "--name", "Woo", "--platform", "woocommerce", "--webhook-secret", "s")
    result = cli("store", "api", "--slug", "woo", "--api-base", "https://shop.example.com",
                 SMSDESK_API_TOKEN="cs_secret_value", SMSDESK_API_KEY="ck_key_value")
    assert result.exit_code == 0 and "API credentials saved" in result.output
    assert "cs_secret_value" not in result.output
    db_session.fresh()
    store = db_session.scalar(select(Store).where(Store.slug == "woo"))
    assert (store.api_base, store.api_key, store.api_token) == ("https://shop.example.com", "ck_key_value",
                                                                "cs_secret_value")
    raw = db_session.execute(text("SELECT api_key, api_token FROM stores WHERE slug = 'woo'")).one()
    assert "ck_key_value" not in raw.api_key and "cs_secret_value" not in raw.api_token  # encrypted at rest


def test_store_api_refuses_a_base_that_is_no_url(cli):
    cli("store", "add", "--slug", "bc", "--name", "B", "--platform", "bigcommerce", "--webhook-secret", "s",
        SMSDESK_API_TOKEN="t")
    result = cli("store", "api", "--slug", "bc", "--api-base", "api.bigcommerce.com", SMSDESK_API_TOKEN="t")
    assert result.exit_code != 0 and "api_base must be an http(s) URL" in result.output
