"""Performance, closures and the data return against figures worked out independently from the plan."""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from dfg.errors import InvalidInput, PermissionDenied
from dfg.paths import workflows_dir
from dfg.reports.closures import closures
from dfg.reports.data_return import data_return
from dfg.reports.performance import performance
from dfg.rules.calendar import default_calendar_policy
from dfg.rules.clocks import decision_due, default_clock_policy
from dfg.workflow.actor import Actor
from tests.reports.conftest import Population
from tests.reports.expected import FLOW, age_on, completion, decision, in_year, summary, working_days_on_hold

FY_START, FY_END = date(2025, 4, 1), date(2026, 3, 31)


def test_performance_against_the_plan(population: Population) -> None:
    report = performance(population.db, population.manager, financial_year="2025-26", today=population.today)
    policy = default_clock_policy()
    # End to end: first contact to completion, for completions in the year, in working days.
    held = 0
    for priority in ("urgent", "non_urgent"):
        days, within = [], 0
        for p in population.plans:
            done = completion(p)
            if p.priority != priority or not in_year(done, FY_START, FY_END):
                continue
            assert done is not None
            calendar = default_calendar_policy().for_district(p.district)
            # Working days on hold are left out, as the case's end-to-end clock leaves them out.
            working = calendar.working_days_between(p.first_contact, done)
            working -= working_days_on_hold(p, p.first_contact, done, calendar)
            held += working_days_on_hold(p, p.first_contact, done, calendar) > 0
            days.append(working)
            within += working <= policy.service_targets(p.first_contact).by_priority[priority].end_to_end
        figures = report.figures("end_to_end", priority)
        count, mean, median, p90 = summary(days)
        assert (figures.summary.count, figures.within_target) == (count, within)
        assert figures.summary.mean == pytest.approx(mean)
        assert figures.summary.median == pytest.approx(median)
        assert figures.summary.p90 == pytest.approx(p90)
    assert held > 0  # the population has completed cases that were on hold
    # The statutory decision: valid application to the first decision, within six calendar months.
    decided = [
        p
        for p in population.plans
        if in_year(decision(p), FY_START, FY_END) and p.milestone("valid_application_date")
    ]
    statutory = report.figures("valid_application_to_decision")
    assert statutory.summary.count == len(decided)
    assert statutory.within_target == sum(
        1
        for p in decided
        if decision(p) <= decision_due(p.milestone("valid_application_date"))  # type: ignore[arg-type, operator]
    )
    # Throughput: referrals, approvals and completions per month.
    referrals = Counter((p.first_contact.year, p.first_contact.month) for p in population.plans
                        if in_year(p.first_contact, FY_START, FY_END))  # fmt: skip
    approvals = Counter(
        (d.year, d.month)
        for p in population.plans
        if in_year(d := p.milestone("approval_date"), FY_START, FY_END)  # type: ignore[union-attr]
    )
    assert [(m.year, m.month) for m in report.months] == [(2025, m) for m in range(4, 13)] + [
        (2026, m) for m in (1, 2, 3)
    ]
    assert [m.referrals for m in report.months] == [referrals[(m.year, m.month)] for m in report.months]
    assert [m.approvals for m in report.months] == [approvals[(m.year, m.month)] for m in report.months]
    rows = list(csv.DictReader(io.StringIO(report.as_csv())))
    assert {r["measure"] for r in rows} >= {"cases", "mean", "median", "p90", "within_target", "referrals"}


def test_performance_stops_at_the_month_in_progress(population: Population) -> None:
    report = performance(population.db, population.manager, today=population.today)  # 2026-27 to date
    assert report.scope.financial_year == "2026-27"
    assert [(m.year, m.month) for m in report.months][-1] == (2026, 10)


def test_closures_against_the_plan(population: Population) -> None:
    report = closures(
        population.db, population.manager, start="01/04/2025", end="2026-03-31", today=population.today
    )
    expected: Counter[tuple[str, str | None]] = Counter()
    for p in population.plans:
        if FLOW.states[p.state].terminal and in_year(p.closed_date, FY_START, FY_END):
            expected[(p.steps[-1].trigger, p.steps[-1].code)] += 1
    got = Counter({(trigger, code): cases for trigger, _, _, code, cases, _ in report.by_reason()})
    assert got == expected
    assert report.total == sum(expected.values())
    cancelled = next(r for r in report.by_reason() if r[0] == "cancel")
    assert cancelled[1] == "Cancelled" and cancelled[2] in FLOW.reason_codes["cancellation"].values()
    rows = list(csv.DictReader(io.StringIO(report.as_csv())))
    assert sum(int(r["cases"]) for r in rows) == report.total


