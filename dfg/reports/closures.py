"""Closures by reason: how the cases closed in a period ended, and why.

A case's outcome is the step that closed it, read from its event log: the last transition into the
terminal state it is in now (a case closed, reopened and closed again counts once, by its last closure).
The reason is that step's reason code, labelled from the workflow's own lists (``dfg.toml``
``[reason_codes]``). One GROUP BY over the closed cases joined to that event gives every figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select

from dfg.presentation import Cell, Money, Sheet, Tabulated, percent
from dfg.reports import charts
from dfg.reports.document import ReportDocument, Section
from dfg.reports.scope import ReportScope, district_names, report_scope
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import format_pounds
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS
from dfg.workflow.actor import Actor
from dfg.workflow.definition import all_definitions, current_definition

_c = CASES.c

#: How each closing step reads as an outcome, in the order the report lists them. A closing step not
#: listed (a council's own workflow) is shown under its own label.
OUTCOMES = {
    "close": "Completed",
    "close_nil_grant": "Nil grant",
    "assess_not_eligible": "Not eligible",
    "close_refused": "Refused",
    "uphold_refusal": "Refused, upheld on review",
    "withdraw": "Withdrawn",
    "cancel": "Cancelled",
}
_OUTCOME_COLOURS = dict(zip(OUTCOMES, charts.QUALITATIVE, strict=False))


@dataclass(frozen=True)
class ClosureGroup:
    """Cases of one district closed by one step with one reason code."""

    district: str
    state: str
    trigger: str
    code: str | None
    cases: int
    #: The grant approved on these cases (completed cases, and any cancelled after approval).
    approved_grant_pence: int

    @property
    def outcome(self) -> str:
        if self.trigger in OUTCOMES:
            return OUTCOMES[self.trigger]
        flow = current_definition()
        return flow.triggers[self.trigger].label if self.trigger in flow.triggers else self.trigger

    @property
    def reason(self) -> str:
        """The reason code's label from the workflow (blank when the step takes no code)."""
        if self.code is None:
            return ""
        for flow in (current_definition(), *all_definitions().values()):
            trigger = flow.triggers.get(self.trigger)
            if trigger is not None and trigger.reason_codes:
                return flow.reason_codes.get(trigger.reason_codes, {}).get(self.code, self.code)
        return self.code

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district,
            "state": self.state,
            "trigger": self.trigger,
            "outcome": self.outcome,
            "code": self.code,
            "reason": self.reason,
            "cases": self.cases,
            "approved_grant_pence": self.approved_grant_pence,
        }


def _order(trigger: str) -> int:
    return list(OUTCOMES).index(trigger) if trigger in OUTCOMES else len(OUTCOMES)


