"""The budget report on a small population made through the real services: allocations, approvals,
a variation, interim and final payments, a cancellation, applications awaiting a decision, and a case of
the year before. The expected figures are worked out by hand from what each case did, and checked
again against the ledger by plain SQL; nothing here reads a figure from the report's own code."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from dfg.errors import InvalidInput, PermissionDenied
from dfg.reports.budget import BudgetReport, allocation_chart, budget_report
from dfg.reports.charts import Series
from dfg.rules.budget import funding_lines_of
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import format_pounds
from dfg.services.approval import vary_works
from dfg.services.budget import allocate
from dfg.services.case_opening import open_case
from dfg.services.cases import advance
from dfg.services.estimates import case_estimates, record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.services.identity import user_actor
from dfg.services.land_charge import record_repayment_decision
from dfg.services.payments import pay_interim
from dfg.services.users import add_district, add_user
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import (
    APPROVED_GRANT,
    BACKENDS,
    CAST,
    HOUSEHOLD_CONTRIBUTION,
    PostgresDatabases,
    sample_case,
    walk_to,
)

TODAY = local_day(utcnow())  # the walks date their steps today, as an officer would
YEAR = TODAY.year if TODAY.month >= 4 else TODAY.year - 1  # the financial year they fall in
PAST = date(YEAR, 2, 10)  # a day in the year before (February of the year this one starts in)
PREVIOUS = YEAR - 1
PREVIOUS_LABEL = f"{PREVIOUS}-{YEAR % 100:02d}"

#: The allocations: (district, year, line) -> pence.
ALLOCATIONS = {
    ("CAN", YEAR, "mandatory"): 100_000_00,
    ("CAN", YEAR, "top_up"): 10_000_00,
    ("LIC", YEAR, "mandatory"): 60_000_00,
    ("CAN", PREVIOUS, "mandatory"): 50_000_00,
    ("LIC", PREVIOUS, "mandatory"): 20_000_00,
}
VARIATION = 1_000_00  # the works of the varied case cost this much more: so does its grant
INTERIM = 3_000_00  # paid on the varied case against 5,000 of work done
PIPELINE = {"CAN": 7_000_00, "LIC": 5_500_00}  # the grant calculated on the case awaiting a decision
REPAYABLE = APPROVED_GRANT - 5_000_00  # what each closed owner's case's land charge secures

#: Each decision on a disposal: case key -> (decision, amount for a part demand, factors).
DECISIONS = {
    "can_full": ("full", None, ["none"]),
    "can_part": ("part", 1_200_00, ["care", "hardship"]),
    "lic_waive": ("waive", None, ["health"]),
    "can_past": ("waive", None, ["hardship", "employment"]),
}


@dataclass(frozen=True)
class Money:
    """The population: its database, the users, and each case's reference by what it did."""

    db: Database
    cast: dict[str, Actor]
    cases: dict[str, str]


def make_cast(db: Database) -> dict[str, Actor]:
    """The users of ``tests/conftest.py``'s cast, and for Lichfield a technical officer and a manager."""
    add_user(db, None, username="admin", full_name="Ada Admin", roles=["admin"])
    admin = user_actor(db, "admin")
    add_district(db, admin, "CAN", "Cannock Chase")
    add_district(db, admin, "LIC", "Lichfield")
    users = {
        **CAST,
        "lic_technical": (["technical_officer"], "LIC", None),
        "lic_manager": (["manager"], "LIC", None),
    }
    for username, (roles, district, limit) in users.items():
        add_user(db, "admin", username=username, full_name=username.title(), roles=roles, district=district,
                 approval_limit_pence=limit)  # fmt: skip
    return {name: user_actor(db, name) for name in ["admin", *users]}


def calculated(db: Database, cast: dict[str, Actor], reference: str, grant_pence: int) -> None:
    """Price the works so the grant is exactly ``grant_pence`` and calculate it: the case awaits a decision."""
    officer = cast["officer"]
    estimate = record_estimate(db, officer, reference, contractor="Castle Adaptations", received_on=TODAY,
                               price_pence=grant_pence + HOUSEHOLD_CONTRIBUTION)  # fmt: skip
    select_estimate(db, officer, reference, estimate.id)
    calculate_case_grant(db, officer, reference)


