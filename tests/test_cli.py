"""The command line: exact output, JSON on stdout, and bad input as one line with a stable exit code."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text

from cli import main
from dfg.services.identity import running_principal
from dfg.store.database import SCHEMA_HEAD, Database
from dfg.store.models import APPOINTMENTS, Case, Event, User
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str | None = "officer") -> Result:
        prefix = ["--db", db_url] + (["--as", user] if user else [])
        return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)

    return invoke


def _state(db: Database) -> tuple[list[tuple[str, str, int]], int]:
    with db.reading() as session:
        cases = [
            tuple(r)
            for r in session.execute(select(Case.reference, Case.state, Case.version).order_by(Case.id))
        ]
        return cases, int(session.scalar(select(func.count()).select_from(Event)) or 0)  # type: ignore[misc]


def test_new_show_advance_history(run: Callable[..., Result], cast: dict[str, Actor]) -> None:
    new = run("case", "new", "--district", "can", "--applicant", "Margaret Holt", "--title", "Mrs", "--dob",
              "12/05/1946", "--address", "12 Mill Lane", "--town", "Cannock", "--postcode", "ws11 1aa",
              "--tenure", "owner", "--first-contact", "2026-01-05")  # fmt: skip
    assert (new.exit_code, new.stdout, new.stderr) == (0, "CAN-2026-0001\n", "")
    advanced = run("case", "advance", "can-2026-1", "accept_referral", "--date", "07/01/2026")
    assert advanced.exit_code == 0
    assert (
        advanced.stdout == "CAN-2026-0001: accept_referral (referral -> awaiting_assessment) on 07/01/2026\n"
    )
    assert advanced.stderr == "letters: acknowledgement\n"
    shown = json.loads(run("case", "show", "CAN-2026-0001", "--json").stdout)
    assert shown["state"] == "awaiting_assessment" and shown["stage"] == 1
    assert shown["address"] == ["12 Mill Lane", "Cannock", "WS11 1AA"]
    assert shown["people"][0]["name"] == "Mrs Margaret Holt"
    assert shown["milestones"] == {"first_contact_date": "2026-01-05"}
    text = run("case", "show", "CAN-2026-0001").stdout
    assert text.splitlines()[0] == "CAN-2026-0001  Awaiting OT assessment (stage 1)"
    events = json.loads(run("case", "history", "CAN-2026-0001", "--json").stdout)
    assert [e["trigger"] or e["kind"] for e in events] == ["case_opened", "accept_referral"]
    assert events[1]["payload"]["effective_date"] == "2026-01-07"
    listed = json.loads(run("case", "list", "--stage", "1", "--json").stdout)
    assert [c["reference"] for c in listed] == ["CAN-2026-0001"]
    assert json.loads(run("case", "list", "--stage", "2", "--json").stdout) == []


def test_actions_as_text(run: Callable[..., Result], open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    result = run("case", "actions", reference, user="ot")
    assert result.stdout.splitlines()[:2] == [
        "no   accept_referral             Accept the referral and request an OT assessment",
        "       - needs the role Grant officer; ot has not",
    ]


def test_help_and_version_never_touch_the_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"
    for args in (["--help"], ["--version"], ["case", "advance", "--help"], ["workflow", "lint"]):
        result = CliRunner().invoke(main, ["--db", str(missing), *args])
        assert result.exit_code == 0, (args, result.stderr)
    assert not missing.exists()


def test_users_and_districts(run: Callable[..., Result], cast: dict[str, Actor]) -> None:
    added = run(
        "user",
        "add",
        "pkhan",
        "--name",
        "Priya Khan",
        "--role",
        "approver",
        "--limit",
        "15,000",
        user="admin",
    )
    assert (added.exit_code, added.stderr) == (0, "added user pkhan (approver)\n")
    users = {u["username"]: u for u in json.loads(run("user", "list", "--json").stdout)}
    assert users["pkhan"]["approval_limit_pence"] == 15_000_00
    denied = run("user", "add", "eve", "--name", "Eve", "--role", "admin", user="officer")
    assert (denied.exit_code, denied.stderr) == (6, "dfg: officer needs the role admin to do this\n")
    assert run("district", "list").stdout.splitlines()[2:] == ["CAN   Cannock Chase", "LIC   Lichfield"]


BAD_INPUT = [
    # (arguments, user, exit code, the one line on stderr)
    (["case", "show", "CAN-2026-0999"], "officer", 3, "dfg: no case CAN-2026-0999"),
    (["case", "show", "not-a-ref"], "officer", 8, "dfg: 'not-a-ref' is not a case reference (like CAN-2026-0042)"),
    (["case", "advance", "{ref}", "fly"], "officer", 4, "dfg: unknown trigger 'fly' (known: accept_referral, "),
    (["case", "advance", "{ref}", "approve"], "approver", 4,
     "dfg: cannot approve: not possible while the case is 'Referral received'"),
    (["case", "advance", "{ref}", "accept_referral"], "ot", 6,
     "dfg: cannot accept_referral: needs the role Grant officer; ot has not"),
    (["case", "advance", "{ref}", "accept_referral"], "lichfield", 6,
     "dfg: lichfield works for district LIC; CAN-2026-0001 is in CAN"),
    (["case", "advance", "{ref}", "accept_referral", "--date", "2026-13-01"], "officer", 8,
     "dfg: --date: '2026-13-01' is not a date (use 2026-03-31 or 31/03/2026)"),
    (["case", "advance", "{ref}", "cancel", "--code", "died"], "officer", 8,
     "dfg: cannot cancel: a --reason is required"),
    (["case", "hold", "{ref}", "--code", "hospital", "--reason", "x", "--review-date", "soon"], "officer", 8,
     "dfg: --review-date: 'soon' is not a date (use 2026-03-31 or 31/03/2026)"),
    (["user", "add", "x", "--name", "X", "--role", "approver", "--limit", "ten pounds"], "admin", 8,
     "dfg: --limit: 'ten pounds' is not an amount in pounds (e.g. 1234.50)"),
    (["user", "add", "x", "--name", "X", "--role", "approver", "--limit", "-5"], "admin", 8,
     "dfg: --limit: '-5' must not be negative"),
    (["case", "list"], "ghost", 6, "dfg: {principal} may act only as admin, approver, lichfield, manager, officer, ot, technical, not as 'ghost'"),
    (["case", "list"], None, 6, "dfg: say who you are: --as USER or the DFG_USER environment variable"),
    (["case", "list", "--stage", "9"], "officer", 8, "dfg: stage must be 0 to 4"),
    (["case", "advance", "{ref}"], "officer", 2,
     "dfg: Missing argument 'TRIGGER'. (see 'main case advance --help')"),
    (["assess", "appoint", "{ref}", "--at", "next Tuesday", "--assessor", "R A", "--organisation", "SCC"], "ot", 8,
     "dfg: --at: 'next Tuesday' is not a date and time (use 2026-03-31 14:30 or 31/03/2026 14:30)"),
    (["assess", "appoint", "{ref}", "--at", "2099-01-05 10:00", "--assessor", "R A", "--organisation", "SCC"],
     "ot", 4, "dfg: cannot book_assessment: not possible while the case is 'Referral received'"),
    (["assess", "appoint", "{ref}", "--at", "2026-01-05 10:00", "--assessor", "R A", "--organisation", "SCC"],
     "ot", 8, "dfg: --at: 05/01/2026 10:00 has passed; an appointment is booked ahead"),
    (["case", "postal-address", "{ref}", "--address", "4 Market Street"], "officer", 8,
     "dfg: a postal address needs its first line, town and postcode"),
    (["case", "postal-address", "{ref}"], "officer", 8,
     "dfg: give either the address (--address, --town, --postcode) or --clear"),
    (["case", "postal-address", "{ref}", "--clear", "--town", "Lichfield"], "officer", 8,
     "dfg: give either the address (--address, --town, --postcode) or --clear"),
    (["case", "postal-address", "{ref}", "--clear"], "ot", 6, "dfg: "),
    (["case", "new", "--district", "CAN", "--applicant", "Lee Landlord", "--address", "1 Mill Lane", "--town", "Cannock",
      "--postcode", "WS11 1AA", "--tenure", "landlord", "--postal-town", "Lichfield"], "officer", 8,
     "dfg: a postal address needs its first line, town and postcode"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "user", "code", "line"), BAD_INPUT, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD_INPUT)]
)
def test_bad_input_is_one_line_a_stable_code_and_changes_nothing(
    run: Callable[..., Result], db: Database, open_sample: Callable[..., str],
    args: list[str], user: str | None, code: int, line: str,
) -> None:  # fmt: skip
    reference = open_sample()
    before = _state(db)
    result = run(*(a.replace("{ref}", reference) for a in args), user=user)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(line.replace("{principal}", str(running_principal(db)))), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert _state(db) == before


def test_guard_failure_names_the_guard(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(dob=None)
    for trigger, who in [("accept_referral", "officer"), ("record_assessment", "ot"),
                         ("complete_test_of_resources", "officer"), ("receive_application", "officer")]:  # fmt: skip
        take_step(db, cast, reference, trigger, who, TriggerInput())
    before = _state(db)
    result = run("case", "advance", reference, "validate_application")
    assert (result.exit_code, result.stderr) == (
        5,
        "dfg: cannot validate_application: applicant_is_adult: the applicant's date of birth "
        "(Mrs Margaret Holt) is not recorded\n",
    )
    assert _state(db) == before


def test_database_problems(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["--db", str(tmp_path / "no.sqlite"), "--as", "x", "case", "list"])
    assert (missing.exit_code, missing.stderr) == (
        9,
        f"dfg: no database at {tmp_path / 'no.sqlite'}: run 'dfg db upgrade' to create it\n",
    )
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    refused = runner.invoke(main, ["--db", str(junk), "--as", "x", "case", "list"])
    assert (refused.exit_code, refused.stderr) == (9, f"dfg: the database {junk} is not a DFG database\n")
    assert junk.read_bytes() == b"not a database at all" * 100


def test_db_upgrade_creates_and_reports(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    first = CliRunner().invoke(main, ["--db", str(path), "db", "upgrade"])
    assert (first.exit_code, first.stderr) == (0, f"schema none -> {SCHEMA_HEAD}\n")
    again = CliRunner().invoke(main, ["--db", str(path), "db", "upgrade"])
    assert again.stderr == f"already up to date (schema {SCHEMA_HEAD})\n"
    status = json.loads(CliRunner().invoke(main, ["--db", str(path), "db", "status", "--json"]).stdout)
    assert status["schema"] == status["expected"] == SCHEMA_HEAD


def test_a_new_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Health and financial data: a new SQLite file and its -wal and -shm are 0600 whatever the umask (0660
    in a folder shared with a group of dfg users), and db status warns about a file anyone can read."""
    path = tmp_path / "new.sqlite"
    old_umask = os.umask(0o022)  # the usual default, under which files are created readable by all
    try:
        assert CliRunner().invoke(main, ["--db", str(path), "db", "upgrade"]).exit_code == 0
        with sqlite3.connect(path) as held:  # keep the -wal and -shm files in being while they are checked
            held.execute("SELECT count(*) FROM cases").fetchone()
            made = [p for p in (path, tmp_path / "new.sqlite-wal", tmp_path / "new.sqlite-shm") if p.exists()]
            assert len(made) == 3
            assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in made} == {p.name: 0o600 for p in made}
    finally:
        os.umask(old_umask)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o770)
    shared.chmod(0o2770)  # a dfg group's folder, as the administrator's guide sets it up
    assert CliRunner().invoke(main, ["--db", str(shared / "dfg.sqlite"), "db", "upgrade"]).exit_code == 0
    assert stat.S_IMODE((shared / "dfg.sqlite").stat().st_mode) == 0o660
    quiet = CliRunner().invoke(main, ["--db", str(path), "db", "status"])
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    path.chmod(0o644)
    warned = CliRunner().invoke(main, ["--db", str(path), "db", "status", "--json"])
    readable = json.loads(warned.stdout)["readable_by_others"]
    # its -wal too, if SQLite made one meanwhile: it takes the database file's permissions
    assert readable[0] == str(path) and set(readable) <= {str(path), f"{path}-wal", f"{path}-shm"}
    assert warned.stderr.splitlines()[0] == (
        f"dfg: warning: {path} can be read by anyone on this machine: chmod o-rwx it"
    )


