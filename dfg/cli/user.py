"""dfg user: the people who use the system, their roles, districts and delegated limits."""

from __future__ import annotations

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context, table
from dfg.rules.money import parse_pounds


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
    from dfg.services.users import add_user

    view = add_user(
        context.database(),
        context.username,
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
    from dfg.services.users import list_users

    users = list_users(context.database())
    if as_json:
        emit_json([u.as_dict() for u in users])
    else:
        click.echo(table(["user", "name", "roles", "district", "limit"], [u.as_row() for u in users]))
