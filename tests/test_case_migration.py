"""Open cases brought in from another system (dfg import cases --mapping): read through a column mapping,
opened at the state they stand in there with the dates that system kept, all or none."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from cli import main
from dfg.services.audit import verify_audit
from dfg.services.case_history import history
from dfg.services.case_reading import view_case
from dfg.services.clocks import case_clocks_for
from dfg.services.letter_queue import read_queue
from dfg.store.database import Database
from dfg.store.models import Case, Event
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import MAIN_PATH, take_step

LEGACY_HEADER = ["Case No", "Area", "Tenure type", "Client name", "DOB", "Address 1", "Town", "Post code",
                 "Referred", "Status", "OT visit", "Means test done", "Application in", "Application valid",
                 "Officer notes"]  # fmt: skip
LEGACY_ROWS = [
    ["OLD-101", "Cannock Chase", "Owner occupier", "Mrs Margaret Holt", "12/05/1946", "12 Mill Lane", "Cannock",
     "WS11 1AA", "05/01/2026", "Waiting for OT", "", "", "", "", "call before visiting"],
    ["OLD-102", "Cannock Chase", "Council tenant", "Arthur Price", "01/02/1950", "3 Church Street", "Hednesford",
     "WS12 4DL", "10/01/2026", "Means test", "02/03/2026", "", "", "", ""],
    ["OLD-103", "Cannock Chase", "Owner occupier", "Tom Baker", "04/03/1960", "4 Station Road", "Rugeley",
     "WS15 2HQ", "12/01/2026", "Valid - awaiting decision", "02/02/2026", "16/02/2026", "02/03/2026", "09/03/2026",
     ""],
]  # fmt: skip
MAPPING = """
# The legacy system's spreadsheet, read as the import's columns.
[columns]
legacy_reference = "Case No"
district = "Area"
tenure = "Tenure type"
applicant = "Client name"
date_of_birth = "DOB"
address = "Address 1"
postcode = "Post code"
first_contact = "Referred"
state = "Status"
assessment_date = "OT visit"
test_of_resources_date = "Means test done"
application_received_date = "Application in"
valid_application_date = "Application valid"

[values.district]
"Cannock Chase" = "CAN"

[values.tenure]
"Owner occupier" = "owner"
"Council tenant" = "tenant"

[values.state]
"Waiting for OT" = "awaiting_assessment"
"Means test" = "test_of_resources"
"Valid - awaiting decision" = "application_valid"

