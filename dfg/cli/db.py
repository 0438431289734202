"""dfg db: create, upgrade and inspect the database."""

from __future__ import annotations

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Create the database, or bring its schema up to date (safe to run again).

    \b
    Example:
      dfg --db /srv/dfg/dfg.sqlite db upgrade
    """
    from dfg.services.database import upgrade_database

    before, after = upgrade_database(context.database(check=False))
    if before == after:
        click.echo(f"already up to date (schema {after})", err=True)
    else:
        click.echo(f"schema {before or 'none'} -> {after}", err=True)


@db.command("status")
@json_option
@pass_context
def db_status(context: Context, as_json: bool) -> None:
    """Say which database is in use and whether its schema is current."""
    from dfg.services.database import database_status

    status = database_status(context.db_option)
    if as_json:
        emit_json(status.as_dict())
    else:
        state = "up to date" if status.current else "needs 'dfg db upgrade'"
        click.echo(f"{status.database}: schema {status.schema or 'none'} ({state})")
    for path in status.readable_by_others:
        click.echo(f"dfg: warning: {path} can be read by anyone on this machine: chmod o-rwx it", err=True)
