"""Money out and in on a case: interim and final payments, invoices, the applicant's contribution, and
the decision to pay all, part or none when entitlement ceases before the certified date.

A payment is a workflow step (``pay_interim``, ``pay_final``) that writes its ``payments`` row and draws
down the district's budget in the same transaction; the rules of :mod:`dfg.rules.payments` are checked
again inside that transaction, on the figures as they are then, so two officers paying at once cannot
both pay the same money.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, insert, select

from dfg.errors import GuardFailed, InvalidInput
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import format_pounds
from dfg.rules.payments import (
    CEASED_EVENT_KINDS,
    CEASED_REASONS,
    WORKS,
    MoneyPosition,
    PayeeShare,
    check_interim,
    check_payable,
    decided_amount,
    entitlement_from,
    final_payments,
    interim_limit_pence,
    payee_shares,
)
from dfg.rules.policy import load_charges_policy, load_works_policy
from dfg.services import budget
from dfg.services.approval import latest_approval
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
from dfg.store.database import Database
from dfg.store.models import CONTRACTORS, EVENTS, GRANT_CALCULATIONS, INVOICES, PAYMENTS
from dfg.workflow.actor import Actor
from dfg.workflow.definition import definition_for
from dfg.workflow.facts import CaseFacts
from dfg.workflow.guards import TriggerInput
from dfg.workflow.roles import require_role

#: Who did the work an invoice is for. The applicant's or a relative's own labour is never paid for.
LABOUR = ("contractor", "applicant", "relative")

#: States in which the case has an approval in force and no certified date yet (s.40, s.41 apply).
BEFORE_CERTIFIED = ("approved", "works_ordered", "on_site", "works_complete")
AFTER_APPROVAL = (*BEFORE_CERTIFIED, "certified", "paid")
#: The longest supplier's name and invoice reference the store keeps (the columns' lengths).
SUPPLIER_LONGEST = 120
INVOICE_REFERENCE_LONGEST = 60
#: States in which invoices for the works are recorded: once they are ordered.
INVOICE_STATES = ("works_ordered", "on_site", "works_complete", "certified", "paid")


def _in_states(states: tuple[str, ...], what: str) -> Callable[[CaseFacts], None]:
    def check(case: CaseFacts) -> None:
        if case.state not in states:
            raise InvalidInput(f"{case.reference} is {case.state.replace('_', ' ')}: {what}")

    return check


def _ceased(connection: Connection, case_id: int) -> tuple[bool, int | None]:
    """Whether entitlement has ceased, and the payable limit decided since (None: not yet decided)."""
    events = connection.execute(
        select(EVENTS.c.kind, EVENTS.c.payload)
        .where(EVENTS.c.case_id == case_id, EVENTS.c.kind.in_(CEASED_EVENT_KINDS))
        .order_by(EVENTS.c.seq)
    )
    return entitlement_from((e.kind, json.loads(e.payload)) for e in events)


def money_position(connection: Connection, case_id: int) -> MoneyPosition:
    """The case's approved assistance, what is paid, and any ceased-entitlement limit, as now recorded."""
    approval = latest_approval(connection, case_id)
    paid = connection.scalar(
        select(func.coalesce(func.sum(PAYMENTS.c.amount_pence), 0)).where(PAYMENTS.c.case_id == case_id)
    )
    ceased, limit = _ceased(connection, case_id)
    return MoneyPosition(
        approved_pence=approval.total_assistance_pence if approval is not None else 0,
        paid_pence=int(paid or 0),
        entitlement_ceased=ceased,
        payable_limit_pence=limit,
    )


def _approval_to_pay(connection: Connection, case_id: int) -> Row[Any]:
    approval = latest_approval(connection, case_id)
    if approval is None:  # approved before approvals were recorded (schema 0004 and earlier)
        raise GuardFailed(
            "the case has no approval record to pay against: it was approved before dfg recorded approvals"
        )
    return approval


def _works_payee(approval: Row[Any]) -> str:
    return "contractor" if approval.pay_contractor_directly and approval.contractor_id else "applicant"


