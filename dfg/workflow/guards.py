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


def _calculation(ctx: GuardContext) -> dict[str, Any] | None:
    calculation: dict[str, Any] | None = ctx.case.records.get("calculation")
    return calculation


@guard
def grant_calculation_current(ctx: GuardContext) -> str | None:
    """A grant calculation exists, made from the test of resources in force and with the maximum grant
    in force on the approval date: the approval can never drift from the figures behind it."""
    calculation = _calculation(ctx)
    if calculation is None:
        return "no grant is calculated: run 'dfg grant calculate'"
    if calculation["determination_id"] != ctx.case.records.get("latest_determination"):
        return "the test of resources changed after the grant was calculated: calculate the grant again"
    from dfg.rules.rates import maximum_grant_for  # the rate tables load on first use only

    in_force = maximum_grant_for(ctx.effective_date)
    if in_force.version != calculation["maximum_grant_version"]:
        return (
            f"the grant was calculated with the maximum {calculation['maximum_grant_version']}, but on "
            f"{ctx.effective_date:%d/%m/%Y} the maximum in force is {in_force.version}: calculate the grant again"
        )
    return None


@guard
def within_delegated_limit(ctx: GuardContext) -> str | None:
    """All the assistance approved (the grant and any discretionary funding) is within the approver's
    delegated limit."""
    limit = ctx.actor.approval_limit_pence
    calculation = _calculation(ctx)
    if limit is None:
        return f"{ctx.actor.username} has no delegated limit for approvals"
    if calculation is None:
        return "no grant is calculated to check against the delegated limit"
    amount = int(calculation["total_assistance_pence"])
    if amount > limit:
        return (
            f"the assistance of {format_pounds(amount)} is above {ctx.actor.username}'s delegated limit of "
            f"{format_pounds(limit)}"
        )
    return None


@guard
def has_determination(ctx: GuardContext) -> str | None:
    """A test of resources has been determined on the case."""
    if ctx.case.records.get("determinations", 0):
        return None
    return "no test of resources is recorded: run 'dfg means-test run' first"


def _review_window_end(ctx: GuardContext) -> date | None:
    refused = ctx.case.milestones.get("refusal_date")
    if refused is None:
        return None
    from dfg.rules.clocks import (
        default_clock_policy,
    )  # the clock rules cost ~50 ms to import: only when asked

    return default_clock_policy().period("review_window", refused).after(refused)


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
