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
    from dfg.services.documents import DocumentRecord


@click.group()
def document() -> None:
    """Documents kept on a case: the OT's report, photographs, quotes, invoices, plans.

    PDF, JPEG, PNG, Word (.docx) and Excel (.xlsx) files, told from their content; at most
    DFG_DOCUMENTS_MAX_MB megabytes (default 20). They are kept in a folder beside the SQLite file (or
    where DFG_DOCUMENTS says), readable by their owner only, and go with the file at disposal. One added
    in error is withdrawn with a reason: it stays on the record, out of the list.
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
@click.option("--all", "everything", is_flag=True, help="Include the documents withdrawn, and why.")
@json_option
@sheet_options
@pass_context
def document_list(
    context: Context, reference: str, everything: bool, as_json: bool, csv_file: Path | None,
    xlsx_file: Path | None,
) -> None:  # fmt: skip
    """The documents on a case, oldest first (those withdrawn only with --all)."""
    from dfg.cli.command import show_date
    from dfg.services.documents import documents_of

    found = documents_of(context.database(), context.actor(), reference, withdrawn=everything)

    def gone(d: DocumentRecord) -> list[Cell]:  # the withdrawal, in its own column when --all asks
        if not everything:
            return []
        w = d.withdrawal
        return [f"{show_date(w.at.date())} by {w.by}: {w.reason}" if w else ""]

    sheet: list[list[Cell]] = [
        [d.id, d.kind, d.file_name, d.size_bytes, d.added_at.date(), d.added_by, *gone(d)] for d in found
    ]
    headers = ["id", "kind", "file", "bytes", "added", "by"] + (["withdrawn"] if everything else [])
    if write_sheets(f"Documents {reference}", headers, sheet, csv_file=csv_file, xlsx_file=xlsx_file):
        return
    if as_json:
        emit_json([d.as_dict() for d in found])
        return
    rows = [
        [d.id, d.kind, d.file_name, f"{d.size_bytes:,}", show_date(d.added_at.date()), d.added_by, *gone(d)]
        for d in found
    ]
    if rows:
        click.echo(table(headers, rows))
    click.echo(f"{len(found)} document(s)", err=True)


@document.command("get")
@click.argument("reference")
@click.argument("document_id", type=RECORD_ID)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it (default: its own name, in this folder).")  # fmt: skip
@click.option("--withdrawn", is_flag=True, help="Fetch it although it was withdrawn.")
@pass_context
def document_get(
    context: Context, reference: str, document_id: int, output: Path | None, withdrawn: bool
) -> None:
    """Write a document out, checked against the fingerprint it was added with (readable by you only).
    A withdrawn document only with --withdrawn."""
    from dfg.services.documents import document_content

    record, content = document_content(
        context.database(), context.actor(), reference, document_id, withdrawn=withdrawn
    )
    target = output or Path(record.file_name)
    write_output(target, content, private=True)
    click.echo(f"{target}: {record.file_name} ({len(content):,} bytes)")


@document.command("withdraw")
@click.argument("reference")
@click.argument("document_id", type=RECORD_ID)
@click.option("--reason", required=True, help="Why it is withdrawn, e.g. 'Added to the wrong case'.")
@json_option
@pass_context
def document_withdraw(context: Context, reference: str, document_id: int, reason: str, as_json: bool) -> None:
    """Withdraw a document added in error (roles: those who add documents).

    It stays in the register, the history and 'dfg document list --all', and is left out of the list;
    'dfg document get --withdrawn' still fetches it.

    \b
    Example:
      dfg document withdraw CAN-2026-0001 3 --reason "Another applicant's report, added in error"
    """
    from dfg.services.documents import withdraw_document

    done = withdraw_document(context.database(), context.actor(), reference, document_id, reason)
    if as_json:
        emit_json(done.as_dict())
    else:
        click.echo(f"{done.reference}: document {done.id} withdrawn ({done.file_name})")
