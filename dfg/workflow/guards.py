"""Named guards: the rules a trigger in a workflow definition may require.

A guard is a pure predicate over the case's facts, the actor and the trigger's input. It returns
``None`` when the rule is met, or one sentence saying why not: the engine turns that into the error an
officer sees and into the explanations of ``dfg case actions``. Add a guard here, then name it in
``workflows/*.toml``; ``dfg workflow lint`` refuses names that are not registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from dfg.rules.money import format_pounds
from dfg.workflow.actor import Actor
from dfg.workflow.facts import CaseFacts


@dataclass(frozen=True)
class TriggerInput:
    """What the person firing a trigger supplied."""

    reason: str | None = None
    code: str | None = None
    on: date | None = None  # the effective date of the recorded milestone (default: today)
    review_date: date | None = None
    reply_by: date | None = None  # when the applicant is asked to answer by (a request for information)
    # A step that computes the assistance it approves (a variation) says how much, for the delegated
    # limit; otherwise the limit is checked against the case's latest grant calculation.
    assistance_pence: int | None = None
    # Above the approver's delegated limit: the second approver who countersigns (s/he must be an
    # approver whose own limit covers the amount).
    second_approver: Actor | None = None


@dataclass(frozen=True)
class GuardContext:
    case: CaseFacts
    actor: Actor
    given: TriggerInput
    today: date

    @property
    def effective_date(self) -> date:
        return self.given.on or self.today


Guard = Callable[[GuardContext], str | None]

GUARDS: dict[str, Guard] = {}


def guard(function: Guard) -> Guard:
    """Register ``function`` under its own name; its docstring is the rule as documented."""
    GUARDS[function.__name__] = function
    return function


@guard
def has_applicant(ctx: GuardContext) -> str | None:
    """The case has an applicant recorded."""
    return None if ctx.case.applicant else "no applicant is recorded on the case"


@guard
def has_disabled_occupant(ctx: GuardContext) -> str | None:
    """The case has at least one disabled occupant recorded."""
    if any(p.is_disabled_occupant for p in ctx.case.people):
        return None
    return "no disabled occupant is recorded on the case"


@guard
def applicant_is_adult(ctx: GuardContext) -> str | None:
    """The applicant is 18 or over on the date of the application (s.19)."""
    applicant = ctx.case.applicant
    if applicant is None:
        return "no applicant is recorded on the case"
    age = applicant.age_on(ctx.effective_date)
    if age is None:
        return f"the applicant's date of birth ({applicant.full_name}) is not recorded"
    return (
        None
        if age >= 18
        else f"the applicant {applicant.full_name} is {age}: an applicant must be 18 or over"
    )


@guard
def has_booked_visit(ctx: GuardContext) -> str | None:
    """A visit is booked and not cancelled (each cancellation calls off the booking in force, so one is
    in force while there are more bookings than cancellations)."""
    records = ctx.case.records
    if records.get("appointments", 0) > records.get("visit_cancellations", 0):
        return None
    return "no visit is booked (or it is already cancelled)"


def _calculation(ctx: GuardContext) -> dict[str, Any] | None:
    calculation: dict[str, Any] | None = ctx.case.records.get("calculation")
    return calculation


@guard
def grant_calculation_current(ctx: GuardContext) -> str | None:
    """A grant calculation exists, made from the test of resources in force and with the maximum grant
    in force on the approval date: the approval can never drift from the figures behind it."""
    calculation = _calculation(ctx)
    if calculation is None:
        return "no grant is calculated yet (run 'dfg grant calculate')"
    if calculation["determination_id"] != ctx.case.records.get("latest_determination"):
        return "the test of resources changed after the grant was calculated: calculate the grant again"
    if calculation.get("landlord_decision") != ctx.case.records.get("landlord_decision"):
        return (
            "the council's decision on the landlord's grant changed after the grant was calculated: "
            "calculate the grant again"
        )
    from dfg.rules.jurisdiction import maximum_grant_in  # the rate tables load on first use only

    in_force = maximum_grant_in(ctx.case.district, ctx.effective_date)
    if in_force.version != calculation["maximum_grant_version"]:
        return (
            f"the grant was calculated with the maximum {calculation['maximum_grant_version']}, but on "
            f"{ctx.effective_date:%d/%m/%Y} the maximum in force is {in_force.version}: calculate the grant again"
        )
    return None


@guard
def determination_rates_current(ctx: GuardContext) -> str | None:
    """The test of resources in force used the means-test rate table in force on the approval date
    (the rules are those for applications that fall to be approved on or after each amendment): a table
    that changed in between means the test is run again, with its letter, before the grant is approved."""
    used = ctx.case.records.get("determination_rates_version")
    if used is None:
        return None  # has_determination / grant_calculation_current say what is missing
    from dfg.rules.jurisdiction import means_test_rates_in  # the rate tables load on first use only

    in_force = means_test_rates_in(ctx.case.district, ctx.effective_date)
    if in_force.version == used:
        return None
    return (
        f"the test of resources used the rate table {used}, but on {ctx.effective_date:%d/%m/%Y} the table "
        f"in force is {in_force.version}: run it again on that date ('dfg means-test run {ctx.case.reference} "
        f"--household FILE --on {ctx.effective_date:%Y-%m-%d}'), then calculate the grant again"
    )


@guard
def within_delegated_limit(ctx: GuardContext) -> str | None:
    """All the assistance approved (the grant and any discretionary funding) is within the approver's
    delegated limit; above it, a second approver (a different approver whose own limit covers it)
    countersigns."""
    limit = ctx.actor.approval_limit_pence
    calculation = _calculation(ctx)
    if limit is None:
        return f"{ctx.actor.username} has no delegated limit for approvals"
    if ctx.given.assistance_pence is not None:
        amount = ctx.given.assistance_pence
    elif calculation is None:
        return "no grant is calculated to check against the delegated limit"
    else:
        amount = int(calculation["total_assistance_pence"])
    if amount <= limit:
        return None
    above = (
        f"the assistance of {format_pounds(amount)} is above {ctx.actor.username}'s delegated limit of "
        f"{format_pounds(limit)}"
    )
    second = ctx.given.second_approver
    if second is None:
        return f"{above}: a second approver whose limit covers it must countersign (--second-approver)"
    if second.username == ctx.actor.username:
        return f"{above}: the second approver must be someone else"
    if "approver" not in second.roles:
        return f"{above}, and the second approver {second.username} is not an approver"
    if second.approval_limit_pence is None or amount > second.approval_limit_pence:
        return f"{above}, and so is the second approver {second.username}'s"
    return None


@guard
def has_determination(ctx: GuardContext) -> str | None:
    """A test of resources has been determined on the case."""
    if ctx.case.records.get("determinations", 0):
        return None
    return "no test of resources is recorded yet (run 'dfg means-test run' first)"


def _review_window_end(ctx: GuardContext) -> date | None:
    refused = ctx.case.milestones.get("refusal_date")
    if refused is None:
        return None
    from dfg.rules.clocks import (  # the clock rules cost ~50 ms to import: only when asked
        clock_policy_for,
        review_window_end,
    )

    return review_window_end(refused, clock_policy_for(ctx.case.district))


@guard
def review_window_open(ctx: GuardContext) -> str | None:
    """The request for review is within the review window after the refusal."""
    end = _review_window_end(ctx)
    if end is None:
        return "no refusal date is recorded"
    if ctx.effective_date > end:
        return f"the review window closed on {end:%d/%m/%Y}"
    return None


@guard
def review_window_closed(ctx: GuardContext) -> str | None:
    """The review window after the refusal has passed."""
    end = _review_window_end(ctx)
    if end is None:
        return "no refusal date is recorded"
    if ctx.effective_date <= end:
        return f"the review window is open until {end:%d/%m/%Y}"
    return None


@guard
def estimates_obtained(ctx: GuardContext) -> str | None:
    """At least two estimates from different contractors are recorded, or the council has recorded a
    direction waiving the second."""
    from dfg.rules.estimates import estimates_requirement

    return estimates_requirement(
        ctx.case.records.get("estimate_contractors", []), bool(ctx.case.records.get("estimates_waived"))
    )


@guard
def estimate_selected(ctx: GuardContext) -> str | None:
    """An estimate is selected, and the grant was calculated on its eligible works (the lowest
    acceptable estimate)."""
    eligible = ctx.case.records.get("eligible_works_pence")
    if eligible is None:
        return "no estimate is selected yet ('dfg estimate select')"
    calculation = _calculation(ctx)
    if calculation is not None and calculation["works_pence"] != eligible:
        return (
            f"the grant was calculated on works of {format_pounds(calculation['works_pence'])}, but the "
            f"eligible works are {format_pounds(eligible)}: calculate the grant again"
        )
    return None


@guard
def completion_checks_passed(ctx: GuardContext) -> str | None:
    """The technical officer's completion inspection passed and, where the district's works policy asks
    for them, the OT signed off and the applicant said they are satisfied."""
    from dfg.rules.policy import load_works_policy  # policy files load on first use only

    policy = load_works_policy(ctx.case.district)
    needed = ["inspection"]
    needed += ["ot_sign_off"] if policy.ot_sign_off else []
    needed += ["applicant_satisfaction"] if policy.applicant_satisfaction else []
    checks: dict[str, bool] = ctx.case.records.get("completion_checks", {})
    missing = [c.replace("_", " ") for c in needed if not checks.get(c)]
    if missing:
        return f"not yet recorded as passed: {', '.join(missing)} ('dfg works check')"
    return None


def _approved_assistance(ctx: GuardContext) -> int | None:
    approval = ctx.case.records.get("approval")
    return None if approval is None else int(approval["total_assistance_pence"])


@guard
def assistance_approved(ctx: GuardContext) -> str | None:
    """The approval in force gives some assistance: a nil grant has nothing for the council to order
    or pay, and is closed instead (``close_nil_grant``)."""
    assistance = _approved_assistance(ctx)
    if assistance is None:
        return "no approval is recorded"
    if assistance > 0:
        return None
    return "the approval in force is a nil grant: nothing is ordered or paid; close it with 'close_nil_grant'"


@guard
def nil_grant_approved(ctx: GuardContext) -> str | None:
    """The approval in force is a nil grant: no assistance is payable (the contribution is at least the
    estimated expense)."""
    assistance = _approved_assistance(ctx)
    if assistance is None:
        return "no approval is recorded"
    if assistance == 0:
        return None
    return f"the approval in force gives assistance of {format_pounds(assistance)}: it is not a nil grant"


@guard
def payment_not_deferred(ctx: GuardContext) -> str | None:
    """No payment is made before the deferred payment date the approval set (s.36)."""
    approval = ctx.case.records.get("approval")
    deferred = approval["deferred_payment_date"] if approval else None
    if deferred is None or ctx.effective_date >= deferred:
        return None
    return f"the approval deferred payment to {deferred:%d/%m/%Y}"


@guard
def entitlement_not_stopped(ctx: GuardContext) -> str | None:
    """Payments have not been stopped by entitlement ceasing (s.40, s.41) without a decision on what to pay."""
    if not ctx.case.records.get("entitlement_stopped"):
        return None
    return "entitlement ceased: no payment until an approver decides what to pay ('dfg entitlement decide')"


@guard
def invoice_received(ctx: GuardContext) -> str | None:
    """An invoice for the works is recorded before the final payment."""
    if ctx.case.records.get("invoices", 0):
        return None
    return "no invoice is recorded yet ('dfg pay invoice')"


@guard
def contribution_collected(ctx: GuardContext) -> str | None:
    """The applicant's contribution in the approval in force is recorded as collected."""
    approval = ctx.case.records.get("approval")
    due = int(approval["contribution_pence"]) if approval else 0
    collected = int(ctx.case.records.get("contribution_collected_pence", 0))
    if collected >= due:
        return None
    return (
        f"the applicant's contribution of {format_pounds(due)} is not recorded as collected "
        f"({format_pounds(collected)} so far) ('dfg pay contribution')"
    )


