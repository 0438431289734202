"""The pipeline: open cases and their values by district, stage and priority, how long they have waited,
which are past their decision or completion due date, and the longest open.

One GROUP BY over the open cases gives every figure but the longest-open list: for each district, state
and priority, the count, the cases on hold, the approved grant, the four ageing bands and the two kinds
of breach, each a ``SUM(CASE ...)``. States are folded into stages afterwards (a few hundred rows at
most). Dates are compared with cut-off days worked out here from the clock rules, so the SQL is the same
on SQLite and PostgreSQL and needs no date arithmetic:

- *decision overdue*: a valid application, no decision, and the statutory decision date (valid application
  + 6 calendar months, clamped at month end) before today;
- *completion overdue*: approved, works not complete, and the completion date (approval + 12 months)
  before today. A case with a completion extension in its event log is checked with the clock rules
  instead (there are few, and only those already past the unextended date need checking).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, exists, func, or_, select
from sqlalchemy import case as when

from dfg.presentation import Cell, Money, Sheet, Tabulated, day
from dfg.reports import charts
from dfg.reports.document import ReportDocument, Section
from dfg.reports.scope import ReportScope, district_names, report_scope
from dfg.rules.calendar import add_calendar_months
from dfg.rules.clock import local_day, utcnow
from dfg.rules.clocks import ClockPolicy, Period, case_clocks, default_clock_policy
from dfg.rules.money import format_pounds
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS, PRIORITIES
from dfg.workflow.actor import Actor
from dfg.workflow.definition import current_definition, stage_of_states
from dfg.workflow.timeline import CASE_COLUMNS, COMPLETION_EXTENDED, histories_for

STAGES = (0, 1, 2, 3, 4)
STAGE_NAMES = {
    0: "0 first contact",
    1: "1 to assessment",
    2: "2 to application",
    3: "3 to approval",
    4: "4 to completion",
}
#: Time since first contact, as managers ask for it.
AGEING_BANDS = ("under 3 months", "3 to 6 months", "6 to 12 months", "over 12 months")
LONGEST_OPEN = 10

_c = CASES.c


# ---------------------------------------------------------------------- due-date cut-offs


def last_start_overdue(period: Period, today: date) -> date:
    """The latest start date whose due date (start + ``period``) is before ``today``.

    ``Period.after`` never decreases as its start moves on, so the overdue starts are exactly those up to
    this day; it is found by bisection, because month-end clamping maps several starts to one due date
    (29, 30 and 31 August + 6 months are all 28 February).
    """
    low, high = date(1, 1, 1), today  # period.after(high) >= today: no period is negative
    while (high - low).days > 1:
        middle = low + (high - low) / 2
        if period.after(middle) < today:
            low = middle
        else:
            high = middle
    return low


def overdue_from(
    column: ColumnElement[date], name: str, today: date, policy: ClockPolicy
) -> ColumnElement[bool]:
    """``column`` (the clock's start) is so early that the clock ``name`` was due before ``today``.

    Each dated version of the period applies to the starts in its own span (the earliest also to every
    start before it), as :meth:`ClockPolicy.period` chooses.
    """
    versions = policy.periods[name]
    spans = []
    for i, version in enumerate(versions):
        conditions = [column <= last_start_overdue(version, today)]
        if i > 0:
            conditions.append(column >= version.effective_from)
        if i + 1 < len(versions):
            conditions.append(column < versions[i + 1].effective_from)
        spans.append(and_(*conditions))
    return or_(*spans)


def _extended() -> ColumnElement[bool]:
    return exists().where(EVENTS.c.case_id == _c.id, EVENTS.c.kind == COMPLETION_EXTENDED)


def _breach_conditions(today: date, policy: ClockPolicy) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(decision overdue, completion overdue by the unextended date) for an open case."""
    decision = and_(
        _c.valid_application_date.is_not(None),
        _c.approval_date.is_(None),
        _c.refusal_date.is_(None),
        overdue_from(_c.valid_application_date, "decision_due", today, policy),
    )
    completion = and_(
        _c.approval_date.is_not(None),
        _c.works_completed_date.is_(None),
        _c.certified_date.is_(None),
        overdue_from(_c.approval_date, "completion_due", today, policy),
    )
    return decision, completion


# ---------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class PipelineCell:
    """Open cases of one district, stage and priority."""

    district: str
    stage: int
    priority: str
    cases: int
    on_hold: int
    #: The approved grant on these cases (only approved cases have one).
    approved_grant_pence: int
    #: Cases in each of :data:`AGEING_BANDS`, by time since first contact.
    ageing: tuple[int, int, int, int]
    decision_overdue: int
    completion_overdue: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district,
            "stage": self.stage,
            "priority": self.priority,
            "cases": self.cases,
            "on_hold": self.on_hold,
            "approved_grant_pence": self.approved_grant_pence,
            "ageing": dict(zip(AGEING_BANDS, self.ageing, strict=True)),
            "decision_overdue": self.decision_overdue,
            "completion_overdue": self.completion_overdue,
        }


