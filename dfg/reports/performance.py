"""Performance: how long cases take between stage boundaries, against the targets, and monthly throughput.

An interval counts in the period in which it *ended* (an assessment in May counts in May, however long
ago the referral was). Times are in **working days** (Monday to Friday, less England and Wales bank
holidays and the district's closure days), counted as the clocks count them: the days after the first
date up to and including the second. Working days on hold within an interval are deducted, as the
case's service clocks deduct them (``dfg case clocks``), so a case within its stage target on its clocks
is within it here; the statutory decision is never paused, and its interval is counted whole. A case's
target is the one in force on its first contact, for its priority. The holds are read from the event
log of only the cases that have been on hold (:func:`dfg.workflow.timeline.histories_for`).

Counts per month are SQL aggregates (``GROUP BY`` year and month). Means, medians and 90th percentiles
are worked out in Python over the interval dates fetched by one query: SQLite has no percentile function,
and no database knows working days (see :mod:`dfg.reports.durations`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, extract, func, or_, select

from dfg.presentation import Cell, Sheet, Tabulated, percent
from dfg.reports import charts
from dfg.reports.document import ReportDocument, Section
from dfg.reports.durations import Summary, figure
from dfg.reports.scope import ReportScope, district_names, report_scope
from dfg.rules.calendar import district_calendar
from dfg.rules.clock import local_day, utcnow
from dfg.rules.clocks import (
    PRIORITIES,
    ClockPolicy,
    Hold,
    ServiceTargets,
    clock_policy_for,
    decision_due,
    working_days_on_hold,
)
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS
from dfg.workflow.actor import Actor
from dfg.workflow.definition import all_definitions
from dfg.workflow.timeline import CASE_COLUMNS, histories_for

_c = CASES.c
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: The date a case's works were complete, as the clocks take it: works completed, else the certified date.
COMPLETION = func.coalesce(_c.works_completed_date, _c.certified_date)
#: The date of the decision: approval or refusal (an overturned refusal later approved: the refusal).
DECISION = func.coalesce(_c.refusal_date, _c.approval_date)


@dataclass(frozen=True)
class Interval:
    """Two boundaries of a case's journey, and the target it is measured against."""

    name: str
    label: str
    #: Names of the row's dates (see :data:`_DATES`) the interval runs from and to.
    start: str
    end: str
    #: The stages whose working-day targets add up to this interval's target (empty: see ``statutory``).
    stages: tuple[int, ...] = ()
    end_to_end: bool = False
    #: Measured against the statutory decision date (6 calendar months) rather than a working-day target.
    statutory: bool = False


INTERVALS = (
    Interval(
        "contact_to_assessment",
        "Contact to assessment (stages 0–1)",
        "first_contact",
        "assessment",
        (0, 1),
    ),
    Interval(
        "assessment_to_application",
        "Assessment to application (stage 2)",
        "assessment",
        "application",
        (2,),
    ),
    Interval("application_to_decision", "Application to decision (stage 3)", "application", "decision", (3,)),
    Interval(
        "valid_application_to_decision",
        "Valid application to decision (s.34)",
        "valid",
        "decision",
        statutory=True,
    ),
    Interval("approval_to_completion", "Approval to completion (stage 4)", "approval", "completion", (4,)),
    Interval(
        "end_to_end",
        "End to end (contact to completion)",
        "first_contact",
        "completion",
        end_to_end=True,
    ),
)

# The dates each interval may use, as fetched for every case that ended an interval in the period.
_DATES: dict[str, ColumnElement[date]] = {
    "first_contact": _c.first_contact_date,
    "assessment": _c.assessment_date,
    "application": _c.application_received_date,
    "valid": _c.valid_application_date,
    "decision": DECISION,
    "approval": _c.approval_date,
    "completion": COMPLETION,
}


