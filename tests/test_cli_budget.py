"""`dfg budget`: allocate, override, show and the ledger, as text and JSON; errors as one line and a code."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from click.testing import CliRunner, Result

from cli import main
from dfg.rules.clock import utcnow
from dfg.services import budget
from dfg.services.assessment import run_means_test
from dfg.services.grant import calculate_case_grant
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import HOUSEHOLD


@pytest.fixture
def run(db_url: str, cast: dict[str, Actor]) -> Callable[..., Result]:
    def invoke(*args: str, user: str = "manager") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args], catch_exceptions=False)

    return invoke


def _commit(db: Database, reference: str, pence: int) -> None:
    with db.write_connection() as connection:
        case_id = connection.exec_driver_sql(
            f"SELECT id FROM cases WHERE reference = '{reference}'"
        ).scalar_one()
        budget.commit(connection, district="CAN", financial_year=2026, lines={"mandatory": pence}, case_id=case_id,
                      approval_id=None, recorded_by="approver", now=utcnow(), override_reason=None)  # fmt: skip


def test_allocate_show_and_entries(
    run: Callable[..., Result], db: Database, open_sample: Callable[..., str]
) -> None:
    allocated = run("budget", "allocate", "can", "--year", "2026/27", "--line", "mandatory", "--amount", "850000.00",
                    "--reason", "Better Care Fund grant letter")  # fmt: skip
    assert (allocated.exit_code, allocated.stderr) == (0, "")
    assert allocated.stdout == (  # typed with a slash, named as everywhere else
        "CAN 2026-27 mandatory: allocation £850,000.00 (was £0.00); £850,000.00 remaining\n"
    )
    again = run(
        "budget", "allocate", "CAN", "--year", "2026-27", "--line", "mandatory", "--amount", "850,000"
    )
    assert (
        again.stdout == "CAN 2026-27 mandatory: allocation £850,000.00 (unchanged); £850,000.00 remaining\n"
    )
    run("budget", "allocate", "CAN", "--year", "2026", "--line", "top_up", "--amount", "40000")
    run("budget", "allocate", "LIC", "--year", "2026-27", "--line", "mandatory", "--amount", "500000")
    reference = open_sample()
    _commit(db, reference, 12_345_67)

    shown = run("budget", "show", "--year", "2026-27")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines() == [
        "district  line       allocation     committed   spent  remaining      pipeline  forecast    forecast left",
        "--------  ---------  -------------  ----------  -----  -------------  --------  ----------  -------------",
        "CAN       mandatory  £850,000.00    £12,345.67  £0.00  £837,654.33    £0.00     £12,345.67  £837,654.33",
        "CAN       top_up     £40,000.00     £0.00       £0.00  £40,000.00     £0.00     £0.00       £40,000.00",
        "LIC       mandatory  £500,000.00    £0.00       £0.00  £500,000.00    £0.00     £0.00       £500,000.00",
        "total                £1,390,000.00  £12,345.67  £0.00  £1,377,654.33  £0.00     £12,345.67  £1,377,654.33",
    ]
    assert shown.stderr == "financial year 2026-27\n"
    data = json.loads(run("budget", "show", "--year", "2026-27", "--district", "CAN", "--json").stdout)
    assert data["financial_year_label"] == "2026-27"
    assert [(line["district"], line["funding_line"]) for line in data["lines"]] == [
        ("CAN", "mandatory"),
        ("CAN", "top_up"),
    ]
    assert data["lines"][0]["remaining_pence"] == 837_654_33
    assert data["total"]["allocation_pence"] == 890_000_00
    # a district's officer sees only that district
    mine = json.loads(run("budget", "show", "--year", "2026-27", "--json", user="officer").stdout)
    assert {line["district"] for line in mine["lines"]} == {"CAN"}

    ledger = run("budget", "entries", "CAN", "--year", "2026-27", "--line", "mandatory")
    rows = ledger.stdout.splitlines()
    assert rows[0].split() == [
        "#",
        "when",
        "(UTC)",
        "line",
        "kind",
        "amount",
        "case",
        "by",
        "override",
        "reason",
    ]
    assert [row.split()[3:7] for row in rows[2:]] == [
        ["mandatory", "allocation", "£850,000.00", "manager"],
        ["mandatory", "commitment", "£12,345.67", reference],
    ]
    assert ledger.stderr == "2 entries\n"
    entries = json.loads(run("budget", "entries", "CAN", "--year", "2026", "--json").stdout)
    assert [(e["kind"], e["funding_line"], e["amount_pence"]) for e in entries] == [
        ("allocation", "mandatory", 850_000_00), ("allocation", "top_up", 40_000_00),
        ("commitment", "mandatory", 12_345_67),
    ]  # fmt: skip


def test_a_cut_below_what_is_committed_warns(run: Callable[..., Result], db: Database, open_sample: Callable[..., str]) -> None:  # fmt: skip
    run("budget", "allocate", "CAN", "--year", "2026-27", "--line", "mandatory", "--amount", "10000")
    _commit(db, open_sample(), 8_000_00)
    cut = run(
        "budget", "allocate", "CAN", "--year", "2026-27", "--line", "mandatory", "--amount", "5000", "--json"
    )
    assert cut.exit_code == 0
    assert json.loads(cut.stdout)["remaining_pence"] == -3_000_00
    assert cut.stderr == (
        "warning: the CAN 2026-27 mandatory budget is now £3,000.00 less than is already committed (£8,000.00) "
        "and spent (£0.00)\n"
    )


def test_an_empty_year(run: Callable[..., Result]) -> None:
    empty = run("budget", "show", "--year", "2031-32")
    assert (empty.exit_code, empty.stdout, empty.stderr) == (
        0, "", "no budgets for 2031-32: 'dfg budget allocate' sets one\n",
    )  # fmt: skip
    assert json.loads(run("budget", "show", "--year", "2031", "--json").stdout)["lines"] == []


def test_override(run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:  # fmt: skip
    reference = open_sample()
    refused = run("budget", "override", reference, "--reason", "reserves")
    assert (refused.exit_code, refused.stderr) == (
        8,
        f"dfg: {reference} has no grant calculation to override the budget for\n",
    )
    run_means_test(db, cast["officer"], reference, HOUSEHOLD, on=date(2026, 6, 1))
    calculation = calculate_case_grant(
        db, cast["officer"], reference, works_pence=20_000_00, on=date(2026, 6, 1)
    )
    done = run(
        "budget", "override", reference.lower(), "--reason", "Hospital discharge: funded from reserves"
    )
    assert (done.exit_code, done.stderr) == (0, "")
    assert done.stdout == (
        f"{reference}: budget override recorded for grant calculation {calculation.id}; "
        "it may now be approved over the budget\n"
    )
    history = json.loads(run("case", "history", reference, "--json").stdout)
    assert history[-1]["kind"] == "budget_override"
    assert history[-1]["reason"] == "Hospital discharge: funded from reserves"
    officer = run("budget", "override", reference, "--reason", "why", user="officer")
    assert (officer.exit_code, officer.stderr) == (6, "dfg: officer needs the role manager to do this\n")


@pytest.mark.parametrize(
    ("args", "user", "code", "message"),
    [
        (["allocate", "CAN", "--year", "2026-27", "--line", "mandatory", "--amount", "1"], "officer", 6,
         "officer needs the role manager or admin to do this"),
        (["allocate", "CAN", "--year", "2026-28", "--line", "mandatory", "--amount", "1"], "manager", 8,
         "financial year '2026-28': 28 does not follow 2026"),
        (["allocate", "CAN", "--year", "2026-27", "--line", "gold", "--amount", "1"], "manager", 8,
         "--line: CAN has no funding line 'gold' (known: mandatory, fast_track, relocation, small_works, "
         "stairlift_and_shower, top_up)"),
        (["allocate", "CAN", "--year", "2026-27", "--line", "mandatory", "--amount", "-5"], "manager", 8,
         "--amount: '-5' must not be negative"),
        (["allocate", "XYZ", "--year", "2026-27", "--line", "mandatory", "--amount", "5"], "manager", 3,
         "no district 'XYZ' (see 'dfg district list')"),
        (["show", "--district", "LIC"], "officer", 6, "officer works for district CAN, not LIC"),
        (["show"], "ot", 6, "ot needs the role manager or grant_officer or approver or admin to do this"),
        (["entries", "CAN", "--year", "twenty"], "manager", 8, "financial year 'twenty' is not like 2026-27"),
    ],
)  # fmt: skip
def test_errors_are_one_line(
    run: Callable[..., Result], db: Database, args: list[str], user: str, code: int, message: str
) -> None:
    result = run("budget", *args, user=user)
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", f"dfg: {message}\n")
    with db.read_connection() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM budget_entries").scalar_one() == 0
