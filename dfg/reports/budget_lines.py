"""A district's budgets as read: each line's allocation, commitments, spending, pipeline and forecast
(``dfg budget show`` and the budget report), and the ledger of every movement (``dfg budget entries``).

Read-only: the movements themselves are written by :mod:`dfg.services.budget` inside the steps that
cause them. Reading lives with the reports so that the budget report and ``dfg budget show`` read the
same figures without a report importing a service.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, exists, func, select

from dfg.reports.scope import district_name
from dfg.rules.budget import (
    BudgetPosition,
    check_financial_year,
    financial_year_label,
    financial_year_of,
    line_order,
)
from dfg.rules.grant import funding_by_line
from dfg.rules.money import Pence
from dfg.store.database import Database
from dfg.store.models import BUDGET_ENTRIES, BUDGETS, CASES, GRANT_CALCULATIONS, District
from dfg.workflow.actor import Actor
from dfg.workflow.roles import acting_district, require_role

_budgets = BUDGETS
_entries = BUDGET_ENTRIES

#: Who may read budgets: those who approve and pay, and those who manage.
READ_ROLES = ("manager", "grant_officer", "approver", "admin")

#: The state of cases awaiting a decision: their latest grant calculation is the pipeline.
AWAITING_DECISION = "application_valid"


@dataclass(frozen=True)
class BudgetLine:
    """One district's budget for one funding line and year, with the pipeline and the forecast."""

    district: str
    district_name: str
    financial_year: int
    funding_line: str
    position: BudgetPosition

    def as_dict(self) -> dict[str, Any]:
        return {
            "district": self.district,
            "district_name": self.district_name,
            "financial_year": self.financial_year,
            "financial_year_label": financial_year_label(self.financial_year),
            "funding_line": self.funding_line,
            **self.position.as_dict(),
        }


def budget_totals(lines: Sequence[BudgetLine]) -> BudgetPosition:
    """The lines added up (for a totals row)."""
    total = BudgetPosition()
    for line in lines:
        total = total + line.position
    return total


def _scope(connection: Connection, actor: Actor, district: str | None) -> str | None:
    """The one district to show (``None``: all); refuses another district to a district's user."""
    code = acting_district(actor, district) if district else actor.district
    if code is not None:
        district_name(connection, code)
    return code


def _pipeline(connection: Connection, district: str | None) -> dict[tuple[str, str], Pence]:
    """Assistance calculated on applications awaiting a decision, by (district, line): each case's
    latest grant calculation."""
    calculations = GRANT_CALCULATIONS
    each = calculations.alias("each_calculation")
    latest = select(func.max(each.c.id)).where(each.c.case_id == CASES.c.id).scalar_subquery()
    query = (
        select(CASES.c.district_code, calculations.c.result)
        .join(calculations, calculations.c.case_id == CASES.c.id)
        .where(CASES.c.state == AWAITING_DECISION, calculations.c.id == latest)
    )
    if district is not None:
        query = query.where(CASES.c.district_code == district)
    pipeline: dict[tuple[str, str], Pence] = {}
    for code, result in connection.execute(query):
        for line, amount in funding_by_line(json.loads(result)).items():
            pipeline[code, line] = pipeline.get((code, line), 0) + amount
    return pipeline


def awaiting_without_calculation(db: Database, actor: Actor, *, district: str | None = None) -> int:
    """How many valid applications awaiting a decision have no grant calculated yet: the pipeline,
    which counts calculations, leaves them out until 'dfg grant calculate' is run on them."""
    require_role(actor, *READ_ROLES)
    query = (
        select(func.count())
        .select_from(CASES)
        .where(
            CASES.c.state == AWAITING_DECISION,
            ~exists().where(GRANT_CALCULATIONS.c.case_id == CASES.c.id),
        )
    )
    with db.read_connection() as connection:
        code = _scope(connection, actor, district)
        if code is not None:
            query = query.where(CASES.c.district_code == code)
        return int(connection.scalar(query) or 0)


def budget_show(
    db: Database, actor: Actor, *, district: str | None = None, financial_year: int | None = None, today: date
) -> list[BudgetLine]:
    """Every district's budget lines for a financial year (default: the one ``today`` is in), with the
    pipeline and forecast for the current year. A district's user sees only that district."""
    require_role(actor, *READ_ROLES)
    year = check_financial_year(financial_year) if financial_year is not None else financial_year_of(today)
    with db.read_connection() as connection:
        code = _scope(connection, actor, district)
        names = dict(connection.execute(select(District.code, District.name)).all())
        query = select(_budgets).where(_budgets.c.financial_year == year)
        if code is not None:
            query = query.where(_budgets.c.district_code == code)
        positions = {
            (row.district_code, row.funding_line): BudgetPosition(
                row.allocation_pence, row.committed_pence, row.spent_pence
            )
            for row in connection.execute(query)
        }
        pipeline = _pipeline(connection, code) if year == financial_year_of(today) else {}
    lines = []
    for district_code, line in set(positions) | set(pipeline):
        known = positions.get((district_code, line), BudgetPosition())  # pipeline on an unbudgeted line
        position = BudgetPosition(
            known.allocation_pence,
            known.committed_pence,
            known.spent_pence,
            pipeline.get((district_code, line), 0),
        )
        lines.append(BudgetLine(district_code, names.get(district_code, district_code), year, line, position))
    return sorted(lines, key=lambda b: (b.district, line_order(b.funding_line)))


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of a budget, as recorded."""

    id: int
    recorded_at: datetime
    district: str
    financial_year: int
    funding_line: str
    kind: str
    amount_pence: Pence
    reference: str | None
    approval_id: int | None
    payment_id: int | None
    override_reason: str | None
    recorded_by: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recorded_at": self.recorded_at.isoformat(),
            "district": self.district,
            "financial_year": self.financial_year,
            "funding_line": self.funding_line,
            "kind": self.kind,
            "amount_pence": self.amount_pence,
            "reference": self.reference,
            "approval_id": self.approval_id,
            "payment_id": self.payment_id,
            "override_reason": self.override_reason,
            "recorded_by": self.recorded_by,
        }


def budget_entries(
    db: Database, actor: Actor, *, district: str, financial_year: int, funding_line: str | None = None
) -> list[LedgerEntry]:
    """The ledger of a district's budgets for a financial year (or one funding line), oldest first."""
    require_role(actor, *READ_ROLES)
    check_financial_year(financial_year)
    code = acting_district(actor, district)
    query = (
        select(_entries, CASES.c.reference)
        .outerjoin(CASES, CASES.c.id == _entries.c.case_id)
        .where(_entries.c.district_code == code, _entries.c.financial_year == financial_year)
        .order_by(_entries.c.id)
    )
    if funding_line is not None:
        query = query.where(_entries.c.funding_line == funding_line)
    with db.read_connection() as connection:
        district_name(connection, code)
        return [
            LedgerEntry(
                row.id,
                row.recorded_at,
                row.district_code,
                row.financial_year,
                row.funding_line,
                row.kind,
                row.amount_pence,
                row.reference,
                row.approval_id,
                row.payment_id,
                row.override_reason,
                row.recorded_by,
            )
            for row in connection.execute(query)
        ]
