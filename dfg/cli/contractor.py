"""dfg contractor: the contractor register."""

from __future__ import annotations

from typing import Any

import click

from dfg.cli.command import (
    CommandT,
    Context,
    emit_json,
    json_option,
    optional_date,
    pass_context,
    show_date,
    table,
)


@click.group()
def contractor() -> None:
    """The contractor register: who may do the works, with their accreditation and status."""


def contractor_options(function: CommandT) -> CommandT:
    """The register's details, shared by 'contractor add' and 'contractor update'."""
    options = [
        click.option("--contact", help="The person to deal with, e.g. 'Jo Smith'."),
        click.option("--address", help="The contractor's address, on one line."),
        click.option("--phone", help="A phone number."),
        click.option("--email", help="An email address."),
        click.option("--accreditation", help="The accreditation held, e.g. TrustMark or a framework's name."),
        click.option(
            "--accreditation-expires", help="When the accreditation expires (2027-03-31 or 31/03/2027)."
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _contractor_lines(view: Any) -> list[str]:
    current = "current" if view.accreditation_current else "not current"
    return [
        f"{view.name} ({view.status}), register number {view.id}",
        f"Contact:        {view.contact_name or '-'}",
        f"Address:        {view.address or '-'}",
        f"Phone:          {view.phone or '-'}",
        f"Email:          {view.email or '-'}",
        f"Accreditation:  {view.accreditation_text} ({current} on {show_date(view.on)})",
    ]


@contractor.command("add")
@click.argument("name")
@contractor_options
@pass_context
def contractor_add(
    context: Context, name: str, contact: str | None, address: str | None, phone: str | None,
    email: str | None, accreditation: str | None, accreditation_expires: str | None,
) -> None:  # fmt: skip
    """Put a contractor on the register, active (role: grant officer or administrator). Names are unique
    whatever their capitals.

    \b
    Example:
      dfg contractor add "Able Lifts Ltd" --contact "Jo Able" --phone "01543 123456" \\
          --accreditation TrustMark --accreditation-expires 2027-03-31
    """
    from dfg.services.contractors import NewContractor, add_contractor

    new = NewContractor(
        name=name, contact_name=contact, address=address, phone=phone, email=email, accreditation=accreditation,
        accreditation_expires=optional_date(accreditation_expires, "--accreditation-expires"),
    )  # fmt: skip
    view = add_contractor(context.database(), context.actor(), new)
    click.echo(f"added contractor {view.name} (accreditation: {view.accreditation_text})", err=True)


@contractor.command("update")
@click.argument("name")
@contractor_options
@click.option("--status", type=click.Choice(["active", "suspended", "removed"]),
              help="Suspend a contractor, remove it from the register, or make it active again.")  # fmt: skip
@click.option("--reason", help="Why (recorded on the audit trail), e.g. for a suspension.")
@pass_context
def contractor_update(
    context: Context, name: str, contact: str | None, address: str | None, phone: str | None,
    email: str | None, accreditation: str | None, accreditation_expires: str | None, status: str | None,
    reason: str | None,
) -> None:  # fmt: skip
    """Change a contractor's details, renew or clear its accreditation, or change its status (role: grant
    officer or administrator). Only the options given change; give "" to clear a detail (clearing the
    accreditation clears its expiry date too).

    \b
    Examples:
      dfg contractor update "Able Lifts Ltd" --accreditation-expires 2028-03-31
      dfg contractor update "Able Lifts Ltd" --status suspended --reason "complaint under investigation"
    """
    from dfg.services.contractors import update_contractor

    view = update_contractor(
        context.database(), context.actor(), name, contact_name=contact, address=address, phone=phone,
        email=email, accreditation=accreditation,
        accreditation_expires=optional_date(accreditation_expires, "--accreditation-expires"), status=status,
        reason=reason,
    )  # fmt: skip
    click.echo(
        f"updated contractor {view.name} ({view.status}; accreditation: {view.accreditation_text})", err=True
    )


@contractor.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include contractors removed from the register.")
@click.option("--on", "on", help="Say whether each accreditation is current on this date (default: today).")
@json_option
@pass_context
def contractor_list(context: Context, include_removed: bool, on: str | None, as_json: bool) -> None:
    """List the register by name, with each contractor's status and accreditation.

    \b
    Examples:
      dfg contractor list
      dfg contractor list --all --on 2026-04-01 --json
    """
    from dfg.services.contractors import list_contractors

    found = list_contractors(
        context.database(), context.actor(), include_removed=include_removed, on=optional_date(on, "--on")
    )
    if as_json:
        emit_json([c.as_dict() for c in found])
        return
    rows = [[c.name, c.status, c.accreditation_text, c.contact_name, c.phone] for c in found]
    click.echo(table(["name", "status", "accreditation", "contact", "phone"], rows))
    day = found[0].on if found else None
    click.echo(
        f"{len(found)} contractor(s)" + (f"; accreditations as on {show_date(day)}" if day else ""), err=True
    )


@contractor.command("show")
@click.argument("name")
@click.option("--on", "on", help="Say whether the accreditation is current on this date (default: today).")
@json_option
@pass_context
def contractor_show(context: Context, name: str, on: str | None, as_json: bool) -> None:
    """One contractor's register entry, by name (any capitals) or register number.

    \b
    Example:
      dfg contractor show "able lifts ltd"
    """
    from dfg.services.contractors import find_contractor

    view = find_contractor(context.database(), context.actor(), name, on=optional_date(on, "--on"))
    if as_json:
        emit_json(view.as_dict())
    else:
        click.echo("\n".join(_contractor_lines(view)))
