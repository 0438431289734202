"""dfg note: the contact log of a case."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dfg.cli.command import (
    Context,
    emit_json,
    json_option,
    optional_date,
    pass_context,
    sheet_options,
    show_date,
    table,
    write_sheets,
)

if TYPE_CHECKING:
    from dfg.presentation import Cell


@click.group()
def note() -> None:
    """Notes and the contact log: calls, e-mails, visits and letters received on a case, with whom."""


@note.command("add")
@click.argument("reference")
@click.option("--contact", required=True, help="How: call, email, visit, letter_received, meeting or other.")
@click.option(
    "--with", "party", required=True, help="Who with: applicant, advocate, ot, contractor, landlord or other."
)
@click.option("--summary", required=True, help="What was said or done, in a few sentences.")
@click.option("--on", "on", help="The day it happened (default: today), e.g. 2026-11-30 or 30/11/2026.")
@json_option
@pass_context
def note_add(
    context: Context, reference: str, contact: str, party: str, summary: str, on: str | None, as_json: bool
) -> None:
    """Record a contact on a case (roles: grant officer, OT, technical officer, approver, manager).

    A note is part of the case's audit trail and is never edited: record a correction as a new note.

    \\b
    Example:
      dfg note add CAN-2026-0001 --contact call --with applicant \\\\
          --summary "Asked when the OT will visit; told within two weeks"
    """
    from dfg.services.notes import add_note

    recorded = add_note(
        context.database(), context.actor(), reference, contact=contact.strip().lower(), party=party.strip().lower(),
        summary=summary, on=optional_date(on, "--on"),
    )  # fmt: skip
    if as_json:
        said = recorded.payload  # the same names as 'note list --json'
        emit_json({"reference": recorded.reference, "on": said["on"].isoformat(), "contact": said["contact"],
                   "with": said["with"], "summary": said["notes"]})  # fmt: skip
    else:
        click.echo(
            f"{recorded.reference}: note recorded ({recorded.payload['contact']} with {recorded.payload['with']})"
        )


@note.command("list")
@click.argument("reference")
@json_option
@sheet_options
@pass_context
def note_list(
    context: Context, reference: str, as_json: bool, csv_file: Path | None, xlsx_file: Path | None
) -> None:
    """The case's notes, oldest first.

    \\b
    Examples:
      dfg note list CAN-2026-0001
      dfg note list CAN-2026-0001 --csv contacts.csv
    """
    from dfg.services.notes import notes_of

    notes = notes_of(context.database(), context.actor(), reference)
    sheet: list[list[Cell]] = [[n.on, n.contact, n.party, n.recorded_by, n.summary] for n in notes]
    headers = ["on", "contact", "with", "by", "summary"]
    if write_sheets(f"Notes {reference}", headers, sheet, csv_file=csv_file, xlsx_file=xlsx_file):
        return
    if as_json:
        emit_json([n.as_dict() for n in notes])
        return
    rows = [[show_date(n.on), n.contact.replace("_", " "), n.party, n.recorded_by, n.summary] for n in notes]
    if rows:
        click.echo(table(["on", "contact", "with", "by", "summary"], rows))
    click.echo(f"{len(notes)} note(s)", err=True)
