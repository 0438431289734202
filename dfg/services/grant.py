"""The grant on a case: calculated from the works, the charges and the determination in force, and
approved only as calculated, so the approval can never drift from the figures behind it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from dfg.errors import InvalidInput, NotFound
from dfg.rules.catalogue import catalogue
from dfg.rules.grant import ChargeRequest, GrantCalculation, calculate_grant, explain_grant, grant_to_dict
from dfg.rules.money import parse_pounds
from dfg.rules.policy import load_charges_policy, load_funding_lines
from dfg.rules.rates import maximum_grant_for
from dfg.services.cases import Advanced, advance, normalise_reference, record_change, show_case
from dfg.services.clock import local_day, utcnow
from dfg.services.users import require_role
from dfg.store.audit import canonical_json
from dfg.store.database import Database
from dfg.store.models import ASSESSMENTS, CASES, DETERMINATIONS, GRANT_CALCULATIONS, RECOMMENDED_WORKS
from dfg.workflow.actor import Actor
from dfg.workflow.definition import definition_for
from dfg.workflow.facts import CaseFacts
from dfg.workflow.guards import TriggerInput


@dataclass(frozen=True)
class GrantRecord:
    id: int
    reference: str
    determination_id: int
    calculated_on: date
    recorded_by: str
    calculation: dict[str, Any]  # grant_to_dict of the calculation, and its "explanation" as text

    @property
    def explanation(self) -> str:
        return str(self.calculation["explanation"])

    @property
    def total_assistance_pence(self) -> int:
        return int(self.calculation["total_assistance_pence"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "determination": self.determination_id,
            "calculated_on": self.calculated_on.isoformat(),
            "recorded_by": self.recorded_by,
            **self.calculation,
        }


def parse_charge(text: str) -> ChargeRequest:
    """A charge from the command line: ``agency_fee`` (calculated) or ``survey=450`` (a fixed fee)."""
    kind, _, amount = text.partition("=")
    if not kind.strip():
        raise InvalidInput(f"--charge: '{text}' should be a charge kind, or kind=amount")
    return ChargeRequest(kind.strip(), parse_pounds(amount, field=f"--charge {kind}") if amount else None)


def _latest_determination(connection: Connection, case_id: int) -> tuple[int, int] | None:
    row = connection.execute(
        select(DETERMINATIONS.c.id, DETERMINATIONS.c.contribution_pence)
        .where(DETERMINATIONS.c.case_id == case_id)
        .order_by(DETERMINATIONS.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.id, row.contribution_pence)


def _work_kinds(connection: Connection, case_id: int) -> set[str]:
    """The kinds of the works recommended in the latest assessment (for funding lines on named works)."""
    latest = (
        select(ASSESSMENTS.c.id)
        .where(ASSESSMENTS.c.case_id == case_id)
        .order_by(ASSESSMENTS.c.id.desc())
        .limit(1)
    )
    codes = connection.scalars(
        select(RECOMMENDED_WORKS.c.work).where(RECOMMENDED_WORKS.c.assessment_id == latest.scalar_subquery())
    )
    works = catalogue().works
    return {works[code].kind if code in works else code for code in codes}


def calculate_case_grant(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    works_pence: int,
    charges: Sequence[ChargeRequest] = (),
    funding_lines: Sequence[str] = (),
    reasons: Sequence[str] = (),
    on: date | None = None,
    now: datetime | None = None,
) -> GrantRecord:
    """Calculate the grant for the case and store it with its workings (role: grant officer).

    The contribution is the determination in force; the maximum is the one in force on ``on`` (the
    intended approval date, default today); charges and funding lines follow the district's policy.
    """
    now = now or utcnow()
    role = require_role(actor, "grant_officer")
    day = on or local_day(now)
    reference = normalise_reference(reference)
    district = show_case(db, actor, reference).district
    policy = load_charges_policy(district)
    funding = load_funding_lines(district)
    lines = [funding.line(code) for code in funding_lines]
    result: dict[str, Any] = {}

    def check(case: CaseFacts) -> None:
        if (
            definition_for(case.workflow_version).states[case.state].terminal
            or case.milestones.get("approval_date") is not None
        ):
            raise InvalidInput(
                f"{case.reference} is {case.state.replace('_', ' ')}: its grant can no longer be calculated"
            )

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        determination = _latest_determination(connection, case_id)
        if determination is None:
            raise InvalidInput(f"{reference} has no test of resources: run 'dfg means-test run' first")
        calculation: GrantCalculation = calculate_grant(
            works_pence=works_pence,
            contribution_pence=determination[1],
            maximum=maximum_grant_for(day),
            policy=policy,
            charges=charges,
            funding_lines=lines,
            works_types=_work_kinds(connection, case_id),
            reasons=reasons,
        )
        figures = {**grant_to_dict(calculation), "explanation": explain_grant(calculation)}
        result.update(
            id=connection.execute(
                insert(GRANT_CALCULATIONS).returning(GRANT_CALCULATIONS.c.id),
                {
                    "case_id": case_id,
                    "determination_id": determination[0],
                    "calculated_on": day,
                    "works_pence": works_pence,
                    "estimated_expense_pence": calculation.estimated_expense_pence,
                    "contribution_pence": calculation.contribution_pence,
                    "grant_pence": calculation.grant_pence,
                    "total_assistance_pence": calculation.total_assistance_pence,
                    "is_nil": calculation.is_nil,
                    "result": canonical_json(figures),
                    "recorded_by": actor.username,
                    "recorded_at": now,
                },
            ).scalar_one(),
            determination=determination[0],
            figures=figures,
        )
        return {
            "grant_calculation": result["id"],
            "determination": determination[0],
            "estimated_expense_pence": calculation.estimated_expense_pence,
            "grant_pence": calculation.grant_pence,
            "total_assistance_pence": calculation.total_assistance_pence,
            "is_nil": calculation.is_nil,
        }

    record_change(
        db, actor, reference, role=role, kind="grant_calculated", check=check, write_details=write, now=now
    )
    return GrantRecord(
        result["id"], reference, result["determination"], day, actor.username, result["figures"]
    )


def grant_calculation(db: Database, actor: Actor, reference: str, number: int | None = None) -> GrantRecord:
    """The case's latest grant calculation (or the one with id ``number``)."""
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # district check, NotFound
    query = (
        select(GRANT_CALCULATIONS)
        .join(CASES, CASES.c.id == GRANT_CALCULATIONS.c.case_id)
        .where(CASES.c.reference == reference)
        .order_by(GRANT_CALCULATIONS.c.id.desc())
    )
    if number is not None:
        query = query.where(GRANT_CALCULATIONS.c.id == number)
    with db.read_connection() as connection:
        row = connection.execute(query.limit(1)).first()
    if row is None:
        what = (
            f"grant calculation {number}"
            if number is not None
            else "grant calculation: run 'dfg grant calculate'"
        )
        raise NotFound(f"{reference} has no {what}")
    return GrantRecord(
        row.id, reference, row.determination_id, row.calculated_on, row.recorded_by, json.loads(row.result)
    )


def approve_grant(
    db: Database, actor: Actor, reference: str, *, on: date | None = None, now: datetime | None = None
) -> Advanced:
    """Approve the case's grant exactly as last calculated (role: approver, within the delegated limit).

    The workflow's guards refuse it if the test of resources was redone after the calculation or if the
    maximum grant in force on the approval date differs; the amount is always the calculation's."""
    return advance(db, actor, reference, "approve", TriggerInput(on=on), now=now)
