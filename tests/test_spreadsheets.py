"""Lists written for spreadsheets (CSV and Excel) and cases opened from one (dfg import cases)."""

from __future__ import annotations

import csv
import json
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from cli import main
from dfg.services.case_reading import view_case
from dfg.store.database import Database
from dfg.store.models import Case, Event
from dfg.workflow.actor import Actor
from tests.conftest import APPROVED_GRANT, walk_to

HEADER = ["District", "Tenure", "Address", "Town", "Postcode", "Applicant", "Date of birth", "Phone",
          "Priority", "Priority reason", "First contact", "Source"]  # fmt: skip
GOOD = [
    ["CAN", "owner", "12 Mill Lane", "Cannock", "ws11 1aa", "Mrs Margaret Holt", "12/05/1946", "+44 1543 000000",
     "urgent", "hospital discharge", "2026-01-05", "county OT"],
    ["can", "Tenant", "3 Church Street", "Hednesford", "WS12 4DL", "Arthur Price", "1950-02-01", "",
     "non-urgent", "", "", "self"],
]  # fmt: skip


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str | None = "officer") -> Result:
        prefix = ["--db", db_url] + (["--as", user] if user else [])
        return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)

    return invoke


def _csv_file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        return list(csv.reader(file))


def _counts(db: Database) -> tuple[int, int]:
    with db.reading() as session:
        cases = session.scalar(select(func.count()).select_from(Case))
        events = session.scalar(select(func.count()).select_from(Event))
        return int(cases or 0), int(events or 0)


def test_case_list_as_csv_and_xlsx_with_real_values(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str],
    tmp_path: Path,
) -> None:  # fmt: skip
    plain = open_sample()
    approved = open_sample(people=_person('=HYPERLINK("http://x")', "Smith"))
    walk_to(db, cast, approved, "approved")
    listed = run("case", "list", "--csv", str(tmp_path / "cases.csv"), "--xlsx", str(tmp_path / "cases.xlsx"))
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout == ""  # written, not printed
    assert f"{tmp_path / 'cases.csv'}: 2 row(s)" in listed.stderr

    rows = _read_csv(tmp_path / "cases.csv")
    assert rows[0] == ["reference", "district", "stage", "state", "on hold", "priority", "applicant",
                       "first contact", "assigned to", "approved grant"]  # fmt: skip
    by_reference = {r[0]: r for r in rows[1:]}
    assert by_reference[plain] == [plain, "CAN", "0", "referral", "no", "non_urgent", "Mrs Margaret Holt",
                                   "2026-01-05", "officer", ""]  # fmt: skip
    injected = by_reference[approved]
    assert injected[6] == '\'=HYPERLINK("http://x") Smith'  # neutralised: it does not run when opened
    assert (injected[3], injected[9]) == ("approved", "8450.00")

    sheet = load_workbook(tmp_path / "cases.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == rows[0]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["G"].width >= len("Mrs Margaret Holt")
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    first_contact = cells[plain][7]
    assert first_contact.value.date() == date(2026, 1, 5) and first_contact.number_format == "DD/MM/YYYY"
    grant = cells[approved][9]
    assert grant.value == APPROVED_GRANT / 100 and grant.number_format == '"£"#,##0.00;-"£"#,##0.00'
    assert cells[approved][6].value == '\'=HYPERLINK("http://x") Smith'
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)  # no formulas at all


def _person(given: str, family: str) -> tuple[object, ...]:
    from dfg.services.case_opening import NewPerson

    return (NewPerson(given_name=given, family_name=family, is_applicant=True,
                      is_disabled_occupant=True, date_of_birth=date(1950, 6, 1)),)  # fmt: skip


def test_text_that_would_run_as_a_formula_is_kept_as_text(
    run: Callable[..., Result], open_sample: Callable[..., str], tmp_path: Path
) -> None:
    reference = open_sample()
    for summary in ("=1+1", "+44 1543 000000", "-2+3", "@SUM(A1)", "a plain note"):
        added = run(
            "note", "add", reference, "--contact", "call", "--with", "applicant", "--summary", summary
        )
        assert added.exit_code == 0, added.stderr
    written = run(
        "note", "list", reference, "--csv", str(tmp_path / "n.csv"), "--xlsx", str(tmp_path / "n.xlsx")
    )
    assert written.exit_code == 0, written.stderr
    expected = ["'=1+1", "'+44 1543 000000", "'-2+3", "'@SUM(A1)", "a plain note"]
    assert [r[4] for r in _read_csv(tmp_path / "n.csv")[1:]] == expected
    sheet = load_workbook(tmp_path / "n.xlsx").active
    assert sheet is not None
    assert [sheet.cell(row=n, column=5).value for n in range(2, 7)] == expected
    assert {sheet.cell(row=n, column=5).data_type for n in range(2, 7)} == {"s"}