@dataclass(frozen=True)
class IntervalFigures:
    """One interval for one priority (or ``all``): how long it took, and how many within target."""

    interval: Interval
    priority: str
    #: Working days.
    summary: Summary
    within_target: int
    #: The target in working days in force on the day of the report, for display (each case is measured
    #: against the version in force on its first contact); None for the statutory decision and ``all``.
    target: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "interval": self.interval.name,
            "label": self.interval.label,
            "priority": self.priority,
            **{f"working_days_{k}": v for k, v in self.summary.as_dict().items()},
            "within_target": self.within_target,
            "target_working_days": self.target,
        }


@dataclass(frozen=True)
class MonthFigures:
    """What happened in one calendar month of the period."""

    year: int
    month: int
    referrals: int
    approvals: int
    completions: int

    @property
    def label(self) -> str:
        return f"{_MONTH_NAMES[self.month - 1]} {self.year % 100:02d}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": f"{self.year}-{self.month:02d}",
            "referrals": self.referrals,
            "approvals": self.approvals,
            "completions": self.completions,
        }


_PRIORITY_LEGEND = (("urgent: median", charts.URGENT), ("non-urgent: median", charts.NON_URGENT))


def _priority_label(priority: str) -> str:
    return {"all": "all"}.get(priority, priority.replace("_", "-"))


@dataclass(frozen=True)
class Performance(Tabulated):
    """Times between stage boundaries and throughput, for intervals that ended in the period."""

    today: date
    scope: ReportScope
    intervals: tuple[IntervalFigures, ...]
    months: tuple[MonthFigures, ...]

    def figures(self, name: str, priority: str = "all") -> IntervalFigures:
        return next(f for f in self.intervals if f.interval.name == name and f.priority == priority)

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "performance",
            "today": self.today.isoformat(),
            "scope": self.scope.as_dict(),
            "day_unit": "working",
            "intervals": [f.as_dict() for f in self.intervals],
            "months": [m.as_dict() for m in self.months],
        }

    def as_sheet(self) -> Sheet:
        """Tidy rows: section, what, priority, measure, value (times in working days)."""
        rows: list[list[Cell]] = []
        for f in self.intervals:
            s = f.summary
            for measure, value in (
                ("cases", s.count),
                ("mean", s.mean),
                ("median", s.median),
                ("p90", s.p90),
                ("within_target", f.within_target),
            ):
                rows.append(
                    [
                        "interval",
                        f.interval.name,
                        f.priority,
                        measure,
                        None if value is None else round(value, 1),
                    ]
                )
        for m in self.months:
            for measure in ("referrals", "approvals", "completions"):
                rows.append(["month", f"{m.year}-{m.month:02d}", "all", measure, getattr(m, measure)])
        return ["section", "what", "priority", "measure", "value"], rows

    def as_text(self) -> str:
        return self.document().as_text()

    def as_pdf(self) -> bytes:
        return self.document().as_pdf()

    def document(self) -> ReportDocument:
        return ReportDocument(
            "Performance: time between stages",
            self.scope.describe(),
            self.today,
            [self._intervals(), self._end_to_end(), self._throughput()],
        )

    def _intervals(self) -> Section:
        rows = [
            [
                f.interval.label if f.priority == PRIORITIES[0] else "",
                _priority_label(f.priority),
                f"{f.summary.count:,}",
                *f.summary.cells(),
                "6 months" if f.interval.statutory else "" if f.target is None else str(f.target),
                percent(f.within_target, f.summary.count),
            ]
            for f in self.intervals
            if f.priority != "all"
        ]
        spreads = [
            charts.Spread(
                f"{f.interval.label.split(' (')[0]}, {_priority_label(f.priority)}",
                f.summary.median,
                f.summary.p90,
                charts.URGENT if f.priority == "urgent" else charts.NON_URGENT,
                f.target,
            )
            for f in self.intervals
            if f.priority != "all" and not f.interval.end_to_end  # end to end has its own chart, below
        ]
        return Section(
            "Time between stage boundaries (working days)",
            ["interval", "priority", "cases", "mean", "median", "90th pct", "target", "within target"],
            rows,
            numeric=(2, 3, 4, 5, 6, 7),
            chart=charts.spread_chart(
                spreads,
                title="Median and 90th percentile working days between stages",
                axis_label="working days",
                legend=_PRIORITY_LEGEND,
                label_width=300,
            ),
            note=(
                "Intervals that ended in the period. Working days: Monday to Friday less bank holidays, "
                "closure days and working days on hold (as the case's clocks count them); the statutory "
                "decision is never paused. Within target: the stage targets for the case's priority; for the "
                "decision, the statutory six calendar months from the valid application."
            ),
        )

    def _end_to_end(self) -> Section:
        rows, spreads = [], []
        for priority in (*PRIORITIES, "all"):
            f = self.figures("end_to_end", priority)
            target = f.target
            rows.append(
                [
                    _priority_label(priority),
                    f"{f.summary.count:,}",
                    f"{f.within_target:,}",
                    percent(f.within_target, f.summary.count),
                    figure(f.summary.median),
                    "" if target is None else str(target),
                ]
            )
            if priority != "all":
                colour = charts.URGENT if priority == "urgent" else charts.NON_URGENT
                spreads.append(
                    charts.Spread(_priority_label(priority), f.summary.median, f.summary.p90, colour, target)
                )
        return Section(
            "End to end against target",
            ["priority", "completed", "within target", "share", "median", "target"],
            rows,
            numeric=(1, 2, 3, 4, 5),
            total_rows=1,
            chart=charts.spread_chart(
                spreads,
                title="First contact to completion against the target",
                axis_label="working days",
                legend=_PRIORITY_LEGEND,
                label_width=120,
            ),
            note=(
                "Target: working days from first contact to completion of the works, for the case's "
                "priority; working days on hold are not counted."
            ),
        )

    def _throughput(self) -> Section:
        rows = [[m.label, f"{m.referrals:,}", f"{m.approvals:,}", f"{m.completions:,}"] for m in self.months]
        total = [
            "Total",
            *(
                f"{sum(getattr(m, k) for m in self.months):,}"
                for k in ("referrals", "approvals", "completions")
            ),
        ]
        chart = charts.line_chart(
            [m.label for m in self.months],
            [
                charts.Series("referrals", [m.referrals for m in self.months], charts.QUALITATIVE[0]),
                charts.Series("approvals", [m.approvals for m in self.months], charts.QUALITATIVE[4]),
                charts.Series("completions", [m.completions for m in self.months], charts.QUALITATIVE[2]),
            ],
            title="Referrals, approvals and completions each month",
            axis_label="cases",
        )
        return Section(
            "Monthly throughput",
            ["month", "referrals", "approvals", "completions"],
            [*rows, total],
            numeric=(1, 2, 3),
            total_rows=1,
            chart=chart,
            note="Referrals: first contact. Completions: works completed (or certified where no date was recorded).",
        )


