"""Land charges and repayments: the charges registered in a period, and what the council decided when a
charged home was disposed of within the charge period.

A land charge secures the repayable part of an owner's grant (``land_charges.repayable_pence``). After a
disposal an approver demands it in full, demands part of it, or waives it, having weighed the owner's
circumstances (``repayment_decisions``: one decision per disposal, with the factors as comma-separated
codes). Charges count in the period they were registered, decisions in the period they were decided.
Each figure is one GROUP BY; the factors are counted in SQL by matching each code between commas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, func, literal, select

from dfg.presentation import Cell, Money, Sheet, Tabulated, day, percent
from dfg.reports import charts
from dfg.reports.document import ReportDocument, Section
from dfg.reports.scope import ReportScope, district_names, report_scope
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import Pence, format_pounds
from dfg.rules.rates import REPAYMENT_FACTORS
from dfg.store.database import Database
from dfg.store.models import CASES, LAND_CHARGES, REPAYMENT_DECISIONS
from dfg.workflow.actor import Actor

_c, _charge, _decision = CASES.c, LAND_CHARGES.c, REPAYMENT_DECISIONS.c

#: How each decision reads in the report, in report order (every one of ``REPAYMENT_CHOICES``).
DECISIONS = {"full": "Demanded in full", "part": "Demanded in part", "waive": "Waived"}

#: Short column headings for the factors, in the order of ``REPAYMENT_FACTORS`` (which has the full wording).
FACTOR_HEADINGS = {
    "hardship": "hardship",
    "health": "health",
    "care": "care",
    "employment": "work",
    "none": "none",
}

DEMANDED, NOT_DEMANDED = charts.QUALITATIVE[1], charts.QUALITATIVE[5]


@dataclass(frozen=True)
class Tally:
    """Decisions of one kind: how many, what their charges secured, and what was demanded."""

    decisions: int = 0
    repayable_pence: Pence = 0
    demanded_pence: Pence = 0

    @property
    def not_demanded_pence(self) -> Pence:
        return self.repayable_pence - self.demanded_pence

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.decisions + other.decisions,
            self.repayable_pence + other.repayable_pence,
            self.demanded_pence + other.demanded_pence,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "decisions": self.decisions,
            "repayable_pence": self.repayable_pence,
            "demanded_pence": self.demanded_pence,
        }


def _zero_decisions() -> dict[str, Tally]:
    return {d: Tally() for d in DECISIONS}


def _zero_factors() -> dict[str, int]:
    return dict.fromkeys(REPAYMENT_FACTORS, 0)


@dataclass(frozen=True)
class DistrictRepayments:
    """One district's land charges registered and repayment decisions made in the period."""

    district: str
    district_name: str
    charges: int = 0
    #: What the charges registered in the period secure.
    secured_pence: Pence = 0
    #: Every decision kind (``full``, ``part``, ``waive``), nought included.
    by_decision: Mapping[str, Tally] = field(default_factory=_zero_decisions)
    #: How many decisions weighed each factor, every factor included.
    factors: Mapping[str, int] = field(default_factory=_zero_factors)

    @property
    def decided(self) -> Tally:
        """Every decision, whatever it was."""
        total = Tally()
        for tally in self.by_decision.values():
            total = total + tally
        return total

    def __add__(self, other: DistrictRepayments) -> DistrictRepayments:
        return DistrictRepayments(
            "",
            "All districts",
            self.charges + other.charges,
            self.secured_pence + other.secured_pence,
            {d: self.by_decision[d] + other.by_decision[d] for d in DECISIONS},
            {f: self.factors[f] + other.factors[f] for f in REPAYMENT_FACTORS},
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district or None,
            "district_name": self.district_name,
            "charges": self.charges,
            "secured_pence": self.secured_pence,
            "decisions": {d: self.by_decision[d].as_dict() for d in DECISIONS},
            "decided": self.decided.as_dict(),
            "factors": dict(self.factors),
        }


@dataclass(frozen=True)
class Decision:
    """One repayment decision, for the list at the end of the report."""

    reference: str
    district: str
    disposal_on: date
    decided_on: date
    decision: str
    repayable_pence: Pence
    demanded_pence: Pence
    factors: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "district": self.district,
            "disposal_on": self.disposal_on.isoformat(),
            "decided_on": self.decided_on.isoformat(),
            "decision": self.decision,
            "repayable_pence": self.repayable_pence,
            "demanded_pence": self.demanded_pence,
            "factors": list(self.factors),
        }