@dataclass(frozen=True)
class PipelineRow:
    """One district's open cases: by stage, urgent, on hold, approved grant, and breaches."""

    district: str
    district_name: str
    by_stage: dict[int, int]
    urgent: int
    on_hold: int
    approved_grant_pence: int
    decision_overdue: int = 0
    completion_overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())


@dataclass(frozen=True)
class OpenCase:
    """One of the longest-open cases."""

    reference: str
    district: str
    state: str
    stage: int
    priority: str
    first_contact_date: date
    days_open: int
    on_hold: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "district": self.district,
            "state": self.state,
            "stage": self.stage,
            "priority": self.priority,
            "first_contact_date": self.first_contact_date.isoformat(),
            "days_open": self.days_open,
            "on_hold": self.on_hold,
        }


def _sum(cells: Sequence[PipelineCell], field: str) -> int:
    return sum(int(getattr(c, field)) for c in cells)


@dataclass(frozen=True)
class Pipeline(Tabulated):
    """Open cases on ``today``, in every district of the report's scope."""

    today: date
    scope: ReportScope
    #: (code, name) of every district in scope, with or without open cases.
    districts: tuple[tuple[str, str], ...]
    cells: tuple[PipelineCell, ...]
    longest_open: tuple[OpenCase, ...]

    def _cells(self, **match: Any) -> list[PipelineCell]:
        return [c for c in self.cells if all(getattr(c, k) == v for k, v in match.items())]

    @property
    def rows(self) -> tuple[PipelineRow, ...]:
        """One row per district (the first table)."""
        return tuple(
            PipelineRow(
                code,
                name,
                {s: _sum(self._cells(district=code, stage=s), "cases") for s in STAGES},
                _sum(self._cells(district=code, priority="urgent"), "cases"),
                _sum(self._cells(district=code), "on_hold"),
                _sum(self._cells(district=code), "approved_grant_pence"),
                _sum(self._cells(district=code), "decision_overdue"),
                _sum(self._cells(district=code), "completion_overdue"),
            )
            for code, name in self.districts
        )

    def ageing(self, stage: int | None = None) -> tuple[int, ...]:
        """Cases in each ageing band (of one stage, or all)."""
        cells = self._cells() if stage is None else self._cells(stage=stage)
        return tuple(sum(c.ageing[band] for c in cells) for band in range(len(AGEING_BANDS)))

    def totals(self) -> dict[str, Any]:
        cells = list(self.cells)
        return {
            "by_stage": {str(s): _sum(self._cells(stage=s), "cases") for s in STAGES},
            "open": _sum(cells, "cases"),
            "urgent": _sum(self._cells(priority="urgent"), "cases"),
            "on_hold": _sum(cells, "on_hold"),
            "approved_grant_pence": _sum(cells, "approved_grant_pence"),
            "ageing": dict(zip(AGEING_BANDS, self.ageing(), strict=True)),
            "decision_overdue": _sum(cells, "decision_overdue"),
            "completion_overdue": _sum(cells, "completion_overdue"),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "pipeline",
            "today": self.today.isoformat(),
            "scope": self.scope.as_dict(),
            "districts": [
                {
                    "district": r.district,
                    "name": r.district_name,
                    "by_stage": {str(k): v for k, v in r.by_stage.items()},
                    "open": r.total,
                    "urgent": r.urgent,
                    "on_hold": r.on_hold,
                    "approved_grant_pence": r.approved_grant_pence,
                    "decision_overdue": r.decision_overdue,
                    "completion_overdue": r.completion_overdue,
                }
                for r in self.rows
            ],
            "totals": self.totals(),
            "cells": [c.as_dict() for c in self.cells],
            "longest_open": [c.as_dict() for c in self.longest_open],
        }

    def as_sheet(self) -> Sheet:
        """One row per district, stage and priority with open cases: every figure but the longest open."""
        headers = [
            "district",
            "stage",
            "priority",
            "open_cases",
            "on_hold",
            "approved_grant_pounds",
            *(f"aged_{band.replace(' ', '_')}" for band in AGEING_BANDS),
            "decision_overdue",
            "completion_overdue",
        ]
        rows: list[list[Cell]] = [
            [
                c.district,
                c.stage,
                c.priority,
                c.cases,
                c.on_hold,
                Money(c.approved_grant_pence),
                *c.ageing,
                c.decision_overdue,
                c.completion_overdue,
            ]
            for c in self.cells
        ]
        return headers, rows

    def as_text(self) -> str:
        return self.document().as_text()

    def as_pdf(self) -> bytes:
        return self.document().as_pdf()

    def document(self) -> ReportDocument:
        """The report's sections: what :meth:`as_text` prints and :meth:`as_pdf` lays out."""
        return ReportDocument(
            "Pipeline of open cases",
            self.scope.describe(),
            self.today,
            [self._by_district(), self._by_priority(), self._ageing(), self._breaches(), self._longest()],
        )

    def _by_district(self) -> Section:
        totals = self.totals()
        rows = [
            [
                r.district_name,
                *(str(r.by_stage[s]) for s in STAGES),
                str(r.total),
                str(r.urgent),
                str(r.on_hold),
                format_pounds(r.approved_grant_pence, whole=True),
            ]
            for r in self.rows
        ]
        rows.append(
            [
                "All districts",
                *(str(totals["by_stage"][str(s)]) for s in STAGES),
                str(totals["open"]),
                str(totals["urgent"]),
                str(totals["on_hold"]),
                format_pounds(totals["approved_grant_pence"], whole=True),
            ]
        )
        chart = charts.bar_chart(
            [r.district_name for r in self.rows],
            [
                charts.Series(f"stage {s}", [r.by_stage[s] for r in self.rows], colour)
                for s, colour in zip(STAGES, charts.sequential(len(STAGES)), strict=True)
            ],
            title="Open cases by district, stacked by stage",
            axis_label="open cases",
        )
        return Section(
            "Open cases by stage (national delivery guidance stages)",
            ["district", *(f"stage {s}" for s in STAGES), "open", "urgent", "on hold", "approved, open"],
            rows,
            numeric=range(1, 10),
            total_rows=1,
            chart=chart,
            note="Open cases only. Approved, open: the grant approved on cases not yet closed, to the pound.",
        )

    def _by_priority(self) -> Section:
        rows = []
        for s in STAGES:
            urgent, other = (_sum(self._cells(stage=s, priority=p), "cases") for p in PRIORITIES)
            cells = self._cells(stage=s)
            rows.append(
                [
                    STAGE_NAMES[s],
                    str(urgent),
                    str(other),
                    str(urgent + other),
                    str(_sum(cells, "on_hold")),
                    format_pounds(_sum(cells, "approved_grant_pence"), whole=True),
                ]
            )
        t = self.totals()
        rows.append(
            [
                "All stages",
                str(t["urgent"]),
                str(t["open"] - t["urgent"]),
                str(t["open"]),
                str(t["on_hold"]),
                format_pounds(t["approved_grant_pence"], whole=True),
            ]
        )
        chart = charts.column_chart(
            [STAGE_NAMES[s] for s in STAGES],
            [
                charts.Series(
                    p.replace("_", "-"),
                    [_sum(self._cells(stage=s, priority=p), "cases") for s in STAGES],
                    colour,
                )
                for p, colour in zip(PRIORITIES, (charts.URGENT, charts.NON_URGENT), strict=True)
            ],
            title="Open cases by stage and priority",
            axis_label="open cases",
            stacked=False,
        )
        return Section(
            "By stage and priority",
            ["stage", "urgent", "non-urgent", "open", "on hold", "approved grant"],
            rows,
            numeric=range(1, 6),
            total_rows=1,
            chart=chart,
        )

    def _ageing(self) -> Section:
        rows = [[STAGE_NAMES[s], *(str(n) for n in self.ageing(s)), str(sum(self.ageing(s)))] for s in STAGES]
        rows.append(["All stages", *(str(n) for n in self.ageing()), str(sum(self.ageing()))])
        chart = charts.column_chart(
            [STAGE_NAMES[s] for s in STAGES],
            [
                charts.Series(band, [self.ageing(s)[i] for s in STAGES], colour)
                for i, (band, colour) in enumerate(zip(AGEING_BANDS, charts.sequential(4), strict=True))
            ],
            title="Open cases by stage, stacked by time since first contact",
            axis_label="open cases",
        )
        return Section(
            "Time since first contact",
            ["stage", *AGEING_BANDS, "open"],
            rows,
            numeric=range(1, 6),
            total_rows=1,
            chart=chart,
            note="Calendar months from first contact to the day the report was run.",
        )

    def _breaches(self) -> Section:
        rows = [
            [
                r.district_name,
                str(r.decision_overdue),
                str(r.completion_overdue),
                str(r.decision_overdue + r.completion_overdue),
            ]
            for r in self.rows
        ]
        t = self.totals()
        rows.append(
            [
                "All districts",
                str(t["decision_overdue"]),
                str(t["completion_overdue"]),
                str(t["decision_overdue"] + t["completion_overdue"]),
            ]
        )
        chart = charts.bar_chart(
            [r.district_name for r in self.rows],
            [
                charts.Series(
                    "decision overdue", [r.decision_overdue for r in self.rows], charts.QUALITATIVE[1]
                ),
                charts.Series(
                    "completion overdue", [r.completion_overdue for r in self.rows], charts.QUALITATIVE[4]
                ),
            ],
            title="Open cases past their decision or completion due date, by district",
            axis_label="cases overdue",
        )
        return Section(
            "Past the decision or completion due date",
            ["district", "decision overdue", "completion overdue", "all overdue"],
            rows,
            numeric=(1, 2, 3),
            total_rows=1,
            chart=chart,
            note=(
                "Decision: more than 6 calendar months since the valid application with no decision "
                "(statutory, s.34). Completion: more than 12 months since approval, plus any extension, "
                "with the works not complete (a condition of payment)."
            ),
        )

    def _longest(self) -> Section:
        names = dict(self.districts)
        flow = current_definition()
        rows = [
            [
                c.reference,
                names.get(c.district, c.district),
                flow.states[c.state].label if c.state in flow.states else c.state,
                c.priority.replace("_", "-"),
                day(c.first_contact_date),
                f"{c.days_open:,}",
                "on hold" if c.on_hold else "",
            ]
            for c in self.longest_open
        ]
        return Section(
            f"The {len(rows)} longest open",
            ["case", "district", "where it is", "priority", "first contact", "days open", ""],
            rows,
            numeric=(5,),
            wrap=(2,),
        )