def shares_of(connection: Connection, approval: Row[Any], district: str) -> tuple[PayeeShare, ...]:
    """The approved expense of ``approval`` split by payee (:func:`dfg.rules.payments.payee_shares`); each
    fee's payee from the district's charges policy."""
    figures = json.loads(
        connection.execute(
            select(GRANT_CALCULATIONS.c.result).where(
                GRANT_CALCULATIONS.c.id == approval.grant_calculation_id
            )
        ).scalar_one()
    )
    rules = load_charges_policy(district).rules
    fees = [
        (
            c["kind"],
            c["label"],
            rules[c["kind"]].payee if c["kind"] in rules else "professional",
            c["amount_pence"],
        )
        for c in figures["charges"]
    ]
    return payee_shares(
        works_pence=approval.works_pence, works_payee=_works_payee(approval), fees=fees,
        assistance_pence=approval.total_assistance_pence,
    )  # fmt: skip


def paid_by_line(connection: Connection, case_id: int) -> dict[str, int]:
    """What is paid so far on each line (payments recorded before payees were, were for the works)."""
    paid: dict[str, int] = {}
    for line, amount in connection.execute(
        select(PAYMENTS.c.paid_for, func.sum(PAYMENTS.c.amount_pence))
        .where(PAYMENTS.c.case_id == case_id)
        .group_by(PAYMENTS.c.paid_for)
    ):
        paid[line or WORKS] = paid.get(line or WORKS, 0) + int(amount)
    return paid


def invoiced_for_works(connection: Connection, case_id: int, approval: Row[Any]) -> int:
    """The invoices the works are paid against: the approved contractor's, or every invoice on the case
    when the council pays the applicant."""
    direct = _works_payee(approval) == "contractor"
    return int(
        connection.scalar(
            select(func.coalesce(func.sum(INVOICES.c.amount_pence), 0)).where(
                INVOICES.c.case_id == case_id,
                *([INVOICES.c.contractor_id == approval.contractor_id] if direct else []),
            )
        )
        or 0
    )


def _pay(
    connection: Connection,
    case_id: int,
    *,
    approval: Row[Any],
    kind: Literal["interim", "final"],
    share: PayeeShare,
    amount_pence: int,
    work_done_pence: int | None,
    paid_on: date,
    actor: Actor,
    now: datetime,
) -> dict[str, Any]:
    payment_id = connection.execute(
        insert(PAYMENTS).returning(PAYMENTS.c.id),
        {
            "case_id": case_id,
            "approval_id": approval.id,
            "kind": kind,
            "amount_pence": amount_pence,
            "work_done_pence": work_done_pence,
            "payee": share.payee,
            "paid_for": share.paid_for,
            "contractor_id": approval.contractor_id if share.payee == "contractor" else None,
            "paid_on": paid_on,
            "recorded_by": actor.username,
            "recorded_at": now,
        },
    ).scalar_one()
    drawn = budget.draw_down(
        connection, case_id=case_id, payment_id=payment_id, amount_pence=amount_pence,
        recorded_by=actor.username, now=now,
    )  # fmt: skip
    return {
        "payment": payment_id,
        "kind": kind,
        "amount_pence": amount_pence,
        "work_done_pence": work_done_pence,
        "payee": share.payee,
        "paid_for": share.paid_for,
        "approval_version": approval.version,
        "budget": {"drawn": drawn},
    }