def build(db: Database, cast: dict[str, Actor]) -> dict[str, str]:
    """The cases, through the real services. Every grant approved is APPROVED_GRANT, mandatory only."""
    for (district, year, line), pence in ALLOCATIONS.items():
        allocate(db, cast["admin"], district=district, financial_year=year, funding_line=line,
                 amount_pence=pence, reason="test allocation")  # fmt: skip
    # Lichfield's cases are walked by Lichfield's officers
    lic = {**cast, "officer": cast["lichfield"], "technical": cast["lic_technical"]}
    cases: dict[str, str] = {}

    def new(key: str, walk: dict[str, Actor], district: str, state: str, *, on: date | None = None) -> str:
        changes = {} if on is None else {"first_contact_date": date(on.year, 1, 5)}
        reference = open_case(db, walk["officer"], sample_case(district, **changes))
        walk_to(db, walk, reference, state, on=on)
        cases[key] = reference
        return reference

    new("can_full", cast, "CAN", "closed")
    new("can_part", cast, "CAN", "closed")
    new("can_kept", cast, "CAN", "closed")  # a charge registered, no disposal
    varied = new("can_varied", cast, "CAN", "on_site")
    vary_works(db, cast["approver"], varied, change="A wider door", price_change_pence=VARIATION)
    pay_interim(db, cast["officer"], varied, amount_pence=INTERIM, work_done_pence=5_000_00)
    cancelled = new("can_cancelled", cast, "CAN", "approved")
    advance(
        db, cast["officer"], cancelled, "cancel", TriggerInput(code="died", reason="She died in hospital")
    )
    calculated(db, cast, new("can_waiting", cast, "CAN", "application_valid"), PIPELINE["CAN"])
    new("can_past", cast, "CAN", "closed", on=PAST)
    new("lic_waive", lic, "LIC", "closed")
    calculated(db, lic, new("lic_waiting", lic, "LIC", "application_valid"), PIPELINE["LIC"])
    for key, (decision, amount, factors) in DECISIONS.items():
        on = PAST if key == "can_past" else TODAY
        record_repayment_decision(db, cast["approver"], cases[key], disposal_on=on, decision=decision,
                                  amount_pence=amount, factors=factors, reason=f"Sold: {decision}", on=on)  # fmt: skip
    return cases


@pytest.fixture(scope="module", params=BACKENDS)
def money(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Money]:
    """The population, once per backend (the reports only read it)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("money") / "money.sqlite"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        postgres: PostgresDatabases = request.getfixturevalue("postgres")
        url = postgres.fresh()
    db = Database.open(url)
    cast = make_cast(db)
    yield Money(db, cast, build(db, cast))
    db.dispose()


# ---------------------------------------------------------------------- what the figures should be

#: (allocation, committed, spent, pipeline) by (district, line), this year, worked out from the cases:
#: can_full, can_part and can_kept were paid in full; the varied case was committed APPROVED_GRANT, then
#: VARIATION more, and INTERIM of it paid; the cancelled case's commitment was released.
EXPECTED = {
    ("CAN", "mandatory"): (
        100_000_00,
        APPROVED_GRANT + VARIATION - INTERIM,
        3 * APPROVED_GRANT + INTERIM,
        PIPELINE["CAN"],
    ),
    ("CAN", "top_up"): (10_000_00, 0, 0, 0),
    ("LIC", "mandatory"): (60_000_00, 0, APPROVED_GRANT, PIPELINE["LIC"]),
}
#: The year before: can_past was paid in full; the pipeline counts only this year.
EXPECTED_BEFORE = {
    ("CAN", "mandatory"): (50_000_00, 0, APPROVED_GRANT, 0),
    ("LIC", "mandatory"): (20_000_00, 0, 0, 0),
}
NAMES = {"CAN": "Cannock Chase", "LIC": "Lichfield"}
#: The lines the districts may budget for, from their policy files: mandatory first.
LINES = ["mandatory", *sorted({*funding_lines_of("CAN"), *funding_lines_of("LIC")} - {"mandatory"})]


def ledger(db: Database, year: int) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(allocation, committed, spent) by (district, line) from the ledger, by plain SQL."""
    sql = text(
        "SELECT district_code, funding_line,"
        " SUM(CASE WHEN kind = 'allocation' THEN amount_pence ELSE 0 END),"
        " SUM(CASE WHEN kind IN ('commitment', 'adjustment', 'release') THEN amount_pence"
        "          WHEN kind = 'payment' THEN -amount_pence ELSE 0 END),"
        " SUM(CASE WHEN kind = 'payment' THEN amount_pence ELSE 0 END)"
        " FROM budget_entries WHERE financial_year = :year GROUP BY district_code, funding_line"
    )
    with db.read_connection() as connection:
        return {
            (d, line): (int(a), int(c), int(s))
            for d, line, a, c, s in connection.execute(sql, {"year": year})
        }


