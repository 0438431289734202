"""dfg person: what is held about a person (subject access)."""

from __future__ import annotations

from pathlib import Path

import click

from dfg.cli.command import RECORD_ID, Context, pass_context, write_output


@click.group()
def person() -> None:
    """What the engine holds about a person: for a subject access request (UK GDPR Article 15)."""


@person.command("export")
@click.argument("reference")
@click.option(
    "--person",
    "place",
    type=RECORD_ID,
    help="Their place among the case's people (1 = first listed); default: the applicant.",
)
@click.option(
    "--to", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
    help="The folder to write REFERENCE-subject-access.json and .pdf into (readable by you only).",
)  # fmt: skip
@pass_context
def person_export(context: Context, reference: str, place: int | None, folder: Path) -> None:
    """Everything held about a person, as a JSON file and a readable PDF.

    Finds every case you may see where the same person appears (the same NHS number, or the same name
    and date of birth): the case, their details, its history, assessments and the letters sent to them
    (the PDF carries each letter as sent). Review it for other people's data before sending it (roles:
    grant officer, manager).

    \b
    Example:
      dfg --as mjones person export CAN-2026-0001 --to ~/sar
    """
    import json
    import os

    from dfg.errors import InvalidInput
    from dfg.services.subject_access import export_person

    # before the export: it is recorded on the access record, which a folder refused afterwards would leave
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):  # never raises
        raise InvalidInput(f"--to {folder}: not a folder you may write to")
    found = export_person(context.database(), context.actor(), reference, person=place)
    stem = folder / f"{reference.strip().upper()}-subject-access"
    write_output(
        stem.with_suffix(".json"), json.dumps(found.as_dict(), indent=2, ensure_ascii=False), private=True
    )
    write_output(stem.with_suffix(".pdf"), found.as_pdf(), private=True)
    for name, content in found.documents:
        write_output(folder / name, content, private=True)
    beside = f", {len(found.documents)} document(s) beside them" if found.documents else ""
    click.echo(
        f"{stem}.json and .pdf: {len(found.cases)} case(s), {len(found.letters)} letter(s){beside} about {found.name}"
    )