def test_first_user_must_be_an_admin(tmp_path: Path) -> None:
    path = str(tmp_path / "new.sqlite")
    CliRunner().invoke(main, ["--db", path, "db", "upgrade"])
    refused = CliRunner().invoke(
        main, ["--db", path, "user", "add", "jo", "--name", "Jo", "--role", "grant_officer"]
    )
    assert (refused.exit_code, refused.stderr) == (
        6,
        "dfg: the first user of a new database must have the admin role\n",
    )
    made = CliRunner().invoke(
        main, ["--db", path, "user", "add", "root", "--name", "Root", "--role", "admin"]
    )
    assert made.exit_code == 0
    database = Database.open(path)
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
    database.dispose()


def test_audit_verify_exit_codes(run: Callable[..., Result], open_sample: Callable[..., str]) -> None:
    open_sample()
    ok = run("audit", "verify", user="manager")
    assert (ok.exit_code, ok.stdout) == (0, "")
    assert ok.stderr.endswith("event(s) checked: intact\n")
    assert run("audit", "verify", "CAN-2026-0404", user="manager").exit_code == 3


def test_upgrade_refuses_a_newer_database(db_url: str, db: Database) -> None:
    with db.write_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    result = CliRunner().invoke(main, ["--db", db_url, "db", "upgrade"])
    assert result.exit_code == 9
    assert result.stderr.endswith("was made by a newer version of dfg (schema 0099): upgrade dfg\n")


