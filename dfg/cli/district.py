"""dfg district: the district councils whose cases the database holds."""

from __future__ import annotations

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context, table


@click.group()
def district() -> None:
    """The district councils (housing authorities) whose cases this database holds."""


@district.command("add")
@click.argument("code")
@click.argument("name")
@pass_context
def district_add(context: Context, code: str, name: str) -> None:
    """Add a district (administrators only).

    \b
    Example:
      dfg --as admin district add CAN "Cannock Chase"
    """
    from dfg.services.users import add_district

    view = add_district(context.database(), context.actor(), code, name)
    click.echo(f"added district {view.code} ({view.name})", err=True)


@district.command("list")
@json_option
@pass_context
def district_list(context: Context, as_json: bool) -> None:
    """List the districts."""
    from dfg.services.users import list_districts

    districts = list_districts(context.database())
    if as_json:
        emit_json([d.as_dict() for d in districts])
    else:
        click.echo(table(["code", "name"], [[d.code, d.name] for d in districts]))
