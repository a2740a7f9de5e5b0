"""What every command shares: the ``cli`` group, the app from the config, one-line failures."""
from __future__ import annotations

import logging

import click

from smsdesk import __version__, db, logs
from smsdesk.config import ConfigError, load_config, local_public_url, public_url_is_default
from smsdesk.services.auth import find_agent
from smsdesk.services.stores import get_store

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


def database_location(app) -> str:
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



def store_by_slug(session, slug: str):
    found = get_store(session, slug)
    if found is None:
        raise Fail(f"no store {slug!r} (see `smsdesk store list`)")
    return found


def active_agent(session, email: str):
    found = find_agent(session, email)
    if found is None or found.removed_at is not None:
        raise Fail(f"no agent with email {email}")
    return found