def pay_interim(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    amount_pence: int,
    work_done_pence: int,
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Record an interim payment of ``amount_pence`` against a valuation of the work done (role: grant
    officer): only for work done, and within the policy's cap before the certified date.
    ``expected_version``: the case's version the officer saw (a form's); Conflict if it changed since."""
    now = now or utcnow()
    paid_on = on or local_day(now)
    reference = normalise_reference(reference)
    district = show_case(db, actor, reference).district
    cap = load_works_policy(district).interim_cap
    if amount_pence <= 0:
        raise InvalidInput(f"the payment must be more than £0.00 (got {format_pounds(amount_pence)})")

    def check(connection: Connection, case_id: int) -> PayeeShare:
        # interim payments are for the works (the fees are paid with the final payment)
        works = shares_of(connection, _approval_to_pay(connection, case_id), district)[0]
        check_interim(
            money_position(connection, case_id), amount_pence, work_done_pence, cap,
            works_share_pence=works.assistance_pence,
        )  # fmt: skip
        return works

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        works = check(connection, case_id)
        return _pay(
            connection, case_id, approval=_approval_to_pay(connection, case_id), kind="interim", share=works,
            amount_pence=amount_pence, work_done_pence=work_done_pence, paid_on=paid_on, actor=actor, now=now,
        )  # fmt: skip

    with db.read_connection() as connection:  # refused in money terms, not as a workflow refusal
        case_id = case_id_of(connection, reference)
        if latest_approval(connection, case_id) is not None:
            check(connection, case_id)
    return advance(
        db, actor, reference, "pay_interim", TriggerInput(on=on), now=now, write_details=write,
        expected_version=expected_version,
    )  # fmt: skip


def _final_lines(
    connection: Connection, case_id: int, district: str, *, before_step: bool = False
) -> tuple[Row[Any], tuple[tuple[PayeeShare, int], ...]]:
    """The approval paid against, and what the final payment pays now on each line, to whom."""
    approval = _approval_to_pay(connection, case_id)
    position = money_position(connection, case_id)
    invoiced = invoiced_for_works(connection, case_id, approval)
    shares = shares_of(connection, approval, district)
    if invoiced == 0 and before_step:
        return approval, ()  # the workflow's invoice_received says no invoice is recorded
    if invoiced == 0 and shares[0].assistance_pence > 0 and position.outstanding_pence > 0:
        whose = "the approved contractor's" if _works_payee(approval) == "contractor" else "an"
        raise GuardFailed(f"no invoice is recorded: the works are paid against {whose} invoice")
    return approval, final_payments(position, shares, paid_by_line(connection, case_id), invoiced)


def pay_final(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    on: date | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Record the final payment after the certified date (role: grant officer): what is left of each
    line of the approved expense, to whom it is due. The works go to the contractor (where the applicant
    was told the council would pay directly; otherwise to the applicant) against the invoices, less the
    applicant's share; each fee to its agency, professional or authority; never more than approved.
    ``expected_version``: the case's version the officer saw (a form's); Conflict if it changed since."""
    now = now or utcnow()
    paid_on = on or local_day(now)
    reference = normalise_reference(reference)
    district = show_case(db, actor, reference).district

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        approval, due = _final_lines(connection, case_id, district)
        paid = [
            _pay(
                connection,
                case_id,
                approval=approval,
                kind="final",
                share=share,
                amount_pence=amount,
                work_done_pence=None,
                paid_on=paid_on,
                actor=actor,
                now=now,
            )
            for share, amount in due
        ]
        # the step's own payment (its remittance advice) is the works', or the first there is
        # each payment's draw on the budget is in its own entry, so the ledger can be re-derived from them
        first = {k: v for k, v in paid[0].items() if k != "budget"}
        return {
            **first,
            "payments": [
                {k: p[k] for k in ("payment", "payee", "paid_for", "amount_pence", "budget")} for p in paid
            ],
        }

    with db.read_connection() as connection:  # refused in money terms, not as a workflow refusal
        case_id = case_id_of(connection, reference)
        if latest_approval(connection, case_id) is not None:
            _final_lines(connection, case_id, district, before_step=True)
    return advance(
        db, actor, reference, "pay_final", TriggerInput(on=on), now=now, write_details=write,
        expected_version=expected_version,
    )  # fmt: skip


