"""The pipeline report against figures worked out independently from the population's plan."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from dfg.errors import InvalidInput, PermissionDenied
from dfg.reports.pipeline import AGEING_BANDS, pipeline
from dfg.rules.clocks import completion_due, decision_due
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import extend_completion
from tests.reports.conftest import Population
from tests.reports.expected import is_open, stage, whole_months


def band(months: int) -> int:
    return 0 if months < 3 else 1 if months < 6 else 2 if months < 12 else 3


def test_pipeline_counts_values_ageing_and_breaches(population: Population) -> None:
    today = population.today
    report = pipeline(population.db, population.manager, today=today)
    open_plans = [p for p in population.plans if is_open(p)]
    assert len(open_plans) > 100  # a population worth testing on: recent cases at every stage

    expected: dict[tuple[str, int, str], Counter[str]] = {}
    for p in open_plans:
        figures = expected.setdefault((p.district, stage(p), p.priority), Counter())
        figures["cases"] += 1
        figures["on_hold"] += p.open_hold is not None
        figures["approved"] += p.approved_grant_pence or 0
        figures[f"age_{band(whole_months(p.first_contact, today))}"] += 1
        valid = p.milestone("valid_application_date")
        if valid and not p.milestone("approval_date") and not p.milestone("refusal_date"):
            figures["decision_overdue"] += decision_due(valid) < today
        approved = p.milestone("approval_date")
        if approved and not p.milestone("works_completed_date") and not p.milestone("certified_date"):
            figures["completion_overdue"] += completion_due(approved) < today
    got = {
        (c.district, c.stage, c.priority): Counter(
            {
                "cases": c.cases,
                "on_hold": c.on_hold,
                "approved": c.approved_grant_pence,
                **{f"age_{i}": n for i, n in enumerate(c.ageing)},
                "decision_overdue": c.decision_overdue,
                "completion_overdue": c.completion_overdue,
            }
        )
        for c in report.cells
    }
    assert {k: +v for k, v in got.items()} == {k: +v for k, v in expected.items()}
    totals = report.totals()
    assert totals["open"] == len(open_plans)
    assert totals["decision_overdue"] == sum(e["decision_overdue"] for e in expected.values()) > 0
    assert sum(totals["ageing"].values()) == len(open_plans)

    oldest = sorted(open_plans, key=lambda p: (p.first_contact, p.id))[:10]
    assert [c.reference for c in report.longest_open] == [p.reference for p in oldest]
    assert report.longest_open[0].days_open == (today - oldest[0].first_contact).days

    rows = list(csv.DictReader(io.StringIO(report.as_csv())))
    assert sum(int(r["open_cases"]) for r in rows) == len(open_plans)
    assert sum(int(r[f"aged_{AGEING_BANDS[3].replace(' ', '_')}"]) for r in rows) == sum(
        e["age_3"] for e in expected.values()
    )
    lines = report.as_text().splitlines()
    first_total = next(line for line in lines[2:] if line.startswith("All districts"))  # after the heading
    assert first_total.split()[2:8] == [
        *(str(totals["by_stage"][str(s)]) for s in range(5)),
        str(len(open_plans)),
    ]


def test_pipeline_for_one_district_and_priority(population: Population) -> None:
    report = pipeline(
        population.db, population.manager, district="NUL", priority="urgent", today=population.today
    )
    wanted = [p for p in population.plans if is_open(p) and p.district == "NUL" and p.priority == "urgent"]
    assert report.totals()["open"] == len(wanted)
    assert [d for d, _ in report.districts] == ["NUL"]
    assert report.scope.describe() == "Newcastle-under-Lyme · urgent cases only"


def test_pipeline_scope_is_checked(population: Population) -> None:
    lichfield = Actor(user_id=0, username="lic.officer", roles=frozenset({"grant_officer"}), district="LIC")
    assert [d for d, _ in pipeline(population.db, lichfield, today=population.today).districts] == ["LIC"]
    with pytest.raises(PermissionDenied, match=r"lic\.officer works for district LIC"):
        pipeline(population.db, lichfield, district="CAN")
    with pytest.raises(InvalidInput, match="no district 'XYZ'"):
        pipeline(population.db, population.manager, district="XYZ")
    with pytest.raises(InvalidInput, match="priority 'soon'"):
        pipeline(population.db, population.manager, priority="soon")


def test_completion_overdue_allows_for_a_recorded_extension(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    from tests.test_clocks_service import make_step, to_valid_application

    reference = open_sample()
    step = make_step(db, cast)
    to_valid_application(step, reference, date(2026, 3, 2), date(2026, 3, 9))
    step(reference, "approve", "approver", date(2026, 3, 20), amount_pence=7_000_00)
    today = date(2027, 3, 22)  # completion was due 20 March 2027
    assert pipeline(db, cast["manager"], today=today).totals()["completion_overdue"] == 1
    extend_completion(
        db, cast, reference, months=2, reason="Supplier delay", at=datetime(2027, 3, 1, 9, tzinfo=UTC)
    )
    extended = pipeline(db, cast["manager"], today=today)
    assert extended.totals()["completion_overdue"] == 0
    assert pipeline(db, cast["manager"], today=date(2027, 5, 21)).totals()["completion_overdue"] == 1
    # Works complete: no longer overdue, whatever the date.
    step(reference, "order_works", "officer", date(2026, 4, 1))
    step(reference, "start_on_site", "technical", date(2026, 4, 20))
    step(reference, "complete_works", "technical", date(2026, 5, 1))
    assert pipeline(db, cast["manager"], today=date(2027, 5, 21)).totals()["completion_overdue"] == 0
