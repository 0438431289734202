"""The command line of clocks, worklists and reports: outputs in every format, and their permissions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader

from cli import main
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step


@pytest.fixture
def run(
    db_url: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> Callable[..., Result]:
    reference = open_sample()  # first contact 05/01/2026: its stage 0 target has long passed
    take_step(db, cast, reference, "accept_referral", "officer", TriggerInput(on=date(2026, 1, 7)))

    def invoke(*args: str, user: str = "manager") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])

    return invoke


def test_case_clocks(run: Callable[..., Result]) -> None:
    result = run("case", "clocks", "CAN-2026-0001", "--json", user="officer")
    assert result.exit_code == 0, result.stderr
    clocks = {c["name"]: c for c in json.loads(result.stdout)["clocks"]}
    assert clocks["decision_due"]["status"] == "not_started"
    assert clocks["end_to_end_target"]["start"] == "2026-01-05"


def test_due_and_tick(run: Callable[..., Result]) -> None:
    due = run("due", "--json", user="officer")
    assert due.exit_code == 0, due.stderr
    assert any(item["reference"] == "CAN-2026-0001" for item in json.loads(due.stdout))
    first = json.loads(run("tick", "--json").stdout)
    second = json.loads(run("tick", "--json").stdout)
    assert first["recorded"] and second["recorded"] == []  # once only
    refused = run("tick", user="officer")
    assert (refused.exit_code, refused.stderr) == (
        6,
        "dfg: officer needs the role admin or manager to do this\n",
    )


@pytest.mark.parametrize("name", ["pipeline", "performance", "closures", "data-return"])
def test_every_report_in_every_format(run: Callable[..., Result], name: str, tmp_path: Path) -> None:
    text = run("report", name)
    assert text.exit_code == 0, text.stderr
    assert text.stdout.strip()
    as_json = run("report", name, "--json")
    assert isinstance(json.loads(as_json.stdout), dict)
    rows = list(csv.reader(io.StringIO(run("report", name, "--csv").stdout)))
    assert rows[0] and all(len(row) == len(rows[0]) for row in rows)  # a header, then one row per figure
    pdf = tmp_path / f"{name}.pdf"
    made = run("report", name, "--pdf", str(pdf))
    assert (made.exit_code, made.stderr) == (0, f"wrote {pdf}\n")
    words = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "All districts" in words, words[:300]


@pytest.mark.parametrize(
    "name", ["pipeline", "performance", "closures", "data-return", "budget", "repayments"]
)
def test_every_report_as_a_workbook_holds_its_csv(
    run: Callable[..., Result], name: str, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    rows = list(csv.reader(io.StringIO(run("report", name, "--csv").stdout)))
    book = tmp_path / f"{name}.xlsx"
    made = run("report", name, "--xlsx", str(book))
    assert (made.exit_code, made.stdout, made.stderr) == (0, "", f"wrote {book}\n")
    sheet = load_workbook(book).active
    assert sheet is not None and sheet.title == name
    cells = [["" if c.value is None else c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == rows[0] and len(cells) == len(rows)
    for read, written in zip(cells[1:], rows[1:], strict=True):  # numbers as numbers, the rest as the CSV
        assert all(_same_cell(v, w) for v, w in zip(read, written, strict=True)), (read, written)
    money = [i for i, header in enumerate(rows[0]) if header.endswith("_pounds")]
    assert all(  # money in pounds with the £ format, wherever there is money
        row[i].number_format.startswith('"£"')
        for row in sheet.iter_rows(min_row=2)
        for i in money
        if row[i].value
    )


def _same_cell(read: object, written: str) -> bool:
    if isinstance(read, int | float) and not isinstance(read, bool):
        return abs(float(read) - float(written)) < 0.005
    return str(read) == written


def test_a_report_workbook_is_refused_where_it_cannot_be_written(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    refused = run("report", "budget", "--xlsx", str(tmp_path / "missing" / "budget.xlsx"))
    assert (
        refused.exit_code == 8
        and refused.stderr.count("\n") == 1
        and "not a folder you may write to" in refused.stderr
    )


def test_pipeline_counts_the_open_case(run: Callable[..., Result]) -> None:
    figures = json.loads(run("report", "pipeline", "--json").stdout)
    assert figures["totals"]["open"] == 1
    assert figures["totals"]["by_stage"]["1"] == 1


def test_a_bad_year_is_one_line(run: Callable[..., Result]) -> None:
    result = run("report", "performance", "--year", "next year")
    assert result.exit_code == 8 and result.stderr.startswith("dfg: ") and result.stderr.count("\n") == 1
