"""Documents on a case (``dfg document``): the type told from the content, names made safe, the size
limit, files owner-only and on the chain by their SHA-256 (a replaced file is reported), gone at disposal;
one added in error withdrawn with its reason."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main
from dfg.errors import GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.rules.clock import utcnow
from dfg.rules.documents import document_type, safe_file_name
from dfg.services.access import access_record
from dfg.services.audit import verify_audit
from dfg.services.case_history import history
from dfg.services.cases import advance
from dfg.services.documents import add_document, document_content, documents_of, withdraw_document
from dfg.services.retention import authorise_disposal, dispose
from dfg.store.database import Database
from dfg.store.tables import EVENTS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput

PDF = b"%PDF-1.7\n% an OT's report\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def _office(part: str) -> bytes:
    made = io.BytesIO()
    with zipfile.ZipFile(made, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return made.getvalue()


@pytest.fixture(autouse=True)
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A documents folder of the test's own (PostgreSQL needs one named; SQLite's default is tested below)."""
    where = tmp_path / "documents"
    monkeypatch.setenv("DFG_DOCUMENTS", str(where))
    yield where


def test_types_are_told_from_the_content() -> None:
    assert [document_type(c) for c in (PDF, PNG, b"\xff\xd8\xff\xe0", _office("word/document.xml"),
                                       _office("xl/workbook.xml"))] == ["pdf", "png", "jpeg", "docx", "xlsx"]  # fmt: skip
    assert document_type(b"MZ\x90\x00 an executable") is None
    assert document_type(b"PK\x03\x04 not really a zip") is None
    assert safe_file_name("../../etc/pass\x00wd.exe", "pdf") == "passwd.pdf"
    assert safe_file_name("C:\\Users\\me\\Mrs Holt OT report.PDF", "pdf") == "Mrs Holt OT report.pdf"
    assert safe_file_name("...", "png") == "document.png"


def test_a_document_is_kept_and_read_back(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], folder: Path
) -> None:
    reference = open_sample()
    added = add_document(db, cast["ot"], reference, name="Holt report.pdf", content=PDF, kind="ot_report")
    assert (added.file_name, added.media_type, added.size_bytes) == (
        "Holt report.pdf",
        "application/pdf",
        len(PDF),
    )
    [listed] = documents_of(db, cast["officer"], reference)
    assert listed == added
    _, content = document_content(db, cast["officer"], reference, added.id)
    assert content == PDF
    read = access_record(db, cast["manager"], reference)
    assert [(r.username, r.view) for r in read][:1] == [("officer", "document")]
    kept = next(folder.rglob(added.sha256))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert verify_audit(db, cast["manager"]).problems == ()
    kept.write_bytes(PDF + b"tampered")
    [problem] = verify_audit(db, cast["manager"]).problems
    assert "is not the one added" in problem.problem
    kept.unlink()
    assert "missing" in verify_audit(db, cast["manager"]).problems[0].problem
    with pytest.raises(NotFound):
        document_content(db, cast["officer"], reference, added.id)


def test_every_problem_at_once_and_nothing_kept(
    db: Database,
    cast: dict[str, Actor],
    open_sample: Callable[..., str],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = open_sample()
    with pytest.raises(InvalidInput) as refused:
        add_document(db, cast["officer"], reference, name="run-me.exe", content=b"MZ\x90", kind="virus")
    assert "kind: 'virus'" in str(refused.value) and "not a PDF" in str(refused.value)
    monkeypatch.setenv("DFG_DOCUMENTS_MAX_MB", "1")
    with pytest.raises(InvalidInput, match="at most 1 MB"):
        add_document(
            db,
            cast["officer"],
            reference,
            name="big.png",
            content=PNG + b"\x00" * (1024 * 1024),
            kind="photo",
        )
    with pytest.raises(PermissionDenied):
        add_document(db, cast["lichfield"], reference, name="x.png", content=PNG, kind="photo")
    assert documents_of(db, cast["officer"], reference) == []
    assert not folder.exists() or not any(folder.rglob("*"))


def test_disposal_takes_the_files(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], folder: Path
) -> None:
    reference = open_sample()
    add_document(db, cast["officer"], reference, name="Margaret Holt photo.png", content=PNG, kind="photo")
    advance(db, cast["officer"], reference, "cancel", TriggerInput(code="died", reason="Died"))
    later = utcnow() + timedelta(days=366 * 7)
    authorise_disposal(db, cast["manager"], [reference], now=later)
    dispose(db, cast["admin"], now=later)
    assert not any(p.is_file() for p in folder.rglob("*"))
    [kept] = documents_of(db, cast["manager"], reference)
    assert "Holt" not in kept.file_name
    assert verify_audit(db, cast["manager"]).problems == ()