def test_a_bug_is_one_line_not_a_traceback(
    run: Callable[..., Result], cast: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dfg.services.case_reading as cases

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(cases, "list_cases", broken)
    monkeypatch.delenv("DFG_DEBUG", raising=False)
    result = run("case", "list")
    assert (result.exit_code, result.stderr) == (
        70,
        "dfg: unexpected error (KeyError: 'boom'); set DFG_DEBUG=1 to see where\n",
    )


def test_a_landlord_gets_letters_at_their_own_address_and_an_appointment_is_booked(
    run: Callable[..., Result], db: Database, open_sample: Callable[..., str], cast: dict[str, Actor]
) -> None:
    new = run("case", "new", "--district", "CAN", "--applicant", "Lee Price", "--address", "1 Mill Lane",
              "--town", "Cannock", "--postcode", "WS11 1AA", "--tenure", "landlord", "--occupant", "Ann Lowe",
              "--postal-address", "4 Market Street", "--postal-town", "Lichfield", "--postal-postcode", "ws13 6lq")  # fmt: skip
    assert new.exit_code == 0, new.stderr
    reference = new.stdout.strip()
    shown = run("case", "show", reference).stdout
    assert "    letters to: 4 Market Street, Lichfield, WS13 6LQ" in shown
    moved = run("case", "postal-address", reference, "--address", "9 Bore Street", "--town", "Lichfield",
                "--postcode", "WS13 6LL")  # fmt: skip
    assert moved.stdout == f"{reference}: letters to the applicant go to 9 Bore Street, Lichfield, WS13 6LL\n"
    cleared = run("case", "postal-address", reference, "--clear")
    assert cleared.stdout == f"{reference}: letters to the applicant go to the home to be adapted\n"
    assert "letters to:" not in run("case", "show", reference).stdout
    assert [e["kind"] for e in json.loads(run("case", "history", reference, "--json").stdout)][-2:] == [
        "postal_address_changed", "postal_address_changed",
    ]  # fmt: skip

    assert run("case", "advance", reference, "accept_referral").exit_code == 0
    booked = run("assess", "appoint", reference, "--at", "2099-01-06 10:30", "--assessor", "Ruth Ashley",
                 "--organisation", "Staffordshire County Council", user="ot")  # fmt: skip
    assert booked.exit_code == 0, booked.stderr
    assert booked.stdout.startswith(f"{reference}: book_assessment (awaiting_assessment) on ")
    assert booked.stderr == "letters: assessment_appointment\n"
    with db.read_connection() as connection:  # the booking's own defaults, as no --role or --where was given
        row = connection.execute(select(APPOINTMENTS)).one()
    assert (row.assessor_role, row.location) == ("occupational therapist", "At your home")
