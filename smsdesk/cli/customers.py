"""``customer``: export or erase a customer's data (privacy requests)."""
from __future__ import annotations

import json
from dataclasses import asdict

import click

from smsdesk.cli.base import Fail, cli, make_app, sessions, store_by_slug
from smsdesk.services.privacy import UnknownCustomer, erase_customer, export_customer, find_by_phone


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
        found = store_by_slug(session, slug)
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
        found = store_by_slug(session, slug)
        result = erase_customer(session, found, _customer(session, found, phone), requested_by="cli")
        counts = ", ".join(f"{key} {value}" for key, value in asdict(result).items())
        click.echo(f"customer erased: {counts}")


def _customer(session, found, phone: str):
    try:
        return find_by_phone(session, found, phone)
    except UnknownCustomer as exc:
        raise Fail(str(exc)) from None