# ---------------------------------------------------------------------- reading the figures


def _target_days(interval: Interval, targets: ServiceTargets) -> int | None:
    """The interval's working-day target under ``targets`` (None: statutory, or a stage without one)."""
    if interval.end_to_end:
        return targets.end_to_end
    if interval.stages and all(s in targets.stages for s in interval.stages):
        return sum(targets.stages[s] for s in interval.stages)
    return None


def _target(interval: Interval, row: Any, policy: ClockPolicy) -> Callable[[int, date, date], bool]:
    if interval.statutory:
        return lambda _days, start, end: end <= decision_due(start, policy)
    limit = _target_days(interval, policy.service_targets(row.first_contact).by_priority[row.priority])
    return lambda days, _start, _end: limit is not None and days <= limit


#: Cases whose holds are read at a time (one query for their events).
_HOLD_BATCH = 500


def _holds(connection: Connection, where: Sequence[ColumnElement[bool]]) -> dict[int, Sequence[Hold]]:
    """The hold spells of the cases matching ``where`` that have ever been put on hold, by case id."""
    starts = sorted(
        {t.name for d in all_definitions().values() for t in d.triggers.values() if t.hold == "start"}
    )
    held = exists().where(EVENTS.c.case_id == _c.id, EVENTS.c.trigger.in_(starts))
    cases = connection.execute(select(*CASE_COLUMNS).where(*where, held).order_by(_c.id)).mappings().all()
    found: dict[int, Sequence[Hold]] = {}
    for first in range(0, len(cases), _HOLD_BATCH):
        histories = histories_for(connection, cases[first : first + _HOLD_BATCH])
        found.update((case_id, history.timeline.holds) for case_id, history in histories.items())
    return found


