"""dfg retention: closed files due for disposal, a manager's authority, an administrator's disposal."""

from __future__ import annotations

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context, show_date, table


@click.group()
def retention() -> None:
    """Closed files due for disposal under the retention policy, and their disposal.

    A file is kept for the years workflows/policy/retention.toml sets (by default 6 + 1 for audit)
    after the later of its closure and the end of its land charge, and never disposed of while a land
    charge is live. Disposal takes two people: a manager authorises the files due, then an
    administrator disposes of them. Disposal erases the people, the address, free text and the letters'
    PDFs; the case's reference, dates and money stay, and 'dfg audit verify' still passes.
    """


@retention.command("due")
@json_option
@pass_context
def retention_due(context: Context, as_json: bool) -> None:
    """List the closed files due for disposal today (role: manager or administrator).

    \b
    Example:
      dfg --as mjones retention due
    """
    from dfg.services.retention import files_due

    due = files_due(context.database(), context.actor())
    if as_json:
        emit_json([f.as_dict() for f in due])
        return
    rows = [
        [
            f.reference,
            f.district,
            show_date(f.closed_on),
            show_date(f.standing.due_on),
            f.standing.held_by or (f"authorised by {f.authorised_by}" if f.authorised_by else "due"),
        ]
        for f in due
    ]
    if rows:
        click.echo(table(["Reference", "District", "Closed", "Due", "Standing"], rows))
    click.echo(f"{len(due)} file(s) due for disposal", err=True)


@retention.command("authorise")
@click.argument("references", nargs=-1, required=True)
@pass_context
def retention_authorise(context: Context, references: tuple[str, ...]) -> None:
    """Authorise the disposal of files due (role: manager); an administrator then disposes of them.

    \b
    Example:
      dfg --as mjones retention authorise CAN-2019-0001 CAN-2019-0002
    """
    from dfg.services.retention import authorise_disposal

    done = authorise_disposal(context.database(), context.actor(), references)
    click.echo(f"disposal authorised: {', '.join(done)}")


@retention.command("dispose")
@click.option("--yes", is_flag=True, help="Do it: without --yes, only list what would be disposed of.")
@json_option
@pass_context
def retention_dispose(context: Context, yes: bool, as_json: bool) -> None:
    """Dispose of the authorised files still due (role: administrator, not the manager who authorised).

    Erases each file's personal data, records its disposal on the audit trail and cannot be undone.
    Without --yes it lists what would go.

    \b
    Example:
      dfg --as admin retention dispose --yes
    """
    from dfg.services.retention import dispose, files_due

    db, actor = context.database(), context.actor()
    if not yes:
        waiting = [f for f in files_due(db, actor) if f.authorised_by and f.due]
        for f in waiting:
            click.echo(f"{f.reference}  authorised by {f.authorised_by}")
        click.echo(f"{len(waiting)} file(s) would be disposed of: run again with --yes", err=True)
        return
    done = dispose(db, actor)
    if as_json:
        emit_json([d.as_dict() for d in done])
        return
    for d in done:
        click.echo(f"{d.reference}  disposed of (authorised by {d.authorised_by})")
    click.echo(f"{len(done)} file(s) disposed of", err=True)
