"""The grant: estimated expense, the mandatory grant, and discretionary funding lines. Pure.

- **Estimated expense** = eligible works + preliminary and ancillary charges (an itemised list; an
  agency fee as a percentage of the works with a cap, and fixed fees, as the charges policy allows).
- **Mandatory grant** = the maximum grant applied to (estimated expense − contribution), never below
  nil. The order of cap and deduction is a policy setting: ``deduct_then_cap`` (default),
  ``min(maximum, expense − contribution)``, or ``cap_then_deduct``, ``min(maximum, expense) − contribution``.
- **Landlord's application** (s.31 HGCRA 1996): the authority decides the amount, having regard to the
  rent the landlord can charge because of the works and other matters it thinks relevant; the mandatory
  grant is the amount decided, never more than the calculation above allows.
- **Nil grant** (``is_nil``): nothing is payable on the route taken (e.g. the contribution is at least
  the expense). It is a decision to record, not an error.
- **Funding lines** (discretionary): a ``top_up`` pays cost above the maximum, up to its cap (reduced
  by the contribution if means-tested); a ``fast_track``, ``named_works`` or ``relocation`` line that
  applies replaces the mandatory grant (route = the line's code).

Every figure has a "how calculated" line: the approval notice must state how each amount was
calculated (s.34 HGCRA 1996).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from dfg.errors import InvalidInput
from dfg.rules.means_test import format_rate
from dfg.rules.money import Pence, format_pounds, round_half_up
from dfg.rules.policy import CAP_ORDERS, CapOrder, ChargesPolicy, FundingLine, RepaymentTerms
from dfg.rules.rates import MaximumGrant, long_date


@dataclass(frozen=True)
class ChargeRequest:
    """A preliminary or ancillary charge asked for: its kind (a key of the charges policy) and, for a
    fixed fee, the amount. A percentage fee (the agency fee) is calculated, so give no amount."""

    kind: str
    amount_pence: Pence | None = None
    description: str = ""


#: What the authority has regard to in deciding a landlord's grant (s.31 HGCRA 1996), by code. The rent
#: is the one the Act names; an officer records each weighed.
LANDLORD_FACTORS: Mapping[str, str] = {
    "rent": "The extent to which the landlord can charge a higher rent because of the works",
    "landlord_position": "The landlord's own position and resources",
    "policy": "The council's published housing assistance policy",
    "other": "Other matters the council considers relevant",
}


@dataclass(frozen=True)
class LandlordDecision:
    """The authority's decision on the amount of a landlord's grant (s.31), as the calculation uses it."""

    amount_pence: Pence
    decided_on: date
    factors: tuple[str, ...]  # codes of LANDLORD_FACTORS


@dataclass(frozen=True)
class ChargeLine:
    """A charge as allowed in the estimated expense, and how it was calculated."""

    kind: str
    label: str
    amount_pence: Pence
    how_calculated: str
    #: For a fee worked out as a share of the works, that share as printed ("15%"); None for a fixed fee.
    percent_of_works: str | None = None
    #: The policy's limit when it cut the fee down to it; None when the fee was within it.
    capped_at_pence: Pence | None = None


@dataclass(frozen=True)
class FundingResult:
    """What one discretionary funding line gives on this case, and why."""

    code: str
    label: str
    kind: str
    applies: bool
    amount_pence: Pence
    cap_pence: Pence
    means_tested: bool
    repayment: RepaymentTerms
    how_calculated: str


@dataclass(frozen=True)
class Working:
    """One figure of the calculation with its "how calculated" line."""

    item: str
    pence: Pence
    how_calculated: str


@dataclass(frozen=True)
class GrantCalculation:
    """The full grant calculation: every figure, and how each was calculated."""

    works_pence: Pence
    charges: tuple[ChargeLine, ...]
    charges_pence: Pence
    estimated_expense_pence: Pence
    contribution_pence: Pence
    jurisdiction: str
    maximum_grant_pence: Pence
    maximum_grant_version: str
    cap_order: CapOrder
    route: str  # "mandatory", or the code of the funding line that replaced it
    grant_pence: Pence  # the mandatory grant (nil when another route applies)
    is_nil: bool
    funding: tuple[FundingResult, ...]
    total_assistance_pence: Pence
    applicant_pays_pence: Pence
    workings: tuple[Working, ...]


def _charge_lines(
    works: Pence, requests: Sequence[ChargeRequest], policy: ChargesPolicy
) -> tuple[ChargeLine, ...]:
    lines: list[ChargeLine] = []
    for index, request in enumerate(requests):
        field = f"charges[{index}]"
        rule = policy.rule(request.kind, field=f"{field}.kind")
        label = rule.label + (f" ({request.description})" if request.description else "")
        percent = None
        if rule.basis == "percent_of_works":
            if request.amount_pence is not None:
                raise InvalidInput(
                    f"{field}.amount: the {request.kind} is calculated as "
                    f"{format_rate(rule.rate or Decimal(0))} of the eligible works; give no amount"
                )
            rate = rule.rate or Decimal(0)
            percent = format_rate(rate)
            raw = round_half_up(Decimal(works) * rate)
            how = f"{format_rate(rate)} of the eligible works {format_pounds(works)} = {format_pounds(raw)}"
        else:
            if request.amount_pence is None:
                raise InvalidInput(f"{field}.amount: required for a {request.kind}")
            if request.amount_pence < 0:
                raise InvalidInput(f"{field}.amount: must not be negative")
            raw = request.amount_pence
            how = f"fee of {format_pounds(raw)} as estimated"
        amount, capped = raw, None
        if rule.cap_pence is not None and raw > rule.cap_pence:
            amount = capped = rule.cap_pence
            how += f", capped at the policy limit of {format_pounds(rule.cap_pence)}"
        lines.append(
            ChargeLine(request.kind, label, amount, how + f", per {policy.source_file}", percent, capped)
        )
    return tuple(lines)


def _mandatory(expense: Pence, contribution: Pence, maximum: Pence, order: CapOrder) -> tuple[Pence, str]:
    cap = format_pounds(maximum)
    if order == "deduct_then_cap":
        net = expense - contribution
        grant = min(maximum, max(0, net))
        how = (
            f"deduct, then cap: {format_pounds(expense)} − {format_pounds(contribution)} "
            f"= {format_pounds(net)}"
        )
        if net <= 0:
            how += ": the contribution is at least the estimated expense, so the grant is nil"
        elif net > maximum:
            how += f", more than the maximum, so {cap}"
        else:
            how += f", within the maximum of {cap}"
        return grant, how
    capped = min(expense, maximum)
    grant = max(0, capped - contribution)
    how = "cap, then deduct: "
    how += (
        f"the expense {format_pounds(expense)} is capped at the maximum {cap}"
        if expense > maximum
        else f"the expense {format_pounds(expense)} is within the maximum {cap}"
    )
    how += f"; {format_pounds(capped)} − {format_pounds(contribution)}"
    how += f" = {format_pounds(grant)}" if capped >= contribution else " is below nil, so the grant is nil"
    return grant, how


def _decided(calculated: Pence, how: str, decision: LandlordDecision) -> tuple[Pence, str]:
    """The mandatory grant on a landlord's application: the amount the authority decided (s.31)."""
    weighed = "; ".join(LANDLORD_FACTORS[code].lower() for code in decision.factors)
    said = (
        f"landlord's application: decided by the council on {long_date(decision.decided_on)} under s.31 "
        f"HGCRA 1996, having regard to {weighed}: {format_pounds(decision.amount_pence)}"
    )
    if decision.amount_pence <= calculated:
        return (
            decision.amount_pence,
            f"{said} (the calculation allows at most {format_pounds(calculated)}: {how})",
        )
    return calculated, f"{said}, more than the calculation allows ({how}), so {format_pounds(calculated)}"


