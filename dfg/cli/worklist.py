"""dfg due and dfg tick: what is overdue or coming due, and recording each breach once."""

from __future__ import annotations

from pathlib import Path

import click

from dfg.cli.command import (
    Context,
    emit_json,
    json_option,
    pass_context,
    progress_bar,
    sheet_options,
    write_sheets,
)


@click.command("due")
@click.option("--mine", is_flag=True, help="Only cases assigned to me.")
@click.option("--role", help="Only cases whose state is owned by this role, e.g. ot or approver.")
@click.option("--district", help="Only this district.")
@click.option(
    "--within", "within_days", type=click.IntRange(0, 3650), help="Look this many days ahead (default 14)."
)
@json_option
@sheet_options
@pass_context
def due(context: Context, mine: bool, role: str | None, district: str | None, within_days: int | None,
        as_json: bool, csv_file: Path | None, xlsx_file: Path | None) -> None:  # fmt: skip
    """What is overdue or coming due, most urgent first, with the action that clears it.

    \b
    Examples:
      dfg due --mine
      dfg due --role approver --within 30
      dfg due --district CAN --within 30 --xlsx due.xlsx
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.worklist import due as due_items
    from dfg.services.worklist import due_as_text

    items = due_items(context.database(), context.actor(), mine=mine, role=role,
                      district=district.upper() if district else None, within_days=within_days)  # fmt: skip
    headers = ["case", "district", "priority", "clock", "kind", "due", "days left", "working days left",
               "action", "role", "assigned to"]  # fmt: skip
    sheet = [[i.reference, i.district, i.priority, i.label, i.kind, i.due, i.days_left, i.working_days_left,
              i.action, i.role, i.assigned_to] for i in items]  # fmt: skip
    if write_sheets("Due", headers, sheet, csv_file=csv_file, xlsx_file=xlsx_file):
        return
    if as_json:
        emit_json([item.as_dict() for item in items])
    else:
        click.echo(due_as_text(items, local_day(utcnow())))


@click.command("tick")
@json_option
@pass_context
def tick(context: Context, as_json: bool) -> None:
    """Record every statutory or service deadline missed since the last run, once each, and queue the
    reminder letters workflows/policy/reminders.toml calls for (for a daily scheduler; running it twice
    records nothing new). Role: manager or administrator."""
    from dfg.services.worklist import tick as record_breaches

    with progress_bar("Checking cases") as progress:
        result = record_breaches(context.database(), context.actor(), progress=progress)
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(result.as_text())
