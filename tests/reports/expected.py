"""What the reports should say about a generated population, worked out from its plan alone.

Nothing here imports report code: stages come from the workflow definition, due dates from the clock
rules, working days from the calendar rules, percentiles from the standard library.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from bench.population import PlannedCase
from dfg.rules.calendar import WorkingCalendar
from dfg.workflow.definition import current_definition

FLOW = current_definition()


def is_open(plan: PlannedCase) -> bool:
    return not FLOW.states[plan.state].terminal


def stage(plan: PlannedCase) -> int:
    value = FLOW.states[plan.state].stage
    assert value is not None
    return value


def whole_months(earlier: date, later: date) -> int:
    """Whole calendar months from ``earlier`` to ``later`` (a month is complete on the same day number)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - 1 if later.day < earlier.day else months


def completion(plan: PlannedCase) -> date | None:
    """When the works were complete: the works completed date, else the certified date."""
    return plan.milestone("works_completed_date") or plan.milestone("certified_date")


def decision(plan: PlannedCase) -> date | None:
    return plan.milestone("refusal_date") or plan.milestone("approval_date")


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def summary(values: Sequence[int]) -> tuple[int, float, float, float]:
    """(count, mean, median, 90th percentile by linear interpolation, as PERCENTILE.INC)."""
    return (
        len(values),
        statistics.fmean(values),
        statistics.median(values),
        statistics.quantiles(values, n=10, method="inclusive")[8],
    )


def in_year(day: date | None, first: date, last: date) -> bool:
    return day is not None and first <= day <= last


def count(plans: Iterable[PlannedCase]) -> int:
    return sum(1 for _ in plans)


def working_days_on_hold(plan: PlannedCase, first: date, last: date, calendar: WorkingCalendar) -> int:
    """Working days on hold after ``first`` up to ``last``: from each hold's date to the day before its
    resume (to ``last`` while it is open), as the service clocks leave them out."""
    held = 0
    for i, step in enumerate(plan.steps):
        if step.trigger != "hold":
            continue
        resume = next((s.on for s in plan.steps[i + 1 :] if s.trigger == "resume"), None)
        day, end = (
            max(step.on, first + timedelta(days=1)),
            min(last, resume - timedelta(days=1) if resume else last),
        )
        while day <= end:
            held += calendar.is_working_day(day)
            day += timedelta(days=1)
    return held