def _monthly(
    connection: Connection, column: ColumnElement[date], scope: ReportScope
) -> dict[tuple[int, int], int]:
    year, month = extract("year", column), extract("month", column)
    rows = connection.execute(
        select(year, month, func.count()).where(scope.cases(), scope.within(column)).group_by(year, month)
    )
    return {(int(y), int(m)): int(n) for y, m, n in rows}


def performance(
    db: Database,
    actor: Actor,
    *,
    district: str | None = None,
    priority: str | None = None,
    financial_year: str | int | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    today: date | None = None,
) -> Performance:
    """Times between stage boundaries (mean, median, 90th percentile in working days, within target) for
    intervals that ended in the period, urgent and non-urgent, and the monthly throughput.

    The period is a financial year (``2026-27``) or a date range; by default the financial year of
    ``today``. Managers and administrators only; a district user sees their district only.
    """
    today = today or local_day(utcnow())
    with db.read_connection() as connection:
        names = district_names(connection)
        scope = report_scope(
            actor,
            district=district,
            known_districts=names,
            priority=priority,
            financial_year=financial_year,
            start=start,
            end=end,
            default_year_of=today,
        )
        ended = or_(*(scope.within(_DATES[name]) for name in {i.end for i in INTERVALS}))
        rows = connection.execute(
            select(
                _c.id, _c.district_code, _c.priority, *(column.label(name) for name, column in _DATES.items())
            ).where(scope.cases(), ended)
        ).all()
        holds = _holds(connection, [scope.cases(), ended])
        referrals = _monthly(connection, _c.first_contact_date, scope)
        approvals = _monthly(connection, _c.approval_date, scope)
        completions = _monthly(connection, COMPLETION, scope)
    days: dict[tuple[str, str], list[int]] = {}
    within: dict[tuple[str, str], int] = {}
    policies: dict[str, ClockPolicy] = {}  # each case is measured against its own district's targets
    for row in rows:
        calendar = district_calendar(row.district_code)
        if row.district_code not in policies:
            policies[row.district_code] = clock_policy_for(row.district_code)
        policy = policies[row.district_code]
        for interval in INTERVALS:
            first, last = getattr(row, interval.start), getattr(row, interval.end)
            if first is None or last is None or last < first or not scope.covers(last):
                continue
            working = calendar.working_days_between(first, last)
            if not interval.statutory and row.id in holds:
                working -= working_days_on_hold(holds[row.id], first, last, calendar)
            met = _target(interval, row, policy)(working, first, last)
            for key in ((interval.name, row.priority), (interval.name, "all")):
                days.setdefault(key, []).append(working)
                within[key] = within.get(key, 0) + met
    shown = clock_policy_for(scope.district)  # the targets shown: the district's own, or the default
    in_force = {str(priority): t for priority, t in shown.service_targets(today).by_priority.items()}
    figures = tuple(
        IntervalFigures(
            interval,
            p,
            Summary.of(days.get((interval.name, p), [])),
            within.get((interval.name, p), 0),
            None if p == "all" else _target_days(interval, in_force[p]),
        )
        for interval in INTERVALS
        for p in (*PRIORITIES, "all")
    )
    months = tuple(
        MonthFigures(y, m, referrals.get((y, m), 0), approvals.get((y, m), 0), completions.get((y, m), 0))
        for y, m in (scope.months() or sorted({*referrals, *approvals, *completions}))
        if (y, m) <= (today.year, today.month)  # months still to come have nothing to show
    )
    return Performance(today, scope, figures, months)