[ignore]
columns = ["Officer notes"]
"""


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str = "officer") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args], catch_exceptions=False)

    return invoke


def _files(tmp_path: Path, rows: list[list[str]], mapping: str = MAPPING) -> tuple[str, str]:
    sheet, rules = tmp_path / "legacy.csv", tmp_path / "legacy.toml"
    with sheet.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([LEGACY_HEADER, *rows])
    rules.write_text(mapping, encoding="utf-8")
    return str(sheet), str(rules)


def _counts(db: Database) -> tuple[int, int]:
    with db.reading() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Case)) or 0),
            int(session.scalar(select(func.count()).select_from(Event)) or 0),
        )


def test_cases_come_in_at_their_state_with_their_dates(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    sheet, rules = _files(tmp_path, LEGACY_ROWS)
    result = run("import", "cases", sheet, "--mapping", rules, "--json")
    assert result.exit_code == 0, result.stderr
    waiting, means_test, valid = json.loads(result.stdout)["opened"]
    officer = cast["officer"]
    assert view_case(db, officer, waiting).state == "awaiting_assessment"
    price = view_case(db, officer, means_test)
    assert (price.state, price.tenure) == ("test_of_resources", "tenant")
    assert price.milestones["assessment_date"] == date(2026, 3, 2)
    baker = view_case(db, officer, valid)
    assert baker.state == "application_valid"
    assert {k: baker.milestones[k] for k in ("first_contact_date", "assessment_date", "test_of_resources_date",
            "application_received_date", "valid_application_date")} == {
        "first_contact_date": date(2026, 1, 12), "assessment_date": date(2026, 2, 2),
        "test_of_resources_date": date(2026, 2, 16), "application_received_date": date(2026, 3, 2),
        "valid_application_date": date(2026, 3, 9),
    }  # fmt: skip

    # the history says where it came from; the clocks count from the dates the other system kept
    opened, migrated = history(db, officer, valid)
    assert (opened.kind, migrated.kind, migrated.from_state, migrated.to_state) == (
        "case_opened", "migrated", "referral", "application_valid",
    )  # fmt: skip
    assert migrated.detail == "brought in from legacy.csv row 4 (was OLD-103)"
    clocks = {c.name: c for c in case_clocks_for(db, officer, valid, today=date(2026, 4, 1))}
    assert (clocks["decision_due"].start, clocks["decision_due"].due) == (date(2026, 3, 9), date(2026, 9, 9))
    stage_1 = clocks["stage_1_target"]  # from first contact: the other system kept no acceptance date
    assert (stage_1.start, stage_1.stopped) == (date(2026, 1, 12), date(2026, 2, 2))

    # found by the number on the old file, which the case shows
    found = run("case", "find", "old-103", "--json")
    assert [f["reference"] for f in json.loads(found.stdout)] == [valid], found.stderr
    assert baker.legacy_reference == "OLD-103"
    assert "Brought in:   from another system, where it was OLD-103" in run("case", "show", valid).stdout

    # no letters for steps taken elsewhere; the chains and the tables agree
    assert read_queue(db, officer).steps == []
    report = verify_audit(db, cast["manager"])
    assert report.problems == (), report.problems


def test_a_case_brought_in_goes_on_along_the_path(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    sheet, rules = _files(tmp_path, LEGACY_ROWS[1:2])
    result = run("import", "cases", sheet, "--mapping", rules)
    assert result.exit_code == 0, result.stderr
    reference = result.stdout.strip()
    start = [trigger for trigger, _ in MAIN_PATH].index("complete_test_of_resources")
    for trigger, who in MAIN_PATH[start : start + 5]:  # its means test and estimates here, then approved
        take_step(db, cast, reference, trigger, who, TriggerInput())
    assert view_case(db, cast["officer"], reference).state == "works_ordered"
    assert verify_audit(db, cast["manager"]).problems == ()


def test_a_case_brought_in_with_a_valid_application_is_approved_once_its_records_are_made(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    from dfg.services.assessment import run_means_test
    from tests.conftest import APPROVED_GRANT, HOUSEHOLD, approve

    sheet, rules = _files(tmp_path, LEGACY_ROWS[2:])
    reference = run("import", "cases", sheet, "--mapping", rules).stdout.strip()
    run_means_test(db, cast["officer"], reference, HOUSEHOLD)
    assert approve(db, cast, reference, APPROVED_GRANT) == "approved"
    assert view_case(db, cast["officer"], reference).milestones["valid_application_date"] == date(2026, 3, 9)
    assert verify_audit(db, cast["manager"]).problems == ()


def test_every_problem_is_said_and_nothing_is_opened(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    approved = [*LEGACY_ROWS[0][:9], "approved", *LEGACY_ROWS[0][10:]]
    no_valid_date = [*LEGACY_ROWS[2][:13], "", ""]
    out_of_order = [*LEGACY_ROWS[1][:10], "01/01/2026", "05/03/2026", "", "", ""]
    too_far = [*LEGACY_ROWS[0][:12], "03/03/2026", "", ""]
    bad = [approved, no_valid_date, out_of_order, too_far]
    for n, row in enumerate(bad):
        row[0] = f"BAD-{n}"  # each its own old reference
    sheet, rules = _files(tmp_path, [LEGACY_ROWS[1], *bad])
    before = _counts(db)
    result = run("import", "cases", sheet, "--mapping", rules)
    assert result.exit_code == 8 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("dfg: row 3, column Status: 'approved' is not a state a case may be brought in at: "
                               "referral (Referral received), awaiting_assessment (Awaiting OT assessment)")  # fmt: skip
    assert lines[1:] == [
        "dfg: row 4, column Application valid: a case at 'Formal application: valid, awaiting decision' needs "
        "its valid application date",
        "dfg: row 5, column OT visit: 01/01/2026 is before the first contact (10/01/2026)",
        "dfg: row 5, column Means test done: the case is test of resources: it has no test of resources date yet",
        "dfg: row 6, column Application in: the case is awaiting assessment: it has no application received "
        "date yet",
        "dfg: 5 problem(s) in 5 row(s): nothing was opened",
    ]
    assert _counts(db) == before  # the good first row was not opened either


def test_a_mapping_is_checked_before_anything_is_read(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    wrong = '[columns]\nsurname = "Client name"\nstate = 3\n[values.colour]\nred = "blue"\n[extra]\n'
    before = _counts(db)
    sheet, rules = _files(tmp_path, LEGACY_ROWS, wrong)
    result = run("import", "cases", sheet, "--mapping", rules)
    assert result.exit_code == 8
    assert result.stderr == (
        "dfg: legacy.toml: [extra] is not a part of a mapping (columns, values, ignore); legacy.toml: [columns] "
        "'surname' is not a column the import reads (see 'dfg import cases --help'); legacy.toml: [columns] "
        "state: give their column's header as text; legacy.toml: [values.colour] 'colour' is not a column the "
        "import reads\n"
    )
    (tmp_path / "legacy.toml").write_text("[columns\n", encoding="utf-8")
    broken = run("import", "cases", sheet, "--mapping", rules)
    assert broken.exit_code == 8 and broken.stderr.startswith("dfg: legacy.toml: not a TOML file: ")
    # without the mapping the other system's headers are refused, by name
    plain = run("import", "cases", sheet)
    assert (
        "dfg: row 1: column 'Case No' is not one the import reads (see 'dfg import cases --help')"
        in plain.stderr
    )
    assert _counts(db) == before and before[0] == 0


def test_a_dry_run_brings_nothing_in(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    sheet, rules = _files(tmp_path, LEGACY_ROWS)
    before = _counts(db)
    result = run("import", "cases", sheet, "--mapping", rules, "--dry-run")
    assert (result.exit_code, result.stderr) == (0, "would open 3 case(s)\n")
    assert _counts(db) == before


def test_the_file_name_is_sealed_on_the_chain(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    sheet, rules = _files(tmp_path, LEGACY_ROWS[2:])
    named = Path(sheet).rename(tmp_path / "Tom Baker.csv")
    assert run("import", "cases", str(named), "--mapping", rules).exit_code == 0
    with db.reading() as session:
        payload = session.scalars(select(Event.payload).where(Event.kind == "migrated")).one()
    assert "Tom Baker" not in payload and '"row":2' in payload.replace(" ", "")


def test_rows_of_one_file_are_checked_against_each_other_and_the_old_references(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    header = ["district", "tenure", "address", "town", "postcode", "applicant", "date of birth", "duplicate",
              "legacy reference"]  # fmt: skip
    rows = [
        header,
        ["CAN", "owner", "1 Elm Road", "Cannock", "WS11 1AA", "Ann Lee", "01/02/1950", "yes", "A-1"],
        ["CAN", "owner", "2 Elm Road", "Cannock", "WS11 1AB", "Ann Lee", "", "", "a-1"],  # no date of birth
        ["CAN", "owner", "3 Elm Road", "Cannock", "WS11 1AD", "Bob Day", "", "", "X" * 41],
    ]
    with (tmp_path / "f.csv").open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    result = run("import", "cases", str(tmp_path / "f.csv"))
    assert result.exit_code == 8
    assert result.stderr.splitlines()[:-1] == [
        "dfg: row 3: the same applicant as row 2: put yes in its duplicate column if it is a separate need",
        "dfg: row 3, column legacy reference: 'a-1' is also the old reference of row 2",
        "dfg: row 4, column legacy reference: longer than 40 characters",
    ]
    assert _counts(db)[0] == 0


def test_a_case_list_read_back_opens_new_referrals_whatever_its_state_column_says(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    header = ["reference", "state", "district", "tenure", "address", "town", "postcode", "applicant"]
    rows = [header, ["CAN-2025-0001", "awaiting_assessment", "CAN", "owner", "1 Elm Road", "Cannock", "WS11 1AA",
                     "Ann Lee"]]  # fmt: skip
    with (tmp_path / "list.csv").open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    result = run("import", "cases", str(tmp_path / "list.csv"))
    assert result.exit_code == 0, result.stderr
    assert view_case(db, cast["officer"], result.stdout.strip()).state == "referral"


def test_many_cases_of_two_districts_open_at_once_with_their_references_in_order(
    db: Database, cast: dict[str, Actor]
) -> None:
    from dfg.services.case_opening import open_cases
    from dfg.services.identity import user_actor
    from dfg.services.users import add_user
    from tests.conftest import sample_case

    add_user(db, "admin", username="county", full_name="County Officer", roles=["grant_officer"])
    both = [
        sample_case(district, address_line_1=f"{n} Mill Lane", allow_duplicate=True, unassigned=True)
        for n in range(1_100)
        for district in ("CAN", "LIC")
        if (n + (district == "LIC")) % 2 == 0 or n < 10
    ]  # more than two chunks of 500, the districts interleaved
    references = open_cases(db, user_actor(db, "county"), both)
    for district in ("CAN", "LIC"):
        numbers = [int(r.rsplit("-", 1)[1]) for r in references if r.startswith(district)]
        assert numbers == list(range(1, len(numbers) + 1))
    assert len(set(references)) == len(both) > 1_000
    assert [view_case(db, cast["manager"], r).address[0] for r in (references[0], references[-1])] == [
        both[0].address_line_1, both[-1].address_line_1,
    ]  # fmt: skip
    assert verify_audit(db, cast["manager"]).problems == ()