# ---------------------------------------------------------------------- reading them


def pipeline_query(scope: ReportScope, today: date, policy: ClockPolicy | None = None) -> Select[Any]:
    """The GROUP BY behind :class:`Pipeline` (exposed for the benchmark and for ``EXPLAIN``)."""
    policy = policy or default_clock_policy()
    decision, completion = _breach_conditions(today, policy)
    cut = [add_calendar_months(today, -months) for months in (3, 6, 12)]
    band = [
        _c.first_contact_date > cut[0],
        and_(_c.first_contact_date <= cut[0], _c.first_contact_date > cut[1]),
        and_(_c.first_contact_date <= cut[1], _c.first_contact_date > cut[2]),
        _c.first_contact_date <= cut[2],
    ]

    def count(condition: ColumnElement[bool]) -> Any:
        return func.sum(when((condition, 1), else_=0))

    return (
        select(
            _c.district_code,
            _c.state,
            _c.priority,
            func.count().label("cases"),
            count(_c.hold_since.is_not(None)).label("on_hold"),
            func.coalesce(func.sum(_c.approved_grant_pence), 0).label("approved"),
            *(count(b).label(f"age_{i}") for i, b in enumerate(band)),
            count(decision).label("decision_overdue"),
            # The EXISTS is reached only for cases already past the unextended date: a handful. Those
            # with an extension are counted apart, and checked against the clock rules only if any.
            count(and_(completion, ~_extended())).label("completion_overdue"),
            count(and_(completion, _extended())).label("extended"),
        )
        .where(_c.state.in_(list(stage_of_states())), scope.cases())
        # Priority first: no index can then serve the grouping, so SQLite reads the open cases through
        # ix_cases_state instead of walking all cases in district order (measured at 1,000,000 cases:
        # 0.27 s against 1.3 s; docs/benchmarks.md). PostgreSQL hashes the groups either way.
        .group_by(_c.priority, _c.district_code, _c.state)
    )


