"""dfg letters: render the queue, read the register, reprint, print for the post room."""

from __future__ import annotations

import os
from pathlib import Path

import click

from dfg.cli.command import (
    RECORD_ID,
    Context,
    emit_json,
    json_option,
    pass_context,
    progress_bar,
    show_date,
    table,
    write_output,
)
from dfg.rules.dates import parse_date


@click.group()
def letters() -> None:
    """Letters the workflow produces: render the queue, read the register, reprint, print for the post."""


@letters.command("list")
@click.argument("reference")
@json_option
@pass_context
def letters_list(context: Context, reference: str, as_json: bool) -> None:
    """The letters of a case: those produced (the register) and those still pending, with why.

    \b
    Example:
      dfg letters list CAN-2026-0001
    """
    from dfg.services.case_reading import show_case
    from dfg.services.letter_batch import pending_letters
    from dfg.services.letter_register import list_letters
    from dfg.services.people import letter_arrangements

    database, actor = context.database(), context.actor()
    produced = list_letters(database, actor, reference)
    pending = pending_letters(database, actor, reference)
    applicant = next(p for p in show_case(database, actor, reference).people if "applicant" in p["roles"])
    arrangements = letter_arrangements(applicant)
    if as_json:
        emit_json({"letters": [x.as_dict() for x in produced], "pending": [p.as_dict() for p in pending],
                   "arrangements": arrangements})  # fmt: skip
        return
    rows = [
        [x.id, x.kind, x.recipient_name, f"{x.created_at:%Y-%m-%d %H:%M}", x.created_by,
         x.copy_of or "", x.sha256[:12]]
        for x in produced
    ]  # fmt: skip
    click.echo(table(["id", "kind", "recipient", "created (UTC)", "by", "copy of", "sha256"], rows))
    for p in pending:
        click.echo(
            f"pending: {p.kind} ({p.trigger} on {show_date(p.step_date)}): {p.reason or 'ready to render'}"
        )
    for note in arrangements:
        click.echo(f"letters to {applicant['name']}: {note}")


@letters.command("show")
@click.argument("letter_id", metavar="ID", type=RECORD_ID)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF (default: <reference>-<id>-<kind>.pdf here).")  # fmt: skip
@json_option
@pass_context
def letters_show(context: Context, letter_id: int, output: Path | None, as_json: bool) -> None:
    """Write a letter's PDF, exactly as it was produced, to a file.

    \b
    Example:
      dfg letters show 17 --output holt-approval.pdf
    """
    from dfg.services.letter_register import letter_pdf, letter_record

    database, actor = context.database(), context.actor()
    record = letter_record(database, actor, letter_id)
    path = output or Path(record.file_name)
    write_output(path, letter_pdf(database, actor, letter_id))
    if as_json:
        emit_json({**record.as_dict(), "output": os.fspath(path)})
    else:
        click.echo(f"wrote {path}: {record.title}, to {record.recipient_name}", err=True)


@letters.command("reprint")
@click.argument("letter_id", metavar="ID", type=RECORD_ID)
@json_option
@pass_context
def letters_reprint(context: Context, letter_id: int, as_json: bool) -> None:
    """Reprint a letter: a copy marked COPY on every page, recorded in the register as a new letter."""
    from dfg.services.letter_register import reprint

    record = reprint(context.database(), context.actor(), letter_id)
    if as_json:
        emit_json(record.as_dict())
    else:
        click.echo(
            f"{record.reference}: letter {record.id} is a copy of letter {record.copy_of} ({record.kind})"
        )


@letters.command("render")
@click.option(
    "--pending", is_flag=True, help="Render every letter the workflow asked for and not yet produced."
)
@json_option
@pass_context
def letters_render(context: Context, pending: bool, as_json: bool) -> None:
    """Produce the pending letters, on every core, and record each in the register and the audit trail.

    A letter the case lacks data for (a contractor with no address on the register) stays pending and
    is listed; the others are produced. If any letter fails to render, it stays pending too, and the command exits 11.

    \b
    Example:
      dfg --as can.officer letters render --pending
    """
    from dfg.services.letter_batch import render_pending

    if not pending:
        raise click.UsageError("say --pending: it renders every letter the workflow has asked for")
    with progress_bar("Rendering letters") as progress:
        report = render_pending(context.database(), context.actor(), progress=progress)
    if as_json:
        emit_json(report.as_dict())
    else:
        if report.produced:
            rows = [[x.id, x.reference, x.kind, x.recipient_name] for x in report.produced]
            click.echo(table(["id", "reference", "kind", "recipient"], rows))
        for p in (*report.waiting, *report.failed):
            click.echo(f"pending: {p.reference} {p.kind}: {p.reason}", err=True)
        click.echo(f"{len(report.produced)} letter(s) produced, {len(report.waiting)} waiting for case data, "
                   f"{len(report.failed)} failed", err=True)  # fmt: skip
    report.raise_if_failed()


@letters.command("print")
@click.option("--batch", is_flag=True, help="Every letter produced since --since, in one PDF.")
@click.option(
    "--since", required=True, help="The first day whose letters to include (2026-06-01 or 01/06/2026)."
)
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write."
)
@pass_context
def letters_print(context: Context, batch: bool, since: str, output: Path) -> None:
    """Merge the letters produced since a day into one PDF for the post room, oldest first.

    \b
    Example:
      dfg letters print --batch --since 2026-06-01 --output post-2026-06-01.pdf
    """
    from dfg.services.post_room import batch_arrangements, print_batch

    if not batch:
        raise click.UsageError("say --batch: it prints every letter produced since --since in one PDF")
    day = parse_date(since, field="--since")
    database, actor = context.database(), context.actor()
    write_output(output, print_batch(database, actor, day))
    click.echo(f"wrote {output}: the letters produced since {show_date(day)}", err=True)
    for held in batch_arrangements(database, actor, day):
        # set aside by hand: a format the engine cannot print, or a copy to post to an advocate
        click.echo(
            f"letter {held.letter_id} ({held.reference} {held.kind}): {'; '.join(held.notes)}", err=True
        )