@dataclass(frozen=True)
class Repayments(Tabulated):
    """Land charges registered and repayment decisions made in the period, by district."""

    today: date
    scope: ReportScope
    districts: tuple[DistrictRepayments, ...]
    decisions: tuple[Decision, ...]

    @property
    def total(self) -> DistrictRepayments:
        total = DistrictRepayments("", "All districts")
        for district in self.districts:
            total = total + district
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "repayments",
            "today": self.today.isoformat(),
            "scope": self.scope.as_dict(),
            "districts": [d.as_dict() for d in self.districts],
            "total": self.total.as_dict(),
            "decisions": [d.as_dict() for d in self.decisions],
        }

    def as_sheet(self) -> Sheet:
        """One row per district: charges, then decisions and amounts by kind, then the factors."""
        headers = ["district", "district_name", "charges_registered", "charges_secured_pounds"]
        for d in DECISIONS:
            headers += [f"{d}_decisions", f"{d}_repayable_pounds", f"{d}_demanded_pounds"]
        headers += [f"factor_{f}" for f in REPAYMENT_FACTORS]
        rows = []
        for district in self.districts:
            row: list[Cell] = [
                district.district,
                district.district_name,
                district.charges,
                Money(district.secured_pence),
            ]
            for d in DECISIONS:
                tally = district.by_decision[d]
                row += [tally.decisions, Money(tally.repayable_pence), Money(tally.demanded_pence)]
            row += [district.factors[f] for f in REPAYMENT_FACTORS]
            rows.append(row)
        return headers, rows

    def as_text(self) -> str:
        return self.document().as_text()

    def as_pdf(self) -> bytes:
        return self.document().as_pdf()

    def document(self) -> ReportDocument:
        return ReportDocument(
            "Land charges and repayments",
            self.scope.describe(),
            self.today,
            [self._outcomes(), self._districts(), self._factors(), self._list()],
        )

    def _outcomes(self) -> Section:
        total = self.total
        rows = [
            [
                label,
                f"{tally.decisions:,}",
                format_pounds(tally.repayable_pence),
                format_pounds(tally.demanded_pence),
                percent(tally.demanded_pence, tally.repayable_pence),
            ]
            for d, label in DECISIONS.items()
            for tally in [total.by_decision[d]]
        ]
        decided = total.decided
        rows.append(
            [
                "All decisions",
                f"{decided.decisions:,}",
                format_pounds(decided.repayable_pence),
                format_pounds(decided.demanded_pence),
                percent(decided.demanded_pence, decided.repayable_pence),
            ]
        )
        return Section(
            "Repayment decisions after a disposal",
            ["decision", "decisions", "repayable", "demanded", "share demanded"],
            rows,
            numeric=(1, 2, 3, 4),
            total_rows=1,
            note=(
                "One decision per disposal within the charge period, counted in the period it was decided. "
                "Repayable: what the charge secures, the most that could be demanded."
            ),
        )

    def _districts(self) -> Section:
        def cells(d: DistrictRepayments) -> list[str]:
            decided = d.decided
            return [
                d.district_name,
                f"{d.charges:,}",
                format_pounds(d.secured_pence),
                *(f"{d.by_decision[k].decisions:,}" for k in DECISIONS),
                format_pounds(decided.repayable_pence),
                format_pounds(decided.demanded_pence),
            ]

        rows = [cells(d) for d in self.districts]
        rows.append(cells(self.total))
        chart = charts.bar_chart(
            [d.district_name for d in self.districts],
            [
                charts.Series("demanded", [d.decided.demanded_pence / 100 for d in self.districts], DEMANDED),
                charts.Series(
                    "not demanded", [d.decided.not_demanded_pence / 100 for d in self.districts], NOT_DEMANDED
                ),
            ],
            title="Repayable on the charges decided, by district: demanded and not demanded",
            axis_label="pounds",
            value_label=lambda pounds: format_pounds(round(pounds * 100), whole=True),
        )
        return Section(
            "By district",
            ["district", "charges", "secured", "full", "part", "waived", "repayable", "demanded"],
            rows,
            numeric=range(1, 8),
            total_rows=1,
            chart=chart,
            note=(
                "Charges: land charges registered in the period; secured: what they secure between them. Full, "
                "part, waived: the decisions made in the period; repayable and demanded are theirs."
            ),
        )

    def _factors(self) -> Section:
        rows = [[d.district_name, *(f"{d.factors[f]:,}" for f in REPAYMENT_FACTORS)] for d in self.districts]
        total = self.total
        rows.append(["All districts", *(f"{total.factors[f]:,}" for f in REPAYMENT_FACTORS)])
        chart = charts.bar_chart(
            list(REPAYMENT_FACTORS.values()),
            [
                charts.Series(
                    "decisions", [total.factors[f] for f in REPAYMENT_FACTORS], charts.QUALITATIVE[0]
                )
            ],
            title="Decisions that weighed each factor",
            axis_label="decisions",
            label_width=330,
            legend=False,
        )
        return Section(
            "Factors weighed",
            ["district", *FACTOR_HEADINGS.values()],
            rows,
            numeric=range(1, len(REPAYMENT_FACTORS) + 1),
            total_rows=1,
            chart=chart,
            note="A decision may weigh several factors, so the counts may add up to more than the decisions.",
        )

    def _list(self) -> Section:
        rows = [
            [
                d.reference,
                day(d.disposal_on),
                day(d.decided_on),
                DECISIONS[d.decision],
                format_pounds(d.repayable_pence),
                format_pounds(d.demanded_pence),
                ", ".join(FACTOR_HEADINGS.get(f, f) for f in d.factors),
            ]
            for d in self.decisions
        ]
        return Section(
            "Each decision",
            ["case", "disposal", "decided", "decision", "repayable", "demanded", "factors"],
            rows,
            numeric=(4, 5),
            wrap=(6,),
        )


