"""Budget position: each district's allocation per funding line for a financial year, what approvals
have committed and payments have spent, what is left, and the forecast outturn.

The figures are the budgets' running totals (``budgets``, which move only with a ledger entry in the
same transaction) and the pipeline, both read by :func:`dfg.reports.budget_lines.budget_show`: this report
adds them up by district and funding line and prints them. ``remaining = allocation - committed -
spent`` on every row and in every total, so the three always add up to the allocation; the pipeline
(assistance calculated on valid applications awaiting a decision) counts in the current financial year
only, and ``forecast outturn = spent + committed + pipeline``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dfg.errors import InvalidInput
from dfg.presentation import Cell, Money, Sheet, Tabulated, percent
from dfg.reports import charts
from dfg.reports.budget_lines import awaiting_without_calculation, budget_show
from dfg.reports.document import ReportDocument, Section
from dfg.reports.scope import ReportScope, district_names, parse_financial_year, report_scope
from dfg.rules.budget import (
    BudgetPosition,
    check_financial_year,
    financial_year_of,
    funding_lines_of,
    line_order,
)
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import Pence, format_pounds
from dfg.store.database import Database
from dfg.workflow.actor import Actor

#: Spent, committed and pipeline: from certain to likely, so dark to light blue (reads in greyscale too).
SPENT, COMMITTED, PIPELINE = charts.SEQUENTIAL[4], charts.SEQUENTIAL[2], charts.SEQUENTIAL[0]
#: The narrowest a part of a bar that has any money is drawn (drawing units, about 0.75 mm printed).
MIN_BAR = 3.0


def share(part: Pence, whole: Pence) -> float | None:
    """``part`` as a percentage of ``whole`` to one decimal place; None when there is no allocation."""
    return None if whole == 0 else round(100 * part / whole, 1)


def _position_dict(position: BudgetPosition) -> dict[str, Any]:
    return {
        **position.as_dict(),
        "spent_percent": share(position.spent_pence, position.allocation_pence),
        "committed_percent": share(position.committed_pence, position.allocation_pence),
    }


@dataclass(frozen=True)
class BudgetRow:
    """One district's budget for one funding line."""

    district: str
    district_name: str
    funding_line: str
    position: BudgetPosition

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district,
            "district_name": self.district_name,
            "funding_line": self.funding_line,
            **_position_dict(self.position),
        }


def _sum(positions: Sequence[BudgetPosition]) -> BudgetPosition:
    total = BudgetPosition()
    for position in positions:
        total = total + position
    return total


