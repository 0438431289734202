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


def _principal(os_account: str | None, db_login: str | None, oidc: str | None) -> Principal:
    from dfg.errors import InvalidInput
    from dfg.services.identity import principal_for

    given = [
        (kind, name)
        for kind, name in (("os", os_account), ("db", db_login), ("oidc", oidc))
        if name is not None
    ]
    if len(given) != 1:
        raise InvalidInput(
            "give one of --os-account NAME (a SQLite file), --db-login NAME (PostgreSQL) "
            "or --oidc 'ISSUER|SUBJECT' (single sign-on)"
        )
    return principal_for(*given[0])


_OS_ACCOUNT = click.option(
    "--os-account", metavar="NAME", help="An operating-system account (for a SQLite database file)."
)
_DB_LOGIN = click.option("--db-login", metavar="NAME", help="A PostgreSQL login (for a shared database).")
_OIDC = click.option(
    "--oidc",
    metavar="'ISSUER|SUBJECT'",
    help="A single sign-on subject: the issuer and subject the browser's refusal page showed (quote it).",
)


@user.command("map")
@click.argument("username")
@_OS_ACCOUNT
@_DB_LOGIN
@_OIDC
@pass_context
def user_map(
    context: Context, username: str, os_account: str | None, db_login: str | None, oidc: str | None
) -> None:
    """Let an operating-system account, a PostgreSQL login or a single sign-on subject act as USER
    (administrators only). One account may be mapped to several users; --as then chooses among them. A
    single sign-on subject is one person: it maps to one user. On a database with no mappings yet (one
    upgraded from before they existed), the first is made by the database's owner.

    \b
    Examples:
      dfg --as admin user map jsmith --os-account jsmith
      dfg --as admin user map pkhan --db-login pkhan
      dfg --as admin user map jsmith --oidc 'https://login.microsoftonline.com/TENANT/v2.0|SUBJECT'
    """
    from dfg.services.identity import map_identity, unmapped

    database, principal = context.database(), _principal(os_account, db_login, oidc)
    actor = None if unmapped(database) else context.actor()
    map_identity(database, actor, username, principal)
    click.echo(f"{principal} may act as {username}", err=True)


@user.command("unmap")
@click.argument("username")
@_OS_ACCOUNT
@_DB_LOGIN
@_OIDC
@pass_context
def user_unmap(
    context: Context, username: str, os_account: str | None, db_login: str | None, oidc: str | None
) -> None:
    """Stop an operating-system account, a PostgreSQL login or a single sign-on subject acting as USER
    (administrators only).

    \b
    Example:
      dfg --as admin user unmap jsmith --os-account jsmith
    """
    from dfg.services.identity import unmap_identity

    database, principal = context.database(), _principal(os_account, db_login, oidc)
    unmap_identity(database, context.actor(), username, principal)
    click.echo(f"{principal} may no longer act as {username}", err=True)


@user.command("change")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="The user's roles from now on, all of them (repeat for several); those left out are taken away.",
)
@click.option("--district", help="Limit the user to this district (code) from now on.")
@click.option("--all-districts", is_flag=True, help="Let the user work in every district.")
@click.option("--limit", "limit", help="An approver's delegated limit in pounds from now on, e.g. 30000.")
@click.option(
    "--no-limit", is_flag=True, help="Take the delegated limit away (needed when --role drops approver)."
)
@click.option("--name", "full_name", help="The user's full name, as shown on letters and the audit trail.")
@json_option
@pass_context
def user_change(
    context: Context,
    username: str,
    roles: tuple[str, ...],
    district: str | None,
    all_districts: bool,
    limit: str | None,
    no_limit: bool,
    full_name: str | None,
    as_json: bool,
) -> None:
    """Change a user's roles, district, delegated limit or name (administrators only). What is not given
    stays as it is; --role replaces the roles, so give every role the user is to keep. The change, with
    what it was before, is recorded in the audit trail.

    An administrator of one district changes only that district's users, and cannot move them out of it.
    The last administrator of every district cannot lose the admin role or be limited to one district.

    \b
    Examples:
      dfg --as admin user change jsmith --role grant_officer --role approver --limit 10000
      dfg --as admin user change pkhan --limit 25000
      dfg --as admin user change rash --district LIC
      dfg --as admin user change hclarke --role manager --no-limit
    """
    from dfg.errors import InvalidInput
    from dfg.services.users import KEEP, change_user

    if district is not None and all_districts:
        raise InvalidInput("give --district or --all-districts, not both")
    if limit is not None and no_limit:
        raise InvalidInput("give --limit or --no-limit, not both")
    done = change_user(
        context.database(),
        context.actor(),
        username,
        roles=list(roles) or None,
        district=None if all_districts else KEEP if district is None else district.upper(),
        approval_limit_pence=None
        if no_limit
        else KEEP
        if limit is None
        else parse_pounds(limit, field="--limit"),
        full_name=full_name,
    )
    if as_json:
        emit_json(done.as_dict())
    else:
        click.echo(f"changed {username}: {done.summary()}", err=True)


