"""dfg user: the people who use the system, their roles, districts and delegated limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context, table
from dfg.rules.money import parse_pounds

if TYPE_CHECKING:
    from dfg.services.identity import Principal


@click.group()
def user() -> None:
    """People who use the system, their roles and their districts."""


@user.command("add")
@click.argument("username")
@click.option(
    "--name", "full_name", required=True, help="Full name, as shown on letters and the audit trail."
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="grant_officer, ot, technical_officer, approver, manager or admin (repeat for several).",
)
@click.option("--district", help="Limit the user to one district (code); default: every district.")
@click.option("--limit", "limit", help="An approver's delegated limit in pounds, e.g. 30000.")
@pass_context
def user_add(
    context: Context,
    username: str,
    full_name: str,
    roles: tuple[str, ...],
    district: str | None,
    limit: str | None,
) -> None:
    """Add a user (administrators only; the first user of a new database must be an admin).

    \b
    Examples:
      dfg user add admin --name "System administrator" --role admin
      dfg --as admin user add jsmith --name "Jo Smith" --role grant_officer --district CAN
      dfg --as admin user add pkhan --name "Priya Khan" --role approver --limit 15000
    """
    from dfg.services.identity import unmapped
    from dfg.services.users import add_user

    database = context.database()
    # the first user of a new database has no one to prove: the account adding them is mapped to them
    acting = None if unmapped(database) else context.actor()
    view = add_user(
        database,
        acting,
        username=username,
        full_name=full_name,
        roles=list(roles),
        district=district,
        approval_limit_pence=None if limit is None else parse_pounds(limit, field="--limit"),
    )
    click.echo(f"added user {view.username} ({', '.join(view.roles)})", err=True)


@user.command("list")
@json_option
@pass_context
def user_list(context: Context, as_json: bool) -> None:
    """List users with their roles, districts and delegated limits."""
    from dfg.services.identity import identities
    from dfg.services.users import list_users

    users = list_users(context.database())
    mapped = identities(context.database())
    if as_json:
        emit_json([{**u.as_dict(), "identities": mapped.get(u.username, [])} for u in users])
    else:
        click.echo(
            table(
                ["user", "name", "roles", "district", "limit", "identities"],
                [[*u.as_row(), ", ".join(mapped.get(u.username, []))] for u in users],
            )
        )


def _principal(os_account: str | None, db_login: str | None) -> Principal:
    from dfg.errors import InvalidInput
    from dfg.services.identity import principal_for

    if (os_account is None) == (db_login is None):
        raise InvalidInput("give one of --os-account NAME (a SQLite file) or --db-login NAME (PostgreSQL)")
    return principal_for("os", os_account) if os_account is not None else principal_for("db", str(db_login))


_OS_ACCOUNT = click.option(
    "--os-account", metavar="NAME", help="An operating-system account (for a SQLite database file)."
)
_DB_LOGIN = click.option("--db-login", metavar="NAME", help="A PostgreSQL login (for a shared database).")


@user.command("map")
@click.argument("username")
@_OS_ACCOUNT
@_DB_LOGIN
@pass_context
def user_map(context: Context, username: str, os_account: str | None, db_login: str | None) -> None:
    """Let an operating-system account or a PostgreSQL login act as USER (administrators only). One
    account may be mapped to several users; --as then chooses among them. On a database with no mappings
    yet (one upgraded from before they existed), the first is made by the database's owner.

    \b
    Examples:
      dfg --as admin user map jsmith --os-account jsmith
      dfg --as admin user map pkhan --db-login pkhan
    """
    from dfg.services.identity import map_identity, unmapped

    database, principal = context.database(), _principal(os_account, db_login)
    actor = None if unmapped(database) else context.actor()
    map_identity(database, actor, username, principal)
    click.echo(f"{principal} may act as {username}", err=True)


@user.command("unmap")
@click.argument("username")
@_OS_ACCOUNT
@_DB_LOGIN
@pass_context
def user_unmap(context: Context, username: str, os_account: str | None, db_login: str | None) -> None:
    """Stop an operating-system account or a PostgreSQL login acting as USER (administrators only).

    \b
    Example:
      dfg --as admin user unmap jsmith --os-account jsmith
    """
    from dfg.services.identity import unmap_identity

    database, principal = context.database(), _principal(os_account, db_login)
    unmap_identity(database, context.actor(), username, principal)
    click.echo(f"{principal} may no longer act as {username}", err=True)
