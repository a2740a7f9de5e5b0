"""Serving: ``init``, ``run`` (web and scheduler in one process), ``worker`` and ``demo``."""
from __future__ import annotations

import logging
import signal
import threading

import click

from smsdesk import db
from smsdesk.cli.base import Fail, active_agent, cli, database_location, make_app, sessions, setup_logging
from smsdesk.models import Role
from smsdesk.services.auth import grant_roles
from smsdesk.services.stores import InvalidStore


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema (idempotent)."""
    app = make_app(ctx)
    upgrade_database(app)
    click.echo(f"database ready: {database_location(app)}")


def upgrade_database(app) -> None:
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
    upgrade_database(app)
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise Fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    scheduler = _start_scheduler(app)
    _stop_on_sigterm()
    config = app.config["SMSDESK"]
    logging.getLogger("smsdesk").info("smsdesk on http://%s:%s (public_url %s, provider: %s, database %s)", host, port,
                                      config.server.public_url, config.sms.provider, database_location(app))
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
    upgrade_database(app)
    with sessions(app).begin() as session:
        try:
            store = ensure_demo_store(session)
        except InvalidStore as exc:
            raise Fail(f"cannot create the demo store: {exc}") from None
        if email:
            grant_roles(session, active_agent(session, email), role=Role.OWNER, stores=[store])
        secret = store.webhook_secret
    statuses = post_demo_orders(app, secret)
    if any(status != 200 for status in statuses):
        raise Fail(f"demo webhooks were refused: HTTP {statuses}")
    app.extensions["smsdesk.apply_events"]()  # queue the texts now, not when a scheduler starts
    click.echo(f"posted {len(statuses)} demo orders to store '{DEMO_SLUG}'; texts go out on the next "
               "scheduler tick of `smsdesk run` (see /simulator)")
    click.echo(f"database: {database_location(app)}")
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
