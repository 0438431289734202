"""The annual government data return: completed grants in a financial year, their values, tenure, the
disabled person's age band, and the time taken to complete; with the approvals of the year beside them.

- **Completed**: the works were completed in the financial year (the works completed date, or the
  certified date where no works completion was recorded: the date the clocks stop).
- **Value**: the approved grant (the mandatory DFG as approved; payments are not yet recorded apart).
- **Age band**: of the disabled occupant on the completion date: under 18, 18 to 64, 65 and over; where a
  household has several disabled occupants, the youngest (a child's adaptation is reported as a child's).
  Worked out in SQL from the dates of birth (birthdays compared by month and day, so someone born on
  29 February turns a year older on 1 March in other years, as English law has it).
- **Time to complete**: calendar days from first contact, from the valid application and from approval
  to completion (mean, median and 90th percentile, computed in Python over one fetched column pair per
  case: there is no portable percentile in SQL).

Counts and values come from two GROUP BY queries (completions by tenure and age band; approvals).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, cast, extract, func, select
from sqlalchemy import case as when

from dfg.presentation import Cell, Money, Sheet, Tabulated, percent
from dfg.reports import charts
from dfg.reports.document import ReportDocument, Section
from dfg.reports.durations import Summary
from dfg.reports.performance import COMPLETION
from dfg.reports.scope import ReportScope, district_names, report_scope
from dfg.rules.budget import financial_year_of
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import format_pounds
from dfg.rules.rates import long_date
from dfg.store.database import Database
from dfg.store.models import CASES, PEOPLE, TENURES
from dfg.workflow.actor import Actor

_c = CASES.c
AGE_BANDS = ("under 18", "18 to 64", "65 and over", "not recorded")
#: From which date each time-to-complete measure runs (to completion).
TIMES = {
    "first contact to completion": _c.first_contact_date,
    "valid application to completion": _c.valid_application_date,
    "approval to completion": _c.approval_date,
}


def _year_part(part: str, column: ColumnElement[Any]) -> ColumnElement[int]:
    return cast(extract(part, column), Integer)


def age_band(on: ColumnElement[date]) -> ColumnElement[str]:
    """The youngest disabled occupant's age band on ``on`` (one of :data:`AGE_BANDS`), in SQL."""
    born = (
        select(func.max(PEOPLE.c.date_of_birth))
        .where(PEOPLE.c.case_id == _c.id, PEOPLE.c.is_disabled_occupant.is_(True))
        .scalar_subquery()
    )
    not_yet = when(
        (
            _year_part("month", on) * 100 + _year_part("day", on)
            < _year_part("month", born) * 100 + _year_part("day", born),
            1,
        ),
        else_=0,
    )
    age = _year_part("year", on) - _year_part("year", born) - not_yet
    return when(
        (born.is_(None), AGE_BANDS[3]), (age < 18, AGE_BANDS[0]), (age < 65, AGE_BANDS[1]), else_=AGE_BANDS[2]
    )


@dataclass(frozen=True)
class Tally:
    """How many cases, and their approved grant."""

    cases: int = 0
    grant_pence: int = 0

    @property
    def mean_pence(self) -> int | None:
        return None if self.cases == 0 else round(self.grant_pence / self.cases)

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.cases + other.cases, self.grant_pence + other.grant_pence)

    def as_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "grant_pence": self.grant_pence, "mean_grant_pence": self.mean_pence}


