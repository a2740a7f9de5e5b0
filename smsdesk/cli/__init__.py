"""The ``smsdesk`` command (DESIGN §4). Bad input: exit status 2 and one line on stderr."""
from __future__ import annotations

import click

from smsdesk.cli import customers, people, serve, stores  # noqa: F401  (each registers its commands)
from smsdesk.cli.base import QUIET_LOGGERS, Fail, cli, make_app

__all__ = ["QUIET_LOGGERS", "Fail", "cli", "main", "make_app"]


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
