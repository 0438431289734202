"""dfg audit: check the hash-chained audit trail and the tables against it, and anchor it with signed
checkpoints."""

from __future__ import annotations

from pathlib import Path

import click

from dfg.cli.command import Context, emit_json, json_option, pass_context, table

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group()
def audit() -> None:
    """Check the audit trail."""


@audit.command("verify")
@click.argument("reference", required=False)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=_FILE,
    help="Also check the events against this signed checkpoint ('dfg audit checkpoint').",
)
@click.option("--key", "key_file", type=_FILE, help="The public key the checkpoint must be signed with.")
@json_option
@pass_context
def audit_verify(
    context: Context, reference: str | None, checkpoint_file: Path | None, key_file: Path | None, as_json: bool
) -> None:  # fmt: skip
    """Check every event's hash chain (or one case's): reports edited, deleted, inserted or reordered
    events. Then check the tables against what the events say: cases, approvals, budgets and their
    ledger, the letter register and each letter's PDF, users and their roles and limits; each row that
    differs is reported with its table, column, the value held and the value the events say. With
    --checkpoint and --key, also reports a case or events missing since the checkpoint, and history
    rewritten with its chain rehashed. Exits 10 if anything is wrong."""
    if (checkpoint_file is None) != (key_file is None):
        raise click.UsageError("--checkpoint and --key go together: the checkpoint and its public key")
    if checkpoint_file is not None and reference:
        raise click.UsageError("a checkpoint covers every case: leave out the reference")
    if checkpoint_file is not None and key_file is not None:
        from dfg.services.checkpoints import verify_against_checkpoint

        report = verify_against_checkpoint(context.database(), context.actor(), checkpoint_file, key_file)
    else:
        from dfg.services.audit import verify_audit

        report = verify_audit(context.database(), context.actor(), reference)
    if as_json:
        emit_json(report.as_dict())
    else:
        for problem in report.problems:
            click.echo(str(problem))
        click.echo(report.summary, err=True)
    report.raise_if_broken()


@audit.command("checkpoint")
@click.option("--key", "key_file", type=_FILE, required=True, help="The private key to sign with.")
@click.option("--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default="-",
              show_default=True, help="Write the checkpoint to this new file ('-': stdout).")  # fmt: skip
@pass_context
def audit_checkpoint(context: Context, key_file: Path, output: Path) -> None:
    """Write a signed checkpoint of every event (a Merkle tree's root and each case's size) for internal
    audit to keep; 'dfg audit verify --checkpoint' then catches history rewritten or deleted since."""
    from dfg.services.checkpoints import take_checkpoint, write_checkpoint

    taken = take_checkpoint(context.database(), context.actor(), key_file)
    if str(output) == "-":
        click.echo(taken.note, nl=False)
    else:
        write_checkpoint(output, taken.note)
    written = "" if str(output) == "-" else f" to {output}"
    click.echo(
        f"checkpoint of {taken.events} event(s) in {taken.streams} stream(s) written{written}", err=True
    )


@audit.command("keygen")
@click.option(
    "--private",
    "private_file",
    type=_FILE,
    required=True,
    help="Where to write the private key (a new file, readable by you only).",
)
@click.option(
    "--public",
    "public_file",
    type=_FILE,
    required=True,
    help="Where to write the public key, for whoever verifies.",
)
@click.option("--name", default="dfg-audit", show_default=True, help="The key's name, as signatures give it.")
def audit_keygen(private_file: Path, public_file: Path, name: str) -> None:  # fmt: skip
    """Make a key pair for signing checkpoints. Keep the private key off the database's server."""
    from dfg.services.checkpoints import make_audit_keys

    public = make_audit_keys(private_file, public_file, name)
    click.echo(public)
    click.echo(f"private key: {private_file}; public key: {public_file}", err=True)


@audit.command("access")
@click.argument("reference")
@json_option
@pass_context
def audit_access(context: Context, reference: str, as_json: bool) -> None:
    """Who has read a case's personal data (case show and history, its letters, notes and documents, a
    subject access export), newest first.
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