@dataclass(frozen=True)
class DataReturn(Tabulated):
    """The figures for one financial year (``scope.financial_year``)."""

    today: date
    scope: ReportScope
    completed: Tally
    approved: Tally
    by_tenure: dict[str, Tally]
    by_age_band: dict[str, Tally]
    #: Calendar days, by measure (see :data:`TIMES`).
    times: dict[str, Summary]

    @property
    def in_progress(self) -> bool:
        """Whether the year is not over on the day of the report (its figures are to date)."""
        return self.scope.end is not None and self.scope.end >= self.today

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "data_return",
            "financial_year": self.scope.financial_year,
            "in_progress": self.in_progress,
            "today": self.today.isoformat(),
            "scope": self.scope.as_dict(),
            "completed": self.completed.as_dict(),
            "approved": self.approved.as_dict(),
            "by_tenure": {k: v.as_dict() for k, v in self.by_tenure.items()},
            "by_age_band": {k: v.as_dict() for k, v in self.by_age_band.items()},
            "time_to_complete_days": {k: v.as_dict() for k, v in self.times.items()},
        }

    def as_sheet(self) -> Sheet:
        """The extract: one figure a row (financial year, district, section, category, measure, value);
        money in pounds, times in calendar days."""
        year, district = self.scope.financial_year or "", self.scope.district or "all"
        rows: list[list[Cell]] = []

        def tally(section: str, category: str, t: Tally) -> None:
            rows.append([year, district, section, category, "cases", t.cases])
            rows.append([year, district, section, category, "grant_pounds", Money(t.grant_pence)])
            mean = t.mean_pence
            rows.append(
                [
                    year,
                    district,
                    section,
                    category,
                    "mean_grant_pounds",
                    None if mean is None else Money(mean),
                ]
            )

        tally("completed", "all", self.completed)
        tally("approved", "all", self.approved)
        for tenure, t in self.by_tenure.items():
            tally("tenure", tenure, t)
        for band, t in self.by_age_band.items():
            tally("age_band", band, t)
        for measure, s in self.times.items():
            for name, value in (
                ("cases", s.count),
                ("mean_days", s.mean),
                ("median_days", s.median),
                ("p90_days", s.p90),
            ):
                rows.append(
                    [
                        year,
                        district,
                        "time_to_complete",
                        measure,
                        name,
                        None if value is None else round(value, 1),
                    ]
                )
        return ["financial_year", "district", "section", "category", "measure", "value"], rows

    def as_text(self) -> str:
        return self.document().as_text()

    def as_pdf(self) -> bytes:
        return self.document().as_pdf()

    def document(self) -> ReportDocument:
        return ReportDocument(
            f"Government data return {self.scope.financial_year}",
            self.scope.describe(),
            self.today,
            [
                self._summary(),
                self._breakdown("tenure", self.by_tenure),
                self._breakdown("age band", self.by_age_band),
                self._times(),
            ],
        )

    def _summary(self) -> Section:
        def row(label: str, t: Tally) -> list[str]:
            mean = t.mean_pence
            return [
                label,
                f"{t.cases:,}",
                format_pounds(t.grant_pence, whole=True),
                "" if mean is None else format_pounds(mean, whole=True),
            ]

        return Section(
            "Grants completed and approved in the year",
            ["", "cases", "grant", "mean grant"],
            [row("Completed", self.completed), row("Approved", self.approved)],
            numeric=(1, 2, 3),
            note=(
                "Completed: works completed in the year. Approved: approved in the year. Values: the "
                "approved grant."
                + (f" The year is not over: figures to {long_date(self.today)}." if self.in_progress else "")
            ),
        )

    def _breakdown(self, what: str, tallies: dict[str, Tally]) -> Section:
        rows = [
            [
                name,
                f"{t.cases:,}",
                percent(t.cases, self.completed.cases),
                format_pounds(t.grant_pence, whole=True),
                "" if t.mean_pence is None else format_pounds(t.mean_pence, whole=True),
            ]
            for name, t in tallies.items()
        ]
        rows.append(
            [
                "All completed",
                f"{self.completed.cases:,}",
                percent(self.completed.cases, self.completed.cases),
                format_pounds(self.completed.grant_pence, whole=True),
                ""
                if self.completed.mean_pence is None
                else format_pounds(self.completed.mean_pence, whole=True),
            ]
        )
        palette = (*charts.sequential(3), "#bdbdbd") if what == "age band" else charts.QUALITATIVE
        chart = charts.bar_chart(
            list(tallies),
            [
                charts.Series(name, [t.cases if n == name else 0 for n in tallies], colour)
                for (name, t), colour in zip(tallies.items(), palette, strict=False)
            ],
            title=f"Completed grants by {what}",
            axis_label="completed grants",
            label_width=120,
            legend=False,
        )
        note = "The youngest disabled occupant's age on the completion date." if what == "age band" else ""
        return Section(
            f"Completed by {what}",
            [what, "cases", "share", "grant", "mean grant"],
            rows,
            numeric=(1, 2, 3, 4),
            total_rows=1,
            chart=chart,
            note=note,
        )

    def _times(self) -> Section:
        rows = [[measure, f"{s.count:,}", *s.cells()] for measure, s in self.times.items()]
        chart = charts.spread_chart(
            [charts.Spread(measure, s.median, s.p90, charts.NON_URGENT) for measure, s in self.times.items()],
            title="Calendar days to complete: median and 90th percentile",
            axis_label="calendar days",
            label_width=210,
        )
        return Section(
            "Time to complete (calendar days)",
            ["from", "cases", "mean", "median", "90th pct"],
            rows,
            numeric=(1, 2, 3, 4),
            chart=chart,
            note="Calendar days to the completion of the works, for the grants completed in the year.",
        )


