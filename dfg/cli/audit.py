"""dfg audit: check the hash-chained audit trail."""

from __future__ import annotations

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context, table


@click.group()
def audit() -> None:
    """Check the audit trail."""


@audit.command("verify")
@click.argument("reference", required=False)
@json_option
@pass_context
def audit_verify(context: Context, reference: str | None, as_json: bool) -> None:
    """Check every event's hash chain (or one case's): reports edited, deleted, inserted or reordered
    events. Exits 10 if anything is wrong."""
    from dfg.services.audit import verify_audit

    report = verify_audit(context.database(), context.actor(), reference)
    if as_json:
        emit_json(report.as_dict())
    else:
        for problem in report.problems:
            click.echo(str(problem))
        click.echo(
            f"{report.streams} stream(s), {report.events} event(s) checked: {report.verdict}", err=True
        )
    report.raise_if_broken()


@audit.command("access")
@click.argument("reference")
@json_option
@pass_context
def audit_access(context: Context, reference: str, as_json: bool) -> None:
    """Who has read a case's personal data (case show, case history, its letters), newest first.
    Role: manager or administrator.

    \b
    Example:
      dfg --as manager audit access CAN-2026-0001
    """
    from dfg.services.access import access_record

    entries = access_record(context.database(), context.actor(), reference)
    if as_json:
        emit_json([e.as_dict() for e in entries])
        return
    rows = [[f"{e.read_at:%Y-%m-%d %H:%M:%S}", f"{e.full_name} ({e.username})", e.view] for e in entries]
    click.echo(table(["when (UTC)", "who", "view"], rows))