def _alternative(
    line: FundingLine,
    expense: Pence,
    contribution: Pence,
    works_types: Collection[str],
    reasons: Collection[str],
) -> tuple[bool, str]:
    """Whether an alternative-route line applies to the case, and why (not)."""
    if line.kind == "fast_track":
        if line.threshold_pence is not None and expense > line.threshold_pence:
            return False, (
                f"does not apply: the estimated expense {format_pounds(expense)} is over the "
                f"threshold of {format_pounds(line.threshold_pence)}"
            )
        if line.reasons and not line.reasons & set(reasons):
            return (
                False,
                f"does not apply: the case has none of the reasons {', '.join(sorted(line.reasons))}",
            )
        return True, "applies"
    if line.kind == "named_works":
        others = set(works_types) - line.works
        if not works_types:
            return False, "does not apply: no types of work were given"
        if others:
            return (
                False,
                f"does not apply: {', '.join(sorted(others))} is not among {', '.join(sorted(line.works))}",
            )
        return True, "applies"
    return True, "applies"  # relocation: chosen for the case


def calculate_grant(
    *,
    works_pence: Pence,
    contribution_pence: Pence,
    maximum: MaximumGrant,
    policy: ChargesPolicy,
    charges: Sequence[ChargeRequest] = (),
    funding_lines: Sequence[FundingLine] = (),
    works_types: Collection[str] = (),
    reasons: Collection[str] = (),
    cap_order: CapOrder | None = None,
    landlord_decision: LandlordDecision | None = None,
) -> GrantCalculation:
    """Calculate the estimated expense, the grant and any discretionary funding. Pure.

    ``maximum`` is the row in force on the approval date (:func:`dfg.rules.rates.maximum_grant_for`);
    ``policy`` the district's charges policy; ``cap_order`` overrides the policy's setting.
    ``funding_lines`` are the lines the officer applies to the case, in order: the first
    alternative-route line that applies replaces the mandatory grant; top-ups are added after.
    ``works_types`` (e.g. ``stairlift``) and ``reasons`` (e.g. ``hospital_discharge``) decide whether a
    line applies. ``landlord_decision``: on a landlord's application, the amount the authority decided
    (s.31), which the mandatory grant becomes, within what the calculation allows.
    """
    if works_pence < 0:
        raise InvalidInput("works: must not be negative")
    if contribution_pence < 0:
        raise InvalidInput("contribution: must not be negative")
    order = cap_order if cap_order is not None else policy.cap_order
    if order not in CAP_ORDERS:
        raise InvalidInput(f"cap_order: {order!r} is not one of {', '.join(CAP_ORDERS)}")

    charge_lines = _charge_lines(works_pence, charges, policy)
    charges_total = sum(c.amount_pence for c in charge_lines)
    expense = works_pence + charges_total
    cap = maximum.amount_pence
    workings: list[Working] = [
        Working("Eligible works", works_pence, "the cost of the eligible works as approved")
    ]
    workings += [Working(c.label, c.amount_pence, c.how_calculated) for c in charge_lines]
    workings.append(
        Working(
            "Preliminary and ancillary charges",
            charges_total,
            " + ".join(format_pounds(c.amount_pence) for c in charge_lines)
            + f" = {format_pounds(charges_total)}"
            if charge_lines
            else "none",
        )
    )
    workings.append(
        Working(
            "Estimated expense",
            expense,
            f"works {format_pounds(works_pence)} + charges {format_pounds(charges_total)} "
            f"= {format_pounds(expense)}",
        )
    )
    workings.append(Working("Contribution", contribution_pence, "from the test of resources"))
    workings.append(
        Working(
            "Maximum grant",
            cap,
            f"{maximum.jurisdiction.capitalize()}, in force from {long_date(maximum.effective_from)}: "
            f"{maximum.source}",
        )
    )

    # The route: the first alternative line that applies, else the mandatory grant.
    results: list[FundingResult] = []
    route = "mandatory"
    primary = 0
    for line in funding_lines:
        if line.kind == "top_up":
            continue
        if route != "mandatory":
            results.append(_result(line, False, 0, f"not used: {route} already applies"))
            continue
        applies, why = _alternative(line, expense, contribution_pence, works_types, reasons)
        if not applies:
            results.append(_result(line, False, 0, why))
            continue
        deducted = contribution_pence if line.means_tested else 0
        amount = min(line.cap_pence, max(0, expense - deducted))
        how = f"{why}: {format_pounds(expense)}"
        how += f" − contribution {format_pounds(deducted)}" if line.means_tested else " (not means-tested)"
        how += f", at most {format_pounds(line.cap_pence)}: {format_pounds(amount)}"
        how += "; replaces the mandatory grant"
        results.append(_result(line, True, amount, how))
        route, primary = line.code, amount

    if route == "mandatory":
        grant, how = _mandatory(expense, contribution_pence, cap, order)
        if landlord_decision is not None:
            grant, how = _decided(grant, how, landlord_decision)
        primary = grant
        workings.append(Working("Mandatory grant", grant, how))
    else:
        grant = 0
        workings.append(Working("Mandatory grant", 0, f"not used: the {route} funding line applies instead"))
    contribution_applied = (
        contribution_pence if route == "mandatory" or _line(funding_lines, route).means_tested else 0
    )

    # Top-ups: only the cost above the maximum, less the contribution if the line is means-tested.
    above_maximum = max(0, expense - cap)
    topped = 0
    for line in funding_lines:
        if line.kind != "top_up":
            continue
        if above_maximum == 0:
            results.append(
                _result(
                    line,
                    False,
                    0,
                    f"does not apply: the estimated expense is within the maximum of {format_pounds(cap)}",
                )
            )
            continue
        unmet = expense - primary - topped - (contribution_applied if line.means_tested else 0)
        need = max(0, min(above_maximum - topped, unmet))
        amount = min(line.cap_pence, need)
        how = (
            f"cost above the maximum {format_pounds(above_maximum)}"
            + (
                f", less the contribution not yet met, leaves {format_pounds(need)}"
                if line.means_tested
                else f" (not means-tested) leaves {format_pounds(need)}"
            )
            + f"; at most {format_pounds(line.cap_pence)}: {format_pounds(amount)}"
        )
        results.append(_result(line, amount > 0, amount, how))
        topped += amount

    funded = sum(r.amount_pence for r in results)
    total = grant + funded
    for result in results:
        workings.append(Working(result.label, result.amount_pence, result.how_calculated))
    workings.append(
        Working(
            "Total assistance",
            total,
            f"mandatory grant {format_pounds(grant)} + funding lines {format_pounds(funded)}",
        )
    )
    applicant = expense - total
    workings.append(
        Working("Applicant's share", applicant, f"{format_pounds(expense)} − {format_pounds(total)}")
    )
    return GrantCalculation(
        works_pence=works_pence,
        charges=charge_lines,
        charges_pence=charges_total,
        estimated_expense_pence=expense,
        contribution_pence=contribution_pence,
        jurisdiction=maximum.jurisdiction,
        maximum_grant_pence=cap,
        maximum_grant_version=maximum.version,
        cap_order=order,
        route=route,
        grant_pence=grant,
        is_nil=primary == 0,
        funding=tuple(results),
        total_assistance_pence=total,
        applicant_pays_pence=applicant,
        workings=tuple(workings),
    )