@dataclass(frozen=True)
class BudgetReport(Tabulated):
    """The budgets of a financial year, by district and funding line, with the totals."""

    today: date
    scope: ReportScope
    financial_year: int
    #: Only this funding line (None: every line).
    funding_line: str | None
    rows: tuple[BudgetRow, ...]
    #: Valid applications awaiting a decision with no grant calculated: not in the pipeline yet.
    uncalculated: int = 0

    @property
    def pipeline_counted(self) -> bool:
        """Whether the pipeline is counted: only for the financial year ``today`` is in."""
        return self.financial_year == financial_year_of(self.today)

    @property
    def total(self) -> BudgetPosition:
        return _sum([r.position for r in self.rows])

    def lines(self) -> list[str]:
        """The funding lines that have a row, ``mandatory`` first."""
        return sorted({r.funding_line for r in self.rows}, key=line_order)

    def by_line(self) -> list[tuple[str, BudgetPosition]]:
        """Each funding line added up across the districts."""
        return [
            (line, _sum([r.position for r in self.rows if r.funding_line == line])) for line in self.lines()
        ]

    def by_district(self) -> list[tuple[str, str, BudgetPosition]]:
        """(code, name, every line added up) for each district with a row, in the order of the rows."""
        names = dict.fromkeys((r.district, r.district_name) for r in self.rows)
        return [
            (code, name, _sum([r.position for r in self.rows if r.district == code])) for code, name in names
        ]

    def describe(self) -> str:
        described = self.scope.describe()
        return f"{described} · {self.funding_line} funding line" if self.funding_line else described

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "budget",
            "today": self.today.isoformat(),
            "scope": self.scope.as_dict(),
            "financial_year": self.financial_year,
            "funding_line": self.funding_line,
            "pipeline_counted": self.pipeline_counted,
            "awaiting_decision_without_calculation": self.uncalculated if self.pipeline_counted else None,
            "lines": [r.as_dict() for r in self.rows],
            "by_district": [
                {"district": code, "district_name": name, **_position_dict(position)}
                for code, name, position in self.by_district()
            ],
            "by_line": [{"funding_line": line, **_position_dict(p)} for line, p in self.by_line()],
            "total": _position_dict(self.total),
        }

    def as_sheet(self) -> Sheet:
        def pct(value: float | None) -> str:
            return "" if value is None else f"{value:.1f}"

        rows: list[list[Cell]] = [
            [
                self.scope.financial_year or "",
                r.district,
                r.district_name,
                r.funding_line,
                *(
                    Money(pence)
                    for pence in (
                        r.position.allocation_pence,
                        r.position.committed_pence,
                        r.position.spent_pence,
                        r.position.remaining_pence,
                    )
                ),
                pct(share(r.position.spent_pence, r.position.allocation_pence)),
                pct(share(r.position.committed_pence, r.position.allocation_pence)),
                *(
                    Money(pence)
                    for pence in (
                        r.position.pipeline_pence,
                        r.position.forecast_outturn_pence,
                        r.position.forecast_remaining_pence,
                    )
                ),
            ]
            for r in self.rows
        ]
        return [
            "financial_year",
            "district",
            "district_name",
            "funding_line",
            "allocation_pounds",
            "committed_pounds",
            "spent_pounds",
            "remaining_pounds",
            "spent_percent",
            "committed_percent",
            "pipeline_pounds",
            "forecast_outturn_pounds",
            "forecast_remaining_pounds",
        ], rows

    def as_text(self) -> str:
        return self.document().as_text()

    def as_pdf(self) -> bytes:
        return self.document().as_pdf()

    def document(self) -> ReportDocument:
        lines = self.by_line()
        per_line = [self._line(line) for line, _ in lines] if len(lines) > 1 else []
        return ReportDocument(
            "Budget position", self.describe(), self.today, [self._districts(), *per_line, self._forecast()]
        )

    def _position_table(
        self,
        title: str,
        rows: Sequence[tuple[str, BudgetPosition]],
        *,
        chart: str | None = None,
        note: str = "",
    ) -> Section:
        """District rows (the last one the total): allocation, committed, spent, remaining and the shares."""
        return Section(
            title,
            ["district", "allocation", "committed", "spent", "remaining", "% spent", "% committed"],
            [
                [
                    name,
                    format_pounds(p.allocation_pence),
                    format_pounds(p.committed_pence),
                    format_pounds(p.spent_pence),
                    format_pounds(p.remaining_pence),
                    percent(p.spent_pence, p.allocation_pence),
                    percent(p.committed_pence, p.allocation_pence),
                ]
                for name, p in rows
            ],
            numeric=range(1, 7),
            total_rows=1 if rows else 0,
            chart=chart,
            note=note,
        )

    def _districts(self) -> Section:
        """Every district, its lines added up, with the chart."""
        districts = self.by_district()
        chart = allocation_chart(
            [name for _, name, _ in districts],
            [
                charts.Series("spent", [p.spent_pence / 100 for _, _, p in districts], SPENT),
                charts.Series("committed", [p.committed_pence / 100 for _, _, p in districts], COMMITTED),
                charts.Series("pipeline", [p.pipeline_pence / 100 for _, _, p in districts], PIPELINE),
            ],
            [p.allocation_pence / 100 for _, _, p in districts],
            title="Spent, committed and pipeline by district, against the allocation",
            axis_label="pounds",
        )
        lines = self.lines()
        rows = [(name, p) for _, name, p in districts]
        return self._position_table(
            "Budget position by district" + (f": {lines[0]}" if len(lines) == 1 else ", all funding lines"),
            [*rows, ("All districts", self.total)] if rows else [],
            chart=chart,
            note=(
                "Committed: approved and not yet paid. Remaining = allocation - committed - spent. The "
                "shares are of the allocation. In the chart the dark tick is the allocation and the "
                "figure beside each bar is the forecast outturn (spent, committed and pipeline) as a share "
                "of it; a part of a bar is drawn at least a hairline wide, however small."
            ),
        )

    def _line(self, line: str) -> Section:
        rows = [(r.district_name, r.position) for r in self.rows if r.funding_line == line]
        total = _sum([p for _, p in rows])
        return self._position_table(f"Funding line: {line}", [*rows, ("All districts", total)])

    def _forecast(self) -> Section:
        def cells(name: str, line: str, p: BudgetPosition) -> list[str]:
            return [
                name,
                line,
                format_pounds(p.remaining_pence),
                format_pounds(p.pipeline_pence),
                format_pounds(p.forecast_outturn_pence),
                format_pounds(p.forecast_remaining_pence),
            ]

        lines = self.by_line()
        totals = [("All districts", line, p) for line, p in lines] if len(lines) > 1 else []
        every = "all lines" if len(lines) > 1 else lines[0][0] if lines else ""
        totals.append(("All districts", every, self.total))
        rows = [cells(r.district_name, r.funding_line, r.position) for r in self.rows]
        if rows:
            rows += [cells(*row) for row in totals]
        if self.pipeline_counted:
            note = (
                "Pipeline: the assistance calculated on valid applications awaiting a decision. Forecast "
                "outturn = spent + committed + pipeline; forecast remaining = allocation - forecast outturn."
            )
            if self.uncalculated:
                note += (
                    f" {self.uncalculated:,} valid application(s) awaiting a decision have no grant "
                    "calculated yet and are not in the pipeline ('dfg grant calculate')."
                )
        else:
            note = (
                "The pipeline counts only in the current financial year (applications awaiting a decision "
                "will be approved in it), so here the forecast is what is spent and committed."
            )
        return Section(
            "Forecast by district and funding line",
            ["district", "funding line", "remaining", "pipeline", "forecast outturn", "forecast remaining"],
            rows,
            numeric=range(2, 6),
            total_rows=len(totals) if rows else 0,
            note=note,
        )


