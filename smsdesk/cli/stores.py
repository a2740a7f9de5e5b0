"""``store`` (add, list, secret, api) and ``secrets``: a store's settings and its secrets at rest."""
from __future__ import annotations

import os

import click

from smsdesk.cli.base import Fail, cli, make_app, sessions
from smsdesk.config import public_url_is_default
from smsdesk.models import Platform
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