def test_the_commands_beside_a_sqlite_file(
    tmp_path: Path,
    db_url: str,
    cast: dict[str, Actor],
    open_sample: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the default folder is beside a SQLite file")
    monkeypatch.delenv("DFG_DOCUMENTS")
    reference = open_sample()
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)

    def run(*args: str) -> object:
        return CliRunner().invoke(main, ["--db", db_url, "--as", "officer", *args])

    added = run("document", "add", reference, str(report), "--kind", "OT_Report")
    assert added.exit_code == 0 and "document 1 added (report.pdf, application/pdf" in added.stdout  # type: ignore[attr-defined]
    beside = Path(db_url.removeprefix("sqlite:///") + "-documents")
    assert beside.is_dir() and any(beside.rglob("*"))
    out = tmp_path / "out.pdf"
    got = run("document", "get", reference, "1", "-o", str(out))
    assert got.exit_code == 0 and out.read_bytes() == PDF  # type: ignore[attr-defined]
    listed = run("document", "list", reference)
    assert "report.pdf" in listed.stdout  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- withdrawing a document added in error


def _events(db: Database) -> int:
    with db.read_connection() as connection:
        return int(connection.scalar(select(func.count()).select_from(EVENTS)) or 0)


def test_a_withdrawn_document_stays_on_record_out_of_the_list_and_is_fetched_only_by_asking(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    wrong = add_document(db, cast["ot"], reference, name="Another report.pdf", content=PDF, kind="ot_report")
    kept = add_document(db, cast["ot"], reference, name="Holt report.pdf", content=PDF, kind="ot_report")
    done = withdraw_document(db, cast["officer"], reference, wrong.id, "  Another applicant's report  ")
    assert done.withdrawal is not None
    assert (done.withdrawal.by, done.withdrawal.reason) == ("officer", "Another applicant's report")
    assert [d.id for d in documents_of(db, cast["officer"], reference)] == [kept.id]
    every = documents_of(db, cast["officer"], reference, withdrawn=True)
    assert [(d.id, d.withdrawal is not None) for d in every] == [(wrong.id, True), (kept.id, False)]
    assert every[0].as_dict()["withdrawn"]["reason"] == "Another applicant's report"
    with pytest.raises(NotFound, match=r"was withdrawn on .*'dfg document get --withdrawn' fetches it"):
        document_content(db, cast["officer"], reference, wrong.id)
    assert document_content(db, cast["officer"], reference, wrong.id, withdrawn=True)[1] == PDF
    entry = history(db, cast["officer"], reference)[-1]
    assert (entry.kind, entry.reason) == ("document_withdrawn", "Another applicant's report")
    with db.read_connection() as connection:  # the reason is sealed: never in the hashed event
        stored = connection.scalar(select(EVENTS.c.reason).where(EVENTS.c.kind == "document_withdrawn"))
    assert str(stored).startswith("$sealed:")
    assert verify_audit(db, cast["manager"]).problems == ()


def test_a_withdrawal_needs_a_reason_a_document_still_listed_and_a_role_and_changes_nothing_when_refused(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    added = add_document(db, cast["ot"], reference, name="report.pdf", content=PDF, kind="ot_report")
    withdraw_document(db, cast["officer"], reference, added.id, "Wrong case")
    other = add_document(db, cast["ot"], reference, name="photo.png", content=PNG, kind="photo")
    before = _events(db)
    with pytest.raises(InvalidInput, match="--reason: say why the document is withdrawn"):
        withdraw_document(db, cast["officer"], reference, other.id, "   ")
    with pytest.raises(InvalidInput, match="2,000 characters"):
        withdraw_document(db, cast["officer"], reference, other.id, "x" * 2001)
    with pytest.raises(GuardFailed, match="already withdrawn"):
        withdraw_document(db, cast["officer"], reference, added.id, "Again")
    with pytest.raises(NotFound, match="has no document 99"):
        withdraw_document(db, cast["officer"], reference, 99, "No such")
    with pytest.raises(PermissionDenied):  # another district's case
        withdraw_document(db, cast["lichfield"], reference, other.id, "Not mine")
    assert _events(db) == before


def test_the_commands_withdraw_and_list_all(
    db_url: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], tmp_path: Path
) -> None:
    reference = open_sample()
    added = add_document(db, cast["ot"], reference, name="report.pdf", content=PDF, kind="ot_report")

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["--db", db_url, "--as", "officer", *args])

    missing = run("document", "withdraw", reference, str(added.id), "--reason", "")
    assert (missing.exit_code, missing.stderr) == (8, "dfg: --reason: say why the document is withdrawn\n")
    done = run("document", "withdraw", reference, str(added.id), "--reason", "Wrong case", "--json")
    assert done.exit_code == 0 and json.loads(done.stdout)["withdrawn"]["reason"] == "Wrong case"
    assert "report.pdf" not in run("document", "list", reference).stdout
    listed = run("document", "list", reference, "--all")
    assert "withdrawn" in listed.stdout and "by officer: Wrong case" in listed.stdout
    refused = run("document", "get", reference, str(added.id), "-o", str(tmp_path / "x.pdf"))
    assert refused.exit_code == 3 and "was withdrawn on" in refused.stderr
    fetched = run("document", "get", reference, str(added.id), "--withdrawn", "-o", str(tmp_path / "x.pdf"))
    assert fetched.exit_code == 0 and (tmp_path / "x.pdf").read_bytes() == PDF