def allocation_chart(
    categories: Sequence[str],
    series: Sequence[charts.Series],
    allocations: Sequence[float],
    *,
    title: str,
    axis_label: str,
    label_width: int = 190,
) -> str | None:
    """Horizontal bars, one per category, stacked from ``series`` (spent, committed, pipeline), with a
    dark tick across each bar at its ``allocations`` value and, at the end, the stack as a share of the
    allocation. The scale covers both, so an overspent budget shows its bar past the tick. None when
    there is nothing to draw.

    Drawn with the helpers of :mod:`dfg.reports.charts` (same size, fonts, axis and escaping as the other
    charts), which has no marker on its bar chart."""
    if not charts.has_figures(series) and not any(a > 0 for a in allocations):
        return None
    left, right, top, row = label_width, 56, 30, 22
    plot_w, plot_h = charts.WIDTH - left - right, row * len(categories)
    stacks = [sum(max(0.0, s.values[i]) for s in series) for i in range(len(categories))]
    axis_top, step = charts.nice_scale(max([*stacks, *allocations], default=0))
    scale = plot_w / axis_top
    body, x = [], float(left)
    for s in series:
        body.append(f'<rect x="{x:.1f}" y="5" width="10" height="10" fill="{s.colour}"/>')
        body.append(charts._text(x + 14, 14, s.name))
        x += 14 + 6.2 * len(s.name) + 18
    body.append(
        f'<line x1="{x + 4:.1f}" y1="3" x2="{x + 4:.1f}" y2="17" stroke="{charts.INK}" stroke-width="2.5"/>'
    )
    body.append(charts._text(x + 12, 14, "allocation"))
    body += charts._value_axis(left, top, plot_w, plot_h, (axis_top, step), axis_label)
    for i, category in enumerate(categories):
        y = top + row * i + 4
        body.append(charts._text(left - 8, y + 11, charts._fit(category, left - 12), size=10, anchor="end"))
        x = float(left)
        for s in series:
            # A part of a small budget's spending (1% of the allocation is 4 units) still shows.
            w = max(MIN_BAR, s.values[i] * scale) if s.values[i] > 0 else 0.0
            if w > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{row - 8}" fill="{s.colour}"/>'
                )
            x += w
        mark = left + allocations[i] * scale
        body.append(
            f'<line x1="{mark:.1f}" y1="{y - 3:.1f}" x2="{mark:.1f}" y2="{y + row - 5:.1f}" '
            f'stroke="{charts.INK}" stroke-width="2.5"/>'
        )
        if allocations[i] > 0:
            label = share_label(stacks[i], allocations[i])
            # Beside the bar's end, where it reads with the bar; past the tick when the bar reaches it.
            room = x + 5 + 6 * len(label) < mark - 4
            body.append(charts._text((x if room else max(x, mark)) + 5, y + 11, label, size=10))
    return charts._svg(top + plot_h + 34, title, body)


def share_label(part: float, whole: float) -> str:
    """``part`` as a share of ``whole`` for a chart: ``0%``, ``0.4%``, ``7.5%``, ``16%`` (a tenth of a
    per cent below 10%, so a small figure never reads as none)."""
    value = 100 * part / whole
    if value == 0:
        return "0%"
    return f"{value:.1f}%" if value < 10 else f"{round(value)}%"


def budget_report(
    db: Database,
    actor: Actor,
    *,
    district: str | None = None,
    financial_year: str | int | None = None,
    funding_line: str | None = None,
    today: date | None = None,
) -> BudgetReport:
    """Each district's budget for each funding line in a financial year (default: the one ``today`` is
    in): allocation, committed, spent, remaining, the share of the allocation spent and committed, the
    pipeline, and the forecast outturn and what it leaves. ``funding_line`` keeps one line. Managers
    and administrators only (a district's manager: that district)."""
    today = today or local_day(utcnow())
    if financial_year is not None:
        check_financial_year(parse_financial_year(financial_year))
    with db.read_connection() as connection:
        names = district_names(connection)
    scope = report_scope(
        actor, district=district, known_districts=names, financial_year=financial_year, default_year_of=today
    )
    assert scope.start is not None  # a financial year: given, or the one today is in
    year = scope.start.year
    found = budget_show(db, actor, district=scope.district, financial_year=year, today=today)
    if funding_line is not None:
        known = {b.funding_line for b in found}
        for code in [scope.district] if scope.district else names:
            known.update(funding_lines_of(code))
        if funding_line not in known:
            raise InvalidInput(
                f"--funding-line: no funding line '{funding_line}' (known: {', '.join(sorted(known, key=line_order))})"
            )
    rows = tuple(
        BudgetRow(b.district, names.get(b.district, b.district_name), b.funding_line, b.position)
        for b in sorted(found, key=lambda b: (names.get(b.district, b.district), line_order(b.funding_line)))
        if funding_line in (None, b.funding_line)
    )
    uncalculated = awaiting_without_calculation(db, actor, district=scope.district)
    return BudgetReport(today, scope, year, funding_line, rows, uncalculated)
