"""The contractor and estimate commands: text that pastes into an email, JSON on stdout, and bad input as
one line with a stable exit code that changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from cli import main
from dfg.rules.clock import local_day, utcnow
from dfg.store.database import Database
from dfg.store.models import CASES, CONTRACTORS, ESTIMATE_DECISIONS, ESTIMATES, EVENTS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step

TODAY = local_day(utcnow())
NEXT_YEAR = TODAY + timedelta(days=365)
LAST_MONTH = TODAY - timedelta(days=30)


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
            for t in (CONTRACTORS, ESTIMATES, ESTIMATE_DECISIONS, EVENTS)
        ]
        cases = list(connection.execute(select(CASES.c.reference, CASES.c.version)))
        register = list(connection.execute(select(CONTRACTORS).order_by(CONTRACTORS.c.id)))
    return counts, cases, register


@pytest.fixture
def scheme(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A case at scheme design, taking estimates."""
    reference = open_sample()
    for trigger, who in [("accept_referral", "officer"), ("record_assessment", "ot"),
                         ("complete_test_of_resources", "officer")]:  # fmt: skip
        take_step(db, cast, reference, trigger, who, TriggerInput())
    return reference


def test_the_register(run: Callable[..., Result], cast: dict[str, Actor]) -> None:
    added = run("contractor", "add", "Able Lifts Ltd", "--contact", "Jo Able", "--phone", "01543 123456",
                "--accreditation", "TrustMark", "--accreditation-expires", f"{NEXT_YEAR:%d/%m/%Y}")  # fmt: skip
    assert (added.exit_code, added.stdout) == (0, "")
    assert (
        added.stderr
        == f"added contractor Able Lifts Ltd (accreditation: TrustMark to {NEXT_YEAR:%d/%m/%Y})\n"
    )
    run("contractor", "add", "Brook Builders", "--accreditation", "TrustMark",
        "--accreditation-expires", LAST_MONTH.isoformat(), user="admin")  # fmt: skip
    listed = run("contractor", "list")
    assert listed.stdout.splitlines() == [
        "name            status  accreditation                  contact  phone",
        "--------------  ------  -----------------------------  -------  ------------",
        f"Able Lifts Ltd  active  TrustMark to {NEXT_YEAR:%d/%m/%Y}        Jo Able  01543 123456",
        f"Brook Builders  active  TrustMark, expired {LAST_MONTH:%d/%m/%Y}",
    ]
    assert listed.stderr == f"2 contractor(s); accreditations as on {TODAY:%d/%m/%Y}\n"
    on_date = json.loads(run("contractor", "list", "--on", LAST_MONTH.isoformat(), "--json").stdout)
    assert [(c["name"], c["accreditation_current"]) for c in on_date] == [
        ("Able Lifts Ltd", True),
        ("Brook Builders", True),
    ]

    updated = run("contractor", "update", "brook builders", "--status", "suspended", "--reason", "complaint")
    assert (updated.exit_code, updated.stderr) == (
        0, f"updated contractor Brook Builders (suspended; accreditation: TrustMark, expired {LAST_MONTH:%d/%m/%Y})\n",
    )  # fmt: skip
    run("contractor", "update", "Brook Builders", "--status", "removed")
    assert [c["name"] for c in json.loads(run("contractor", "list", "--json").stdout)] == ["Able Lifts Ltd"]
    assert len(json.loads(run("contractor", "list", "--all", "--json").stdout)) == 2

    shown = run("contractor", "show", "ABLE LIFTS LTD")
    assert shown.stdout.splitlines() == [
        "Able Lifts Ltd (active), register number 1",
        "Contact:        Jo Able",
        "Address:        -",
        "Phone:          01543 123456",
        "Email:          -",
        f"Accreditation:  TrustMark to {NEXT_YEAR:%d/%m/%Y} (current on {TODAY:%d/%m/%Y})",
    ]
    as_json = json.loads(run("contractor", "show", "1", "--json").stdout)
    assert (as_json["name"], as_json["accreditation_expires"]) == ("Able Lifts Ltd", NEXT_YEAR.isoformat())


def test_estimates_from_first_to_selected(run: Callable[..., Result], scheme: str) -> None:
    for name in ("Able Lifts Ltd", "Brook Builders"):
        run(
            "contractor",
            "add",
            name,
            "--accreditation",
            "TrustMark",
            "--accreditation-expires",
            NEXT_YEAR.isoformat(),
        )
    received = TODAY - timedelta(days=3)
    first = run("estimate", "add", scheme, "--contractor", "able lifts ltd", "--price", "4,500",
                "--received", received.isoformat(), "--contractor-ref", "Q-17")  # fmt: skip
    assert first.exit_code == 0, first.stderr
    assert (
        first.stdout == f"{scheme}: estimate 1 from Able Lifts Ltd, £4,500.00, received {received:%d/%m/%Y}\n"
    )
    assert first.stderr.startswith("still needed: only 1 estimate (from 1 contractor) is recorded")
    second = run("estimate", "add", scheme, "--contractor", "Brook Builders", "--price", "5200", "--json",
                 user="technical")  # fmt: skip
    assert (second.stderr, json.loads(second.stdout)["price_pence"]) == ("", 5_200_00)

    dearer = run("estimate", "select", scheme, "2", "--reason", "the applicant's own builder")
    assert dearer.stdout.splitlines() == [
        f"{scheme}: estimate 2 selected (Brook Builders, £5,200.00) on {TODAY:%d/%m/%Y}",
        "Eligible works £4,500.00: the lowest acceptable estimate. Brook Builders's dearer estimate of £5,200.00 "
        "was chosen (the applicant's own builder), so the applicant pays the difference of £700.00.",
    ]
    rejected = run(
        "estimate", "select", scheme, "2", "--unacceptable", "1=leaves out the making good", "--json"
    )
    said = json.loads(rejected.stdout)
    assert (said["eligible_works_pence"], said["applicant_pays_pence"]) == (5_200_00, 0)
    assert said["not_acceptable"] == [{"estimate": 1, "reason": "leaves out the making good"}]

    listed = run("estimate", "list", scheme)
    assert listed.stdout.splitlines()[0] == f"{scheme}: 2 estimate(s)"
    assert listed.stdout.splitlines()[3].split() == ["1", "Able", "Lifts", "Ltd", "£4,500.00", f"{received:%d/%m/%Y}",
                                                     "Q-17", "officer"]  # fmt: skip
    assert listed.stdout.splitlines()[-3:] == [
        "Selected: estimate 2 (Brook Builders, £5,200.00) by officer",
        "  Eligible works £5,200.00: the lowest acceptable estimate, from Brook Builders.",
        "Estimates needed: met",
    ]
    as_json = json.loads(run("estimate", "list", scheme, "--json", user="ot").stdout)
    assert [e["price_pence"] for e in as_json["estimates"]] == [4_500_00, 5_200_00]
    assert as_json["selection"]["estimate"] == 2 and as_json["requirement"] is None


