"""The approval and its versions: the decision that states the works, every amount and how it was
calculated, the conditions and who signed; and each approved variation after it.

An approval is a workflow step (``approve``, and ``vary_works`` for a variation) that writes an
``approvals`` row and commits (or adjusts) the district's budget in the same transaction, so the case,
its approval and the money it commits can never disagree. The amounts are never typed in: they are the
grant calculation's, and a variation calculates again on the new works with the same request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, insert, select

from dfg.errors import GuardFailed, InvalidInput, NotFound
from dfg.rules.budget import financial_year_of
from dfg.rules.calendar import add_calendar_months
from dfg.rules.clock import local_day, utcnow
from dfg.rules.grant import funding_by_line
from dfg.rules.money import format_pounds
from dfg.rules.policy import load_works_policy
from dfg.services import budget
from dfg.services.case_reading import show_case
from dfg.services.cases import (
    Advanced,
    Recorded,
    advance,
    case_id_of,
    check_version,
    normalise_reference,
    record_change,
)
from dfg.services.estimates import selection_in_force
from dfg.services.grant import (
    GrantRecord,
    GrantRequest,
    grant_calculation,
    store_calculation,
    work_out_calculation,
)
from dfg.services.identity import user_actor
from dfg.store.audit import canonical_json
from dfg.store.database import Database
from dfg.store.models import APPROVALS, CONTRACTORS, GRANT_CALCULATIONS, PAYMENTS
from dfg.workflow.actor import Actor
from dfg.workflow.definition import definition_for
from dfg.workflow.facts import CaseFacts
from dfg.workflow.guards import TriggerInput
from dfg.workflow.roles import require_role

WorksStatus = Literal["not_started", "begun", "completed"]
WORKS_STATUSES: tuple[WorksStatus, ...] = ("not_started", "begun", "completed")

#: The latest date a deferred payment may be set for, after the valid application (s.36).
DEFERRED_PAYMENT_LIMIT_MONTHS = 12


@dataclass(frozen=True)
class ApprovalTerms:
    """What the approver decides besides the amounts (which are the calculation's)."""

    deferred_payment_date: date | None = None
    pay_contractor_directly: bool = True  # the applicant was told before approval (the notice says so)
    conditions: tuple[str, ...] = ()  # added to the district's standard conditions
    works_status: WorksStatus = "not_started"
    works_begun_reason: str | None = None  # the good reason, when the works have begun (s.29)
    second_approver: str | None = None  # username, above the approver's delegated limit


def _latest_calculation(connection: Connection, case_id: int) -> Row[Any]:
    row = connection.execute(
        select(GRANT_CALCULATIONS)
        .where(GRANT_CALCULATIONS.c.case_id == case_id)
        .order_by(GRANT_CALCULATIONS.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise InvalidInput("no grant is calculated yet (run 'dfg grant calculate')")
    return row


def latest_approval(connection: Connection, case_id: int) -> Row[Any] | None:
    """The approval version in force (the latest), or None before approval."""
    return connection.execute(
        select(APPROVALS).where(APPROVALS.c.case_id == case_id).order_by(APPROVALS.c.version.desc()).limit(1)
    ).first()


def _check_terms(terms: ApprovalTerms, valid_application: date | None, day: date) -> None:
    if terms.works_status not in WORKS_STATUSES:
        raise InvalidInput(f"works status '{terms.works_status}' is not one of: {', '.join(WORKS_STATUSES)}")
    if terms.works_status == "completed":
        raise GuardFailed(
            "cannot approve: the works are already completed, and a grant can never be approved for "
            "completed works (s.29)"
        )
    reason = (terms.works_begun_reason or "").strip()
    if terms.works_status == "begun" and not reason:
        raise InvalidInput(
            "the works have begun: approving them needs the good reason recorded (--good-reason)"
        )
    if terms.works_status != "begun" and reason:
        raise InvalidInput("--good-reason is only for works that have already begun (--works-begun)")
    deferred = terms.deferred_payment_date
    if deferred is not None:
        if valid_application is None:
            raise InvalidInput(
                "no valid application date is recorded to check the deferred payment date against"
            )
        latest = add_calendar_months(valid_application, DEFERRED_PAYMENT_LIMIT_MONTHS)
        if deferred > latest:
            raise InvalidInput(
                f"the deferred payment date {deferred:%d/%m/%Y} is later than 12 months after the valid "
                f"application ({valid_application:%d/%m/%Y}): the latest allowed is {latest:%d/%m/%Y} (s.36)"
            )
        if deferred < day:
            raise InvalidInput(f"the deferred payment date {deferred:%d/%m/%Y} is before the approval date")


def _second_approver(db: Database, actor: Actor, username: str | None) -> Actor | None:
    if username is None:
        return None
    second = user_actor(db, username)
    if second.username == actor.username:
        raise InvalidInput("the second approver must be someone other than the approver")
    return second


def approve_grant(
    db: Database,
    actor: Actor,
    reference: str,
    terms: ApprovalTerms = ApprovalTerms(),
    *,
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Approve the case's grant exactly as last calculated (role: approver, within the delegated limit or
    countersigned), record the approval with its terms, and commit the district's budget.

    The workflow's guards refuse it if no estimate is selected, if the test of resources or the maximum
    changed since the calculation, or if the assistance is above the delegated limit without a second
    approver; the budget refuses an over-commitment unless a manager recorded an override.
    ``expected_version``: the version of the case a form was read at (Conflict if it changed since)."""
    now = now or utcnow()
    day = on or local_day(now)
    reference = normalise_reference(reference)
    case = show_case(db, actor, reference)
    _check_terms(terms, case.milestones.get("valid_application_date"), day)
    second = _second_approver(db, actor, terms.second_approver)
    conditions = [
        *load_works_policy(case.district).conditions,
        *(c.strip() for c in terms.conditions if c.strip()),
    ]

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        calculation = _latest_calculation(connection, case_id)
        figures = json.loads(calculation.result)
        selected = selection_in_force(connection, case_id)
        lines = funding_by_line(figures)
        # a case reopened after a cancellation may be approved again: its versions go on counting
        previous = latest_approval(connection, case_id)
        version = previous.version + 1 if previous is not None else 1
        approval_id = connection.execute(
            insert(APPROVALS).returning(APPROVALS.c.id),
            {
                "case_id": case_id,
                "version": version,
                "kind": "approval",
                "grant_calculation_id": calculation.id,
                "decided_on": day,
                "contractor_id": selected.contractor_id if selected else None,
                "works_pence": calculation.works_pence,
                "charges_pence": figures["charges_pence"],
                "contribution_pence": calculation.contribution_pence,
                "grant_pence": calculation.grant_pence,
                "total_assistance_pence": calculation.total_assistance_pence,
                "funding": canonical_json(lines),
                "deferred_payment_date": terms.deferred_payment_date,
                "pay_contractor_directly": terms.pay_contractor_directly,
                "conditions": canonical_json({"conditions": conditions}),
                "works_begun_reason": (terms.works_begun_reason or "").strip() or None,
                "variation": None,
                "variation_price_pence": None,
                "approved_by": actor.username,
                "second_approver": second.username if second else None,
                "recorded_at": now,
            },
        ).scalar_one()
        year = financial_year_of(day)
        committed = budget.commit(
            connection,
            district=case.district,
            financial_year=year,
            lines=lines,
            case_id=case_id,
            approval_id=approval_id,
            recorded_by=actor.username,
            now=now,
            override_reason=budget.override_reason_for(connection, case_id, calculation.id),
        )
        return {
            "approval": approval_id,
            "approval_version": version,
            # the approved figures, so that the approval's row can be checked against its event
            "works_pence": calculation.works_pence,
            "charges_pence": figures["charges_pence"],
            "contribution_pence": calculation.contribution_pence,
            "grant_pence": calculation.grant_pence,
            "total_assistance_pence": calculation.total_assistance_pence,
            "funding": lines,
            "contractor": selected.contractor_name if selected else None,
            "deferred_payment_date": terms.deferred_payment_date,
            "pay_contractor_directly": terms.pay_contractor_directly,
            "works_begun_reason": (terms.works_begun_reason or "").strip() or None,
            "second_approver": second.username if second else None,
            "budget": {"financial_year": year, "committed": committed},
        }

    return advance(
        db,
        actor,
        reference,
        "approve",
        TriggerInput(on=on, second_approver=second),
        now=now,
        write_details=write,
        expected_version=expected_version,
    )


@dataclass(frozen=True)
class ApprovalToDecide:
    """What an approver decides on: the calculation that would be approved, their delegated limit, and
    whether a second approver must countersign it."""

    reference: str
    version: int  # the case's, for a form's expected_version
    calculation: GrantRecord | None  # the latest; None: nothing is calculated yet
    limit_pence: int | None  # the approver's delegated limit; None: no authority to approve
    needs_second_approver: bool  # the assistance is above the limit
    standard_conditions: tuple[str, ...]  # the district's, stated on every approval
    valid_application: date | None  # a deferred payment is due no later than 12 months after it (s.36)


def approval_to_decide(db: Database, actor: Actor, reference: str) -> ApprovalToDecide:
    """The approval as it would be decided by ``actor`` now (nothing is written)."""
    case = show_case(db, actor, reference)  # district check, NotFound
    try:
        calculation: GrantRecord | None = grant_calculation(db, actor, case.reference)
    except NotFound:
        calculation = None
    limit = actor.approval_limit_pence
    above = calculation is not None and limit is not None and calculation.total_assistance_pence > limit
    return ApprovalToDecide(
        reference=case.reference,
        version=case.version,
        calculation=calculation,
        limit_pence=limit,
        needs_second_approver=above,
        standard_conditions=load_works_policy(case.district).conditions,
        valid_application=case.milestones.get("valid_application_date"),
    )


def vary_works(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    change: str,
    price_change_pence: int,
    second_approver: str | None = None,
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Approve a priced variation before the work is done (role: approver): the works change by
    ``price_change_pence`` (negative for a saving), the grant is calculated again with the same charges,
    funding lines and contribution, and the maximum of the first approval; a new approval version is
    recorded and the budget commitment adjusted by the difference. Refused once the works are complete
    (the workflow allows it only while approved, ordered or on site). ``expected_version``: the case's
    version the approver saw (a form's); Conflict if it changed since."""
    now = now or utcnow()
    day = on or local_day(now)
    reference = normalise_reference(reference)
    if not change.strip():
        raise InvalidInput("a variation needs a description of the change (--change)")
    case = show_case(db, actor, reference)
    second = _second_approver(db, actor, second_approver)
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        before = latest_approval(connection, case_id)
        if before is None:
            raise InvalidInput(f"{reference} has no approval to vary")
        works = before.works_pence + price_change_pence
        if works < 0:
            raise InvalidInput(
                f"the change of {format_pounds(price_change_pence)} would make the works negative "
                f"(approved works {format_pounds(before.works_pence)})"
            )
        basis = connection.execute(
            select(GRANT_CALCULATIONS).where(GRANT_CALCULATIONS.c.id == before.grant_calculation_id)
        ).one()
        first_day = connection.scalar(  # the approval this variation varies (not an earlier variation)
            select(APPROVALS.c.decided_on)
            .where(APPROVALS.c.case_id == case_id, APPROVALS.c.kind == "approval")
            .order_by(APPROVALS.c.version.desc())
            .limit(1)
        )
        assert first_day is not None  # a version exists, so its approval does
        # Worked out now for the delegated limit and the case's grant; the write phase's version check
        # guarantees nothing it rests on changes before it is stored.
        figures = work_out_calculation(
            connection, case_id, district=case.district, works_pence=works,
            request=GrantRequest.from_dict(json.loads(basis.result)["request"]),
            contribution_pence=basis.contribution_pence, maximum_on=first_day,
        )  # fmt: skip
        paid = int(
            connection.scalar(
                select(func.coalesce(func.sum(PAYMENTS.c.amount_pence), 0)).where(
                    PAYMENTS.c.case_id == case_id
                )
            )
            or 0
        )
    if figures["total_assistance_pence"] < paid:
        raise InvalidInput(
            f"the variation would reduce the assistance to {format_pounds(figures['total_assistance_pence'])}, "
            f"below the {format_pounds(paid)} already paid"
        )
    lines = funding_by_line(figures)
    old_lines: dict[str, int] = json.loads(before.funding)
    deltas = {
        line: lines.get(line, 0) - old_lines.get(line, 0)
        for line in sorted(set(lines) | set(old_lines))
        if lines.get(line, 0) != old_lines.get(line, 0)
    }

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        calculation_id = store_calculation(
            connection, case_id, determination_id=basis.determination_id, figures=figures, day=day,
            recorded_by=actor.username, now=now,
        )  # fmt: skip
        approval_id = connection.execute(
            insert(APPROVALS).returning(APPROVALS.c.id),
            {
                **{k: v for k, v in before._mapping.items() if k != "id"},
                "version": before.version + 1,
                "kind": "variation",
                "grant_calculation_id": calculation_id,
                "decided_on": day,
                "works_pence": works,
                "charges_pence": figures["charges_pence"],
                "grant_pence": figures["grant_pence"],
                "total_assistance_pence": figures["total_assistance_pence"],
                "funding": canonical_json(lines),
                "variation": change.strip(),
                "variation_price_pence": price_change_pence,
                "approved_by": actor.username,
                "second_approver": second.username if second else None,
                "recorded_at": now,
            },
        ).scalar_one()
        adjusted = budget.adjust(
            connection,
            case_id=case_id,
            approval_id=approval_id,
            deltas=deltas,
            recorded_by=actor.username,
            now=now,
            override_reason=budget.override_reason_for(connection, case_id, variation_of=before.version),
        )
        return {
            "approval": approval_id,
            "approval_version": before.version + 1,
            "grant_calculation": calculation_id,
            "price_change_pence": price_change_pence,
            "works_pence": works,
            "charges_pence": figures["charges_pence"],
            "grant_pence": figures["grant_pence"],
            "total_assistance_pence": figures["total_assistance_pence"],
            "funding": lines,
            "second_approver": second.username if second else None,
            "budget": {"adjusted": adjusted},
        }

    return advance(
        db,
        actor,
        reference,
        "vary_works",
        TriggerInput(
            reason=change.strip(),
            on=on,
            assistance_pence=figures["total_assistance_pence"],
            second_approver=second,
        ),
        now=now,
        write_details=write,
        also_change={"approved_grant_pence": figures["grant_pence"]},
        expected_version=expected_version,
    )


@dataclass(frozen=True)
class ApprovalVersion:
    version: int
    kind: str
    decided_on: date
    contractor: str | None
    works_pence: int
    charges_pence: int
    contribution_pence: int
    grant_pence: int
    total_assistance_pence: int
    funding: dict[str, int]
    deferred_payment_date: date | None
    pay_contractor_directly: bool
    conditions: tuple[str, ...]
    works_begun_reason: str | None
    variation: str | None
    variation_price_pence: int | None
    approved_by: str
    second_approver: str | None
    grant_calculation: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "kind": self.kind,
            "decided_on": self.decided_on.isoformat(),
            "contractor": self.contractor,
            "works_pence": self.works_pence,
            "charges_pence": self.charges_pence,
            "contribution_pence": self.contribution_pence,
            "grant_pence": self.grant_pence,
            "total_assistance_pence": self.total_assistance_pence,
            "funding": self.funding,
            "deferred_payment_date": self.deferred_payment_date.isoformat()
            if self.deferred_payment_date
            else None,
            "pay_contractor_directly": self.pay_contractor_directly,
            "conditions": list(self.conditions),
            "works_begun_reason": self.works_begun_reason,
            "variation": self.variation,
            "variation_price_pence": self.variation_price_pence,
            "approved_by": self.approved_by,
            "second_approver": self.second_approver,
            "grant_calculation": self.grant_calculation,
        }


def approval_versions(db: Database, actor: Actor, reference: str) -> list[ApprovalVersion]:
    """Every version of the case's approval, oldest first (the history is kept; the last is in force)."""
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # district check, NotFound
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        rows = connection.execute(
            select(APPROVALS, CONTRACTORS.c.name.label("contractor_name"))
            .outerjoin(CONTRACTORS, CONTRACTORS.c.id == APPROVALS.c.contractor_id)
            .where(APPROVALS.c.case_id == case_id)
            .order_by(APPROVALS.c.version)
        ).all()
    return [_version(r) for r in rows]


def _version(r: Row[Any]) -> ApprovalVersion:
    return ApprovalVersion(
        version=r.version,
        kind=r.kind,
        decided_on=r.decided_on,
        contractor=r.contractor_name,
        works_pence=r.works_pence,
        charges_pence=r.charges_pence,
        contribution_pence=r.contribution_pence,
        grant_pence=r.grant_pence,
        total_assistance_pence=r.total_assistance_pence,
        funding=json.loads(r.funding),
        deferred_payment_date=r.deferred_payment_date,
        pay_contractor_directly=r.pay_contractor_directly,
        conditions=tuple(json.loads(r.conditions)["conditions"]),
        works_begun_reason=r.works_begun_reason,
        variation=r.variation,
        variation_price_pence=r.variation_price_pence,
        approved_by=r.approved_by,
        second_approver=r.second_approver,
        grant_calculation=r.grant_calculation_id,
    )


# ---------------------------------------------------------------------- the manager's budget override


#: The states in which an approved case may still be varied (as the workflow's ``vary_works``).
VARIATION_STATES = ("approved", "works_ordered", "on_site")


def check_override_open(case: CaseFacts) -> None:
    """InvalidInput, in words, unless a budget override may be recorded on the case now: before approval
    on a grant calculation, or after it while a variation may still be made."""
    state = definition_for(case.workflow_version).states[case.state]
    if case.milestones.get("approval_date") is not None and case.state in VARIATION_STATES:
        return  # for the next variation
    if case.milestones.get("approval_date") is not None or state.terminal:
        raise InvalidInput(
            f"{case.reference} is {case.state.replace('_', ' ')}: a budget override is for an "
            "approval or a variation still to be made"
        )
    if case.records["calculation"] is None:
        raise InvalidInput(f"{case.reference} has no grant calculation to override the budget for")


def override(
    db: Database, actor: Actor, reference: str, *, reason: str, now: datetime | None = None,
    expected_version: int | None = None,
) -> Recorded:  # fmt: skip
    """Record a manager's decision that the case may be approved although its budget cannot cover it
    (role: manager). Before approval the override is for the case's latest grant calculation: the
    approval then commits it with this reason on the ledger, and a new calculation needs a new override.
    After approval (while a variation may still be made) it is for the next variation of the approval
    version in force. ``expected_version``: the case's version the manager saw (a form's); Conflict if
    it changed since."""
    role = require_role(actor, "manager")
    if not reason or not reason.strip():
        raise InvalidInput("say why the budget may be over-committed for this case (--reason)")

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        check_override_open(case)

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        version = connection.scalar(
            select(func.max(APPROVALS.c.version)).where(APPROVALS.c.case_id == case_id)
        )
        if version is not None:
            return {"variation_of": version}
        # read again in the write transaction: the override names exactly the figures in force
        calculation = connection.execute(
            select(GRANT_CALCULATIONS.c.id, GRANT_CALCULATIONS.c.total_assistance_pence)
            .where(GRANT_CALCULATIONS.c.case_id == case_id)
            .order_by(GRANT_CALCULATIONS.c.id.desc())
            .limit(1)
        ).one()
        return {
            "grant_calculation": calculation.id,
            "total_assistance_pence": calculation.total_assistance_pence,
        }

    return record_change(
        db, actor, reference, role=role, kind="budget_override", check=check, write_details=write,
        reason=reason.strip(), now=now,
    )  # fmt: skip
