"""The contact log (``dfg note``): notes on a case's chain, every mistake said at once, the summary kept
beside the chain so it can be disposed of."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from dfg.errors import InvalidInput, PermissionDenied
from dfg.services.access import access_record
from dfg.services.audit import verify_audit
from dfg.services.notes import add_note, notes_of
from dfg.store.database import Database
from dfg.workflow.actor import Actor

SAID = "Asked when the OT will visit; told within two weeks"


def test_notes_are_kept_in_order_on_the_chain(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    add_note(
        db,
        cast["officer"],
        reference,
        contact="call",
        party="applicant",
        summary=f"  {SAID} ",
        on=date(2026, 11, 30),
    )
    add_note(db, cast["ot"], reference, contact="visit", party="applicant", summary="Measured the stairs")
    notes = notes_of(db, cast["officer"], reference)
    assert [(n.contact, n.party, n.summary, n.recorded_by) for n in notes] == [
        ("call", "applicant", SAID, "officer"),
        ("visit", "applicant", "Measured the stairs", "ot"),
    ]
    assert notes[0].on == date(2026, 11, 30)
    assert access_record(db, cast["manager"], reference)[0].view == "notes"
    with db.read_connection() as connection:
        payloads = " ".join(connection.execute(text("SELECT payload FROM events")).scalars())
    assert "two weeks" not in payloads  # personal text, sealed beside the chain
    assert verify_audit(db, cast["manager"]).problems == ()


def test_every_mistake_at_once_and_nothing_written(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    with pytest.raises(InvalidInput) as refused:
        add_note(db, cast["officer"], reference, contact="fax", party="cat", summary=" ", on=date(2099, 1, 1))
    assert [part.split(":")[0] for part in str(refused.value).split("; ")] == [
        "contact",
        "with",
        "summary",
        "on",
    ]
    with pytest.raises(PermissionDenied):
        add_note(db, cast["lichfield"], reference, contact="call", party="applicant", summary=SAID)
    assert notes_of(db, cast["officer"], reference) == []


def test_the_commands(db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:
    reference = open_sample()

    def run(*args: str) -> object:
        return CliRunner().invoke(main, ["--db", db_url, "--as", "officer", *args])

    added = run("note", "add", reference, "--contact", "Call", "--with", "applicant", "--summary", SAID)
    assert added.exit_code == 0 and added.stdout == f"{reference}: note recorded (call with applicant)\n"  # type: ignore[attr-defined]
    listed = run("note", "list", reference)
    assert SAID in listed.stdout and listed.stderr == "1 note(s)\n"  # type: ignore[attr-defined]
    history = run("case", "history", reference)
    assert "note_recorded" in history.stdout and "call with applicant" in history.stdout  # type: ignore[attr-defined]


def test_the_added_note_as_json_reads_like_the_list(
    db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    import json

    reference = open_sample()
    added = CliRunner().invoke(main, ["--db", db_url, "--as", "officer", "note", "add", reference, "--contact", "email",
                                      "--with", "ot", "--summary", SAID, "--on", "2026-11-30", "--json"])  # fmt: skip
    assert json.loads(added.stdout) == {"reference": reference, "on": "2026-11-30", "contact": "email", "with": "ot",
                                        "summary": SAID}  # fmt: skip
