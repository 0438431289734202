"""`dfg report budget` and `dfg report repayments` on the command line: every format, the filters, and
errors as one line and a stable exit code. (The figures themselves are checked in tests/reports/.)"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from cli import main
from dfg.rules.clock import local_day, utcnow
from dfg.services.budget import allocate
from dfg.services.land_charge import record_repayment_decision
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import APPROVED_GRANT, walk_to

TODAY = local_day(utcnow())
YEAR = TODAY.year if TODAY.month >= 4 else TODAY.year - 1
LABEL = f"{YEAR}/{(YEAR + 1) % 100:02d}"
REPAYABLE = APPROVED_GRANT - 5_000_00  # what the closed case's land charge secures


@pytest.fixture
def run(
    db_url: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> Callable[..., Result]:
    """Budgets for this year, one case walked to closed (paid in full, land charge registered) and its
    home sold with part of the charge demanded."""
    for district, line, pence in (("CAN", "mandatory", 100_000_00), ("CAN", "top_up", 10_000_00),
                                  ("LIC", "mandatory", 60_000_00)):  # fmt: skip
        allocate(db, cast["admin"], district=district, financial_year=YEAR, funding_line=line,
                 amount_pence=pence, reason="test")  # fmt: skip
    reference = open_sample()
    walk_to(db, cast, reference, "closed")
    record_repayment_decision(db, cast["approver"], reference, disposal_on=TODAY, decision="part",
                              amount_pence=1_200_00, factors=["care", "hardship"], reason="Moving to care for her son")  # fmt: skip

    def invoke(*args: str, user: str = "manager") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])

    return invoke


@pytest.mark.parametrize(
    ("name", "title"), [("budget", "Budget position"), ("repayments", "Land charges and repayments")]
)
def test_every_format(run: Callable[..., Result], tmp_path: Path, name: str, title: str) -> None:
    text = run("report", name)
    assert (text.exit_code, text.stderr) == (0, "")
    assert text.stdout.startswith(f"{title}\nAll districts · {YEAR}-{(YEAR + 1) % 100:02d} ")
    assert "\nAll districts " in text.stdout  # a totals row
    as_json = run("report", name, "--json")
    assert json.loads(as_json.stdout)["report"] == name
    rows = list(csv.reader(io.StringIO(run("report", name, "--csv").stdout)))
    assert len(rows) == {"budget": 1 + 3, "repayments": 1 + 2}[name]  # a header, then lines or districts
    assert all(len(row) == len(rows[0]) for row in rows)
    pdf = tmp_path / f"{name}.pdf"
    made = run("report", name, "--pdf", str(pdf))
    assert (made.exit_code, made.stdout, made.stderr) == (0, "", f"wrote {pdf}\n")
    words = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert title in words and "All districts" in words


def test_budget_figures_and_filters(run: Callable[..., Result]) -> None:
    total = json.loads(run("report", "budget", "--json").stdout)["total"]
    assert (total["allocation_pence"], total["committed_pence"], total["spent_pence"]) == (
        170_000_00,
        0,
        APPROVED_GRANT,
    )
    assert total["remaining_pence"] == 170_000_00 - APPROVED_GRANT
    top_up = json.loads(run("report", "budget", "--funding-line", "top_up", "--json").stdout)
    assert [(line["district"], line["funding_line"]) for line in top_up["lines"]] == [("CAN", "top_up")]
    lic = json.loads(run("report", "budget", "--district", "lic", "--year", LABEL, "--json").stdout)
    assert [(line["district"], line["allocation_pence"]) for line in lic["lines"]] == [("LIC", 60_000_00)]
    before = json.loads(run("report", "budget", "--year", str(YEAR - 1), "--json").stdout)
    assert (before["financial_year"], before["lines"]) == (YEAR - 1, [])
    csv_rows = list(
        csv.reader(io.StringIO(run("report", "budget", "--csv", "--funding-line", "mandatory").stdout))
    )
    assert [row[1:4] for row in csv_rows[1:]] == [
        ["CAN", "Cannock Chase", "mandatory"],
        ["LIC", "Lichfield", "mandatory"],
    ]


def test_repayments_figures_and_filters(run: Callable[..., Result]) -> None:
    data = json.loads(run("report", "repayments", "--json").stdout)
    assert data["total"]["charges"] == 1 and data["total"]["secured_pence"] == REPAYABLE
    assert data["total"]["decisions"]["part"] == {
        "decisions": 1,
        "repayable_pence": REPAYABLE,
        "demanded_pence": 1_200_00,
    }
    assert data["total"]["factors"]["care"] == 1
    [decision] = data["decisions"]
    assert (decision["reference"], decision["decision"], decision["factors"]) == (
        "CAN-2026-0001",
        "part",
        ["care", "hardship"],
    )
    lic = json.loads(run("report", "repayments", "--district", "LIC", "--json").stdout)
    assert (lic["total"]["charges"], lic["decisions"]) == (0, [])
    day = f"{TODAY:%d/%m/%Y}"
    ranged = json.loads(run("report", "repayments", "--from", day, "--to", day, "--json").stdout)
    assert ranged["total"]["decided"]["decisions"] == 1
    urgent = json.loads(run("report", "repayments", "--priority", "urgent", "--json").stdout)
    assert urgent["decisions"] == []
    csv_rows = list(csv.reader(io.StringIO(run("report", "repayments", "--csv").stdout)))
    assert csv_rows[1][:4] == ["CAN", "Cannock Chase", "1", f"{REPAYABLE / 100:.2f}"]


@pytest.mark.parametrize(
    ("args", "user", "code", "message"),
    [
        (("budget",), "officer", 6, "dfg: officer needs the role manager or admin to do this\n"),
        (("repayments",), "officer", 6, "dfg: officer needs the role manager or admin to do this\n"),
        (("budget", "--funding-line", "grants"), "manager", 8, "dfg: --funding-line: no funding line 'grants' (known: "),
        (("budget", "--year", "2206"), "manager", 8, "dfg: financial year 2206: expected a year from 1990 to 2100\n"),
        (("budget", "--district", "XYZ"), "manager", 8, "dfg: no district 'XYZ' (known: CAN, LIC)\n"),
        (("repayments", "--year", "2026-27", "--from", "01/04/2026"), "manager", 8,
         "dfg: give a financial year or a date range, not both\n"),
        (("budget", "--priority", "urgent"), "manager", 2, "dfg: No such option '--priority'."),
        (("budget", "--from", "01/04/2026"), "manager", 2, "dfg: No such option '--from'."),
        (("repayments", "--funding-line", "top_up"), "manager", 2, "dfg: No such option '--funding-line'."),
    ],
)  # fmt: skip
def test_errors_are_one_line(
    run: Callable[..., Result], args: tuple[str, ...], user: str, code: int, message: str
) -> None:
    result = run("report", *args, user=user)
    assert (result.exit_code, result.stdout) == (code, "")
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("name", ["budget", "repayments"])
def test_help_teaches_by_example(name: str) -> None:
    shown = CliRunner().invoke(main, ["report", name, "--help"])
    assert shown.exit_code == 0
    assert "Examples:" in shown.stdout and f"dfg --as mjones report {name}" in shown.stdout
    assert ("--funding-line" in shown.stdout) == (name == "budget")
    assert ("--priority" in shown.stdout) == (name == "repayments")