def land_charge_due_pence(
    tenure: str,
    grant_pence: int,
    approved_on: date,
    charged_lines_pence: int = 0,
    *,
    district: str | None = None,
) -> int:
    """The repayable amount a land charge must secure for this case (0 when none applies), for owners'
    applications: the part of the mandatory grant above the floor of the district's terms in force on the
    approval date, and the discretionary assistance whose terms carry a land charge
    (``charged_lines_pence``)."""
    from dfg.rules.jurisdiction import land_charge_in
    from dfg.rules.rates import repayable_on_disposal

    terms = land_charge_in(district, approved_on)
    if tenure not in terms.tenures:
        return 0
    return repayable_on_disposal(grant_pence, approved_on, terms=terms) + charged_lines_pence


@guard
def land_charge_registered(ctx: GuardContext) -> str | None:
    """Where a land charge applies (an owner's application with a grant above the threshold, or with
    discretionary assistance whose terms carry a land charge), its registration is recorded."""
    approval = ctx.case.records.get("approval")
    if approval is None or ctx.case.records.get("land_charges", 0):
        return None
    due = land_charge_due_pence(
        ctx.case.records["tenure"], int(approval["grant_pence"]), approval["decided_on"],
        int(approval.get("charged_lines_pence", 0)), district=ctx.case.district,
    )  # fmt: skip
    if due == 0:
        return None
    return f"a land charge of {format_pounds(due)} applies and its registration is not recorded ('dfg land-charge register')"
