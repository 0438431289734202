"""dfg audit: check the hash-chained audit trail, and the tables against it."""

from __future__ import annotations

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context


@click.group()
def audit() -> None:
    """Check the audit trail."""


@audit.command("verify")
@click.argument("reference", required=False)
@json_option
@pass_context
def audit_verify(context: Context, reference: str | None, as_json: bool) -> None:
    """Check every event's hash chain (or one case's): reports edited, deleted, inserted or reordered
    events. Then check the tables against what the events say: cases, approvals, budgets and their
    ledger, the letter register and each letter's PDF, users and their roles and limits; each row that
    differs is reported with its table, column, the value held and the value the events say. Exits 10
    if anything is wrong."""
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