def _extended_overdue(
    connection: Connection, scope: ReportScope, today: date, policy: ClockPolicy
) -> list[tuple[str, str, str]]:
    """(district, state, priority) of each open case with a completion extension that is still overdue."""
    _, completion = _breach_conditions(today, policy)
    rows = list(
        connection.execute(
            select(*CASE_COLUMNS).where(
                _c.state.in_(list(stage_of_states())), scope.cases(), completion, _extended()
            )
        ).mappings()
    )
    histories = histories_for(connection, rows)
    overdue = []
    for case in rows:
        clocks = case_clocks(histories[case["id"]].timeline, today, policy=policy)
        if any(c.name == "completion_due" and c.status == "breached" for c in clocks):
            overdue.append((case["district_code"], case["state"], case["priority"]))
    return overdue


def pipeline(
    db: Database,
    actor: Actor,
    *,
    district: str | None = None,
    priority: str | None = None,
    today: date | None = None,
    longest: int = LONGEST_OPEN,
) -> Pipeline:
    """Open cases on ``today`` (default: today in England) by district, stage and priority.

    Anyone may run it; a user who belongs to one district sees that district only
    (:class:`PermissionDenied` for another). ``priority`` keeps urgent or non-urgent cases only;
    ``longest`` is how many of the longest-open cases to list.
    """
    today = today or local_day(utcnow())
    policy = default_clock_policy()
    stage_of = stage_of_states()
    with db.read_connection() as connection:
        names = district_names(connection)
        scope = report_scope(
            actor, district=district, known_districts=names, priority=priority, manager_only=False
        )
        grouped = connection.execute(pipeline_query(scope, today, policy)).all()
        extended = (
            _extended_overdue(connection, scope, today, policy)
            if any(row.extended for row in grouped)
            else []
        )
        oldest = connection.execute(
            select(
                _c.reference,
                _c.district_code,
                _c.state,
                _c.priority,
                _c.first_contact_date,
                _c.hold_since.is_not(None).label("on_hold"),
            )
            .where(_c.state.in_(list(stage_of)), scope.cases())
            .order_by(_c.first_contact_date, _c.id)
            .limit(longest)
        ).all()
    cells: dict[tuple[str, int, str], list[int]] = {}
    for row in grouped:
        key = (row.district_code, stage_of[row.state], row.priority)
        figures = [
            row.cases,
            row.on_hold,
            row.approved,
            row.age_0,
            row.age_1,
            row.age_2,
            row.age_3,
            row.decision_overdue,
            row.completion_overdue,
        ]
        cells[key] = [a + int(b or 0) for a, b in zip(cells.get(key, [0] * 9), figures, strict=True)]
    for district_code, state, case_priority in extended:
        cells[(district_code, stage_of[state], case_priority)][8] += 1
    in_scope = tuple((code, name) for code, name in names.items() if scope.district in (None, code))
    return Pipeline(
        today=today,
        scope=scope,
        districts=in_scope,
        cells=tuple(
            PipelineCell(d, s, p, f[0], f[1], f[2], (f[3], f[4], f[5], f[6]), f[7], f[8])
            for (d, s, p), f in sorted(cells.items())
        ),
        longest_open=tuple(
            OpenCase(
                r.reference,
                r.district_code,
                r.state,
                stage_of[r.state],
                r.priority,
                r.first_contact_date,
                (today - r.first_contact_date).days,
                bool(r.on_hold),
            )
            for r in oldest
        ),
    )
