"""``agent`` and ``token``: users, their roles at stores, and their API tokens."""
from __future__ import annotations

import click

from smsdesk.cli.base import Fail, active_agent, cli, make_app, sessions, store_by_slug
from smsdesk.models import Role
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
        stores = [store_by_slug(session, slug) for slug in slugs]
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
        found = active_agent(session, email)
        if slug is not None:
            if not revoke_membership(session, found, store_by_slug(session, slug)):
                raise Fail(f"{found.email} has no role at store {slug}")
            click.echo(f"{found.email} no longer reaches store {slug}")
            return
        remove_agent(session, found)
        click.echo(f"{found.email} removed; their sessions and tokens are ended")


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
        click.echo(create_token(session, active_agent(session, email)))


@token.command("list")
@click.option("--email", required=True)
@click.pass_context
def token_list(ctx: click.Context, email: str) -> None:
    """An agent's API tokens: id, created, last used (the tokens themselves are not kept)."""
    app = make_app(ctx)
    with sessions(app).begin() as session:
        for row in list_tokens(session, active_agent(session, email)):
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