def record_invoice(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    supplier: str,
    invoice_reference: str,
    amount_pence: int,
    received_on: date,
    labour: str = "contractor",
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Recorded:
    """Record an invoice for the works (role: grant officer). Invoices for the applicant's or a
    relative's own labour are refused: the grant never pays for them. ``expected_version``: the case's
    version the officer saw (a form's); Conflict if it changed since."""
    role = require_role(actor, "grant_officer")
    now = now or utcnow()
    if labour not in LABOUR:
        raise InvalidInput(f"labour '{labour}' is not one of: {', '.join(LABOUR)}")
    if labour != "contractor":
        raise InvalidInput(
            f"an invoice for the {labour}'s own labour cannot be accepted: the grant does not pay for it"
        )
    if amount_pence <= 0:
        raise InvalidInput("the invoice amount must be more than £0.00")
    if not supplier.strip() or not invoice_reference.strip():
        raise InvalidInput("an invoice needs the supplier and its reference")
    if len(supplier.strip()) > SUPPLIER_LONGEST:
        raise InvalidInput(f"the supplier's name is longer than {SUPPLIER_LONGEST} characters")
    if len(invoice_reference.strip()) > INVOICE_REFERENCE_LONGEST:
        raise InvalidInput(f"the invoice's reference is longer than {INVOICE_REFERENCE_LONGEST} characters")
    if received_on > local_day(now):
        raise InvalidInput(f"the date {received_on:%d/%m/%Y} is in the future")

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        contractor_id = connection.scalar(
            select(CONTRACTORS.c.id).where(func.lower(CONTRACTORS.c.name) == supplier.strip().lower())
        )
        invoice_id = connection.execute(
            insert(INVOICES).returning(INVOICES.c.id),
            {
                "case_id": case_id,
                "contractor_id": contractor_id,
                "supplier": supplier.strip(),
                "invoice_reference": invoice_reference.strip(),
                "amount_pence": amount_pence,
                "received_on": received_on,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        ).scalar_one()
        return {"invoice": invoice_id, "supplier": supplier.strip(), "amount_pence": amount_pence}

    in_state = _in_states(INVOICE_STATES, "invoices are recorded once the works are ordered")

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        in_state(case)

    return record_change(
        db, actor, reference, role=role, kind="invoice_recorded", check=check,
        write_details=write, payload={"invoice_reference": invoice_reference.strip(), "received_on": received_on},
        now=now,
    )  # fmt: skip


def contribution_to_collect(case: CaseFacts) -> int:
    """What is still to collect of the applicant's contribution (more than nothing); InvalidInput, in
    words, if none may be recorded as collected on the case now."""
    _in_states(AFTER_APPROVAL, "a contribution is collected after approval")(case)
    approval = case.records["approval"]
    if approval is None:
        raise GuardFailed(f"{case.reference} has no approval record stating the contribution")
    asked = int(approval["contribution_pence"])
    due = asked - int(case.records["contribution_collected_pence"])
    if due <= 0:
        raise InvalidInput(
            f"all of the contribution of {format_pounds(asked)} is collected" if asked
            else "the approval asks no contribution of the applicant"
        )  # fmt: skip
    return due


def record_contribution(
    db: Database, actor: Actor, reference: str, *, amount_pence: int, on: date, now: datetime | None = None,
    expected_version: int | None = None,
) -> Recorded:  # fmt: skip
    """Record (part of) the applicant's contribution as collected (role: grant officer).
    ``expected_version``: the case's version the officer saw (a form's); Conflict if it changed since."""
    role = require_role(actor, "grant_officer")
    now = now or utcnow()
    if amount_pence <= 0:
        raise InvalidInput("the amount collected must be more than £0.00")
    if on > local_day(now):
        raise InvalidInput(f"the date {on:%d/%m/%Y} is in the future")

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        due = contribution_to_collect(case)
        if amount_pence > due:
            raise InvalidInput(
                f"{format_pounds(amount_pence)} is more than the {format_pounds(due)} of the contribution "
                "still to collect"
            )

    return record_change(
        db, actor, reference, role=role, kind="contribution_collected", check=check,
        payload={"amount_pence": amount_pence, "collected_on": on}, now=now,
    )  # fmt: skip


def check_entitlement_may_cease(case: CaseFacts) -> None:
    """InvalidInput, in words, unless the case may be recorded as no longer entitled: between approval
    and the certified date, and not while an earlier cessation awaits its decision."""
    _in_states(BEFORE_CERTIFIED, "entitlement can cease only between approval and the certified date")(case)
    if case.records["entitlement_stopped"]:
        raise InvalidInput(
            f"entitlement on {case.reference} has already ceased: an approver decides what to pay"
        )


def cease_entitlement(
    db: Database, actor: Actor, reference: str, *, code: str, on: date, note: str | None = None,
    now: datetime | None = None, expected_version: int | None = None,
) -> Recorded:  # fmt: skip
    """Record that entitlement ceased between approval and the certified date (role: grant officer):
    every payment stops until an approver decides what to pay. ``expected_version`` as for invoices."""
    role = require_role(actor, "grant_officer")
    now = now or utcnow()
    if code not in CEASED_REASONS:
        raise InvalidInput(f"unknown --code '{code}' (one of: {', '.join(CEASED_REASONS)})")
    if on > local_day(now):
        raise InvalidInput(f"the date {on:%d/%m/%Y} is in the future")

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        check_entitlement_may_cease(case)

    return record_change(
        db, actor, reference, role=role, kind="entitlement_ceased", check=check,
        payload={"ceased_on": on, "label": CEASED_REASONS[code]}, code=code, reason=note, now=now,
    )  # fmt: skip


def check_awaiting_decision(case: CaseFacts) -> None:
    """InvalidInput, in words, unless the case's entitlement ceased and no one has decided what to pay."""
    _in_states(BEFORE_CERTIFIED, "the decision is made before the certified date")(case)
    if not case.records["entitlement_stopped"]:
        raise InvalidInput(f"{case.reference} has no ceased entitlement awaiting a decision")


def decide_ceased_entitlement(
    db: Database, actor: Actor, reference: str, *, decision: str, amount_pence: int | None = None, reason: str,
    now: datetime | None = None, expected_version: int | None = None,
) -> Recorded:  # fmt: skip
    """Decide to pay all, part or none of what is due after entitlement ceased (role: approver).
    ``expected_version`` as for invoices."""
    role = require_role(actor, "approver")
    now = now or utcnow()
    if not reason.strip():
        raise InvalidInput("the decision needs its reasons (--reason)")
    reference = normalise_reference(reference)
    decided: dict[str, int] = {}

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        check_awaiting_decision(case)

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        position = money_position(connection, case_id)  # again, in the write transaction
        if not position.entitlement_ceased or position.payable_limit_pence is not None:
            raise InvalidInput(f"{reference} has no ceased entitlement awaiting a decision")
        decided["payable"] = decided_amount(position, decision, amount_pence)
        return {"decision": decision, "payable_pence": decided["payable"], "paid_pence": position.paid_pence}

    return record_change(
        db, actor, reference, role=role, kind="ceased_entitlement_decided", check=check,
        write_details=write, reason=reason.strip(), now=now,
    )  # fmt: skip


@dataclass(frozen=True)
class MoneyView:
    """Everything about the money on a case, for ``dfg pay show``."""

    reference: str
    approved_pence: int
    paid_pence: int
    outstanding_pence: int
    contribution_pence: int
    contribution_collected_pence: int
    payments: tuple[dict[str, Any], ...]
    invoices: tuple[dict[str, Any], ...]
    entitlement_ceased: bool
    payable_limit_pence: int | None
    budget: dict[str, Any]

    @property
    def invoiced_pence(self) -> int:
        """Every invoice recorded on the case, together."""
        return sum(int(i["amount_pence"]) for i in self.invoices)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "approved_pence": self.approved_pence,
            "paid_pence": self.paid_pence,
            "outstanding_pence": self.outstanding_pence,
            "contribution_pence": self.contribution_pence,
            "contribution_collected_pence": self.contribution_collected_pence,
            "payments": list(self.payments),
            "invoices": list(self.invoices),
            "entitlement_ceased": self.entitlement_ceased,
            "payable_limit_pence": self.payable_limit_pence,
            "budget": self.budget,
        }


def money_view(db: Database, actor: Actor, reference: str) -> MoneyView:
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # NotFound, district check
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        position = money_position(connection, case_id)
        approval = latest_approval(connection, case_id)
        payments = tuple(
            {
                "id": p.id,
                "kind": p.kind,
                "paid_on": p.paid_on.isoformat(),
                "amount_pence": p.amount_pence,
                "work_done_pence": p.work_done_pence,
                "payee": p.payee,
                "paid_for": p.paid_for or WORKS,
            }
            for p in connection.execute(
                select(PAYMENTS).where(PAYMENTS.c.case_id == case_id).order_by(PAYMENTS.c.id)
            )
        )
        invoices = tuple(
            {
                "id": i.id,
                "supplier": i.supplier,
                "invoice_reference": i.invoice_reference,
                "received_on": i.received_on.isoformat(),
                "amount_pence": i.amount_pence,
            }
            for i in connection.execute(
                select(INVOICES).where(INVOICES.c.case_id == case_id).order_by(INVOICES.c.id)
            )
        )
        collected = sum(
            int(json.loads(payload)["amount_pence"])
            for payload in connection.scalars(
                select(EVENTS.c.payload).where(
                    EVENTS.c.case_id == case_id, EVENTS.c.kind == "contribution_collected"
                )
            )
        )
        case_budget = budget.case_budget(connection, case_id)
    return MoneyView(
        reference=reference,
        approved_pence=position.approved_pence,
        paid_pence=position.paid_pence,
        outstanding_pence=position.outstanding_pence,
        contribution_pence=approval.contribution_pence if approval is not None else 0,
        contribution_collected_pence=collected,
        payments=payments,
        invoices=invoices,
        entitlement_ceased=position.entitlement_ceased,
        payable_limit_pence=position.payable_limit_pence,
        budget=case_budget,
    )


@dataclass(frozen=True)
class DueLine:
    """One payment the final payment would make: for what, to whom, how much."""

    paid_for: str  # WORKS, or the charge's kind
    label: str
    payee: str
    amount_pence: int


@dataclass(frozen=True)
class PaymentDue:
    """What may be paid on a case now, for the officer to see before recording it: the interim room
    before the certified date, or the final payment line by line. Nothing is written."""

    reference: str
    kind: Literal["interim", "final"] | None  # the payment the case's state is open to; None: neither
    paid_pence: int
    interim_limit_pence: int  # the most interim payments may total before the certified date
    interim_room_pence: int  # of it, what may still be paid
    final: tuple[DueLine, ...]  # the final payment's lines (empty unless kind is "final")
    why_not: str | None  # why nothing can be paid now, in the words the payment would be refused with

    @property
    def final_pence(self) -> int:
        return sum(line.amount_pence for line in self.final)


def payment_due(db: Database, actor: Actor, reference: str) -> PaymentDue:
    """What :func:`pay_interim` may pay or :func:`pay_final` would pay on the case now, worked out by
    the same rules on the figures as they are recorded; the payment itself checks them all again."""
    reference = normalise_reference(reference)
    case = show_case(db, actor, reference)  # NotFound, district check
    open_to = {t.name for t in definition_for(case.workflow_version).triggers_from(case.state)}
    kind: Literal["interim", "final"] | None = (
        "final" if "pay_final" in open_to else "interim" if "pay_interim" in open_to else None
    )
    why_not = (
        None
        if kind
        else f"{reference} is {case.state.replace('_', ' ')}: interim payments are made while the works are on "
        "site or complete, the final payment once they are certified"
    )
    limit = 0
    lines: tuple[DueLine, ...] = ()
    with db.read_connection() as connection:
        case_id = case_id_of(connection, reference)
        position = money_position(connection, case_id)
        approval = latest_approval(connection, case_id)
        try:
            if approval is not None:
                works = shares_of(connection, approval, case.district)[0]
                cap = load_works_policy(case.district).interim_cap
                limit = interim_limit_pence(position, cap, works_share_pence=works.assistance_pence)
            check_payable(position)  # entitlement ceased and nothing decided yet: why, in its words
            if kind == "final":
                lines = tuple(
                    DueLine(share.paid_for, share.label, share.payee, amount)
                    for share, amount in _final_lines(connection, case_id, case.district)[1]
                )
        except (GuardFailed, InvalidInput) as refusal:
            why_not = refusal.message
    return PaymentDue(
        reference=reference,
        kind=kind,
        paid_pence=position.paid_pence,
        interim_limit_pence=limit,
        interim_room_pence=max(0, limit - position.paid_pence),
        final=lines,
        why_not=why_not,
    )
