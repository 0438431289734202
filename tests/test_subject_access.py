"""Subject access: ``dfg person export`` gives everything held about a person, across their cases, as
JSON and a PDF that carries the letters as sent; only from cases the user may see."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from cli import main
from dfg.errors import NotFound, PermissionDenied
from dfg.services.access import access_record
from dfg.services.cases import advance
from dfg.services.letter_batch import render_pending
from dfg.services.subject_access import export_person
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str = "officer") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])

    return invoke


@pytest.fixture
def two_cases(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> tuple[str, str]:
    first = open_sample()
    advance(db, cast["officer"], first, "accept_referral")
    take_step(db, cast, first, "record_assessment", "ot", TriggerInput())
    second = open_sample()  # the same Mrs Holt, referred again
    render_pending(db, cast["officer"])
    return first, second


def test_the_export_holds_every_case_and_letter_about_the_person(
    run: Callable[..., Result], two_cases: tuple[str, str], tmp_path: Path, open_sample: Callable[..., str],
    db: Database, cast: dict[str, Actor], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from dfg.services.documents import add_document

    first, second = two_cases
    monkeypatch.setenv("DFG_DOCUMENTS", str(tmp_path / "documents"))
    add_document(db, cast["ot"], first, name="OT report.pdf", content=b"%PDF-1.7\n", kind="ot_report")
    open_sample("LIC", by="lichfield")  # someone else's case in another district: never in the export
    result = run("person", "export", first, "--to", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "2 case(s)" in result.stdout and "1 document(s) beside them" in result.stdout
    assert (tmp_path / f"{first}-1-OT report.pdf").read_bytes() == b"%PDF-1.7\n"
    data = json.loads((tmp_path / f"{first}-subject-access.json").read_text())
    assert [c["case"]["reference"] for c in data["cases"]] == [first, second]
    held = data["cases"][0]
    assert held["person"]["date_of_birth"] == "1950-06-01" and held["person"]["family_name"] == "Holt"
    assert held["history"][0]["payload"]["people"][0]["name"] == "Mrs Margaret Holt"  # values put back
    assert held["assessments"] and held["letters"]
    pdf = tmp_path / f"{first}-subject-access.pdf"
    for written in (pdf, pdf.with_suffix(".json")):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Information held about Mrs Margaret Holt" in text and first in text
    assert len(reader.pages) >= 1 + len(held["letters"])  # the summary, then each letter as sent


def test_only_those_who_hold_the_file_may_export_it(
    db: Database, cast: dict[str, Actor], two_cases: tuple[str, str]
) -> None:
    first, _ = two_cases
    with pytest.raises(PermissionDenied):
        export_person(db, cast["lichfield"], first)  # another district
    with pytest.raises(PermissionDenied):
        export_person(db, cast["ot"], first)
    with pytest.raises(NotFound, match="--person 1 to 1"):
        export_person(db, cast["officer"], first, person=2)
    assert len(export_person(db, cast["manager"], first).cases) == 2
    views = {(r.username, r.view) for r in access_record(db, cast["manager"], first)}
    assert ("manager", "subject_access") in views and ("manager", "history") not in views


def test_a_bad_reference_is_one_line(
    run: Callable[..., Result], cast: dict[str, Actor], tmp_path: Path
) -> None:
    folder = tmp_path / "sar"
    folder.mkdir()
    result = run("person", "export", "CAN-2026-9999", "--to", str(folder))
    assert result.exit_code == NotFound.exit_code
    assert result.stderr.count("\n") == 1 and "no case CAN-2026-9999" in result.stderr
    assert list(folder.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_refused_before_the_export_is_recorded(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    result = run("person", "export", reference, "--to", "/dev/null")
    assert (result.exit_code, result.stderr) == (8, "dfg: --to /dev/null: not a folder you may write to\n")
    assert access_record(db, cast["manager"], reference) == []
