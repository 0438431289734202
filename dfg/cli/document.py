"""dfg document: files kept on a case (the OT's report, photographs, quotes, invoices)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from dfg.cli.command import (
    RECORD_ID,
    Context,
    emit_json,
    json_option,
    pass_context,
    sheet_options,
    table,
    write_output,
    write_sheets,
)

if TYPE_CHECKING:
    from dfg.presentation import Cell


@click.group()
def document() -> None:
    """Documents kept on a case: the OT's report, photographs, quotes, invoices, plans.

    PDF, JPEG, PNG, Word (.docx) and Excel (.xlsx) files, told from their content; at most
    DFG_DOCUMENTS_MAX_MB megabytes (default 20). They are kept in a folder beside the SQLite file (or
    where DFG_DOCUMENTS says), readable by their owner only, and go with the file at disposal.
    """


@document.command("add")
@click.argument("reference")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True,
              help="What it is: ot_report, photo, quote, invoice, plan, correspondence or other.")  # fmt: skip
@json_option
@pass_context
def document_add(context: Context, reference: str, file: Path, kind: str, as_json: bool) -> None:
    """Attach a file to a case (roles: grant officer, OT, technical officer, approver, manager).

    \b
    Example:
      dfg document add CAN-2026-0001 ot-report.pdf --kind ot_report
    """
    from dfg.errors import InvalidInput
    from dfg.services.documents import add_document, size_limit

    limit = size_limit()
    try:
        with file.open("rb") as opened:
            content = opened.read(limit + 1)  # no more than one byte over: enough to refuse it
    except OSError as error:
        raise InvalidInput(f"cannot read {file}: {error.strerror}") from None
    added = add_document(context.database(), context.actor(), reference, name=file.name, content=content,
                         kind=kind.strip().lower())  # fmt: skip
    if as_json:
        emit_json(added.as_dict())
    else:
        click.echo(f"{added.reference}: document {added.id} added ({added.file_name}, {added.media_type}, "
                   f"{added.size_bytes:,} bytes)")  # fmt: skip


@document.command("list")
@click.argument("reference")
@json_option
@sheet_options
@pass_context
def document_list(
    context: Context, reference: str, as_json: bool, csv_file: Path | None, xlsx_file: Path | None
) -> None:
    """The documents on a case, oldest first."""
    from dfg.cli.command import show_date
    from dfg.services.documents import documents_of

    found = documents_of(context.database(), context.actor(), reference)
    sheet: list[list[Cell]] = [
        [d.id, d.kind, d.file_name, d.size_bytes, d.added_at.date(), d.added_by] for d in found
    ]
    headers = ["id", "kind", "file", "bytes", "added", "by"]
    if write_sheets(f"Documents {reference}", headers, sheet, csv_file=csv_file, xlsx_file=xlsx_file):
        return
    if as_json:
        emit_json([d.as_dict() for d in found])
        return
    rows = [
        [d.id, d.kind, d.file_name, f"{d.size_bytes:,}", show_date(d.added_at.date()), d.added_by]
        for d in found
    ]
    if rows:
        click.echo(table(["id", "kind", "file", "bytes", "added", "by"], rows))
    click.echo(f"{len(found)} document(s)", err=True)


@document.command("get")
@click.argument("reference")
@click.argument("document_id", type=RECORD_ID)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it (default: its own name, in this folder).")  # fmt: skip
@pass_context
def document_get(context: Context, reference: str, document_id: int, output: Path | None) -> None:
    """Write a document out, checked against the fingerprint it was added with (readable by you only)."""
    from dfg.services.documents import document_content

    record, content = document_content(context.database(), context.actor(), reference, document_id)
    target = output or Path(record.file_name)
    write_output(target, content, private=True)
    click.echo(f"{target}: {record.file_name} ({len(content):,} bytes)")