_REASON = click.option("--reason", required=True, help="Why, in a few words (kept in the audit trail).")


@user.command("deactivate")
@click.argument("username")
@_REASON
@json_option
@pass_context
def user_deactivate(context: Context, username: str, reason: str, as_json: bool) -> None:
    """Stop USER acting, at once, on the command line and in the browser (every session of theirs in the
    browser ends). Their cases, steps and letters stay, under their name (administrators only; the last
    administrator of every district stays). 'dfg user reactivate' undoes it.

    \b
    Example:
      dfg --as admin user deactivate jsmith --reason "left the council on 31/03/2026"
    """
    from dfg.services.users import deactivate_user

    view = deactivate_user(context.database(), context.actor(), username, reason=reason)
    _report_active(view.as_dict(), reason, as_json, f"deactivated {username}: they can no longer act")


@user.command("reactivate")
@click.argument("username")
@_REASON
@json_option
@pass_context
def user_reactivate(context: Context, username: str, reason: str, as_json: bool) -> None:
    """Let a deactivated USER act again, with the roles, district and limit they had (administrators
    only). In the browser they sign in again with their password, or with a new invitation.

    \b
    Example:
      dfg --as admin user reactivate jsmith --reason "returned from secondment"
    """
    from dfg.services.users import reactivate_user

    view = reactivate_user(context.database(), context.actor(), username, reason=reason)
    _report_active(view.as_dict(), reason, as_json, f"reactivated {username}")


def _report_active(view: dict[str, object], reason: str, as_json: bool, line: str) -> None:
    if as_json:
        emit_json({**view, "reason": reason.strip()})
    else:
        click.echo(line, err=True)


@user.command("invite")
@click.argument("username")
@json_option
@pass_context
def user_invite(context: Context, username: str, as_json: bool) -> None:
    """Give USER a one-time code with which they set their own password for the browser application
    (administrators only; an administrator of one district invites only its users). The code is shown
    once: give it to the user in person or by telephone, not by e-mail. It lasts 7 days. Inviting a
    user who already has a password resets it, and ends every session of theirs.

    The user opens the browser application ('dfg serve' runs it), goes to its /invitation page, and
    enters the code with the password they choose.

    \b
    Example:
      dfg --as admin user invite jsmith
    """
    from dfg.rules.clock import ENGLAND
    from dfg.services.sign_in import invite

    invitation = invite(context.database(), context.actor(), username)
    if as_json:
        emit_json(
            {
                "username": invitation.username,
                "code": invitation.code,
                "expires_at": invitation.expires_at.isoformat(),
            }
        )
        return
    expires = invitation.expires_at.astimezone(ENGLAND)
    click.echo(f"invitation code for {invitation.username}: {invitation.code}")
    click.echo(f"it can be used once, until {expires:%H:%M} on {expires:%d/%m/%Y}")
    click.echo(
        f"{invitation.username} sets their password with it at the browser application's /invitation page "
        "(run by 'dfg serve')"
    )
