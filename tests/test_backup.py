"""Backups of a SQLite database while it is in use, putting one back, and the copy taken before an
upgrade: each copy is checked (integrity and the audit trail) before it is called a backup."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from dfg.errors import AuditFailure, DatabaseProblem, InvalidInput, PermissionDenied
from dfg.services.case_reading import show_case
from dfg.store.database import SCHEMA_HEAD, Database
from dfg.store.migrate import upgrade
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput


@pytest.fixture
def run(db_url: str, cast: dict[str, Actor]) -> Callable[..., Result]:
    def invoke(*args: str, user: str = "admin") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])

    return invoke


@pytest.fixture
def live(db: Database) -> Path:
    if db.sqlite_path is None:
        pytest.skip("PostgreSQL is backed up with pg_dump (test_postgresql_is_backed_up_with_its_own_tools)")
    return db.sqlite_path


def _events(path: Path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])


def test_a_backup_is_a_checked_copy_for_its_owner_only(
    run: Callable[..., Result], live: Path, open_sample: Callable[..., str], tmp_path: Path
) -> None:
    open_sample()
    target = tmp_path / "copy.sqlite"
    result = run("db", "backup", str(target), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["schema"], report["events"]) == (SCHEMA_HEAD, _events(live))
    assert _events(target) == _events(live)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not Path(f"{target}-wal").exists()  # one self-contained file
    again = run("db", "backup", str(target))
    assert (again.exit_code, again.stderr) == (
        InvalidInput.exit_code,
        f"dfg: {target} exists already: a backup never overwrites another\n",
    )
    officer = run("db", "backup", str(tmp_path / "mine.sqlite"), user="officer")
    assert officer.exit_code == PermissionDenied.exit_code
    assert not (tmp_path / "mine.sqlite").exists()


def test_postgresql_is_backed_up_with_its_own_tools(
    run: Callable[..., Result], db: Database, tmp_path: Path
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite is backed up by dfg itself")
    refused = run("db", "backup", str(tmp_path / "copy.sqlite"))
    assert (refused.exit_code, refused.stderr) == (
        InvalidInput.exit_code,
        "dfg: a PostgreSQL database is backed up with pg_dump and restored with pg_restore "
        "(see the administrator's guide)\n",
    )


def test_restoring_puts_the_backup_back_and_keeps_what_it_replaces(
    run: Callable[..., Result],
    live: Path,
    db: Database,
    cast: dict[str, Actor],
    open_sample: Callable[..., str],
    tmp_path: Path,
) -> None:
    from dfg.services.cases import advance

    reference = open_sample()
    backup = tmp_path / "before.sqlite"
    assert run("db", "backup", str(backup)).exit_code == 0
    advance(db, cast["officer"], reference, "accept_referral", TriggerInput(on=date.today()))
    changed = _events(live)
    result = run("db", "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.stderr
    kept = Path(result.stderr.splitlines()[0].removeprefix("kept the database as it was in "))
    assert kept.parent == live.parent and _events(kept) == changed  # nothing recorded is lost for good
    assert _events(live) == _events(backup) == changed - 1
    assert show_case(db, cast["officer"], reference).state == "referral"
    assert run("audit", "verify", user="manager").exit_code == 0


def _tampered_backup(run: Callable[..., Result], tmp_path: Path) -> Path:
    """A backup whose audit trail was edited after it was taken."""
    backup = tmp_path / "tampered.sqlite"
    assert run("db", "backup", str(backup)).exit_code == 0
    with closing(sqlite3.connect(backup)) as connection:
        connection.execute("DROP TRIGGER events_no_update")
        connection.execute("UPDATE events SET actor = 'someone else' WHERE seq = 1 AND stream <> 'system'")
        connection.commit()
    return backup


def test_a_backup_whose_audit_trail_was_edited_is_not_restored(
    run: Callable[..., Result], live: Path, open_sample: Callable[..., str], tmp_path: Path
) -> None:
    open_sample()
    backup = _tampered_backup(run, tmp_path)
    before = live.read_bytes()
    result = run("db", "restore", str(backup), "--yes")
    assert result.exit_code == AuditFailure.exit_code
    assert result.stderr.startswith(f"dfg: the audit trail in {backup} is broken: ")
    assert live.read_bytes() == before


def test_a_damaged_file_is_neither_a_backup_nor_restored(
    run: Callable[..., Result], live: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    result = run("db", "restore", str(junk), "--yes")
    assert result.exit_code == DatabaseProblem.exit_code
    assert result.stderr.startswith(f"dfg: {junk} ")


def test_a_restore_is_refused_before_its_question_is_asked(
    run: Callable[..., Result], live: Path, open_sample: Callable[..., str], tmp_path: Path
) -> None:
    open_sample()
    tampered = _tampered_backup(run, tmp_path)
    before = live.read_bytes()
    for source, code in (
        (tmp_path / "missing.sqlite", InvalidInput.exit_code),
        (tmp_path / ("x" * 300), InvalidInput.exit_code),
        (tampered, AuditFailure.exit_code),
    ):
        result = CliRunner().invoke(
            main, ["--db", f"sqlite:///{live}", "--as", "admin", "db", "restore", str(source)], input="y\n"
        )
        assert result.exit_code == code, result.stderr
        assert "Replace" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert live.read_bytes() == before


def test_upgrading_a_sqlite_database_backs_it_up_first(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = Database(f"sqlite:///{path}")
    upgrade(old, "0005")
    old.dispose()
    result = CliRunner().invoke(main, ["--db", str(path), "db", "upgrade"])
    assert result.exit_code == 0, result.stderr
    first, second = result.stderr.splitlines()
    copy = Path(first.removeprefix("backed up to ").split(" (")[0])
    assert copy.name.startswith("old.sqlite.0005-") and copy.name.endswith(".bak")
    assert first.endswith("(0 events, audit trail intact)")
    assert second == f"schema 0005 -> {SCHEMA_HEAD}"
    with closing(sqlite3.connect(copy)) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)
    again = CliRunner().invoke(main, ["--db", str(path), "db", "upgrade"])
    assert again.stderr == f"already up to date (schema {SCHEMA_HEAD})\n"  # nothing changed, no copy


def test_a_damaged_database_is_kept_byte_for_byte_before_it_is_replaced(tmp_path: Path) -> None:
    """Restoring may be because the database is damaged: what it held is still kept before it goes."""
    from dfg.store.backup import keep_as_it_is

    damaged = tmp_path / "dfg.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    kept = tmp_path / "dfg.sqlite.kept.bak"
    keep_as_it_is(damaged, kept)
    assert kept.read_bytes() == damaged.read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