def funding_by_line(figures: Mapping[str, Any]) -> dict[str, Pence]:
    """The assistance of a stored calculation (``grant_to_dict``) per budget line: ``mandatory`` for the
    mandatory grant, then each discretionary line that pays something. Sums to the total assistance."""
    lines = {"mandatory": int(figures["grant_pence"])} if figures["grant_pence"] else {}
    for line in figures["funding"]:
        if line["applies"] and line["amount_pence"]:
            lines[line["code"]] = int(line["amount_pence"])
    assert sum(lines.values()) == figures["total_assistance_pence"], "funding lines must add up"
    return lines


def land_charged_lines_pence(figures: Mapping[str, Any]) -> Pence:
    """The discretionary assistance of a stored calculation whose repayment terms are secured by a
    local land charge (a top-up repayable on disposal, say): repayable in full, so charged in full."""
    return sum(
        int(line["amount_pence"])
        for line in figures["funding"]
        if line["applies"] and line["amount_pence"] and line["repayment"]["land_charge"]
    )


def _line(lines: Sequence[FundingLine], code: str) -> FundingLine:
    return next(line for line in lines if line.code == code)


def _result(line: FundingLine, applies: bool, amount: Pence, how: str) -> FundingResult:
    return FundingResult(
        code=line.code,
        label=line.label,
        kind=line.kind,
        applies=applies,
        amount_pence=amount,
        cap_pence=line.cap_pence,
        means_tested=line.means_tested,
        repayment=line.repayment,
        how_calculated=how,
    )


