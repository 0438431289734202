"""The land-charge commands: what a charge secures, its registration and the decision after a disposal, as
text that pastes into an email and as JSON; bad input is one line with a stable exit code and changes
nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from cli import main
from dfg.rules.clock import local_day, utcnow
from dfg.rules.rates import add_years
from dfg.services.case_reading import show_case
from dfg.services.land_charge import land_charge_view
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS, LAND_CHARGES, REPAYMENT_DECISIONS
from dfg.workflow.actor import Actor
from tests.conftest import walk_to

TODAY = local_day(utcnow())


def day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


@pytest.fixture
def run(db_url: str) -> Callable[..., Result]:
    def invoke(*args: str, user: str | None = "officer") -> Result:
        prefix = ["--db", db_url] + (["--as", user] if user else [])
        return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)

    return invoke


def _state(db: Database) -> Any:
    with db.read_connection() as connection:
        counts = [
            connection.scalar(select(func.count()).select_from(t))
            for t in (LAND_CHARGES, REPAYMENT_DECISIONS, EVENTS)
        ]
        cases = list(connection.execute(select(CASES.c.reference, CASES.c.version)))
    return counts, cases


@pytest.fixture
def certified(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """An owner's case certified today, with the walk's grant of £8,450.00: £3,450.00 is repayable."""
    reference = open_sample()
    walk_to(db, cast, reference, "certified")
    return reference


@pytest.fixture
def closed(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A closed owner's case whose land charge was registered today on the way to closure."""
    reference = open_sample()
    walk_to(db, cast, reference, "closed")
    return reference


def test_show_register_show(run: Callable[..., Result], certified: str) -> None:
    before = run("land-charge", "show", certified)
    assert (before.exit_code, before.stderr) == (0, "")
    assert before.stdout == (
        f"{certified}: a land charge of £3,450.00 applies (mandatory grant £8,450.00; terms england-2008-05-22)\n"
        f"  not registered yet: 'dfg land-charge register {certified} --ref REFERENCE'\n"
    )
    done = run("land-charge", "register", certified.lower(), "--ref", "LLC/2026/0417", "--date", day(TODAY))
    assert (done.exit_code, done.stdout, done.stderr) == (
        0,
        f"{certified}: register_land_charge (certified) on {day(TODAY)}\n",
        "letters: land_charge_notice\n",
    )
    after = run("land-charge", "show", certified)
    assert after.stdout == (
        f"{certified}: a land charge of £3,450.00 applies (mandatory grant £8,450.00; terms england-2008-05-22)\n"
        f"  registered        {day(TODAY)}, register reference LLC/2026/0417\n"
        f"  condition period  ends {day(add_years(TODAY, 5))}\n"
        f"  charge period     ends {day(add_years(TODAY, 10))}\n"
    )
    shown = json.loads(run("land-charge", "show", certified, "--json").stdout)
    assert (shown["applies"], shown["registered"], shown["repayable_pence"]) == (True, True, 3_450_00)
    assert shown["registration"]["expires_on"] == add_years(TODAY, 10).isoformat()


def test_register_as_json_defaults_to_today(run: Callable[..., Result], certified: str) -> None:
    done = run("land-charge", "register", certified, "--ref", "LLC/1", "--json")
    assert done.exit_code == 0, done.stderr
    said = json.loads(done.stdout)
    assert (said["trigger"], said["from"], said["to"], said["letters"]) == (
        "register_land_charge",
        "certified",
        "certified",
        ["land_charge_notice"],
    )


