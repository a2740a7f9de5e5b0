"""The ``smsdesk`` command (DESIGN §4). Bad input: exit status 2 and one line on stderr."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from dataclasses import asdict

import click

from smsdesk import __version__, db, logs
from smsdesk.config import ConfigError, load_config, local_public_url, public_url_is_default
from smsdesk.models import Platform, Role
from smsdesk.services.access import revoke as revoke_membership
from smsdesk.services.auth import (
    InvalidAgent,
    create_agent,
    create_token,
    find_agent,
    grant_roles,
    list_tokens,
    remove_agent,
    revoke_token,
)
from smsdesk.services.privacy import UnknownCustomer, erase_customer, export_customer, find_by_phone
from smsdesk.services.stores import (
    InvalidStore,
    add_webhook_secret,
    create_store,
    drop_previous_secret,
    get_store,
    list_stores,
    reencrypt_stores,
    set_api_credentials,
)

SECRET_ENV = "SMSDESK_WEBHOOK_SECRET"  # read instead of argv, which every local user sees in ps
TOKEN_ENV = "SMSDESK_API_TOKEN"
KEY_ENV = "SMSDESK_API_KEY"
QUIET_LOGGERS = ("twilio.http_client", "apscheduler.executors.default", "werkzeug")


class Fail(click.ClickException):
    """A one-line error: click prints 'Error: <message>' and exits with status 2."""

    exit_code = 2


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:  # the twilio client logs request headers at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    logs.install()  # phone numbers masked in every line


def make_app(ctx: click.Context, *, port_of: tuple[str, int] | None = None, **overrides):
    """The app from the config; ``port_of=(host, port)``: that server's own address is the
    public URL when none is configured, so printed URLs and Twilio signatures agree."""
    from smsdesk.app import create_app

    try:
        config = load_config(ctx.obj.get("config_path"), overrides=overrides or None)
        if port_of and public_url_is_default(config):
            config.server.public_url = local_public_url(*port_of)
        return create_app(config)
    except ConfigError as exc:
        raise Fail(f"configuration: {exc}") from None


def _database(app) -> str:
    return db.database_location(app.config["SMSDESK"].database.url)


def sessions(app):
    return app.extensions["smsdesk.sessions"]


@click.group()
@click.version_option(__version__, prog_name="smsdesk")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (default: $SMSDESK_CONFIG, else ./smsdesk.toml if present).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """smsdesk: SMS order notifications and a reply inbox for online stores."""
    ctx.ensure_object(dict)["config_path"] = config_path


def main(args: list[str] | None = None) -> int:
    """The console script: click's errors (usage ones included) as one line on stderr."""
    try:
        cli.main(args=args, prog_name="smsdesk", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        return exc.exit_code
    return 0


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema (idempotent)."""
    app = make_app(ctx)
    _upgrade(app)
    click.echo(f"database ready: {_database(app)}")


def _upgrade(app) -> None:
    try:
        db.upgrade(app.extensions["smsdesk.engine"])
    except Exception as exc:
        raise Fail(f"cannot prepare the database: {str(exc).splitlines()[0]}") from None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def run(ctx: click.Context, host: str, port: int) -> None:
    """Serve the web app and run the scheduler in one process (the embedded default)."""
    from werkzeug.serving import make_server

    setup_logging()
    app = make_app(ctx, port_of=(host, port))
    _upgrade(app)
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise Fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    scheduler = _start_scheduler(app)
    _stop_on_sigterm()
    config = app.config["SMSDESK"]
    logging.getLogger("smsdesk").info("smsdesk on http://%s:%s (public_url %s, provider: %s, database %s)", host, port,
                                      config.server.public_url, config.sms.provider, _database(app))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler:
            scheduler.shutdown(wait=True)


@cli.command()
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run the scheduler only (send, reconcile, fetch); any number may share PostgreSQL."""
    setup_logging()
    app = make_app(ctx)
    scheduler = app.extensions["smsdesk.scheduler_factory"]()
    scheduler.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logging.getLogger("smsdesk").info("worker started")
    stop.wait()
    scheduler.shutdown(wait=True)


@cli.command()
@click.option("--email", default=None, help="Make this (existing) user an owner of the demo store.")
@click.pass_context
def demo(ctx: click.Context, email: str | None) -> None:
    """Create a demo store and post sample orders, so the simulator shows texts."""
    from smsdesk.demo import DEMO_SLUG, ensure_demo_store, post_demo_orders

    app = make_app(ctx)
    file = db.sqlite_file(app.config["SMSDESK"].database.url)
    new_file = file is not None and not file.exists()
    _upgrade(app)
    with sessions(app).begin() as session:
        try:
            store = ensure_demo_store(session)
        except InvalidStore as exc:
            raise Fail(f"cannot create the demo store: {exc}") from None
        if email:
            grant_roles(session, _active_agent(session, email), role=Role.OWNER, stores=[store])
        secret = store.webhook_secret
    statuses = post_demo_orders(app, secret)
    if any(status != 200 for status in statuses):
        raise Fail(f"demo webhooks were refused: HTTP {statuses}")
    app.extensions["smsdesk.apply_events"]()  # queue the texts now, not when a scheduler starts
    click.echo(f"posted {len(statuses)} demo orders to store '{DEMO_SLUG}'; texts go out on the next "
               "scheduler tick of `smsdesk run` (see /simulator)")
    click.echo(f"database: {_database(app)}")
    if new_file:
        click.echo("note: this database file did not exist and was created now; if `smsdesk run` uses another one, "
                   "run demo from the server's folder or with its --config / SMSDESK_DATABASE_URL")
    if not email:
        click.echo(f"to see them: smsdesk agent add --email YOU --role owner --store {DEMO_SLUG}")


def _start_scheduler(app):
    if not app.config["SMSDESK"].scheduler.enabled:
        return None
    scheduler = app.extensions["smsdesk.scheduler_factory"]()
    scheduler.start()
    return scheduler


def _stop_on_sigterm() -> None:
    def handler(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


@cli.group()
def store() -> None:
    """Add and list stores."""


@store.command("add")
@click.option("--slug", required=True, help="Short id used in webhook URLs, e.g. acme.")
@click.option("--name", required=True, help="Shown to customers in every text.")
@click.option("--platform", required=True, type=click.Choice([p.value for p in Platform]))
@click.option("--domain", default=None, help="Shopify: the shop's myshopify.com domain.")
@click.option("--webhook-secret", envvar=SECRET_ENV, prompt="Webhook secret", hide_input=True,
              help=f"The secret the platform signs webhooks with (default: ${SECRET_ENV}, else asked; "
                   "on the command line it shows in ps and shell history).")
@click.option("--from-number", default=None, help="The Twilio number texts come from (E.164).")
@click.option("--messaging-service-sid", default=None, help="Send through this Twilio messaging service.")
@click.option("--timezone", default="America/New_York", show_default=True)
@click.option("--country", default="US", show_default=True, help="Default country for local phone numbers.")
@click.option("--api-base", default=None, help="BigCommerce: API base URL.")
@click.option("--api-token", envvar=TOKEN_ENV, default=None,
              help=f"BigCommerce: API token (X-Auth-Token; default: ${TOKEN_ENV}, else asked).")
@click.option("--store-hash", default=None, help="BigCommerce: store hash.")
@click.option("--opt-out-confirmation/--no-opt-out-confirmation", "send_opt_out_confirmation", default=True,
              show_default=True, help="Confirm STOP/START by text (off when Twilio or the platform does).")
@click.pass_context
def store_add(ctx: click.Context, **fields) -> None:
    """Add a store."""
    app = make_app(ctx)
    fields["country"] = fields["country"].upper()
    if fields["platform"] == Platform.BIGCOMMERCE.value and not fields["api_token"]:
        fields["api_token"] = click.prompt("BigCommerce API token", hide_input=True)
    with sessions(app).begin() as session:
        try:
            created = create_store(session, **fields)
        except InvalidStore as exc:
            raise Fail(str(exc)) from None
        url = app.config["SMSDESK"].server.public_url.rstrip("/")
        path = "shopify" if created.platform == Platform.SHOPIFY else f"{created.platform.value}/{created.slug}"
        click.echo(f"store {created.slug} added; point its webhooks at {url}/webhooks/{path}")
    if public_url_is_default(app.config["SMSDESK"]):
        click.echo(f"note: {url} is the default server.public_url: set [server] public_url (or "
                   "SMSDESK_SERVER_PUBLIC_URL) to the address shops and Twilio reach this server at; "
                   "`smsdesk run --port N` without it serves http://127.0.0.1:N")


@store.command("list")
@click.pass_context
def store_list(ctx: click.Context) -> None:
    """List stores."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        for row in list_stores(session):
            sender = row.messaging_service_sid or row.from_number or "-"
            click.echo(f"{row.slug}\t{row.platform.value}\t{row.name}\t{row.domain or '-'}\t{sender}")


@store.command("secret")
@click.option("--slug", required=True)
@click.option("--add", "action", flag_value="add", help=f"Add a new secret (from ${SECRET_ENV}, else asked); "
              "the current one keeps verifying until --drop-old.")
@click.option("--drop-old", "action", flag_value="drop", help="Stop accepting the previous secret.")
@click.pass_context
def store_secret(ctx: click.Context, slug: str, action: str | None) -> None:
    """Rotate a store's webhook secret: --add the new one, move the platform over, then --drop-old."""
    if action is None:
        raise Fail("say --add or --drop-old")
    app = make_app(ctx)
    with sessions(app).begin() as session:
        found = get_store(session, slug)
        if found is None:
            raise Fail(f"no store {slug}")
        if action == "drop":
            dropped = drop_previous_secret(session, found)
            click.echo(f"store {slug}: {'old secret dropped' if dropped else 'no old secret to drop'}")
            return
        try:
            add_webhook_secret(session, found, _secret_from_env_or_prompt())
        except InvalidStore as exc:
            raise Fail(str(exc)) from None
        click.echo(f"store {slug}: new secret added; the old one verifies until `store secret --drop-old`")


@store.command("api")
@click.option("--slug", required=True)
@click.option("--api-base", default=None, help="BigCommerce: the API host; WooCommerce: the site's URL.")
@click.option("--store-hash", default=None, help="BigCommerce: the store hash.")
@click.pass_context
def store_api(ctx: click.Context, slug: str, api_base: str | None, store_hash: str | None) -> None:
    """Set a store's API credentials (fetching BigCommerce callbacks, catch-up polls). The token
    (BigCommerce API token, Shopify Admin API access token, WooCommerce consumer secret) comes
    from $SMSDESK_API_TOKEN, else is asked; WooCommerce's consumer key from $SMSDESK_API_KEY."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        found = get_store(session, slug)
        if found is None:
            raise Fail(f"no store {slug}")
        token = os.environ.get(TOKEN_ENV) or click.prompt("API token", hide_input=True)
        key = os.environ.get(KEY_ENV) or (click.prompt("Consumer key", hide_input=True)
                                          if found.platform == Platform.WOOCOMMERCE else None)
        try:
            set_api_credentials(session, found, api_token=token, api_key=key, api_base=api_base,
                                store_hash=store_hash)
        except InvalidStore as exc:
            raise Fail(str(exc)) from None
        click.echo(f"store {slug}: API credentials saved (encrypted); catch-up polls use them from the next poll")


def _secret_from_env_or_prompt() -> str:
    return os.environ.get(SECRET_ENV) or click.prompt("New webhook secret", hide_input=True)


@cli.group()
def secrets() -> None:
    """Secrets at rest."""


@secrets.command("reencrypt")
@click.pass_context
def secrets_reencrypt(ctx: click.Context) -> None:
    """Encrypt every stored secret with the first key of security.secret_keys (after adding a key)."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        count = reencrypt_stores(session)
    click.echo(f"re-encrypted the secrets of {count} store(s) with the newest key; "
               "older keys may now be removed from security.secret_keys")


@cli.group()
def agent() -> None:
    """Manage agents and owners."""


@agent.command("add")
@click.option("--email", required=True)
@click.option("--password", default=None, envvar="SMSDESK_AGENT_PASSWORD",
              help="Default: $SMSDESK_AGENT_PASSWORD, else asked for (a new user only).")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
              help="admin: every store and user; owner/agent: at each --store.")
@click.option("--store", "slugs", multiple=True, metavar="SLUG", help="A store of theirs (repeatable).")
@click.pass_context
def agent_add(ctx: click.Context, email: str, password: str | None, role: str, slugs: tuple[str, ...]) -> None:
    """Add a user, or give an existing one a role (at more stores)."""
    app = make_app(ctx)
    if role == Role.ADMIN.value and slugs:
        raise Fail("an admin reaches every store: leave out --store")
    if role != Role.ADMIN.value and not slugs:
        raise Fail(f"an {role} needs at least one --store SLUG")
    with sessions(app).begin() as session:
        stores = [_store(session, slug) for slug in slugs]
        existing = find_agent(session, email)
        if existing is not None and existing.removed_at is None:
            grant_roles(session, existing, role=Role(role), stores=stores)
            click.echo(f"{existing.email} is now {_roles_text(role, slugs)}")
            return
        try:
            created = create_agent(session, email=email, password=password or _ask_password(),
                                   role=role, stores=stores)
        except InvalidAgent as exc:
            raise Fail(str(exc)) from None
        click.echo(f"{created.email} added as {_roles_text(role, slugs)}")


def _store(session, slug: str):
    found = get_store(session, slug)
    if found is None:
        raise Fail(f"no store {slug!r} (see `smsdesk store list`)")
    return found


def _ask_password() -> str:
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _roles_text(role: str, slugs: tuple[str, ...]) -> str:
    return role if not slugs else f"{role} of {', '.join(slugs)}"


@agent.command("remove")
@click.option("--email", required=True)
@click.option("--store", "slug", default=None, metavar="SLUG", help="Only end their role at this store.")
@click.pass_context
def agent_remove(ctx: click.Context, email: str, slug: str | None) -> None:
    """Remove a user (their sessions and API tokens end at once), or only their role at one store."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        found = _active_agent(session, email)
        if slug is not None:
            if not revoke_membership(session, found, _store(session, slug)):
                raise Fail(f"{found.email} has no role at store {slug}")
            click.echo(f"{found.email} no longer reaches store {slug}")
            return
        remove_agent(session, found)
        click.echo(f"{found.email} removed; their sessions and tokens are ended")


def _active_agent(session, email: str):
    found = find_agent(session, email)
    if found is None or found.removed_at is not None:
        raise Fail(f"no agent with email {email}")
    return found


@cli.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--email", required=True)
@click.pass_context
def token_create(ctx: click.Context, email: str) -> None:
    """Print a new API token for an agent (shown once, stored hashed)."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        click.echo(create_token(session, _active_agent(session, email)))


@token.command("list")
@click.option("--email", required=True)
@click.pass_context
def token_list(ctx: click.Context, email: str) -> None:
    """An agent's API tokens: id, created, last used (the tokens themselves are not kept)."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        for row in list_tokens(session, _active_agent(session, email)):
            used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never"
            click.echo(f"{row.id}\tcreated {row.created_at.isoformat(timespec='seconds')}\tlast used {used}")


@token.command("revoke")
@click.option("--id", "token_id", required=True, type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke an API token: the API refuses it from the next request on."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        if not revoke_token(session, token_id):
            raise Fail(f"no token with id {token_id}")
        click.echo(f"token {token_id} revoked")


@cli.group()
def customer() -> None:
    """A customer's data: export it, or erase it (privacy requests)."""


@customer.command("export")
@click.option("--store", "slug", required=True, metavar="SLUG")
@click.option("--phone", required=True, help="The customer's phone (a national number is read in the store's country).")
@click.pass_context
def customer_export(ctx: click.Context, slug: str, phone: str) -> None:
    """Print, as JSON, everything held on the customer."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        found = _store(session, slug)
        click.echo(json.dumps(export_customer(session, found, _customer(session, found, phone)), indent=2))


@customer.command("erase")
@click.option("--store", "slug", required=True, metavar="SLUG")
@click.option("--phone", required=True, help="The customer's phone (a national number is read in the store's country).")
@click.pass_context
def customer_erase(ctx: click.Context, slug: str, phone: str) -> None:
    """Erase the customer's personal data (phone, names, email, addresses, texts' bodies, webhook
    payloads); counts, statuses and the fact of an opt-out stay."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        found = _store(session, slug)
        result = erase_customer(session, found, _customer(session, found, phone), requested_by="cli")
        counts = ", ".join(f"{key} {value}" for key, value in asdict(result).items())
        click.echo(f"customer erased: {counts}")


def _customer(session, found, phone: str):
    try:
        return find_by_phone(session, found, phone)
    except UnknownCustomer as exc:
        raise Fail(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
