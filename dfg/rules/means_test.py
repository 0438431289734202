"""The test of resources (means test): a pure function from a household and a rate table to a determination.

Housing Renewal Grants Regulations 1996 Part II as amended (England). The steps, each recorded in the
determination's ``trace`` with its figure, the rule and the rate-table key it came from:

1. Landlord's application, or an application for a disabled child or young person: not means-tested.
2. A relevant person on a passport benefit: passported, contribution nil (reg. 10(3)). Universal Credit
   counts only if the council's setting says so; the setting is recorded either way.
3. Applicable amount (weekly) = personal allowance + children's allowances and premiums + adult premiums
   + the flat addition per application.
4. Assessable income = weekly income less the disregarded kinds; tariff income on capital above the
   disregard.
5. Excess = assessable income + tariff income − applicable amount. Nil or less: no contribution.
6. Each band of the excess × its taper × the loan factor for the tenure, rounded to the penny **per
   band** (halves up); the contribution is the sum of the rounded bands, so the figures on a notice add
   up to its total.
7. Successive applications (reg. 13): earlier contributions for the same dwelling and relevant person,
   approved within the look-back (inclusive of the anniversary day), reduce it, never below nil.

Amounts are integer pence, except a band's tapered excess, which is kept exact (a :class:`Decimal` of
pence, e.g. 239.75) because rounding it before the loan factor would change the contribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, Literal, cast

from dfg.errors import InvalidInput
from dfg.rules.household import (
    BENEFIT_LABELS,
    INCOME_LABELS,
    PREMIUM_LABELS,
    Household,
    RelevantPerson,
)
from dfg.rules.money import Pence, format_pounds, round_half_up
from dfg.rules.rates import RateTable, add_years, long_date

Outcome = Literal["passported", "child_exempt", "landlord", "assessed", "nil"]
OUTCOMES: tuple[Outcome, ...] = ("passported", "child_exempt", "landlord", "assessed", "nil")

#: Each outcome in words, as the workings and the pages say it.
OUTCOME_WORDS: Mapping[str, str] = {
    "passported": "passported (contribution nil)",
    "child_exempt": "application for a disabled child or young person: not means-tested (contribution nil)",
    "landlord": "landlord's application: not means-tested",
    "assessed": "assessed contribution",
    "nil": "assessed: no excess income (contribution nil)",
}


@dataclass(frozen=True)
class TraceLine:
    """One step of the working: what the figure is, the figure, the rule, the table key, the sum shown."""

    step: str
    pence: Pence | None
    rule: str
    rate_key: str | None
    working: str


@dataclass(frozen=True)
class BandShare:
    """One band of the excess: its width, its taper rate, the share of the excess that fell in it, that
    share tapered (exact pence), and the contribution from the band (rounded to the penny)."""

    number: int
    width_pence: Pence | None  # None: the rest of the excess
    rate: Decimal
    share_pence: Pence
    tapered_pence: Decimal
    contribution_pence: Pence


@dataclass(frozen=True)
class Determination:
    """The result of a test of resources. Immutable; reproducible from the household, table and date."""

    outcome: Outcome
    rates_version: str
    rates_status: str
    assessed_on: date
    tenure: str
    passport: str | None  # the passport route's benefit code, if passported
    universal_credit_passport: bool
    universal_credit_basis: str
    applicable_amount_pence: Pence
    assessable_income_pence: Pence
    disregarded_income_pence: Pence
    capital_pence: Pence
    tariff_income_pence: Pence
    excess_pence: Pence
    loan_factor: Fraction | None
    bands: tuple[BandShare, ...]
    contribution_before_earlier_pence: Pence
    earlier_contributions_pence: Pence
    contribution_pence: Pence
    trace: tuple[TraceLine, ...]
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------------------------------
# Formatting for the working


def format_factor(factor: Fraction) -> str:
    """A loan factor as an officer writes it: ``387⅓`` for 1162/3, ``387.33`` for 38733/100."""
    whole, rest = divmod(factor.numerator, factor.denominator)
    vulgar = {
        Fraction(1, 3): "⅓",
        Fraction(2, 3): "⅔",
        Fraction(1, 2): "½",
        Fraction(1, 4): "¼",
        Fraction(3, 4): "¾",
    }
    remainder = Fraction(rest, factor.denominator)
    if remainder == 0:
        return f"{whole:,}"
    if remainder in vulgar:
        return f"{whole:,}{vulgar[remainder]}"
    with localcontext() as ctx:
        ctx.prec = 30
        return f"{(Decimal(factor.numerator) / Decimal(factor.denominator)).quantize(Decimal('0.0001')):,}"


def format_rate(rate: Decimal) -> str:
    """A proportion as a percentage: ``Decimal("0.05")`` → ``5%``."""
    text = f"{rate * 100:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def _exact_pounds(pence: Decimal) -> str:
    """Exact pence as pounds with as many decimals as needed (at least two): 239.75 → £2.3975."""
    text = f"{pence / 100:,.6f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"£{whole}.{decimals.ljust(2, '0')}"


def _to_pence(value: Fraction) -> Pence:
    """An exact amount of pence rounded to the penny, halves up (via :func:`round_half_up`)."""
    with localcontext() as ctx:
        ctx.prec = 60  # enough that no fraction of pence reaching here is rounded before the half-up rule
        return round_half_up(Decimal(value.numerator) / Decimal(value.denominator))


# --------------------------------------------------------------------------------------------------
# The trace


class _Trace:
    def __init__(self, rates: RateTable) -> None:
        self.rates = rates
        self.lines: list[TraceLine] = []
        self.warnings: list[str] = []

    def add(self, step: str, pence: Pence | None, rule: str, key: str | None, working: str) -> Pence:
        self.lines.append(TraceLine(step, pence, rule, key, working))
        note = self.rates.note(key) if key else None
        if note:
            warning = f"{key}: {note}"
            if warning not in self.warnings:
                self.warnings.append(warning)
        return pence or 0


# --------------------------------------------------------------------------------------------------
# The steps


def _at_pension_age(person: RelevantPerson, rates: RateTable) -> bool:
    if person.pension_credit_age is not None:
        return person.pension_credit_age
    return person.age >= rates.pension_credit_qualifying_age


def _passport(household: Household, rates: RateTable, uc_passport: bool, trace: _Trace) -> str | None:
    """The first passport route found, recorded in the trace; ``None`` if none applies."""
    for index, person in enumerate(household.relevant_persons):
        who = f"relevant person {index + 1}"
        for benefit in sorted(person.benefits & rates.passport_benefits):
            trace.add(
                "Passported",
                None,
                "reg. 10(3) passport benefit",
                "passport.benefits",
                f"{who} receives {BENEFIT_LABELS[benefit]}: contribution nil",
            )
            return benefit
        if "universal_credit" in person.benefits and uc_passport:
            trace.add(
                "Passported",
                None,
                "Universal Credit treated as a passport (council setting)",
                "passport.universal_credit",
                f"{who} receives Universal Credit, treated as a passport "
                f"({rates.universal_credit_basis}): contribution nil",
            )
            return "universal_credit"
        for benefit in sorted(person.benefits & rates.tax_credit_benefits):
            income = person.tax_credit_annual_income_pence
            if income is None:
                raise InvalidInput(
                    f"relevant_persons[{index}].tax_credit_annual_income: required with {benefit}"
                )
            ceiling = rates.amount("passport.tax_credit_income_ceiling")
            if income < ceiling:
                trace.add(
                    "Passported",
                    None,
                    "reg. 10(3) tax credit with annual income under the ceiling",
                    "passport.tax_credit_income_ceiling",
                    f"{who} receives {BENEFIT_LABELS[benefit]} on an annual income of "
                    f"{format_pounds(income)}, under {format_pounds(ceiling)}: contribution nil",
                )
                return benefit
            trace.add(
                "Not passported by tax credit",
                None,
                "reg. 10(3) tax credit with annual income under the ceiling",
                "passport.tax_credit_income_ceiling",
                f"{who} receives {BENEFIT_LABELS[benefit]} but the annual income of {format_pounds(income)} "
                f"is not under {format_pounds(ceiling)}",
            )
    if not uc_passport and any("universal_credit" in p.benefits for p in household.relevant_persons):
        trace.add(
            "Universal Credit not a passport",
            None,
            "council setting: Universal Credit not treated as a passport",
            "passport.universal_credit",
            "Universal Credit is received but the council does not treat it as a passport: assessed",
        )
    return None


def _personal_allowance(household: Household, rates: RateTable, pension: bool) -> tuple[str, str]:
    """The key of the personal allowance that applies, and its words."""
    persons = household.relevant_persons
    eldest = max(p.age for p in persons)
    if pension:
        higher = eldest >= rates.pension_higher_age
        kind = "couple" if household.couple else "single"
        key = f"pension_age.{kind}_higher" if higher else f"pension_age.{kind}"
        age_words = f"{rates.pension_higher_age} or over" if higher else f"under {rates.pension_higher_age}"
        return key, f"Personal allowance, {kind}, pension-credit age, {age_words}"
    if household.couple:
        if eldest >= 18:
            return (
                "personal_allowance.couple_one_or_both_18_or_over",
                "Personal allowance, couple, one or both 18 or over",
            )
        return "personal_allowance.couple_both_under_18", "Personal allowance, couple, both under 18"
    age = persons[0].age
    if household.children:
        if age >= 18:
            return "personal_allowance.lone_parent_18_or_over", "Personal allowance, lone parent, 18 or over"
        return "personal_allowance.lone_parent_under_18", "Personal allowance, lone parent, under 18"
    if age >= 25:
        return "personal_allowance.single_25_or_over", "Personal allowance, single, 25 or over"
    return "personal_allowance.single_under_25", "Personal allowance, single, under 25"


def _applicable_amount(household: Household, rates: RateTable, trace: _Trace) -> Pence:
    pension = any(_at_pension_age(p, rates) for p in household.relevant_persons)
    parts: list[Pence] = []

    def add(step: str, key: str, count: int = 1, rule: str = "Sch. 1 applicable amount") -> None:
        each = rates.amount(key)
        total = each * count
        working = (
            f"{format_pounds(each)} a week"
            if count == 1
            else f"{count} × {format_pounds(each)} = {format_pounds(total)} a week"
        )
        parts.append(trace.add(step, total, rule, key, working))

    key, words = _personal_allowance(household, rates, pension)
    add(
        words,
        key,
        rule="Sch. 1A personal allowance (pension-credit age)" if pension else "Sch. 1 personal allowance",
    )

    children = household.children
    if children:
        add("Dependent children", "children.dependent_child", len(children))
        family = (
            "children.family_premium_couple" if household.couple else "children.family_premium_lone_parent"
        )
        add("Family premium, " + ("couple" if household.couple else "lone parent"), family)
        disabled = sum(1 for c in children if c.disabled)
        if disabled:
            add("Disabled child premium", "children.disabled_child_premium", disabled)
        enhanced = sum(1 for c in children if c.enhanced_disability)
        if enhanced:
            add("Enhanced disability premium, child", "children.enhanced_disability_child", enhanced)

    excluded = rates.premiums_not_at_pension_age if pension else frozenset()
    persons = household.relevant_persons
    kind = "couple" if household.couple else "single"
    for premium in ("disability", "enhanced_disability"):
        if any(premium in p.premiums for p in persons):
            if premium in excluded:
                trace.add(
                    f"{PREMIUM_LABELS[premium].capitalize()} not applied",
                    None,
                    "Sch. 1A: not at pension-credit age",
                    "pension_age.premiums_not_applicable",
                    "not payable at pension-credit age",
                )
            else:
                # One premium for the household, at the couple rate for a couple.
                add(f"{PREMIUM_LABELS[premium].capitalize()}, {kind}", f"premium.{premium}_{kind}")
    for premium in ("severe_disability", "carer"):
        count = sum(1 for p in persons if premium in p.premiums)
        if count:
            add(PREMIUM_LABELS[premium].capitalize(), f"premium.{premium}", count)

    add("Flat addition per application", "application.flat_addition", rule="reg. 10 flat addition")
    total = sum(parts)
    trace.add(
        "Applicable amount",
        total,
        "reg. 10 applicable amount",
        None,
        " + ".join(format_pounds(p) for p in parts) + f" = {format_pounds(total)} a week",
    )
    return total


def _income(household: Household, rates: RateTable, trace: _Trace) -> tuple[Pence, Pence]:
    counted = disregarded = 0
    for item in household.weekly_income:
        whose = f", relevant person {item.person + 1}" if item.person is not None else ""
        label = INCOME_LABELS[item.kind].capitalize() + whose
        if item.kind in rates.income_disregarded:
            disregarded += item.amount_pence
            trace.add(
                label,
                item.amount_pence,
                "Sch. 3 income disregard",
                "income.disregarded",
                f"{format_pounds(item.amount_pence)} a week, disregarded",
            )
        else:
            counted += item.amount_pence
            trace.add(
                label, item.amount_pence, "reg. 11 income", None, f"{format_pounds(item.amount_pence)} a week"
            )
    trace.add(
        "Assessable income",
        counted,
        "reg. 11 financial resources",
        None,
        f"{format_pounds(counted)} a week"
        + (f" ({format_pounds(disregarded)} disregarded)" if disregarded else ""),
    )
    return counted, disregarded


def _tariff_income(capital: Pence, rates: RateTable, trace: _Trace) -> Pence:
    disregard = rates.amount("capital.disregard")
    step = rates.amount("capital.tariff_step")
    per_step = rates.amount("capital.tariff_per_step")
    if capital <= disregard:
        return trace.add(
            "Tariff income",
            0,
            "capital disregard",
            "capital.disregard",
            f"capital of {format_pounds(capital)} is within the {format_pounds(disregard)} disregard: none",
        )
    above = capital - disregard
    steps = -(-above // step)  # each step "or part" counts: round up
    tariff = steps * per_step
    return trace.add(
        "Tariff income",
        tariff,
        f"tariff income: {format_pounds(per_step)} a week per {format_pounds(step)} or part above the "
        "disregard",
        "capital.tariff_step",
        f"capital of {format_pounds(capital)} − {format_pounds(disregard)} disregarded = "
        f"{format_pounds(above)}; {steps} × {format_pounds(step)} or part × {format_pounds(per_step)} = "
        f"{format_pounds(tariff)} a week",
    )


def _bands(excess: Pence, factor: Fraction, rates: RateTable, trace: _Trace) -> tuple[BandShare, ...]:
    shares: list[BandShare] = []
    remaining = excess
    for index, band in enumerate(rates.bands):
        share = remaining if band.width_pence is None else min(remaining, band.width_pence)
        remaining -= share
        tapered = Decimal(share) * band.rate  # exact: pence × a decimal rate
        contribution = _to_pence(Fraction(tapered) * factor)
        shares.append(BandShare(band.number, band.width_pence, band.rate, share, tapered, contribution))
        if share:
            trace.add(
                f"Band {band.number}",
                contribution,
                f"reg. 12 band {band.number} at {format_rate(band.rate)}",
                f"bands[{index}]",
                f"{format_pounds(share)} at {format_rate(band.rate)} = {_exact_pounds(tapered)} a week "
                f"× {format_factor(factor)} = {format_pounds(contribution)}",
            )
    return tuple(shares)


def _earlier(household: Household, rates: RateTable, on: date, trace: _Trace) -> Pence:
    total = 0
    for index, earlier in enumerate(household.earlier_contributions):
        if earlier.approved_on > on:
            raise InvalidInput(
                f"earlier_contributions[{index}].approved_on: {earlier.approved_on} is after the date of "
                f"this assessment ({on})"
            )
        tenure = earlier.tenure or household.tenure
        years = rates.look_back_years[tenure]
        since = add_years(on, -years)
        what = f"Earlier contribution {index + 1}"
        described = f"{format_pounds(earlier.amount_pence)} approved {long_date(earlier.approved_on)}"
        rule = f"reg. 13 successive applications ({tenure}: {years} years)"
        key = f"look_back_years.{tenure}"
        if not earlier.same_dwelling or not earlier.same_person:
            differs = "dwelling" if not earlier.same_dwelling else "relevant person"
            trace.add(what, 0, rule, key, f"{described}: a different {differs}, not deducted")
        elif earlier.approved_on < since:
            trace.add(
                what,
                0,
                rule,
                key,
                f"{described}: before {long_date(since)}, outside {years} years, not deducted",
            )
        else:
            total += trace.add(
                what,
                earlier.amount_pence,
                rule,
                key,
                f"{described}: same dwelling and relevant person, within {years} years, deducted",
            )
    return total


def assess(
    household: Household,
    rates: RateTable,
    *,
    on: date,
    universal_credit_passport: bool | None = None,
) -> Determination:
    """Run the test of resources for ``household`` with ``rates`` for an approval on ``on``.

    ``on`` is the approval date (or the assessment date for a provisional result); ``rates`` must be
    the table in force then (see :func:`dfg.rules.rates.rates_for`). ``universal_credit_passport``
    overrides the table's default setting for a council; the setting used is recorded. Pure: the
    same arguments always give the same determination.
    """
    if not rates.in_force_on(on):
        raise InvalidInput(f"on: rate table {rates.version} is not in force on {on}")
    uc_passport = (
        rates.universal_credit_passport if universal_credit_passport is None else universal_credit_passport
    )
    trace = _Trace(rates)

    def result(outcome: Outcome, passport: str | None = None, **figures: Any) -> Determination:
        values: dict[str, Any] = {
            "applicable_amount_pence": 0,
            "assessable_income_pence": 0,
            "disregarded_income_pence": 0,
            "tariff_income_pence": 0,
            "excess_pence": 0,
            "loan_factor": None,
            "bands": (),
            "contribution_before_earlier_pence": 0,
            "earlier_contributions_pence": 0,
            "contribution_pence": 0,
        }
        values.update(figures)
        return Determination(
            outcome=outcome,
            rates_version=rates.version,
            rates_status=rates.status,
            assessed_on=on,
            tenure=household.tenure,
            passport=passport,
            universal_credit_passport=uc_passport,
            universal_credit_basis=rates.universal_credit_basis,
            capital_pence=household.capital_pence,
            trace=tuple(trace.lines),
            warnings=tuple(trace.warnings),
            **values,
        )

    if household.tenure == "landlord":
        trace.add(
            "Landlord's application",
            0,
            "s.31 HGCRA 1996: landlord's application, not means-tested",
            None,
            "not means-tested: no contribution is assessed",
        )
        return result("landlord")
    if household.application_for_child:
        trace.add(
            "Application for a disabled child",
            0,
            "reg. 5 (England, from 31 December 2005): not means-tested",
            None,
            "application for a disabled child or young person: contribution nil",
        )
        return result("child_exempt")
    passport = _passport(household, rates, uc_passport, trace)
    if passport is not None:
        return result("passported", passport)

    applicable = _applicable_amount(household, rates, trace)
    income, disregarded = _income(household, rates, trace)
    tariff = _tariff_income(household.capital_pence, rates, trace)
    excess = income + tariff - applicable
    figures: dict[str, Any] = {
        "applicable_amount_pence": applicable,
        "assessable_income_pence": income,
        "disregarded_income_pence": disregarded,
        "tariff_income_pence": tariff,
        "excess_pence": excess,
    }
    working = (
        f"{format_pounds(income)} + {format_pounds(tariff)} − {format_pounds(applicable)} = "
        f"{format_pounds(excess)} a week"
    )
    if excess <= 0:
        trace.add(
            "Excess income", excess, "reg. 12 excess", None, working + ": nil or less, so no contribution"
        )
        return result("nil", **figures)
    trace.add("Excess income", excess, "reg. 12 excess", None, working)

    factor = rates.loan_factor(household.tenure)
    trace.add(
        "Loan factor",
        None,
        f"reg. 12 loan factor ({household.tenure}'s application)",
        f"loan_factor.{household.tenure}",
        f"{household.tenure}'s application: {format_factor(factor)} of loan per £1 a week of tapered excess",
    )
    bands = _bands(excess, factor, rates, trace)
    before = sum(b.contribution_pence for b in bands)
    used = [b for b in bands if b.share_pence]
    trace.add(
        "Contribution from the bands",
        before,
        "reg. 12 sum of the bands (each rounded to the penny)",
        None,
        " + ".join(format_pounds(b.contribution_pence) for b in used) + f" = {format_pounds(before)}",
    )
    earlier = _earlier(household, rates, on, trace)
    contribution = max(0, before - earlier)
    if household.earlier_contributions:
        trace.add(
            "Contribution",
            contribution,
            "reg. 13 abatement, never below nil",
            None,
            f"{format_pounds(before)} − {format_pounds(earlier)} = {format_pounds(contribution)}"
            if before >= earlier
            else f"{format_pounds(before)} − {format_pounds(earlier)} is below nil: {format_pounds(0)}",
        )
    return result(
        "assessed",
        loan_factor=factor,
        bands=bands,
        contribution_before_earlier_pence=before,
        earlier_contributions_pence=earlier,
        contribution_pence=contribution,
        **figures,
    )


# --------------------------------------------------------------------------------------------------
# Output


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value.numerator)


def determination_to_dict(d: Determination) -> dict[str, Any]:
    """The determination as JSON-ready data (pence as integers, exact decimals and fractions as strings)."""
    return {
        "outcome": d.outcome,
        "rates_version": d.rates_version,
        "rates_status": d.rates_status,
        "assessed_on": d.assessed_on.isoformat(),
        "tenure": d.tenure,
        "passport": d.passport,
        "universal_credit_passport": d.universal_credit_passport,
        "universal_credit_basis": d.universal_credit_basis,
        "applicable_amount_pence": d.applicable_amount_pence,
        "assessable_income_pence": d.assessable_income_pence,
        "disregarded_income_pence": d.disregarded_income_pence,
        "capital_pence": d.capital_pence,
        "tariff_income_pence": d.tariff_income_pence,
        "excess_pence": d.excess_pence,
        "loan_factor": _fraction_text(d.loan_factor) if d.loan_factor is not None else None,
        "bands": [
            {
                "band": b.number,
                "width_pence": b.width_pence,
                "rate": str(b.rate),
                "share_pence": b.share_pence,
                "tapered_pence": str(b.tapered_pence),
                "contribution_pence": b.contribution_pence,
            }
            for b in d.bands
        ],
        "contribution_before_earlier_pence": d.contribution_before_earlier_pence,
        "earlier_contributions_pence": d.earlier_contributions_pence,
        "contribution_pence": d.contribution_pence,
        "warnings": list(d.warnings),
        "trace": [
            {"step": t.step, "pence": t.pence, "rule": t.rule, "rate_key": t.rate_key, "working": t.working}
            for t in d.trace
        ],
    }


def determination_from_dict(data: Mapping[str, Any]) -> Determination:
    """Rebuild a stored determination (the inverse of :func:`determination_to_dict`)."""
    try:
        outcome = data["outcome"]
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome: unknown outcome {outcome!r}")
        factor = data["loan_factor"]
        return Determination(
            outcome=cast(Outcome, outcome),
            rates_version=data["rates_version"],
            rates_status=data["rates_status"],
            assessed_on=date.fromisoformat(data["assessed_on"]),
            tenure=data["tenure"],
            passport=data["passport"],
            universal_credit_passport=bool(data["universal_credit_passport"]),
            universal_credit_basis=data["universal_credit_basis"],
            applicable_amount_pence=int(data["applicable_amount_pence"]),
            assessable_income_pence=int(data["assessable_income_pence"]),
            disregarded_income_pence=int(data["disregarded_income_pence"]),
            capital_pence=int(data["capital_pence"]),
            tariff_income_pence=int(data["tariff_income_pence"]),
            excess_pence=int(data["excess_pence"]),
            loan_factor=Fraction(factor) if factor is not None else None,
            bands=tuple(
                BandShare(
                    number=int(b["band"]),
                    width_pence=b["width_pence"],
                    rate=Decimal(b["rate"]),
                    share_pence=int(b["share_pence"]),
                    tapered_pence=Decimal(b["tapered_pence"]),
                    contribution_pence=int(b["contribution_pence"]),
                )
                for b in data["bands"]
            ),
            contribution_before_earlier_pence=int(data["contribution_before_earlier_pence"]),
            earlier_contributions_pence=int(data["earlier_contributions_pence"]),
            contribution_pence=int(data["contribution_pence"]),
            trace=tuple(
                TraceLine(t["step"], t["pence"], t["rule"], t["rate_key"], t["working"])
                for t in data["trace"]
            ),
            warnings=tuple(data["warnings"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"determination: not a stored determination ({exc!r})") from None


def explain(d: Determination) -> str:
    """The working as a council officer would write it: one line per step, amounts in pounds."""
    lines = [
        f"Test of resources: {OUTCOME_WORDS[d.outcome]}; contribution {format_pounds(d.contribution_pence)}",
        f"Rates: {d.rates_version}, for an application approved on {long_date(d.assessed_on)}",
    ]
    lines += [f"{t.step}: {t.working}" for t in d.trace]
    setting = "treated as a passport" if d.universal_credit_passport else "not treated as a passport"
    lines.append(f"Universal Credit: {setting} by council setting. Basis: {d.universal_credit_basis}")
    lines += [f"To confirm: {w}" for w in d.warnings]
    lines.append(f"Status of the rates: {d.rates_status}")
    return "\n".join(lines)


__all__ = [
    "OUTCOMES",
    "OUTCOME_WORDS",
    "BandShare",
    "Determination",
    "Outcome",
    "TraceLine",
    "assess",
    "determination_from_dict",
    "determination_to_dict",
    "explain",
    "format_factor",
    "format_rate",
]