def default_year(connection: Connection, scope: ReportScope, today: date) -> int:
    """The financial year a data return is for when none is given: the last complete one before
    ``today`` (the year the return is made for); if no grant was completed in it within ``scope`` (a new
    installation, or a demonstration whose cases date back from today), the latest year in which one
    was, even the year in progress; with no completion at all, the last complete year still."""
    last_complete = financial_year_of(today) - 1
    completed_on = COMPLETION
    in_year = completed_on.between(date(last_complete, 4, 1), date(last_complete + 1, 3, 31))
    if connection.scalar(select(func.count()).where(scope.cases(), in_year)):
        return last_complete
    latest = connection.scalar(select(func.max(completed_on)).where(scope.cases(), completed_on <= today))
    return last_complete if latest is None else financial_year_of(latest)


def data_return(
    db: Database,
    actor: Actor,
    *,
    financial_year: str | int | None = None,
    district: str | None = None,
    priority: str | None = None,
    today: date | None = None,
) -> DataReturn:
    """The data return for ``financial_year`` (``2025-26``; default: see :func:`default_year`). Managers
    and administrators only; a district user sees their district only."""
    today = today or local_day(utcnow())
    band = age_band(COMPLETION)
    with db.read_connection() as connection:
        names = district_names(connection)
        cases = report_scope(actor, district=district, known_districts=names, priority=priority)
        year = financial_year if financial_year is not None else default_year(connection, cases, today)
        scope = report_scope(
            actor, district=district, known_districts=names, priority=priority, financial_year=year
        )
        completed_in_year = (scope.cases(), scope.within(COMPLETION))
        grant = func.coalesce(func.sum(_c.approved_grant_pence), 0)
        grouped = connection.execute(
            select(_c.tenure, band.label("band"), func.count(), grant)
            .where(*completed_in_year)
            .group_by(_c.tenure, band)
        ).all()
        approved = connection.execute(
            select(func.count(), grant).where(scope.cases(), scope.within(_c.approval_date))
        ).one()
        spans = connection.execute(select(COMPLETION, *TIMES.values()).where(*completed_in_year)).all()
    by_tenure = {t: Tally() for t in TENURES}
    by_band = {b: Tally() for b in AGE_BANDS}
    for tenure, age, cases, value in grouped:
        by_tenure[tenure] += Tally(int(cases), int(value))
        by_band[age] += Tally(int(cases), int(value))
    times = {
        measure: Summary.of(
            [(row[0] - row[i]).days for row in spans if row[i] is not None and row[i] <= row[0]]
        )
        for i, measure in enumerate(TIMES, start=1)
    }
    return DataReturn(
        today=today,
        scope=scope,
        completed=sum(by_tenure.values(), Tally()),
        approved=Tally(int(approved[0]), int(approved[1])),
        by_tenure=by_tenure,
        by_age_band=by_band,
        times=times,
    )