def test_spreadsheets_are_readable_by_their_owner_only(
    run: Callable[..., Result], open_sample: Callable[..., str], tmp_path: Path
) -> None:
    open_sample()
    for name in ("due.csv", "due.xlsx", "found.csv", "found.xlsx"):
        (tmp_path / name).write_text("old")
        (tmp_path / name).chmod(0o644)  # a file that was there keeps no wider mode
    assert run("due", "--within", "3650", "--csv", str(tmp_path / "due.csv"),
               "--xlsx", str(tmp_path / "due.xlsx")).exit_code == 0  # fmt: skip
    assert run("case", "find", "holt", "--csv", str(tmp_path / "found.csv"),
               "--xlsx", str(tmp_path / "found.xlsx")).exit_code == 0  # fmt: skip
    for name in ("due.csv", "due.xlsx", "found.csv", "found.xlsx"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    found = _read_csv(tmp_path / "found.csv")
    assert found[0][-1] == "matched on" and found[1][6] == "Mrs Margaret Holt"
    due = _read_csv(tmp_path / "due.csv")
    assert due[0][:6] == ["case", "district", "priority", "clock", "kind", "due"]
    assert len(due) > 1 and date.fromisoformat(due[1][5])
    workbook = load_workbook(tmp_path / "due.xlsx").active
    assert workbook is not None and isinstance(workbook.cell(row=2, column=7).value, int)  # days left
    missing = run("due", "--csv", str(tmp_path / "nowhere" / "due.csv"))
    assert missing.exit_code == 8 and missing.stderr.startswith("dfg: cannot write")


def test_import_opens_every_case_with_its_data(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    path = _csv_file(tmp_path / "referrals.csv", [HEADER, *GOOD])
    result = run("import", "cases", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["opened"] == ["CAN-2026-0001", "CAN-2026-0002"] and report["problems"] == []
    holt = view_case(db, cast["officer"], "CAN-2026-0001")
    assert (holt.priority, holt.priority_reason, holt.tenure) == ("urgent", "hospital discharge", "owner")
    assert holt.address == ("12 Mill Lane", "Cannock", "WS11 1AA")
    assert holt.milestones["first_contact_date"] == date(2026, 1, 5)
    assert holt.referral_source == "county OT" and holt.assigned_to == "officer"
    (person,) = holt.people
    assert person["name"] == "Mrs Margaret Holt" and person["date_of_birth"] == date(1946, 5, 12)
    price = view_case(db, cast["officer"], "CAN-2026-0002")
    assert (price.priority, price.tenure, price.people[0]["name"]) == ("non_urgent", "tenant", "Arthur Price")
    # the same file again: each row is now a duplicate of an open case, so nothing more is opened
    again = run("import", "cases", str(path))
    assert again.exit_code == 8
    assert "row 2, column duplicate: CAN-2026-0001 is already open for this applicant or home" in again.stderr
    assert _counts(db)[0] == 2


def test_every_problem_of_every_row_is_listed_and_nothing_is_opened(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    bad = [
        HEADER,
        GOOD[0],
        ["CAN", "castle", "1 Elm Road", "Cannock", "XYZ", "Madonna", "31/02/1950", "", "", "", "", ""],
        ["LIC", "owner", "", "Lichfield", "WS13 6LQ", "Ann Lee", "", "", "urgent", "", "2099-01-01", ""],
        ["CAN", "owner", "12 Mill Lane", "Cannock", "WS11 1AA", "Mrs Margaret Holt", "12/05/1946", "", "", "", "",
         ""],
    ]  # fmt: skip
    before = _counts(db)
    result = run("import", "cases", str(_csv_file(tmp_path / "bad.csv", bad)))
    assert result.exit_code == 8 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:-1] == [
        "dfg: row 3, column Applicant: 'Madonna': give a given name and a family name, e.g. 'Margaret Holt'",
        "dfg: row 3, column Date of birth: '31/02/1950' is not a date (use 2026-03-31 or 31/03/2026)",
        "dfg: row 3, column Tenure: tenure 'castle' is not one of: owner, tenant, occupier, landlord",
        "dfg: row 3, column Postcode: 'XYZ' is not a UK postcode (for example WS11 1AA)",
        "dfg: row 4, column Priority reason: an urgent case needs a --priority-reason",
        "dfg: row 4, column First contact: first contact date 01/01/2099 is in the future",
        "dfg: row 4, column Address: the address is required",
        "dfg: row 4, column District: officer works for district CAN, not LIC",
        "dfg: row 5: the same home as row 2: put yes in its duplicate column if it is a separate need",
    ]
    assert lines[-1] == "dfg: 9 problem(s) in 4 row(s): nothing was opened"
    assert _counts(db) == before


def test_a_header_the_import_cannot_read_is_refused(run: Callable[..., Result], cast: dict[str, Actor],
                                                    tmp_path: Path) -> None:  # fmt: skip
    header = ["district", "tenure", "adress", "town", "postcode", "given name"]
    result = run("import", "cases", str(_csv_file(tmp_path / "h.csv", [header, ["CAN"] * 6])))
    assert result.exit_code == 8
    assert result.stderr.splitlines()[:2] == [
        "dfg: row 1: column 'adress' is not one the import reads (see 'dfg import cases --help')",
        "dfg: row 1: no column address, applicant (or given_name and family_name)",
    ]
    other = tmp_path / "cases.txt"
    other.write_text("district\n")
    assert run("import", "cases", str(other)).stderr == "dfg: cases.txt: give a .csv or .xlsx file\n"
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert run("import", "cases", str(broken)).stderr == (
        "dfg: broken.xlsx: not an Excel workbook (save it as .xlsx)\n"
    )


def test_import_from_excel_with_date_cells(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["district", "tenure", "address_line_1", "town", "postcode", "title", "given_name",
                  "family_name", "dob", "nhs_number", "first_contact_date", "occupant", "relationship",
                  "large_print", "uprn"])  # fmt: skip
    sheet.append(["CAN", "owner", "4 Station Road", "Rugeley", "WS15 2HQ", "Mr", "Tom", "Baker",
                  date(1960, 3, 4), "943 476 5919", date(2026, 2, 2), "Sam Baker", "son", "yes", 100031234567])  # fmt: skip
    sheet.append([None] * 15)  # a blank row is passed over
    path = tmp_path / "referrals.xlsx"
    book.save(path)
    result = run("import", "cases", str(path), "--unassigned")
    assert (result.exit_code, result.stdout) == (0, "CAN-2026-0001\n"), result.stderr
    assert result.stderr == "opened 1 case(s)\n"
    view = view_case(db, cast["officer"], "CAN-2026-0001")
    assert view.milestones["first_contact_date"] == date(2026, 2, 2) and view.assigned_to is None
    applicant, occupant = view.people
    assert applicant["name"] == "Mr Tom Baker" and applicant["date_of_birth"] == date(1960, 3, 4)
    assert applicant["roles"] == ["applicant"]
    assert occupant["name"] == "Sam Baker" and "disabled_occupant" in occupant["roles"]
    with db.reading() as session:
        case = session.scalars(select(Case)).one()
        assert case.property.uprn == "100031234567"
        assert (
            case.people[0].nhs_number == "9434765919" and case.people[0].communication_needs == "large_print"
        )


def test_a_dry_run_checks_and_opens_nothing(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    path = _csv_file(tmp_path / "referrals.csv", [HEADER, *GOOD])
    before = _counts(db)
    result = run("import", "cases", str(path), "--dry-run")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "would open 2 case(s)\n")
    assert _counts(db) == before
    refused = run("import", "cases", str(path), "--dry-run", user="ot")
    assert refused.exit_code != 0 and _counts(db) == before


def test_the_case_list_reads_back_as_an_import(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str],
    tmp_path: Path,
) -> None:  # fmt: skip
    open_sample()
    assert run("case", "list", "--csv", str(tmp_path / "cases.csv")).exit_code == 0
    rows = _read_csv(tmp_path / "cases.csv")
    # the officer adds the columns a new case needs beyond the list's, and a duplicate mark
    header = [*rows[0], "tenure", "address", "town", "postcode", "duplicate"]
    again = [*rows[1], "owner", "12 Mill Lane", "Cannock", "WS11 1AA", "yes"]
    result = run("import", "cases", str(_csv_file(tmp_path / "again.csv", [header, again])), "--json")
    assert result.exit_code == 0, result.stderr
    (reference,) = json.loads(result.stdout)["opened"]
    view = view_case(db, cast["officer"], reference)
    assert view.people[0]["name"] == "Mrs Margaret Holt" and view.priority == "non_urgent"
    assert view.milestones["first_contact_date"] == date(2026, 1, 5)


def test_import_takes_contact_preferences(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], tmp_path: Path
) -> None:
    header = [
        "district",
        "tenure",
        "address",
        "town",
        "postcode",
        "applicant",
        "contact",
        "advocate",
        "format note",
    ]
    rows = [header, ["CAN", "owner", "12 Mill Lane", "Cannock", "WS11 1AA", "Ron Salt", "Advocate",
                     "Priya Shah, Age UK, 01785 223344", "Braille, Grade 2"]]  # fmt: skip
    wrong = [
        *rows,
        ["CAN", "owner", "3 Church Street", "Hednesford", "WS12 4DL", "Ann Lee", "pigeon", "", ""],
    ]
    refused = run("import", "cases", str(_csv_file(tmp_path / "wrong.csv", wrong)))
    assert refused.exit_code == 8
    assert refused.stderr.splitlines()[0] == (
        "dfg: row 3, column contact: the applicant's preferred contact: 'pigeon' is not one of: post, phone, email, "
        "advocate"
    )
    result = run("import", "cases", str(_csv_file(tmp_path / "referrals.csv", rows)))
    assert result.exit_code == 0, result.stderr
    (person,) = view_case(db, cast["officer"], result.stdout.strip()).people
    assert (person["preferred_contact"], person["advocate"], person["format_note"]) == (
        "advocate", "Priya Shah, Age UK, 01785 223344", "Braille, Grade 2",
    )  # fmt: skip