def _weighs(code: str) -> ColumnElement[Any]:
    """1 when the decision weighed ``code`` (its factors are codes between commas), else 0: for SUM."""
    padded = literal(",") + _decision.factors + literal(",")
    return case((padded.like(f"%,{code},%"), 1), else_=0)


def repayments(
    db: Database,
    actor: Actor,
    *,
    district: str | None = None,
    priority: str | None = None,
    financial_year: str | int | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    today: date | None = None,
) -> Repayments:
    """Land charges registered and repayment decisions made in the period (default: the financial year
    of ``today``), by district: charges and what they secure; decisions in full, in part and waived with
    what was repayable and what was demanded; the factors weighed; and each decision. ``priority`` keeps
    the cases of one priority. Managers and administrators only."""
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
        charges = {
            code: (int(n), int(pence))
            for code, n, pence in connection.execute(
                select(_c.district_code, func.count(), func.coalesce(func.sum(_charge.repayable_pence), 0))
                .select_from(LAND_CHARGES)
                .join(CASES, _c.id == _charge.case_id)
                .where(scope.cases(), scope.within(_charge.registered_on))
                .group_by(_c.district_code)
            )
        }
        decided = select(REPAYMENT_DECISIONS).join(CASES, _c.id == _decision.case_id)
        decided = decided.join(LAND_CHARGES, _charge.id == _decision.land_charge_id)
        decided = decided.where(scope.cases(), scope.within(_decision.decided_on))
        tallies = connection.execute(
            decided.with_only_columns(
                _c.district_code,
                _decision.decision,
                func.count(),
                func.coalesce(func.sum(_charge.repayable_pence), 0),
                func.coalesce(func.sum(_decision.demanded_pence), 0),
                *(func.sum(_weighs(f), type_=Integer) for f in REPAYMENT_FACTORS),
            ).group_by(_c.district_code, _decision.decision)
        ).all()
        listed = connection.execute(
            decided.with_only_columns(
                _c.reference,
                _c.district_code,
                _decision.disposal_on,
                _decision.decided_on,
                _decision.decision,
                _charge.repayable_pence,
                _decision.demanded_pence,
                _decision.factors,
            ).order_by(_decision.decided_on, _c.reference, _decision.id)
        ).all()
    by_decision: dict[str, dict[str, Tally]] = {}
    factors: dict[str, dict[str, int]] = {}
    for code, kind, n, repayable, demanded, *weighed in tallies:
        by_decision.setdefault(code, _zero_decisions())[kind] = Tally(int(n), int(repayable), int(demanded))
        counts = factors.setdefault(code, _zero_factors())
        for f, count in zip(REPAYMENT_FACTORS, weighed, strict=True):
            counts[f] += int(count or 0)
    districts = tuple(
        DistrictRepayments(
            code,
            name,
            *charges.get(code, (0, 0)),
            by_decision.get(code, _zero_decisions()),
            factors.get(code, _zero_factors()),
        )
        for code, name in names.items()
        if scope.district in (None, code)
    )
    decisions = tuple(
        Decision(
            r.reference,
            r.district_code,
            r.disposal_on,
            r.decided_on,
            r.decision,
            int(r.repayable_pence),
            int(r.demanded_pence),
            tuple(f for f in r.factors.split(",") if f),
        )
        for r in listed
    )
    return Repayments(today, scope, districts, decisions)
