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


def test_pipeline_counts_the_open_case(run: Callable[..., Result]) -> None:
    figures = json.loads(run("report", "pipeline", "--json").stdout)
    assert figures["totals"]["open"] == 1
    assert figures["totals"]["by_stage"]["1"] == 1


def test_a_bad_year_is_one_line(run: Callable[..., Result]) -> None:
    result = run("report", "performance", "--year", "next year")
    assert result.exit_code == 8 and result.stderr.startswith("dfg: ") and result.stderr.count("\n") == 1