def test_a_tenants_case_says_why_no_charge_applies(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(tenure="tenant")
    walk_to(db, cast, reference, "certified")
    shown = run("land-charge", "show", reference)
    why = (
        f"no land charge applies to {reference}: it is a tenant's application, and a charge is registered "
        "only for an owner's application"
    )
    assert (shown.exit_code, shown.stdout) == (0, why + "\n")
    before = _state(db)
    refused = run("land-charge", "register", reference, "--ref", "LLC/1")
    assert (refused.exit_code, refused.stdout, refused.stderr) == (8, "", f"dfg: {why}\n")
    assert _state(db) == before


def test_decisions_and_how_they_show(run: Callable[..., Result], db: Database, closed: str) -> None:
    full = run("land-charge", "decide", closed, "--disposal-date", day(TODAY), "--demand", "full",
               "--factor", "none", "--reason", "Sold on the open market", user="approver")  # fmt: skip
    assert (full.exit_code, full.stdout, full.stderr) == (
        0,
        f"{closed}: demand_repayment (closed) on {day(TODAY)}\n",
        "letters: repayment_demand\n",
    )
    later = add_years(TODAY, 1)
    part = run("land-charge", "decide", closed, "--disposal-date", later.isoformat(), "--demand", "part",
               "--amount", "1,200.00", "--factor", "care", "--factor", "hardship",
               "--reason", "Moving in with her daughter, who cares for her", "--json", user="approver")  # fmt: skip
    assert part.exit_code == 0, part.stderr
    assert json.loads(part.stdout)["trigger"] == "demand_repayment"
    waived = run("land-charge", "decide", closed, "--disposal-date", add_years(TODAY, 2).isoformat(),
                 "--demand", "waive", "--factor", "health", "--reason", "Moving on her consultant's advice",
                 user="approver")  # fmt: skip
    assert (waived.exit_code, waived.stdout, waived.stderr) == (
        0,
        f"{closed}: waive_repayment (closed) on {day(TODAY)}\n",
        "",
    )
    shown = run("land-charge", "show", closed).stdout.splitlines()
    assert shown[5:] == [
        "Decided     Disposal    Decision  Demanded   Factors weighed  By",
        "----------  ----------  --------  ---------  ---------------  --------",
        f"{day(TODAY)}  {day(TODAY)}  full      £3,450.00  none             approver",
        f"{day(TODAY)}  {day(later)}  part      £1,200.00  care, hardship   approver",
        f"{day(TODAY)}  {day(add_years(TODAY, 2))}  waive     £0.00      health           approver",
        "",
        f"{day(TODAY)}: Sold on the open market",
        "- No special circumstances",
        "",
        f"{day(TODAY)}: Moving in with her daughter, who cares for her",
        "- The owner is moving to give or receive care",
        "- Repaying would cause the owner financial hardship",
        "",
        f"{day(TODAY)}: Moving on her consultant's advice",
        "- The owner is moving for health reasons",
    ]
    decisions = json.loads(run("land-charge", "show", closed, "--json").stdout)["decisions"]
    assert [(d["decision"], d["demanded_pence"], d["factors"]) for d in decisions] == [
        ("full", 3_450_00, ["none"]),
        ("part", 1_200_00, ["care", "hardship"]),
        ("waive", 0, ["health"]),
    ]


BAD_DECISIONS = [
    # (arguments after 'land-charge decide REF', user, exit code, the one line on stderr)
    (["--demand", "full", "--factor", "divorce", "--reason", "x"], "approver", 8,
     "dfg: unknown factor 'divorce' (one of: hardship, health, care, employment, none)"),
    (["--demand", "full", "--reason", "x"], "approver", 8,
     "dfg: name the factors weighed (--factor: hardship, health, care, employment, none), or 'none' if there were none"),
    (["--demand", "part", "--factor", "none", "--reason", "x"], "approver", 8,
     "dfg: a demand in part needs the amount to demand (--amount)"),
    (["--demand", "part", "--amount", "ten pounds", "--factor", "none", "--reason", "x"], "approver", 8,
     "dfg: --amount: 'ten pounds' is not an amount in pounds (e.g. 1234.50)"),
    (["--demand", "part", "--amount", "3450", "--factor", "none", "--reason", "x"], "approver", 8,
     "dfg: a demand in part must be more than £0.00 and less than the £3,450.00 repayable (got £3,450.00): "
     "otherwise demand in full or waive"),
    (["--demand", "waive", "--amount", "10", "--factor", "none", "--reason", "x"], "approver", 8,
     "dfg: a waiver demands nothing: give --amount only with a demand in part"),
    (["--demand", "full", "--factor", "none", "--reason", " "], "approver", 8,
     "dfg: the decision needs its reasons (--reason)"),
    (["--demand", "full", "--factor", "none", "--reason", "x", "--disposal-date", "soon"], "approver", 8,
     "dfg: --disposal-date: 'soon' is not a date (use 2026-03-31 or 31/03/2026)"),
    (["--demand", "half", "--factor", "none", "--reason", "x"], "approver", 2,
     "dfg: Invalid value for '--demand': 'half' is not one of 'full', 'part', 'waive'."),
    (["--demand", "full", "--factor", "none"], "approver", 2, "dfg: Missing option '--reason'."),
    (["--demand", "full", "--factor", "none", "--reason", "x"], "officer", 6,
     "dfg: cannot demand_repayment: needs the role Approver (delegated authority); officer has not"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "user", "code", "line"), BAD_DECISIONS, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD_DECISIONS)]
)
def test_bad_decisions_are_one_line_a_stable_code_and_change_nothing(
    run: Callable[..., Result], db: Database, closed: str, args: list[str], user: str, code: int, line: str
) -> None:
    if "--disposal-date" not in args:
        args = [*args, "--disposal-date", day(TODAY)]
    before = _state(db)
    result = run("land-charge", "decide", closed, *args, user=user)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(line), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert _state(db) == before


def test_bad_registrations_change_nothing(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], certified: str
) -> None:
    certified_on = show_case(db, cast["officer"], certified).milestones["certified_date"]
    assert certified_on is not None
    run("land-charge", "register", certified, "--ref", "LLC/1")
    assert land_charge_view(db, cast["officer"], certified).registered
    before = _state(db)
    for args, user, code, line in [
        (["--ref", "LLC/2"], "officer", 8,
         f"dfg: {certified} already has its land charge registered (on {day(TODAY)}, register reference LLC/1)"),
        (["--ref", " "], "officer", 8, "dfg: the land charge needs the Local Land Charges register's reference (--ref)"),
        (["--ref", "LLC/2", "--date", "31/02/2026"], "officer", 8,
         "dfg: --date: '31/02/2026' is not a date (use 2026-03-31 or 31/03/2026)"),
        (["--ref", "LLC/2"], "technical", 6,
         "dfg: cannot register_land_charge: needs the role Grant officer; technical has not"),
        ([], "officer", 2, "dfg: Missing option '--ref'."),
    ]:  # fmt: skip
        result = run("land-charge", "register", certified, *args, user=user)
        assert (result.exit_code, result.stdout) == (code, ""), result.stderr
        assert result.stderr.startswith(line) and result.stderr.count("\n") == 1, result.stderr
    assert _state(db) == before


def test_every_land_charge_command_teaches_by_example(run: Callable[..., Result]) -> None:
    for command in ("show", "register", "decide"):
        result = run("land-charge", command, "--help", user=None)
        assert result.exit_code == 0 and "Example" in result.stdout, command