def grant_to_dict(g: GrantCalculation) -> dict[str, Any]:
    """The calculation as JSON-ready data (pence as integers)."""
    return {
        "works_pence": g.works_pence,
        "charges": [
            {
                "kind": c.kind,
                "label": c.label,
                "amount_pence": c.amount_pence,
                "how_calculated": c.how_calculated,
                "percent_of_works": c.percent_of_works,
                "capped_at_pence": c.capped_at_pence,
            }
            for c in g.charges
        ],
        "charges_pence": g.charges_pence,
        "estimated_expense_pence": g.estimated_expense_pence,
        "contribution_pence": g.contribution_pence,
        "jurisdiction": g.jurisdiction,
        "maximum_grant_pence": g.maximum_grant_pence,
        "maximum_grant_version": g.maximum_grant_version,
        "cap_order": g.cap_order,
        "route": g.route,
        "grant_pence": g.grant_pence,
        "is_nil": g.is_nil,
        "funding": [
            {
                "code": f.code,
                "label": f.label,
                "kind": f.kind,
                "applies": f.applies,
                "amount_pence": f.amount_pence,
                "cap_pence": f.cap_pence,
                "means_tested": f.means_tested,
                "repayment": {
                    "summary": f.repayment.summary,
                    "within_years": f.repayment.within_years,
                    "land_charge": f.repayment.land_charge,
                },
                "how_calculated": f.how_calculated,
            }
            for f in g.funding
        ],
        "total_assistance_pence": g.total_assistance_pence,
        "applicant_pays_pence": g.applicant_pays_pence,
        "workings": [
            {"item": w.item, "pence": w.pence, "how_calculated": w.how_calculated} for w in g.workings
        ],
    }


def explain_grant(g: GrantCalculation) -> str:
    """The calculation as the approval notice states it: one line per figure, with how it was calculated."""
    lines = [f"{w.item}: {format_pounds(w.pence)} ({w.how_calculated})" for w in g.workings]
    if g.is_nil:
        lines.append(
            "Nil grant: no grant is payable on this route. This is a decision, not a refusal of the works."
        )
    return "\n".join(lines)