def test_waiving_the_second_estimate(run: Callable[..., Result], scheme: str) -> None:
    run("contractor", "add", "Able Lifts Ltd")
    run("estimate", "add", scheme, "--contractor", "Able Lifts Ltd", "--price", "4500")
    waived = run("estimate", "waive", scheme.lower(), "--reason", " the only specialist fitter ")
    assert (waived.exit_code, waived.stdout) == (
        0,
        f"{scheme}: two estimates waived: the only specialist fitter\n",
    )
    lines = run("estimate", "list", scheme).stdout.splitlines()
    assert lines[-2].startswith("Waived: the only specialist fitter (officer, ")
    assert lines[-1] == "Estimates needed: met"


BAD_INPUT = [
    (["contractor", "add", "ABLE LIFTS LTD"], "officer", 8, "dfg: there is already a contractor 'ABLE LIFTS LTD'"),
    (["contractor", "add", "Dale Ltd"], "ot", 6, "dfg: ot needs the role grant_officer or admin"),
    (["contractor", "add", "Dale Ltd", "--accreditation-expires", "31/02/2027"], "officer", 8,
     "dfg: --accreditation-expires: '31/02/2027' is not a date"),
    (["contractor", "update", "Nobody Ltd", "--status", "removed"], "officer", 3, "dfg: no contractor 'Nobody Ltd'"),
    (["contractor", "update", "Able Lifts Ltd"], "officer", 8, "dfg: nothing to change"),
    (["contractor", "show", "Nobody Ltd"], "officer", 3, "dfg: no contractor 'Nobody Ltd'"),
    (["estimate", "add", "{ref}", "--contractor", "Able Lifts Ltd", "--price", "-5"], "officer", 8,
     "dfg: --price: '-5' must not be negative"),
    (["estimate", "add", "{ref}", "--contractor", "Nobody Ltd", "--price", "5"], "officer", 3,
     "dfg: no contractor 'Nobody Ltd'"),
    (["estimate", "add", "{ref}", "--contractor", "Able Lifts Ltd", "--price", "5"], "ot", 6,
     "dfg: ot needs the role grant_officer or technical_officer"),
    (["estimate", "add", "{ref}", "--contractor", "Able Lifts Ltd", "--price", "5"], "lichfield", 6,
     "dfg: lichfield works for district LIC"),
    (["estimate", "select", "{ref}", "2"], "officer", 8, "dfg: estimate 2 (Brook Builders, £5,200.00) is dearer"),
    (["estimate", "select", "{ref}", "1", "--unacceptable", "2"], "officer", 8, "dfg: --unacceptable: '2' should be"),
    (["estimate", "select", "{ref}", "9"], "officer", 8, "dfg: estimate 9 is not on this case"),
    (["estimate", "waive", "{ref}", "--reason", " "], "officer", 8, "dfg: a direction waiving the estimates needs"),
    (["estimate", "waive", "{ref}", "--reason", "x"], "technical", 6, "dfg: technical needs the role grant_officer"),
    (["estimate", "list", "CAN-2026-0999"], "officer", 3, "dfg: no case CAN-2026-0999"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "user", "code", "line"), BAD_INPUT, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD_INPUT)]
)
def test_bad_input_is_one_line_a_stable_code_and_changes_nothing(
    run: Callable[..., Result], db: Database, scheme: str, args: list[str], user: str, code: int, line: str
) -> None:
    for name in ("Able Lifts Ltd", "Brook Builders"):
        run(
            "contractor",
            "add",
            name,
            "--accreditation",
            "TrustMark",
            "--accreditation-expires",
            NEXT_YEAR.isoformat(),
        )
    run("estimate", "add", scheme, "--contractor", "Able Lifts Ltd", "--price", "4500")
    run("estimate", "add", scheme, "--contractor", "Brook Builders", "--price", "5200")
    before = _state(db)
    result = run(*(a.replace("{ref}", scheme) for a in args), user=user)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(line), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert _state(db) == before


def test_no_estimates_before_scheme_design(
    run: Callable[..., Result], db: Database, open_sample: Callable[..., str]
) -> None:
    run("contractor", "add", "Able Lifts Ltd")
    reference = open_sample()
    before = _state(db)
    result = run("estimate", "add", reference, "--contractor", "Able Lifts Ltd", "--price", "4500")
    assert (result.exit_code, result.stderr) == (
        8, f"dfg: {reference} is referral: estimates are taken from scheme design until approval\n",
    )  # fmt: skip
    assert _state(db) == before
