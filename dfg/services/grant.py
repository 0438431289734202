"""The grant on a case: calculated from the works, the charges and the determination in force, and
approved only as calculated, so the approval can never drift from the figures behind it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from dfg.errors import InvalidInput, NotFound
from dfg.rules.catalogue import catalogue
from dfg.rules.clock import local_day, utcnow
from dfg.rules.grant import (
    ChargeRequest,
    GrantCalculation,
    LandlordDecision,
    calculate_grant,
    explain_grant,
    grant_to_dict,
)
from dfg.rules.jurisdiction import maximum_grant_in
from dfg.rules.means_test import format_rate
from dfg.rules.money import format_pounds, parse_pounds
from dfg.rules.policy import ChargeRule, load_charges_policy, load_funding_lines
from dfg.services.case_reading import show_case
from dfg.services.cases import check_version, normalise_reference, record_change
from dfg.services.estimates import selection_in_force
from dfg.store.audit import canonical_json
from dfg.store.database import Database
from dfg.store.models import (
    ASSESSMENTS,
    CASES,
    DETERMINATIONS,
    GRANT_CALCULATIONS,
    LANDLORD_DECISIONS,
    RECOMMENDED_WORKS,
)
from dfg.workflow.actor import Actor
from dfg.workflow.definition import definition_for
from dfg.workflow.facts import CaseFacts
from dfg.workflow.roles import require_role


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


def landlord_decision_in_force(connection: Connection, case_id: int) -> tuple[int, LandlordDecision] | None:
    """The latest decision on the amount of a landlord's grant (s.31), with its id; None if none."""
    row = connection.execute(
        select(LANDLORD_DECISIONS)
        .where(LANDLORD_DECISIONS.c.case_id == case_id)
        .order_by(LANDLORD_DECISIONS.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row.id, landlord_decision(row)


def landlord_decision(row: Row[Any]) -> LandlordDecision:
    """A recorded decision on a landlord's grant, as the calculation (and the notice) use it."""
    return LandlordDecision(row.amount_pence, row.decided_on, tuple(row.factors.split(",")))


def _landlords_decision(connection: Connection, case_id: int) -> tuple[int, LandlordDecision] | None:
    """On a landlord's application, the decision its grant must use (InvalidInput while there is none);
    None on any other application."""
    case = connection.execute(select(CASES.c.reference, CASES.c.tenure).where(CASES.c.id == case_id)).one()
    if case.tenure != "landlord":
        return None
    decided = landlord_decision_in_force(connection, case_id)
    if decided is None:
        raise InvalidInput(
            f"{case.reference} is a landlord's application: the council decides the amount of the grant "
            "(s.31 HGCRA 1996); record it first with 'dfg grant landlord-decision'"
        )
    return decided


@dataclass(frozen=True)
class GrantRequest:
    """What a grant calculation is asked to include besides the works: the preliminary and ancillary
    charges, the discretionary funding lines and the reasons some lines need. Stored with the
    calculation, so a variation can calculate again on new works with the same request."""

    charges: tuple[ChargeRequest, ...] = ()
    funding_lines: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "charges": [{"kind": c.kind, "amount_pence": c.amount_pence} for c in self.charges],
            "funding_lines": list(self.funding_lines),
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GrantRequest:
        return cls(
            tuple(ChargeRequest(c["kind"], c["amount_pence"]) for c in data["charges"]),
            tuple(data["funding_lines"]),
            tuple(data["reasons"]),
        )


def work_out_calculation(
    connection: Connection,
    case_id: int,
    *,
    district: str,
    works_pence: int,
    request: GrantRequest,
    contribution_pence: int,
    maximum_on: date,
) -> dict[str, Any]:
    """The grant on ``works_pence`` (pure rules, the district's policy, the maximum in force on
    ``maximum_on``) as stored figures: ``grant_to_dict`` with its explanation and its request."""
    funding = load_funding_lines(district)
    decided = _landlords_decision(connection, case_id)
    calculation: GrantCalculation = calculate_grant(
        works_pence=works_pence,
        contribution_pence=contribution_pence,
        maximum=maximum_grant_in(district, maximum_on),
        policy=load_charges_policy(district),
        charges=request.charges,
        funding_lines=[funding.line(code) for code in request.funding_lines],
        works_types=_work_kinds(connection, case_id),
        reasons=request.reasons,
        landlord_decision=decided[1] if decided else None,
    )
    return {
        **grant_to_dict(calculation),
        "explanation": explain_grant(calculation),
        "request": request.as_dict(),
        "landlord_decision": decided[0] if decided else None,
    }


def store_calculation(
    connection: Connection,
    case_id: int,
    *,
    determination_id: int,
    figures: Mapping[str, Any],
    day: date,
    recorded_by: str,
    now: datetime,
) -> int:
    """Store worked-out figures (:func:`work_out_calculation`) as the case's latest grant calculation."""
    return int(
        connection.execute(
            insert(GRANT_CALCULATIONS).returning(GRANT_CALCULATIONS.c.id),
            {
                "case_id": case_id,
                "determination_id": determination_id,
                "calculated_on": day,
                "works_pence": figures["works_pence"],
                "estimated_expense_pence": figures["estimated_expense_pence"],
                "contribution_pence": figures["contribution_pence"],
                "grant_pence": figures["grant_pence"],
                "total_assistance_pence": figures["total_assistance_pence"],
                "is_nil": figures["is_nil"],
                "result": canonical_json(figures),
                "recorded_by": recorded_by,
                "recorded_at": now,
            },
        ).scalar_one()
    )


def not_calculable(reference: str, workflow_version: str, state: str, approved_on: date | None) -> str | None:
    """Why a case's grant can no longer be calculated (None: it can): it is closed, or approved."""
    if definition_for(workflow_version).states[state].terminal or approved_on is not None:
        return f"{reference} is {state.replace('_', ' ')}: its grant can no longer be calculated"
    return None


def calculate_case_grant(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    works_pence: int | None = None,
    charges: Sequence[ChargeRequest] = (),
    funding_lines: Sequence[str] = (),
    reasons: Sequence[str] = (),
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> GrantRecord:
    """Calculate the grant for the case and store it with its workings (role: grant officer).

    The works are the eligible works of the selected estimate (the lowest acceptable one) unless
    ``works_pence`` is given (before estimates are in, for a first figure; the approval checks the
    calculation it approves used the selected estimate). The contribution is the determination in force;
    the maximum is the one in force on ``on`` (the intended approval date, default today); charges and
    funding lines follow the district's policy. ``expected_version``: the version of the case a form was
    read at (Conflict if it changed since).
    """
    now = now or utcnow()
    role = require_role(actor, "grant_officer")
    day = on or local_day(now)
    reference = normalise_reference(reference)
    district = show_case(db, actor, reference).district
    request = GrantRequest(tuple(charges), tuple(funding_lines), tuple(reasons))
    funding = load_funding_lines(district)
    for code in funding_lines:  # an unknown line is bad input: say so before anything is written
        funding.line(code)
    result: dict[str, Any] = {}

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        why = not_calculable(
            case.reference, case.workflow_version, case.state, case.milestones.get("approval_date")
        )
        if why is not None:
            raise InvalidInput(why)

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        determination = _latest_determination(connection, case_id)
        if determination is None:
            raise InvalidInput(f"{reference} has no test of resources yet (run 'dfg means-test run' first)")
        works = works_pence
        if works is None:
            selected = selection_in_force(connection, case_id)
            if selected is None:
                raise InvalidInput(
                    f"{reference} has no selected estimate yet (select one with 'dfg estimate select', or give --works)"
                )
            works = selected.eligible_works_pence
        figures = work_out_calculation(
            connection, case_id, district=district, works_pence=works, request=request,
            contribution_pence=determination[1], maximum_on=day,
        )  # fmt: skip
        calculation_id = store_calculation(
            connection, case_id, determination_id=determination[0], figures=figures, day=day,
            recorded_by=actor.username, now=now,
        )  # fmt: skip
        result.update(id=calculation_id, determination=determination[0], figures=figures)
        return {
            "grant_calculation": calculation_id,
            "determination": determination[0],
            "works_pence": works,
            "estimated_expense_pence": figures["estimated_expense_pence"],
            "grant_pence": figures["grant_pence"],
            "total_assistance_pence": figures["total_assistance_pence"],
            "is_nil": figures["is_nil"],
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
            else "grant calculation yet (run 'dfg grant calculate')"
        )
        raise NotFound(f"{reference} has no {what}")
    return GrantRecord(
        row.id, reference, row.determination_id, row.calculated_on, row.recorded_by, json.loads(row.result)
    )


# ------------------------------------------------------------------------ what a calculation may include


@dataclass(frozen=True)
class ChargeOption:
    """A preliminary or ancillary charge the district's policy allows, as a form offers it."""

    kind: str
    label: str
    calculated: bool  # a share of the works, worked out: no amount is asked for
    how: str  # how the policy allows it, in words


@dataclass(frozen=True)
class FundingOption:
    """A discretionary funding line of the district's policy, as a form offers it."""

    code: str
    label: str
    repayment: str
    reasons: tuple[str, ...]  # the reasons it needs one of (a fast track), if any


@dataclass(frozen=True)
class GrantOptions:
    """What a grant calculation on the case may include, the latest calculation, and whether the grant
    can be calculated now."""

    reference: str
    version: int  # the case's, for a form's expected_version
    charges: tuple[ChargeOption, ...]
    funding_lines: tuple[FundingOption, ...]
    reasons: tuple[str, ...]  # every reason some funding line asks for
    latest: GrantRecord | None
    not_calculable: str | None  # why the grant can no longer be calculated (None: it can)


def _charge_option(rule: ChargeRule) -> ChargeOption:
    most = f", at most {format_pounds(rule.cap_pence)}" if rule.cap_pence is not None else ""
    if rule.basis == "percent_of_works":
        how = f"{format_rate(rule.rate or Decimal(0))} of the eligible works{most}"
        return ChargeOption(rule.kind, rule.label, True, how)
    return ChargeOption(rule.kind, rule.label, False, f"the fee as estimated{most}")


def grant_options(db: Database, actor: Actor, reference: str) -> GrantOptions:
    """The charges and funding lines the case's district allows, with the case's latest calculation."""
    view = show_case(db, actor, reference)  # district check, NotFound
    charges = load_charges_policy(view.district)
    lines = load_funding_lines(view.district).lines
    try:
        latest: GrantRecord | None = grant_calculation(db, actor, view.reference)
    except NotFound:
        latest = None
    return GrantOptions(
        reference=view.reference,
        version=view.version,
        charges=tuple(_charge_option(rule) for rule in charges.rules.values()),
        funding_lines=tuple(
            FundingOption(line.code, line.label, line.repayment.summary, tuple(sorted(line.reasons)))
            for line in lines
        ),
        reasons=tuple(sorted({reason for line in lines for reason in line.reasons})),
        latest=latest,
        not_calculable=not_calculable(
            view.reference, view.workflow_version, view.state, view.milestones.get("approval_date")
        ),
    )
