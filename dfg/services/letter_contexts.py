"""Building each kind of letter's context from the case's own data, as it stood at the letter's step.

Nothing is invented: a context holds what the case records (read through
:class:`~dfg.services.letter_sources.LetterSource`), what the rules derive from it (the decision due date,
the land charge, the review window) and fixed wording about what happens next. When the case does not
hold something the letter must show (the address of the contractor a works order goes to), the letter
waits with a reason naming what is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Row, func, or_, select

from dfg.errors import ConfigurationError, DfgError, InvalidInput
from dfg.letters import context as c
from dfg.letters.contracts import contract_for
from dfg.letters.render import longdate, pounds
from dfg.rules.calendar import default_calendar_policy
from dfg.rules.catalogue import catalogue
from dfg.rules.clock import ENGLAND
from dfg.rules.clocks import Priority, clock_policy_for, decision_due
from dfg.rules.estimates import explain_selection
from dfg.rules.grant import LandlordDecision, land_charged_lines_pence
from dfg.rules.jurisdiction import land_charge_file, land_charge_in, means_test_rates_in
from dfg.rules.payments import WORKS, entitlement_from
from dfg.rules.policy import load_works_policy
from dfg.rules.rates import (
    REPAYMENT_FACTORS,
    LandChargeTerms,
    add_years,
    charge_expiry,
    load_land_charge_terms,
    long_date,
)
from dfg.services.assessment import assessments_of, determination, determinations
from dfg.services.grant import grant_calculation, landlord_decision
from dfg.services.letter_queue import LetterQueue, LetterStep, Pending
from dfg.services.letter_sources import LetterSource, NotOnRecord, sentence
from dfg.services.letter_wording import OUTCOME_SUMMARY, assistance_how, charge_how, grant_how, working_line
from dfg.services.payments import invoiced_for_works, shares_of
from dfg.store.database import Database
from dfg.store.models import (
    APPOINTMENTS,
    APPROVALS,
    INVOICES,
    LAND_CHARGES,
    LANDLORD_DECISIONS,
    PAYMENTS,
    REPAYMENT_DECISIONS,
)
from dfg.workflow.actor import Actor
from dfg.workflow.guards import land_charge_due_pence
from dfg.workflow.reminders import REMINDER_EVENT


def _booked_visit(src: LetterSource) -> Any:
    """The booking the step names (the one made, or the one cancelled)."""
    return src.row(
        select(APPOINTMENTS).where(APPOINTMENTS.c.id == src.record("appointment")),
        f"appointment {src.step.payload.get('appointment')} is not recorded",
    )


def _assessment_appointment(src: LetterSource) -> c.LetterContext:
    booked = _booked_visit(src)
    common = src.common()
    return c.AssessmentAppointment(
        **common,
        appointment_at=booked.appointment_at.astimezone(ENGLAND),  # the time as the applicant's clock shows
        assessor_name=booked.assessor_name,
        assessor_role=booked.assessor_role,
        assessor_organisation=booked.assessor_organisation,
        location=booked.location,
        rearrange_phone=common["branding"].phone,
    )


def _assessment_cancellation(src: LetterSource) -> c.LetterContext:
    booked = _booked_visit(src)
    common = src.common()
    return c.AssessmentCancellation(
        **common,
        appointment_at=booked.appointment_at.astimezone(ENGLAND),
        assessor_name=booked.assessor_name,
        rearrange_phone=common["branding"].phone,
    )


def _acknowledgement(src: LetterSource) -> c.LetterContext:
    case = src.case
    source = case.referral_source
    # Without a recorded source the letter says only that a referral came (it names nobody).
    referred_by = None if not source else "you" if source.lower() in ("self", "self-referral") else source
    # We promise contact within the stage 1 target (contact to assessment) that started with this step.
    targets = clock_policy_for(case.district).service_targets(case.first_contact_date)
    days = targets.by_priority[cast(Priority, case.priority)].stages.get(1)
    if days is None:
        raise NotOnRecord(
            "no stage 1 service target is configured, so the letter cannot say when we will call"
        )
    calendar = default_calendar_policy().for_district(case.district)
    occupant = src.disabled_occupant()
    return c.Acknowledgement(
        **src.common(),
        referral_date=case.first_contact_date,
        referred_by=referred_by,
        disabled_occupant_name=None if occupant.is_applicant else occupant.plain_name,
        next_contact_by=calendar.add_working_days(src.step.effective_date, days),
    )


def _test_of_resources_result(src: LetterSource) -> c.LetterContext:
    # The determination in force when the step was taken (a later one would change a reprint).
    found = [
        d
        for d in determinations(src.db, src.actor, src.case.reference)
        if d.recorded_at <= src.step.occurred_at
    ]
    if not found:
        raise NotOnRecord("no test of resources is recorded on the case")
    record = found[-1]
    result = record.determination
    outcome, summary = OUTCOME_SUMMARY[result.outcome]
    table = means_test_rates_in(src.case.district, result.assessed_on)
    rates = (
        f"the {table.jurisdiction.capitalize()} rates in force from {long_date(table.effective_from)}"
        if table.version == result.rates_version
        else f"the rates {result.rates_version}"
    )
    return c.TestOfResourcesResult(
        **src.common(),
        outcome=outcome,
        outcome_summary=summary,
        contribution=result.contribution_pence,
        workings=tuple(working_line(t, result.loan_factor) for t in result.trace),
        rates_version=rates,
        assessment_date=result.assessed_on,
        provisional=record.provisional,
        query_by=src.review_by(src.step.effective_date),
    )


def _valid_application_received(src: LetterSource) -> c.LetterContext:
    valid_on = src.step.day("valid_application_date") or src.step.effective_date
    return c.ValidApplicationReceived(
        **src.common(),
        valid_application_date=valid_on,
        decision_due=decision_due(valid_on),
        decision_period=str(clock_policy_for(src.case.district).period("decision_due", valid_on)),
    )


def _works_description(src: LetterSource, on: date) -> str:
    """The eligible works as the latest assessment up to ``on`` recommended them, by catalogue label."""
    works = catalogue().works
    found = [
        a
        for a in assessments_of(src.db, src.actor, src.case.reference)
        if a["kind"] == "assessment" and date.fromisoformat(a["date"]) <= on
    ]
    if not found:
        return "The eligible works"
    labels = []
    for item in found[-1]["works"]:
        code, _, description = str(item).partition(": ")
        labels.append(description or (works[code].label if code in works else code))
    return f"The eligible works: {'; '.join(labels)}"


def _grant_condition_years(district: str, on: date) -> int:
    period = clock_policy_for(district).period("grant_condition_period", on)
    if period.unit != "years":
        raise ConfigurationError(f"the grant condition period must be in years, not {period}")
    return period.amount


def _calculation(src: LetterSource, approval: Row[Any], works_how: str | None) -> c.GrantCalculation:
    """The figures of an approval version, each with how it was calculated, from the grant calculation
    the version approved (``works_how`` explains the works; by default the calculation's own working)."""
    record = grant_calculation(src.db, src.actor, src.case.reference, approval.grant_calculation_id)
    figures = record.calculation
    tested_on = determination(src.db, src.actor, src.case.reference, record.determination_id).determined_on
    return c.GrantCalculation(
        works=(
            c.PricedItem(
                description=_works_description(src, src.first_approval(approval).decided_on),
                amount=figures["works_pence"],
                how_calculated=sentence(works_how or "The cost of the eligible works as approved"),
            ),
        ),
        charges=tuple(
            c.PricedItem(
                description=ch["label"],
                amount=ch["amount_pence"],
                how_calculated=charge_how(ch, figures["works_pence"]),
            )
            for ch in figures["charges"]
        ),
        contribution=figures["contribution_pence"],
        contribution_basis=f"From your test of resources of {longdate(tested_on)}.",
        # The amount the version approved, as recorded with it (the calculation's, never typed in).
        grant=approval.grant_pence,
        grant_basis=grant_how(figures, _landlords_decision(src, figures.get("landlord_decision"))),
    )


def _landlords_decision(src: LetterSource, decision_id: int | None) -> LandlordDecision | None:
    """The council's decision on a landlord's grant (s.31) that the calculation used, if it used one."""
    if decision_id is None:
        return None
    row = src.row(
        select(LANDLORD_DECISIONS).where(LANDLORD_DECISIONS.c.id == decision_id),
        f"the decision on the landlord's grant (decision {decision_id}) is not recorded",
    )
    return landlord_decision(row)


def _land_charge(
    district: str, tenure: str, approval: Row[Any], charged_lines_pence: int = 0
) -> tuple[int | None, LandChargeTerms | None]:
    """The amount a land charge would secure for this approval, by the terms in force on its date (the
    charge secures the mandatory grant, 2008 general consent, and the funding lines whose own terms
    carry a charge), and the terms; (None, terms) when no charge applies, (None, None) before any terms
    were in force."""
    try:
        terms = land_charge_in(district, approval.decided_on)
    except InvalidInput:
        return None, None
    due = land_charge_due_pence(
        tenure, approval.grant_pence, approval.decided_on, charged_lines_pence, district=district
    )
    return (due or None), terms


def _assistance(figures: Mapping[str, Any]) -> tuple[c.AssistanceLine, ...]:
    """The discretionary lines an approval's calculation pays, each with its conditions and terms."""
    return tuple(
        c.AssistanceLine(
            label=line["label"],
            amount=int(line["amount_pence"]),
            how_calculated=sentence(assistance_how(line, figures)),
            conditions=(
                f"Up to {pounds(int(line['cap_pence']))}. "
                + (
                    "It is means-tested: your contribution counts towards it."
                    if line["means_tested"]
                    else "It is not means-tested."
                )
            ),
            repayment=sentence(line["repayment"]["summary"]),
            land_charge=bool(line["repayment"]["land_charge"]),
        )
        for line in figures["funding"]
        if line["applies"] and line["amount_pence"]
    )


def _approval_notice(src: LetterSource) -> c.LetterContext:
    approval = src.approval()
    selection = src.selection(approval)
    works_how = (
        None
        if selection is None
        else explain_selection(
            selection.name,
            selection.price_pence,
            selection.eligible_works_pence,
            selection.applicant_pays_pence,
            selection.reason,
        )
    )
    figures = grant_calculation(
        src.db, src.actor, src.case.reference, approval.grant_calculation_id
    ).calculation
    charge, terms = _land_charge(
        src.case.district, src.case.tenure, approval, land_charged_lines_pence(figures)
    )
    common, occupant = src.common(), src.disabled_occupant()
    if approval.contractor_name is None:
        raise NotOnRecord("the approval records no contractor: no estimate was selected (contractor_name)")
    return c.ApprovalNotice(
        **common,
        approval_date=approval.decided_on,
        disabled_occupant_name=occupant.plain_name,
        calculation=_calculation(src, approval, works_how),
        contractor_name=approval.contractor_name,
        # The approver recorded whether the council pays the contractor directly, as the applicant was told.
        direct_payment="will" if approval.pay_contractor_directly else "will not",
        deferred_payment_date=approval.deferred_payment_date,
        completion_due=src.completion_due(approval),
        completion_period=str(
            clock_policy_for(src.case.district).period("completion_due", approval.decided_on)
        ),
        conditions=tuple(json.loads(approval.conditions)["conditions"]),
        grant_condition_years=_grant_condition_years(src.case.district, approval.decided_on),
        land_charge_amount=charge,
        # Before any terms were in force no charge applies, and the notice says nothing of one.
        land_charge_years=terms.years if terms else 0,
        land_charge_threshold=terms.floor_pence if terms else None,
        review_by=src.review_by(approval.decided_on),
        assistance=_assistance(figures),
    )


def _reapproval_variation(src: LetterSource) -> c.LetterContext:
    variation = src.approval()
    if variation.kind != "variation":
        raise NotOnRecord(f"the {src.step.trigger} step names no variation of the approval (changes)")
    before = src.approval_version(variation.version - 1)
    change = variation.variation_price_pence
    works_how = (
        f"The works as approved before this change, {pounds(before.works_pence)}, and the change, "
        f"{pounds(change)}: {pounds(variation.works_pence)}"
    )
    return c.ReapprovalVariation(
        **src.common(),
        original_approval_date=src.first_approval(variation).decided_on,
        reapproval_date=variation.decided_on,
        reason=sentence(variation.variation),
        changes=(
            c.PricedItem(
                description=variation.variation,
                amount=change,
                how_calculated=f"The price of the change, approved on {longdate(variation.decided_on)}",
            ),
        ),
        previous_grant=before.grant_pence,
        calculation=_calculation(src, variation, works_how),
        completion_due=src.completion_due(variation),
        review_by=src.review_by(variation.decided_on),
    )


def _refusal_notice(src: LetterSource) -> c.LetterContext:
    step, case = src.step, src.case
    decided_on = step.day("refusal_date") or step.effective_date
    recorded = [
        a
        for a in assessments_of(src.db, src.actor, case.reference)
        if date.fromisoformat(a["date"]) <= decided_on
    ]
    assessment = next((a for a in reversed(recorded) if a["kind"] == "assessment"), None)
    feasibility = next((a for a in reversed(recorded) if a["kind"] == "feasibility"), None)

    def finding(code: str, what: str, found: tuple[bool, str] | None) -> c.Finding:
        """The finding on one statutory test: the refusal's own reasons if it was refused on this test,
        otherwise what the assessment or the feasibility finding recorded."""
        if step.code == code:
            return c.Finding(met=False, reasons=src.reason())
        if found is None:
            raise NotOnRecord(f"no {what} is recorded on the case, and a refusal notice must state it")
        return c.Finding(met=found[0], reasons=found[1])

    purposes = catalogue().purposes
    by_ot = (
        None
        if assessment is None
        else f"{assessment['by']} assessed the home on {longdate(date.fromisoformat(assessment['date']))}."
    )
    purpose = finding(
        "not_s23_purpose",
        "OT assessment (the s.23 purpose)",
        None
        if assessment is None
        else (
            True,
            f"{by_ot} The work is for: {'; '.join(purposes.get(p, p) for p in assessment['purposes'])}.",
        ),
    )
    needed = finding(
        "not_necessary_appropriate",
        "OT assessment (necessary and appropriate)",
        None
        if assessment is None
        else (
            assessment["finding"] == "necessary and appropriate",
            f"{by_ot} {sentence(assessment['reasons'])}",
        ),
    )
    practicable = finding(
        "not_reasonable_practicable",
        "feasibility finding (reasonable and practicable)",
        None
        if feasibility is None
        else (feasibility["finding"] == "reasonable and practicable", sentence(feasibility["reasons"])),
    )
    other = (src.reason(),) if step.code in ("works_begun", "other") else ()
    if case.valid_application_date is None:
        raise NotOnRecord("the date of the valid application is not recorded (valid_application_date)")
    return c.RefusalNotice(
        **src.common(),
        decision_date=decided_on,
        valid_application_date=case.valid_application_date,
        purpose=purpose,
        necessary_and_appropriate=needed,
        reasonable_and_practicable=practicable,
        other_reasons=other,
        review_by=src.review_by(decided_on),
    )


# Fixed wording on what happens next, by trigger (hold: by reason code). Why a case closed is the step's
# own reason where it has one; these lead sentences say what the step itself means.
_CLOSED_BECAUSE = {
    "assess_not_eligible": "The assessment found no work that a Disabled Facilities Grant can pay for.",
    "uphold_refusal": "We looked again at our decision to refuse your application, and the refusal stands.",
    "close_refused": "We refused your application, and the time to ask us to review that decision has passed.",
    "close": "Your adaptation work is finished and the grant has been paid.",
    "close_nil_grant": (
        "Your contribution, worked out in the test of resources, is at least the cost of the work, so the "
        "grant we approved is nil: we will not pay for the work or order it."
    ),
}
_AFTER_CLOSURE = {
    "assess_not_eligible": (
        "Your occupational therapist can advise you about other help, such as equipment.",
    ),
    "uphold_refusal": (
        "If you are unhappy with how we dealt with your application, you can complain to us, and then to "
        "the Local Government and Social Care Ombudsman.",
    ),
    "close_refused": (
        "If you are unhappy with how we dealt with your application, you can complain to us, and then to "
        "the Local Government and Social Care Ombudsman.",
    ),
    "close": (
        "You do not need to do anything.",
        "Keep this letter with your other papers about your home: the conditions of the grant still apply.",
    ),
    "close_nil_grant": (
        "You do not need to do anything.",
        "You may have the work done yourself, at your own cost: our approval notice lists it.",
    ),
}
_AFTER_HOLD = {
    "hospital": "Please call us, or ask someone to call for you, when you know when you will be home.",
    "applicant_request": "Please call us when you would like us to carry on.",
    "awaiting_information": "Please send us the information we asked for as soon as you can.",
    "awaiting_consent": "We are waiting for the owner's or landlord's consent to the work.",
    "awaiting_planning": "We are waiting for planning permission or building control approval.",
}
_HOLD_OTHERWISE = "We will write to you before we take the next step on your case."


def _request_for_information(src: LetterSource) -> c.LetterContext:
    """What the step's reason says is missing (one item per line or semicolon), by its reply-by date."""
    reply_by = src.step.day("reply_by")
    if reply_by is None:  # steps recorded before the date was asked for
        raise NotOnRecord("the date to reply by is not recorded on the request_information step (reply_by)")
    wanted = [part.strip() for part in re.split(r"[;\n]", src.step.reason or "") if part.strip()]
    if not wanted:
        raise NotOnRecord("the request_information step records nothing asked for (its reason)")
    return c.RequestForInformation(
        **src.common(),
        items=tuple(c.InformationRequest(what=sentence(w[0].upper() + w[1:])) for w in wanted),
        reply_by=reply_by,
    )


def _hold_notice(src: LetterSource) -> c.LetterContext:
    review = src.step.day("hold_review_date")
    if review is None:
        raise NotOnRecord("no review date is recorded for the hold (hold_review_date)")
    return c.HoldNotice(
        **src.common(),
        hold_date=src.step.effective_date,
        reason=src.reason(),
        review_date=review,
        next_steps=(_AFTER_HOLD.get(src.step.code or "", _HOLD_OTHERWISE),),
    )


def _withdrawal_notice(src: LetterSource) -> c.LetterContext:
    return c.WithdrawalNotice(
        **src.common(),
        withdrawal_date=src.step.effective_date,
        reason=src.reason(),
        next_steps=("We have stopped work on your application and will not contact you again about it.",),
    )


def _closure_notice(src: LetterSource) -> c.LetterContext:
    trigger = src.step.trigger
    return c.ClosureNotice(
        **src.common(),
        closure_date=src.step.day("closed_date") or src.step.effective_date,
        reason=src.reason(_CLOSED_BECAUSE.get(trigger, "")),
        next_steps=_AFTER_CLOSURE.get(trigger, ("You do not need to do anything.",)),
    )


# ---------------------------------------------------------------------- the works, the money, the charge


def _works_order(src: LetterSource) -> c.LetterContext:
    approval = src.approval()  # in force when the works were ordered: the approval or its latest variation
    contractor = src.contractor(approval.contractor_id)
    selection = src.selection(approval)
    if selection is None:
        raise NotOnRecord(
            "no estimate was selected before the approval: the order must name it (estimate_reference)"
        )
    quoted = f"{selection.contractor_reference} " if selection.contractor_reference else ""
    how = [f"Your estimate {quoted}of {longdate(selection.received_on)}: {pounds(selection.price_pence)}"]
    if selection.applicant_pays_pence:
        how.append(
            f"the grant is worked out on {pounds(selection.eligible_works_pence)}, and the applicant pays the "
            f"other {pounds(selection.applicant_pays_pence)}"
        )
    if approval.works_pence != selection.eligible_works_pence:
        how.append(
            f"changed by {pounds(approval.works_pence - selection.eligible_works_pence)} by the variations "
            "approved since"
        )
    branding = c.load_branding(src.case.district)
    ordered_on = src.step.day("works_ordered_date") or src.step.effective_date
    return c.WorksOrder(
        **src.common(contractor),
        **src.site(),
        estimate_reference=f"{quoted}of {longdate(selection.received_on)}",
        works=(
            c.PricedItem(
                description=_works_description(src, src.first_approval(approval).decided_on),
                amount=approval.works_pence,
                how_calculated=sentence("; ".join(how)),
            ),
        ),
        start_from=ordered_on,
        complete_by=src.completion_due(approval),
        invoice_to=f"{branding.email}, or by post to {', '.join(branding.address_lines)}, {branding.postcode}",
        interim_limit_percent=int(load_works_policy(src.case.district).interim_cap * 100),
        paid_directly=bool(approval.pay_contractor_directly),
        site_contact_phone=src.person("applicant").phone,
    )


def _completion_reminder(src: LetterSource) -> c.LetterContext:
    """The reminder of the completion due date, to the contractor of the works order: from a ``reminder``
    event of the daily tick on the ``completion_due`` clock, which records the due date it reminds of."""
    step = src.step
    if step.trigger != REMINDER_EVENT or step.payload.get("clock") != "completion_due":
        raise NotOnRecord(
            "a completion reminder is made from the daily tick's reminder on the completion_due clock "
            f"(workflows/policy/reminders.toml), not from the {step.trigger} step"
        )
    complete_by = step.day("due")
    if complete_by is None:
        raise NotOnRecord("the reminder records no due date (due)")
    # The step that issued the works order: the latest before the reminder whose letters include it.
    order = next(
        (
            e
            for e in reversed(src.history)
            if e.kind == "transition" and "works_order" in e.payload.get("letters", ())
        ),
        None,
    )
    if order is None:
        raise NotOnRecord("no works order was issued before the reminder: there is no order to remind of")
    ordered_on = order.day("works_ordered_date") or order.day("effective_date")
    if ordered_on is None:
        raise NotOnRecord("the works order step records no date (effective_date)")
    approval = src.approval()  # in force at the reminder: the approval or its latest variation
    return c.CompletionReminder(
        # Signed by the officer who ordered the works: the tick's own user is a scheduler, not an officer.
        **src.common(src.contractor(approval.contractor_id), signed_by=order),
        **src.site(),
        ordered_on=ordered_on,
        complete_by=complete_by,
    )


def _variation_order(src: LetterSource) -> c.LetterContext:
    variation = src.approval()
    if variation.kind != "variation":
        raise NotOnRecord(f"the {src.step.trigger} step names no variation of the approval (changes)")
    before = src.approval_version(variation.version - 1)
    first = src.first_approval(variation)
    return c.VariationOrder(
        **src.common(src.contractor(variation.contractor_id)),
        **src.site(),
        variation_number=variation.version - first.version,
        changes=(c.PricedItem(description=variation.variation, amount=variation.variation_price_pence),),
        reason=sentence(variation.variation),
        previous_order_total=before.works_pence,
        authorised_by=src.full_name(variation.approved_by),
        authorised_by_role=src.job_title("approver"),
        authorised_on=variation.decided_on,
        countersigned_by=src.full_name(variation.second_approver) if variation.second_approver else None,
    )


def _payment_advice(src: LetterSource) -> c.LetterContext:
    """The remittance advice of ``pay_interim`` or ``pay_final``: the payment for the works its own
    event names, and for the final one how the invoice is met (the applicant's share, then the grant)."""
    payment = src.row(
        select(PAYMENTS).where(PAYMENTS.c.id == src.record("payment")),
        f"payment {src.step.payload.get('payment')} is not recorded",
    )
    if (payment.paid_for or WORKS) != WORKS:
        raise NotOnRecord("this payment paid only fees: the remittance advice is for the works")
    to_applicant = payment.payee != "contractor"  # the approval said the council pays the applicant
    works_paid = or_(PAYMENTS.c.paid_for.is_(None), PAYMENTS.c.paid_for == WORKS)
    with src.db.read_connection() as connection:
        before = connection.execute(
            select(func.count(), func.coalesce(func.sum(PAYMENTS.c.amount_pence), 0)).where(
                PAYMENTS.c.case_id == src.case.id, PAYMENTS.c.id < payment.id, works_paid
            )
        ).one()
        invoices = [e.payload["invoice"] for e in src.history if e.kind == "invoice_recorded"]
        # The contractor's latest invoice received by the time of the payment is the one it pays.
        invoice = connection.scalar(
            select(INVOICES.c.invoice_reference)
            .where(
                INVOICES.c.id.in_(invoices),
                *([] if to_applicant else [INVOICES.c.contractor_id == payment.contractor_id]),
            )
            .order_by(INVOICES.c.received_on.desc(), INVOICES.c.id.desc())
            .limit(1)
        )
        approval = connection.execute(select(APPROVALS).where(APPROVALS.c.id == payment.approval_id)).one()
        works = shares_of(connection, approval, src.case.district)[0]
        invoiced = invoiced_for_works(connection, src.case.id, approval)
    number, paid_before = int(before[0]) + 1, int(before[1])
    if payment.kind == "final":
        certified = next(
            (e for e in reversed(src.history) if e.kind == "transition" and e.trigger == "certify"), None
        )
        if certified is None:
            raise NotOnRecord("no certified date is recorded before the final payment")
        valuation, valued_on = paid_before + payment.amount_pence, certified.day("certified_date")
        valued_by = f"{src.full_name(certified.actor)}, {src.job_title(certified.role)}"
    else:
        valuation, valued_on = payment.work_done_pence, payment.paid_on
        valued_by = f"{src.full_name(payment.recorded_by)}, {src.job_title(src.step.role)}"
    final = payment.kind == "final"
    return c.InterimPayment(
        **src.common(None if to_applicant else src.contractor(payment.contractor_id)),
        **src.site(),
        payment_number=number,
        invoice_reference=invoice,
        valuation_amount=valuation,
        valuation_date=valued_on or payment.paid_on,
        valued_by=valued_by,
        previous_payments=paid_before,
        amount=payment.amount_pence,
        payment_date=payment.paid_on,
        # The case reference and the payment's number: what the payment carries to the contractor's bank.
        payment_reference=f"{src.case.reference}-P{number}",
        final=final,
        paid_to_applicant=to_applicant,
        invoice_amount=invoiced if final and invoiced else None,
        applicant_share=works.applicant_pence if final and invoiced else None,
    )


def _payable(src: LetterSource, approval: Row[Any]) -> int:
    """The grant payable for the works at the step: the approved assistance of the version in force, or
    less if the council decided so after entitlement ceased (s.40, s.41)."""
    ceased, limit = entitlement_from((e.kind, e.payload) for e in src.history)
    if ceased and limit is None:
        raise NotOnRecord("entitlement ceased and no decision on what to pay is recorded (grant_paid)")
    total = int(approval.total_assistance_pence)
    return total if limit is None else min(total, limit)


def _completion_certified(src: LetterSource) -> c.LetterContext:
    approval = src.approval()
    certified_on = src.step.day("certified_date") or src.step.effective_date
    figures = grant_calculation(
        src.db, src.actor, src.case.reference, approval.grant_calculation_id
    ).calculation
    charge, terms = _land_charge(
        src.case.district, src.case.tenure, approval, land_charged_lines_pence(figures)
    )
    direct = approval.pay_contractor_directly and approval.contractor_name is not None
    return c.CompletionCertified(
        **src.common(),
        certified_date=certified_on,
        grant_paid=_payable(src, approval),
        # As the payments go: to the contractor when the approval says so, otherwise to the applicant.
        paid_to=approval.contractor_name if direct else "you",
        grant_condition_end=add_years(certified_on, _grant_condition_years(src.case.district, certified_on)),
        disabled_occupant_name=src.disabled_occupant().plain_name,
        land_charge_amount=charge,
        land_charge_expiry=charge_expiry(certified_on, terms) if charge and terms else None,
    )


def _charge_terms(src: LetterSource, version: str) -> LandChargeTerms | None:
    """The land-charge terms a registered charge names (its district's file), if they are still shipped."""
    return next(
        (t for t in load_land_charge_terms(land_charge_file(src.case.district)) if t.version == version), None
    )


def _land_charge_notice(src: LetterSource) -> c.LetterContext:
    charge = src.row(
        select(LAND_CHARGES).where(LAND_CHARGES.c.id == src.record("land_charge")),
        f"land charge {src.step.payload.get('land_charge')} is not recorded",
    )
    certified_on = src.step.day("certified_date")
    grant = src.step.payload.get("grant_pence")
    if certified_on is None or not isinstance(grant, int):
        raise NotOnRecord(
            "the registration does not record the grant and the certified date (grant, certified_date)"
        )
    terms = _charge_terms(src, charge.terms_version)
    return c.LandChargeNotice(
        **src.common(),
        property_address=src.home,
        grant=grant,
        land_charge_amount=charge.repayable_pence,
        # The charge's own terms say above what grant it applies (those in force then, if not recorded).
        land_charge_threshold=(terms or land_charge_in(src.case.district, certified_on)).floor_pence,
        certified_date=certified_on,
        registered_on=charge.registered_on,
        expiry=charge.expires_on,
    )


def _weighed(factors: Sequence[str]) -> str:
    if list(factors) in ([], ["none"]):
        return (
            "We looked at whether repaying would cause you financial hardship, or whether you moved for your "
            "health, to give or receive care, or for work, and found none of these applies."
        )
    labels = [REPAYMENT_FACTORS.get(f, f) for f in factors]
    said = "; ".join(label[:1].lower() + label[1:] for label in labels)
    return f"We took into account that: {said}."


def _repayment_demand(src: LetterSource) -> c.LetterContext:
    decision = src.row(
        select(REPAYMENT_DECISIONS).where(REPAYMENT_DECISIONS.c.id == src.record("repayment_decision")),
        f"repayment decision {src.step.payload.get('repayment_decision')} is not recorded",
    )
    charge = src.row(
        select(LAND_CHARGES).where(LAND_CHARGES.c.id == decision.land_charge_id),
        f"land charge {decision.land_charge_id} is not recorded",
    )
    registered = next(
        (
            e
            for e in src.history
            if e.kind == "transition"
            and e.payload.get("land_charge") == charge.id
            and "registry_reference" in e.payload
        ),
        None,
    )
    if registered is None or registered.day("certified_date") is None:
        raise NotOnRecord("the registration of the land charge is not recorded (certified_date, grant)")
    certified_on = registered.day("certified_date")
    assert certified_on is not None
    grant = int(registered.payload["grant_pence"])
    repayable, demanded = int(charge.repayable_pence), int(decision.demanded_pence)
    terms = _charge_terms(src, charge.terms_version)
    secures = (
        f"the grant of {pounds(grant)} less {pounds(terms.floor_pence)}, at most {pounds(terms.cap_pence)}"
        if terms
        else f"part of the grant of {pounds(grant)}"
    )
    outcome = (
        f"We have therefore decided to ask you to repay the full {pounds(repayable)}."
        if decision.decision == "full"
        else f"We have therefore decided to ask you to repay {pounds(demanded)} of the {pounds(repayable)}."
    )
    review_by = src.review_by(decision.decided_on)
    return c.RepaymentDemand(
        **src.common(),
        property_address=src.home,
        certified_date=certified_on,
        grant=grant,
        event="Your home was sold, given away or transferred to someone else",
        event_date=decision.disposal_on,
        basis=(
            f"We registered a local land charge on your home on {longdate(charge.registered_on)} for "
            f"{pounds(repayable)}: {secures}. It lasts until {longdate(charge.expires_on)}, so it applies "
            "to this disposal."
        ),
        discretion_considered=" ".join(
            (
                _weighed(decision.factors.split(",") if decision.factors else []),
                sentence(decision.reason),
                outcome,
            )
        ),
        amount=demanded,
        # Payment is asked for within the same window as a review: the review window from the decision.
        pay_by=review_by,
        payment_reference=f"{src.case.reference}-LC",
        review_by=review_by,
    )


_BUILDERS: Mapping[str, Callable[[LetterSource], c.LetterContext]] = {
    "acknowledgement": _acknowledgement,
    "assessment_appointment": _assessment_appointment,
    "assessment_cancellation": _assessment_cancellation,
    "test_of_resources_result": _test_of_resources_result,
    "request_for_information": _request_for_information,
    "valid_application_received": _valid_application_received,
    "approval_notice": _approval_notice,
    "refusal_notice": _refusal_notice,
    "reapproval_variation": _reapproval_variation,
    "works_order": _works_order,
    "variation_order": _variation_order,
    "interim_payment": _payment_advice,
    "completion_reminder": _completion_reminder,
    "completion_certified": _completion_certified,
    "land_charge_notice": _land_charge_notice,
    "hold_notice": _hold_notice,
    "withdrawal_notice": _withdrawal_notice,
    "closure_notice": _closure_notice,
    "repayment_demand": _repayment_demand,
}


@dataclass
class BuiltLetters:
    """Contexts built for a queue, and the letters that could not be built, with why."""

    ready: list[tuple[LetterStep, str, c.LetterContext]] = field(default_factory=list)
    waiting: list[Pending] = field(default_factory=list)
    failed: list[Pending] = field(default_factory=list)


def build_letters(
    db: Database, actor: Actor, queue: LetterQueue, letter_date: date | None = None
) -> BuiltLetters:
    """Build the context of each letter in ``queue``. Each is dated its step's date, however late it is
    rendered (a reprint gives the date its original carried, ``letter_date``)."""
    built = BuiltLetters()
    for step, kind in queue.steps:
        build = _BUILDERS.get(kind)
        try:
            if build is None:
                raise NotOnRecord(f"{kind!r} is not a kind of letter this version of dfg can produce")
            if step.trigger == REMINDER_EVENT and not contract_for(kind).reminder:
                raise NotOnRecord(f"{kind!r} is made by a step of the workflow, not by a reminder")
            source = LetterSource(db, actor, step, letter_date or step.effective_date, queue.officers)
            context = build(source)
        except (NotOnRecord, DfgError) as exc:
            # Data the letter needs is not on the case (or is not what the letter allows): it waits.
            built.waiting.append(step.pending(kind, str(exc)))
        except Exception as exc:  # a fault in this code or an old event: report it, build the others
            built.failed.append(
                step.pending(kind, f"could not build the letter: {type(exc).__name__}: {exc}")
            )
        else:
            built.ready.append((step, kind, context))
    return built