def figures(report: BudgetReport) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    return {
        (r.district, r.funding_line): (
            r.position.allocation_pence,
            r.position.committed_pence,
            r.position.spent_pence,
            r.position.pipeline_pence,
        )
        for r in report.rows
    }


def added(expected: dict[tuple[str, str], tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    return (
        sum(e[0] for e in expected.values()),
        sum(e[1] for e in expected.values()),
        sum(e[2] for e in expected.values()),
        sum(e[3] for e in expected.values()),
    )


# ---------------------------------------------------------------------- the figures


def test_every_district_and_line_and_the_totals(money: Money) -> None:
    report = budget_report(money.db, money.cast["manager"], today=TODAY)
    assert figures(report) == EXPECTED
    assert {key: value[:3] for key, value in EXPECTED.items()} == ledger(money.db, YEAR)
    assert [(r.district_name, r.funding_line) for r in report.rows] == [
        ("Cannock Chase", "mandatory"),
        ("Cannock Chase", "top_up"),
        ("Lichfield", "mandatory"),
    ]
    # committed + spent + remaining = allocation on every row and in the totals
    for row in report.rows:
        allocation, committed, spent, pipeline = EXPECTED[row.district, row.funding_line]
        p = row.position
        assert p.remaining_pence == allocation - committed - spent
        assert p.committed_pence + p.spent_pence + p.remaining_pence == p.allocation_pence
        assert p.forecast_outturn_pence == spent + committed + pipeline
        assert p.forecast_remaining_pence == allocation - spent - committed - pipeline
    allocation, committed, spent, pipeline = added(EXPECTED)
    total = report.total
    assert (total.allocation_pence, total.committed_pence, total.spent_pence, total.pipeline_pence) == (
        allocation,
        committed,
        spent,
        pipeline,
    )
    assert total.remaining_pence == allocation - committed - spent
    assert total.committed_pence + total.spent_pence + total.remaining_pence == total.allocation_pence
    can = report.by_district()[0]
    assert (can[0], can[2].allocation_pence, can[2].spent_pence) == (
        "CAN",
        110_000_00,
        3 * APPROVED_GRANT + INTERIM,
    )
    assert [(line, p.allocation_pence) for line, p in report.by_line()] == [
        ("mandatory", 160_000_00),
        ("top_up", 10_000_00),
    ]
    assert report.pipeline_counted


def test_the_year_before_has_no_pipeline(money: Money) -> None:
    report = budget_report(money.db, money.cast["manager"], financial_year=PREVIOUS_LABEL, today=TODAY)
    assert figures(report) == EXPECTED_BEFORE
    assert {key: value[:3] for key, value in EXPECTED_BEFORE.items()} == ledger(money.db, PREVIOUS)
    assert not report.pipeline_counted
    assert report.scope.start == date(PREVIOUS, 4, 1) and report.scope.end == date(YEAR, 3, 31)
    assert "the forecast is what is spent and committed" in report.as_text()
    # every spelling of the year is the same year
    for spelling in (PREVIOUS, str(PREVIOUS), f"{PREVIOUS}/{YEAR % 100:02d}", f"{PREVIOUS}/{YEAR}"):
        assert figures(
            budget_report(money.db, money.cast["manager"], financial_year=spelling, today=TODAY)
        ) == (EXPECTED_BEFORE)
    assert budget_report(money.db, money.cast["manager"], financial_year=YEAR + 5, today=TODAY).rows == ()


def test_district_and_funding_line_filters(money: Money) -> None:
    manager = money.cast["manager"]
    lic = budget_report(money.db, manager, district="LIC", today=TODAY)
    assert figures(lic) == {("LIC", "mandatory"): EXPECTED["LIC", "mandatory"]}
    assert lic.describe().startswith("Lichfield · ")
    top_up = budget_report(money.db, manager, funding_line="top_up", today=TODAY)
    assert figures(top_up) == {("CAN", "top_up"): EXPECTED["CAN", "top_up"]}
    assert top_up.describe().endswith(" · top_up funding line")
    mandatory = budget_report(money.db, manager, funding_line="mandatory", today=TODAY)
    assert figures(mandatory) == {k: v for k, v in EXPECTED.items() if k[1] == "mandatory"}
    both = budget_report(money.db, manager, district="CAN", funding_line="mandatory", today=TODAY)
    assert figures(both) == {("CAN", "mandatory"): EXPECTED["CAN", "mandatory"]}
    # a line the district could budget for, with no budget: nothing, and no error
    assert budget_report(money.db, manager, district="LIC", funding_line="top_up", today=TODAY).rows == ()
    # a district's manager sees that district
    own = budget_report(money.db, money.cast["lic_manager"], today=TODAY)
    assert {r.district for r in own.rows} == {"LIC"}


@pytest.mark.parametrize(
    ("who", "given", "error", "message"),
    [
        ("officer", {}, PermissionDenied, "officer needs the role manager or admin to do this"),
        ("lic_manager", {"district": "CAN"}, PermissionDenied, "lic_manager works for district LIC"),
        ("manager", {"district": "XYZ"}, InvalidInput, "no district 'XYZ' (known: CAN, LIC)"),
        ("manager", {"funding_line": "grants"}, InvalidInput,
         f"--funding-line: no funding line 'grants' (known: {', '.join(LINES)})"),
        ("manager", {"financial_year": "2206/07"}, InvalidInput,
         "financial year 2206: expected a year from 1990 to 2100"),
        ("manager", {"financial_year": "last year"}, InvalidInput, "financial year 'last year' is not like 2026-27"),
    ],
)  # fmt: skip
def test_refusals(
    money: Money, who: str, given: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        budget_report(money.db, money.cast[who], today=TODAY, **given)  # type: ignore[arg-type]
    assert str(getattr(raised.value, "message", raised.value)) == message


# ---------------------------------------------------------------------- the outputs


def pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}" if pence >= 0 else f"-{pounds(-pence)}"


def test_csv(money: Money) -> None:
    report = budget_report(money.db, money.cast["manager"], today=TODAY)
    rows = list(csv.reader(io.StringIO(report.as_csv())))
    assert rows[0] == [
        "financial_year", "district", "district_name", "funding_line", "allocation_pounds", "committed_pounds",
        "spent_pounds", "remaining_pounds", "spent_percent", "committed_percent", "pipeline_pounds",
        "forecast_outturn_pounds", "forecast_remaining_pounds",
    ]  # fmt: skip
    expected = []
    for (district, line), (allocation, committed, spent, pipeline) in EXPECTED.items():
        remaining = allocation - committed - spent
        expected.append([
            f"{YEAR}-{(YEAR + 1) % 100:02d}", district, NAMES[district], line, pounds(allocation), pounds(committed),
            pounds(spent), pounds(remaining), f"{100 * spent / allocation:.1f}", f"{100 * committed / allocation:.1f}",
            pounds(pipeline), pounds(spent + committed + pipeline), pounds(remaining - pipeline),
        ])  # fmt: skip
    assert rows[1:] == expected


def test_json(money: Money) -> None:
    data = json.loads(json.dumps(budget_report(money.db, money.cast["manager"], today=TODAY).as_dict()))
    assert (data["report"], data["financial_year"], data["funding_line"], data["pipeline_counted"]) == (
        "budget",
        YEAR,
        None,
        True,
    )
    assert data["scope"]["start"] == f"{YEAR}-04-01"
    allocation, committed, spent, pipeline = added(EXPECTED)
    assert data["total"] == {
        "allocation_pence": allocation,
        "committed_pence": committed,
        "spent_pence": spent,
        "remaining_pence": allocation - committed - spent,
        "pipeline_pence": pipeline,
        "forecast_outturn_pence": spent + committed + pipeline,
        "forecast_remaining_pence": allocation - spent - committed - pipeline,
        "spent_percent": round(100 * spent / allocation, 1),
        "committed_percent": round(100 * committed / allocation, 1),
    }
    lines = {(line["district"], line["funding_line"]): line for line in data["lines"]}
    assert set(lines) == set(EXPECTED)
    for key, (allocation, committed, spent, pipeline) in EXPECTED.items():
        line = lines[key]
        assert (
            line["allocation_pence"],
            line["committed_pence"],
            line["spent_pence"],
            line["pipeline_pence"],
        ) == (
            allocation,
            committed,
            spent,
            pipeline,
        )
        assert line["district_name"] == NAMES[key[0]]
    assert [d["district"] for d in data["by_district"]] == ["CAN", "LIC"]
    assert [d["funding_line"] for d in data["by_line"]] == ["mandatory", "top_up"]


def sections(shown: str) -> dict[str, list[list[str]]]:
    """The text form's tables by their titles: each row split into its cells."""
    found: dict[str, list[list[str]]] = {}
    for block in shown.split("\n\n")[1:]:
        title, *lines = block.splitlines()
        rows = [re.split(r"\s{2,}", line) for line in lines[2:] if not line.startswith("-")]
        found[title] = [row for row in rows if len(row) > 1]  # not the note under the table
    return found


def test_text_has_every_row_and_the_totals(money: Money) -> None:
    shown = budget_report(money.db, money.cast["manager"], today=TODAY).as_text()
    assert shown.splitlines()[:2] == ["Budget position", f"All districts · {YEAR}-{(YEAR + 1) % 100:02d} (1 April "
                                      f"{YEAR} to 31 March {YEAR + 1}) · run on {TODAY:%d/%m/%Y}"]  # fmt: skip
    tables = sections(shown)
    assert list(tables) == [
        "Budget position by district, all funding lines",
        "Funding line: mandatory",
        "Funding line: top_up",
        "Forecast by district and funding line",
    ]

    def position(name: str, figures: list[tuple[int, int, int, int]]) -> list[str]:
        allocation, committed, spent, _ = (sum(f[i] for f in figures) for i in range(4))
        remaining = allocation - committed - spent
        money = [format_pounds(p) for p in (allocation, committed, spent, remaining)]
        return [
            name,
            *money,
            f"{round(100 * spent / allocation)}%",
            f"{round(100 * committed / allocation)}%",
        ]

    def forecast(name: str, line: str, figures: list[tuple[int, int, int, int]]) -> list[str]:
        allocation, committed, spent, pipeline = (sum(f[i] for f in figures) for i in range(4))
        remaining = allocation - committed - spent
        return [name, line, *(format_pounds(p) for p in (remaining, pipeline, spent + committed + pipeline,
                                                         remaining - pipeline))]  # fmt: skip

    def of(district: str | None = None, line: str | None = None) -> list[tuple[int, int, int, int]]:
        return [v for (d, f), v in EXPECTED.items() if district in (None, d) and line in (None, f)]

    assert tables["Budget position by district, all funding lines"] == [
        position("Cannock Chase", of("CAN")),
        position("Lichfield", of("LIC")),
        position("All districts", of()),
    ]
    assert tables["Funding line: mandatory"] == [
        position("Cannock Chase", of("CAN", "mandatory")),
        position("Lichfield", of("LIC", "mandatory")),
        position("All districts", of(line="mandatory")),
    ]
    assert tables["Funding line: top_up"] == [
        position("Cannock Chase", of("CAN", "top_up")),
        position("All districts", of(line="top_up")),
    ]
    assert tables["Forecast by district and funding line"] == [
        forecast("Cannock Chase", "mandatory", of("CAN", "mandatory")),
        forecast("Cannock Chase", "top_up", of("CAN", "top_up")),
        forecast("Lichfield", "mandatory", of("LIC", "mandatory")),
        forecast("All districts", "mandatory", of(line="mandatory")),
        forecast("All districts", "top_up", of(line="top_up")),
        forecast("All districts", "all lines", of()),
    ]
    # one funding line: no table per line, and the line is named
    only = sections(
        budget_report(money.db, money.cast["manager"], funding_line="mandatory", today=TODAY).as_text()
    )
    assert list(only) == ["Budget position by district: mandatory", "Forecast by district and funding line"]
    assert only["Forecast by district and funding line"][-1][:2] == ["All districts", "mandatory"]


def test_pdf_shows_every_figure_and_the_chart(money: Money) -> None:
    if not money.db.is_sqlite:
        pytest.skip("the PDF does not depend on the database: one backend is enough")
    report = budget_report(money.db, money.cast["manager"], today=TODAY)
    reader = PdfReader(io.BytesIO(report.as_pdf()))
    words = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    allocation, committed, spent, pipeline = added(EXPECTED)
    for phrase in (
        "Budget position by district, all funding lines",
        "Funding line: top_up",
        "Forecast by district and funding line",
        f"run on {TODAY:%d/%m/%Y}",
        "spent committed pipeline allocation",  # the chart's legend
        f"All districts {format_pounds(allocation)} {format_pounds(committed)} {format_pounds(spent)}",
        format_pounds(spent + committed + pipeline),
    ):
        assert phrase in words, phrase
    for section in report.document().sections:
        for row in section.rows:
            for cell in row:
                assert cell in words, (section.title, cell)
    assert reader.metadata is not None and reader.metadata.title.startswith("Budget position")
    svg = report.document().sections[0].chart
    assert svg is not None
    assert svg.count('stroke-width="2.5"') == 2 + 1  # an allocation tick per district, and the legend's
    # each district's stack as a share of its allocation, at the end of its bar
    for district in ("CAN", "LIC"):
        lines = [v for k, v in EXPECTED.items() if k[0] == district]
        stack = sum(c + s + p for _, c, s, p in lines)
        assert f">{round(100 * stack / sum(a for a, *_ in lines))}%<" in svg


def test_importing_the_report_does_not_pull_in_weasyprint() -> None:
    code = "import dfg.reports.budget, sys; print('weasyprint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_chart() -> None:
    series = [Series("spent", [50.0, 0.0], "#000"), Series("committed", [25.0, 0.0], "#111")]
    svg = allocation_chart(["<Ash & Oak>", "Elm"], series, [100.0, 80.0], title="Budget", axis_label="pounds")
    assert svg is not None and "&lt;Ash &amp; Oak&gt;" in svg and "<Ash" not in svg
    assert ">75%<" in svg and ">0%<" in svg  # the stack as a share of the allocation
    nothing = [Series("spent", [0.0], "#000")]
    assert allocation_chart(["Elm"], nothing, [0.0], title="Budget", axis_label="pounds") is None
    # only an allocation: its tick is drawn
    only = allocation_chart(["Elm"], nothing, [10.0], title="Budget", axis_label="pounds")
    assert only is not None and only.count('stroke-width="2.5"') == 2


def test_a_small_share_of_the_allocation_is_drawn_and_labelled_beside_its_bar() -> None:
    # About 1% of a £1,000,000 allocation spent, a little committed: the bars are a few units wide.
    series = [Series("spent", [9_000.0, 0.0], "#000"), Series("committed", [1_500.0, 0.0], "#111")]
    svg = allocation_chart(
        ["Ash", "Elm"], series, [1_000_000.0, 1_000_000.0], title="Budget", axis_label="pounds"
    )
    assert svg is not None
    bars = [
        (float(x), float(w))
        for x, w in re.findall(r'<rect x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)" height="14"', svg)
    ]
    assert len(bars) == 2 and all(w >= 3.0 for _, w in bars)  # both parts show, however small
    end = bars[-1][0] + bars[-1][1]
    labels = {text: float(x) for x, text in re.findall(r'<text x="([0-9.]+)"[^>]*>([0-9.]+%)</text>', svg)}
    assert set(labels) == {"1.1%", "0%"}  # 10,500 of 1,000,000, to a tenth of a per cent below 10%
    assert labels["1.1%"] == pytest.approx(end + 5, abs=0.2)  # beside the bar, not out at the tick


def test_an_application_awaiting_a_decision_without_a_calculation_is_said_not_to_be_in_the_pipeline(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "application_valid")
    before = budget_report(db, cast["manager"])
    assert (before.uncalculated, before.total.pipeline_pence) == (1, 0)
    note = (
        "1 valid application(s) awaiting a decision have no grant calculated yet and are not in the pipeline"
    )
    assert note in before.as_text()
    assert before.as_dict()["awaiting_decision_without_calculation"] == 1
    lowest = min(case_estimates(db, cast["officer"], reference).estimates, key=lambda e: e.price_pence)
    select_estimate(db, cast["officer"], reference, lowest.id)
    calculated = calculate_case_grant(db, cast["officer"], reference)
    after = budget_report(db, cast["manager"])
    assert (after.uncalculated, after.total.pipeline_pence) == (0, calculated.total_assistance_pence)
    assert "not in the pipeline" not in after.as_text()