@dataclass(frozen=True)
class Closures(Tabulated):
    """The cases closed in the period, by district, outcome and reason."""

    today: date
    scope: ReportScope
    districts: tuple[tuple[str, str], ...]
    groups: tuple[ClosureGroup, ...]

    @property
    def total(self) -> int:
        return sum(g.cases for g in self.groups)

    def by_reason(self) -> list[tuple[str, str, str, str | None, int, int]]:
        """(trigger, outcome, reason, code, cases, approved grant) across districts, in report order."""
        merged: dict[tuple[str, str | None], list[int]] = {}
        for g in self.groups:
            figures = merged.setdefault((g.trigger, g.code), [0, 0])
            figures[0] += g.cases
            figures[1] += g.approved_grant_pence
        found = []
        for (trigger, code), (cases, value) in merged.items():
            sample = ClosureGroup("", "", trigger, code, 0, 0)
            found.append((trigger, sample.outcome, sample.reason, code, cases, value))
        return sorted(found, key=lambda r: (_order(r[0]), r[1], -r[4], r[2]))

    def outcomes(self) -> list[str]:
        """The closing steps that occur, in report order."""
        return sorted({g.trigger for g in self.groups}, key=lambda t: (_order(t), t))

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "closures",
            "today": self.today.isoformat(),
            "scope": self.scope.as_dict(),
            "total": self.total,
            "groups": [g.as_dict() for g in self.groups],
        }

    def as_sheet(self) -> Sheet:
        rows: list[list[Cell]] = [
            [g.district, g.outcome, g.code or "", g.reason, g.cases, Money(g.approved_grant_pence)]
            for g in sorted(self.groups, key=lambda g: (g.district, _order(g.trigger), g.code or ""))
        ]
        return ["district", "outcome", "reason_code", "reason", "cases", "approved_grant_pounds"], rows

    def as_text(self) -> str:
        return self.document().as_text()

    def as_pdf(self) -> bytes:
        return self.document().as_pdf()

    def document(self) -> ReportDocument:
        return ReportDocument(
            "Closures by reason", self.scope.describe(), self.today, [self._reasons(), self._districts()]
        )

    def _reasons(self) -> Section:
        reasons = self.by_reason()
        rows = [
            [outcome, reason, f"{cases:,}", percent(cases, self.total), format_pounds(value, whole=True)]
            for _, outcome, reason, _, cases, value in reasons
        ]
        rows.append(
            [
                "All closures",
                "",
                f"{self.total:,}",
                percent(self.total, self.total),
                format_pounds(sum(r[5] for r in reasons), whole=True),
            ]
        )
        labels = [f"{outcome}: {reason}" if reason else outcome for _, outcome, reason, *_ in reasons]
        series = [
            charts.Series(
                OUTCOMES.get(t, t),
                [r[4] if r[0] == t else 0 for r in reasons],
                _OUTCOME_COLOURS.get(t, charts.INK),
            )
            for t in self.outcomes()
        ]
        chart = charts.bar_chart(
            labels,
            series,
            title="Cases closed in the period by outcome and reason",
            axis_label="cases closed",
            label_width=330,
        )
        return Section(
            "Outcome and reason",
            ["outcome", "reason", "cases", "share", "approved grant"],
            rows,
            numeric=(2, 3, 4),
            total_rows=1,
            chart=chart,
            note="Cases whose closure, withdrawal or cancellation is dated in the period, by the step that closed them.",
        )

    def _districts(self) -> Section:
        outcomes = self.outcomes()
        rows = []
        for code, name in self.districts:
            counts = [
                sum(g.cases for g in self.groups if g.district == code and g.trigger == t) for t in outcomes
            ]
            rows.append([name, *(f"{n:,}" for n in counts), f"{sum(counts):,}"])
        totals = [sum(g.cases for g in self.groups if g.trigger == t) for t in outcomes]
        rows.append(["All districts", *(f"{n:,}" for n in totals), f"{sum(totals):,}"])
        chart = charts.bar_chart(
            [name for _, name in self.districts],
            [
                charts.Series(
                    OUTCOMES.get(t, t),
                    [
                        sum(g.cases for g in self.groups if g.district == code and g.trigger == t)
                        for code, _ in self.districts
                    ],
                    _OUTCOME_COLOURS.get(t, charts.INK),
                )
                for t in outcomes
            ],
            title="Cases closed by district, stacked by outcome",
            axis_label="cases closed",
        )
        return Section(
            "By district",
            ["district", *(OUTCOMES.get(t, t) for t in outcomes), "all"],
            rows,
            numeric=range(1, len(outcomes) + 2),
            total_rows=1,
            chart=chart,
        )


def closures(
    db: Database,
    actor: Actor,
    *,
    district: str | None = None,
    priority: str | None = None,
    financial_year: str | int | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    today: date | None = None,
) -> Closures:
    """Cases closed, withdrawn or cancelled in the period (default: the financial year of ``today``), by
    district, the step that closed them and its reason code. Managers and administrators only."""
    today = today or local_day(utcnow())
    terminal = sorted({s.name for d in all_definitions().values() for s in d.states.values() if s.terminal})
    step = EVENTS.alias("closing_step")
    later = EVENTS.alias("later_step")
    # The last transition into the state the case is in now, from another state: a step that leaves a
    # closed case closed (a decision on repaying after a disposal) did not close it.
    last_closing = (
        select(func.max(later.c.seq))
        .where(
            later.c.case_id == _c.id,
            later.c.kind == "transition",
            later.c.to_state == _c.state,
            later.c.from_state != _c.state,
        )
        .scalar_subquery()
    )
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
        rows = connection.execute(
            select(
                _c.district_code,
                _c.state,
                step.c.trigger,
                step.c.code,
                func.count(),
                func.coalesce(func.sum(_c.approved_grant_pence), 0),
            )
            .select_from(CASES)
            .join(step, and_(step.c.case_id == _c.id, step.c.seq == last_closing))
            .where(_c.state.in_(terminal), scope.cases(), scope.within(_c.closed_date))
            .group_by(_c.district_code, _c.state, step.c.trigger, step.c.code)
        ).all()
    groups = tuple(
        ClosureGroup(d, s, t, c, int(n), int(v))
        for d, s, t, c, n, v in sorted(rows, key=lambda r: (r[0], r[2], r[3] or ""))
    )
    districts = tuple((code, name) for code, name in names.items() if scope.district in (None, code))
    return Closures(today, scope, districts, groups)