def test_data_return_against_the_plan(population: Population) -> None:
    report = data_return(population.db, population.manager, financial_year="2025-26", today=population.today)
    done = [p for p in population.plans if in_year(completion(p), FY_START, FY_END)]
    assert report.completed.cases == len(done)
    assert report.completed.grant_pence == sum(p.approved_grant_pence or 0 for p in done)
    for tenure in ("owner", "tenant", "occupier", "landlord"):
        those = [p for p in done if p.tenure == tenure]
        assert (report.by_tenure[tenure].cases, report.by_tenure[tenure].grant_pence) == (
            len(those),
            sum(p.approved_grant_pence or 0 for p in those),
        )

    def band(p: object) -> str:
        born = p.disabled_dob  # type: ignore[attr-defined]
        if born is None:
            return "not recorded"
        age = age_on(born, completion(p))  # type: ignore[arg-type]
        return "under 18" if age < 18 else "18 to 64" if age < 65 else "65 and over"

    bands = Counter(band(p) for p in done)
    assert {b: t.cases for b, t in report.by_age_band.items()} == {b: bands[b] for b in report.by_age_band}
    assert bands["under 18"] > 0 and bands["65 and over"] > 0
    approved = [p for p in population.plans if in_year(p.milestone("approval_date"), FY_START, FY_END)]
    assert report.approved.cases == len(approved)
    days = [(completion(p) - p.first_contact).days for p in done]  # type: ignore[operator]
    count, mean, median, p90 = summary(days)
    time = report.times["first contact to completion"]
    assert (time.count, time.mean, time.median, time.p90) == (
        count,
        pytest.approx(mean),
        median,
        pytest.approx(p90),
    )
    rows = list(csv.DictReader(io.StringIO(report.as_csv())))
    assert {"financial_year": "2025-26", "district": "all", "section": "completed", "category": "all",
            "measure": "cases", "value": str(len(done))} in rows  # fmt: skip


def test_reports_for_managers_only_and_within_a_district(population: Population) -> None:
    officer = Actor(user_id=0, username="can.officer", roles=frozenset({"grant_officer"}), district="CAN")
    for report in (performance, closures, data_return):
        with pytest.raises(PermissionDenied, match="needs the role manager or admin"):
            report(population.db, officer)
    district_manager = Actor(user_id=0, username="can.manager", roles=frozenset({"manager"}), district="CAN")
    mine = data_return(population.db, district_manager, financial_year=2025, today=population.today)
    assert mine.scope.district == "CAN"
    assert mine.completed.cases == sum(
        1 for p in population.plans if p.district == "CAN" and in_year(completion(p), FY_START, FY_END)
    )
    with pytest.raises(PermissionDenied, match=r"can\.manager works for district CAN"):
        closures(population.db, district_manager, district="LIC")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"financial_year": "2025-27"}, "financial year '2025-27': 27 does not follow 2025"),
        ({"financial_year": "last year"}, "financial year 'last year' is not like 2026-27"),
        (
            {"financial_year": "2025-26", "start": "2025-04-01"},
            "give a financial year or a date range, not both",
        ),
        (
            {"start": "2026-03-01", "end": "2026-02-01"},
            "the period ends (01/02/2026) before it starts (01/03/2026)",
        ),
        ({"start": "1/13/2026"}, "--from: '1/13/2026' is not a date"),
    ],
)
def test_bad_periods_are_refused(population: Population, arguments: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        closures(population.db, population.manager, **arguments)  # type: ignore[arg-type]
    assert caught.value.message.startswith(message)


def test_performance_measures_each_case_against_its_districts_targets(
    population: Population, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    district = population.plans[0].district
    folder = tmp_path / "workflows"
    shutil.copytree(workflows_dir(), folder)
    targets = (folder / "policy" / "targets.toml").read_text(encoding="utf-8")
    strict = targets.replace("end_to_end = 55", "end_to_end = 1").replace(
        "end_to_end = 150", "end_to_end = 1"
    )
    (folder / "policy" / f"targets-{district}.toml").write_text(strict, encoding="utf-8")
    monkeypatch.setenv("DFG_WORKFLOWS", str(folder))
    workflows_dir.cache_clear()
    try:
        own = performance(population.db, population.manager, district=district, financial_year="2025-26",
                          today=population.today)  # fmt: skip
        every = performance(
            population.db, population.manager, financial_year="2025-26", today=population.today
        )
    finally:
        monkeypatch.undo()
        workflows_dir.cache_clear()
    figures = own.figures("end_to_end", "non_urgent")
    assert figures.target == 1  # the district's own target is shown
    done = [
        p for p in population.plans if p.district == district and in_year(completion(p), FY_START, FY_END)
    ]
    calendar = default_calendar_policy().for_district(district)
    assert own.figures("end_to_end", "all").within_target == sum(
        calendar.working_days_between(p.first_contact, completion(p)) <= 1  # type: ignore[arg-type]
        for p in done
    )
    assert every.figures("end_to_end", "non_urgent").target == 150  # all districts: the default's
    # The district's cases met the default targets more often than its own: the own ones were used.
    default = default_clock_policy()
    assert own.figures("end_to_end", "all").within_target < sum(
        calendar.working_days_between(p.first_contact, completion(p))  # type: ignore[arg-type]
        <= default.service_targets(p.first_contact).by_priority[p.priority].end_to_end
        for p in done
    )
