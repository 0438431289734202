"""dfg db: create, upgrade and inspect the database."""

from __future__ import annotations

from pathlib import Path

import click

from dfg.cli.command import Context, emit_json, json_option, one_line, pass_context


@click.group()
def db() -> None:
    """Create, upgrade and inspect the database."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Create the database, or bring its schema up to date (safe to run again).

    An existing SQLite database is backed up first, beside it (dfg.sqlite.0005-20261203T101500Z.bak),
    and the copy checked, before the schema is changed.

    \b
    Example:
      dfg --db /srv/dfg/dfg.sqlite db upgrade
    """
    from dfg.services.database import upgrade_database

    done = upgrade_database(context.database(check=False))
    if done.backup is not None:
        click.echo(
            f"backed up to {done.backup.path} ({done.backup.events} events, audit trail intact)", err=True
        )
    if done.before == done.after:
        click.echo(f"already up to date (schema {done.after})", err=True)
    else:
        click.echo(f"schema {done.before or 'none'} -> {done.after}", err=True)


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_context
def db_backup(context: Context, path: Path, as_json: bool) -> None:
    """Copy the SQLite database to PATH while it is in use, then check the copy (SQLite's integrity check
    and the audit trail) before saying it is done. PATH must not exist; the copy is readable by its owner
    only. Role: administrator. (A PostgreSQL database is backed up with pg_dump.)

    \b
    Example:
      dfg --as admin db backup /srv/dfg/backups/dfg-2026-12-03.sqlite
    """
    from dfg.services.backup import back_up

    backup = back_up(context.database(), context.actor(), path)
    if as_json:
        emit_json(backup.as_dict())
    else:
        click.echo(
            f"backed up to {backup.path}: schema {backup.schema}, {backup.events} events, audit trail intact"
        )


@db.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def db_restore(context: Context, path: Path, yes: bool) -> None:
    """Put the backup PATH back in place of the SQLite database, once it passes the same checks as a new
    backup. Everything recorded since the backup was taken is replaced, so the database as it is now is
    first kept beside it as a checked copy. Role: administrator.

    \b
    Example:
      dfg --as admin db restore /srv/dfg/backups/dfg-2026-12-03.sqlite
    """
    from dfg.services.backup import restorable, restore

    database, actor = context.database(check=False), context.actor()
    if not yes:
        restorable(database, actor, path)  # refused before the question, not after it
        click.confirm(f"Replace {database.display_name} with {one_line(str(path))}?", abort=True, err=True)
    restored, kept = restore(database, actor, path)
    click.echo(f"kept the database as it was in {kept}", err=True)
    click.echo(
        f"restored {restored.path}: schema {restored.schema}, {restored.events} events, audit trail intact"
    )
    if not restored.current:
        click.echo("its schema is older than this version of dfg: run 'dfg db upgrade'", err=True)


@db.command("grant-engine-role")
@click.argument("role", default="dfg_engine")
@click.option("--admin-role", default="dfg_admin", show_default=True,
              help="The group role of administrators' logins (users, roles and identity mappings).")  # fmt: skip
@click.option("--sql", "print_only", is_flag=True, help="Print the SQL instead of running it.")
@pass_context
def db_grant_engine_role(context: Context, role: str, admin_role: str, print_only: bool) -> None:
    """Set up the PostgreSQL roles the engine runs as (default: dfg_engine), granted only what it needs:
    SELECT and INSERT on the append-only tables (events, decisions, the budget ledger, the access record),
    changes to the tables of current state, and no ownership, so no ALTER and no disabling of triggers.
    Administrators' logins are also members of --admin-role. Run by the owner of the tables (who ran
    'dfg db upgrade'), after every upgrade.

    \b
    Example:
      dfg --db postgresql+psycopg://dfg_owner@db/dfg db grant-engine-role
      psql -c 'CREATE ROLE jsmith LOGIN IN ROLE dfg_engine'
    """
    from dfg.services.database import grant_engine_roles

    statements = grant_engine_roles(context.database(check=False), role, admin_role, apply=not print_only)
    if print_only:
        click.echo(";\n".join(statements) + ";")
    else:
        click.echo(
            f"granted {role} and {admin_role} on every table; give an officer's login the first "
            f"(CREATE ROLE NAME LOGIN IN ROLE {role}), an administrator's both",
            err=True,
        )


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
