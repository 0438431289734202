"""The test of resources. Every expected figure is worked by hand in the comments (2008-10 table:
bands £47.95 / £47.95 / £95.90 / rest at 5% / 10% / 40% / 100%; loan factor owner 387⅓ = 1162/3,
tenant 193⅔ = 581/3; each band rounded to the penny, halves up)."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dfg.errors import InvalidInput
from dfg.rules.household import PREMIUMS, Household, load_household, parse_household
from dfg.rules.means_test import (
    Determination,
    assess,
    determination_from_dict,
    determination_to_dict,
    explain,
    format_factor,
    format_rate,
)
from dfg.rules.rates import RateTable

from .conftest import EXAMPLE, ON, SINGLE, HouseholdMaker

DATA = Path(__file__).resolve().parent.parent / "data" / "households"


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def _single_with_excess(make: HouseholdMaker, excess_pence: int, **changes: Any) -> Household:
    """A single person 25+ (applicable amount £60.50 + £61.30 = £121.80) with the given weekly excess."""
    income = [{"kind": "earnings_net", "amount": _pounds(12180 + excess_pence)}]
    return make(SINGLE, weekly_income=income, **changes)


# --------------------------------------------------------------------------------------------------
# The hand-checked example


def test_worked_example(make_household: HouseholdMaker, rates: RateTable) -> None:
    d = assess(make_household(), rates, on=ON)
    assert d.outcome == "assessed"
    # Couple, one or both 18+: £94.95 + flat addition £61.30 = £156.25.
    assert d.applicable_amount_pence == 15625
    assert d.assessable_income_pence == 30000
    assert d.tariff_income_pence == 0
    # £300.00 − £156.25 = £143.75.
    assert d.excess_pence == 14375
    assert d.loan_factor == Fraction(1162, 3)
    # Band 1: £47.95 × 5% = £2.3975 × 387⅓ = £928.6317 → £928.63
    # Band 2: £47.95 × 10% = £4.795 × 387⅓ = £1,857.2633 → £1,857.26
    # Band 3: (£143.75 − £95.90 = £47.85) × 40% = £19.14 × 387⅓ = £7,413.56 exactly
    assert [(b.share_pence, b.tapered_pence, b.contribution_pence) for b in d.bands] == [
        (4795, Decimal("239.75"), 92863),
        (4795, Decimal("479.50"), 185726),
        (4785, Decimal("1914.00"), 741356),
        (0, Decimal("0.00"), 0),
    ]
    # £928.63 + £1,857.26 + £7,413.56 = £10,199.45: £10,199 to the pound.
    assert d.contribution_pence == 1019945
    assert round(d.contribution_pence / 100) == 10199
    assert d.rates_version == "england-2008-10"
    assert d.passport is None
    assert d.universal_credit_passport is True


def test_worked_example_trace_names_rule_and_key(make_household: HouseholdMaker, rates: RateTable) -> None:
    d = assess(make_household(), rates, on=ON)
    steps = {t.step: t for t in d.trace}
    assert steps["Band 1"].rule == "reg. 12 band 1 at 5%"
    assert steps["Band 1"].rate_key == "bands[0]"
    assert steps["Band 1"].pence == 92863
    assert steps["Band 3"].rule == "reg. 12 band 3 at 40%"
    assert steps["Flat addition per application"].rate_key == "application.flat_addition"
    assert steps["Personal allowance, couple, one or both 18 or over"].rate_key == (
        "personal_allowance.couple_one_or_both_18_or_over"
    )
    assert steps["Loan factor"].rate_key == "loan_factor.owner"
    assert steps["Excess income"].pence == 14375
    assert [t.step for t in d.trace].index("Applicable amount") < [t.step for t in d.trace].index("Band 1")


def test_worked_example_explained(make_household: HouseholdMaker, rates: RateTable) -> None:
    text = explain(assess(make_household(), rates, on=ON))
    lines = text.splitlines()
    assert lines[0] == "Test of resources: assessed contribution; contribution £10,199.45"
    assert lines[1] == "Rates: england-2008-10, for an application approved on 1 April 2025"
    for line in [
        "Personal allowance, couple, one or both 18 or over: £94.95 a week",
        "Flat addition per application: £61.30 a week",
        "Applicable amount: £94.95 + £61.30 = £156.25 a week",
        "Net earnings: £300.00 a week",
        "Excess income: £300.00 + £0.00 − £156.25 = £143.75 a week",
        "Loan factor: owner's application: 387⅓ of loan per £1 a week of tapered excess",
        "Band 1: £47.95 at 5% = £2.3975 a week × 387⅓ = £928.63",
        "Band 2: £47.95 at 10% = £4.795 a week × 387⅓ = £1,857.26",
        "Band 3: £47.85 at 40% = £19.14 a week × 387⅓ = £7,413.56",
        "Contribution from the bands: £928.63 + £1,857.26 + £7,413.56 = £10,199.45",
    ]:
        assert line in lines
    assert lines[-1].startswith("Status of the rates: ")
    assert "confirm against regulation 12 before live use" in lines[-1]


def test_determination_dict_is_json_ready_and_round_trips(
    make_household: HouseholdMaker, rates: RateTable
) -> None:
    d = assess(make_household(), rates, on=ON)
    data = determination_to_dict(d)
    for key in (
        "outcome",
        "applicable_amount_pence",
        "excess_pence",
        "contribution_pence",
        "rates_version",
        "trace",
    ):
        assert key in data
    assert data["contribution_pence"] == 1019945
    assert data["loan_factor"] == "1162/3"
    assert data["bands"][0] == {
        "band": 1,
        "width_pence": 4795,
        "rate": "0.05",
        "share_pence": 4795,
        "tapered_pence": "239.75",
        "contribution_pence": 92863,
    }
    assert data["trace"][0]["rate_key"] == "personal_allowance.couple_one_or_both_18_or_over"
    assert determination_from_dict(json.loads(json.dumps(data))) == d


def test_stored_determination_that_is_not_one() -> None:
    with pytest.raises(InvalidInput) as caught:
        determination_from_dict({"outcome": "assessed"})
    assert caught.value.message.startswith("determination: not a stored determination")


# --------------------------------------------------------------------------------------------------
# Out of scope and passports


def test_landlord_is_not_means_tested(rates: RateTable) -> None:
    d = assess(parse_household({"tenure": "landlord"}), rates, on=ON)
    assert (d.outcome, d.contribution_pence) == ("landlord", 0)
    assert d.trace[0].rule == "s.31 HGCRA 1996: landlord's application, not means-tested"


def test_application_for_a_child_is_exempt(make_household: HouseholdMaker, rates: RateTable) -> None:
    d = assess(make_household(application_for_child=True), rates, on=ON)
    assert (d.outcome, d.contribution_pence, d.excess_pence) == ("child_exempt", 0, 0)


@pytest.mark.parametrize(
    "benefit",
    [
        "income_support",
        "income_based_jsa",
        "income_related_esa",
        "housing_benefit",
        "council_tax_benefit",
        "council_tax_support",
        "pension_credit_guarantee",
    ],
)
def test_each_passport_benefit(make_household: HouseholdMaker, rates: RateTable, benefit: str) -> None:
    data = copy.deepcopy(EXAMPLE)
    data["relevant_persons"][1]["benefits"] = [benefit]  # a partner receiving it passports the couple
    d = assess(parse_household(data), rates, on=ON)
    assert (d.outcome, d.passport, d.contribution_pence) == ("passported", benefit, 0)
    assert d.trace[0].rule == "reg. 10(3) passport benefit"
    assert d.trace[0].working.startswith("relevant person 2 receives ")


def test_universal_credit_passports_when_the_setting_is_on(
    make_household: HouseholdMaker, rates: RateTable
) -> None:
    data = copy.deepcopy(EXAMPLE)
    data["relevant_persons"][0]["benefits"] = ["universal_credit"]
    household = parse_household(data)
    d = assess(household, rates, on=ON)
    assert (d.outcome, d.passport, d.universal_credit_passport) == ("passported", "universal_credit", True)
    assert d.trace[0].rate_key == "passport.universal_credit"
    assert any(w.startswith("passport.universal_credit: UNCONFIRMED in law") for w in d.warnings)
    assert determination_to_dict(d)["universal_credit_passport"] is True


def test_universal_credit_setting_off_means_assessed(
    make_household: HouseholdMaker, rates: RateTable
) -> None:
    data = copy.deepcopy(EXAMPLE)
    data["relevant_persons"][0]["benefits"] = ["universal_credit"]
    d = assess(parse_household(data), rates, on=ON, universal_credit_passport=False)
    assert (d.outcome, d.universal_credit_passport) == ("assessed", False)
    assert d.contribution_pence == 1019945  # the worked example's figure
    assert d.trace[0].step == "Universal Credit not a passport"
    assert "Universal Credit: not treated as a passport" in explain(d)


@pytest.mark.parametrize(
    ("benefit", "annual", "outcome"),
    [
        ("working_tax_credit", "15049.99", "passported"),  # under £15,050
        ("working_tax_credit", "15050.00", "assessed"),  # not under
        ("working_tax_credit", "15050.01", "assessed"),
        ("child_tax_credit", "12000.00", "passported"),
        ("child_tax_credit", "20000.00", "assessed"),
    ],
)
def test_tax_credit_passport_under_the_ceiling(
    make_household: HouseholdMaker, rates: RateTable, benefit: str, annual: str, outcome: str
) -> None:
    data = copy.deepcopy(EXAMPLE)
    data["relevant_persons"][0].update(benefits=[benefit], tax_credit_annual_income=annual)
    # The tax credit itself is disregarded as income (SI 2008/3104).
    data["weekly_income"].append({"kind": benefit, "amount": "60.00"})
    d = assess(parse_household(data), rates, on=ON)
    assert d.outcome == outcome
    if outcome == "passported":
        assert (d.passport, d.contribution_pence) == (benefit, 0)
    else:
        assert d.disregarded_income_pence == 6000
        assert d.contribution_pence == 1019945
        assert d.trace[0].step == "Not passported by tax credit"


# --------------------------------------------------------------------------------------------------
# Excess and bands


def test_nil_excess(make_household: HouseholdMaker, rates: RateTable) -> None:
    # Income exactly the applicable amount £156.25: excess nil.
    d = assess(make_household(weekly_income=[{"kind": "earnings_net", "amount": "156.25"}]), rates, on=ON)
    assert (d.outcome, d.excess_pence, d.contribution_pence, d.bands) == ("nil", 0, 0, ())
    assert d.applicable_amount_pence == 15625
    below = assess(make_household(weekly_income=[{"kind": "earnings_net", "amount": "100.00"}]), rates, on=ON)
    assert (below.outcome, below.excess_pence, below.contribution_pence) == ("nil", -5625, 0)


def test_one_penny_of_excess(make_household: HouseholdMaker, rates: RateTable) -> None:
    # £0.01 × 5% × 387⅓ = 0.1937p... in pence: 1p × 0.05 × 1162/3 = 19.37p → 19p.
    d = assess(make_household(weekly_income=[{"kind": "earnings_net", "amount": "156.26"}]), rates, on=ON)
    assert (d.outcome, d.excess_pence, d.contribution_pence) == ("assessed", 1, 19)


@pytest.mark.parametrize(
    ("excess", "bands", "contribution"),
    [
        # Band 1 boundary, £47.95. 47.94 × 5% = 2.397 × 387⅓ = 928.44
        (4794, [92844, 0, 0, 0], 92844),
        (4795, [92863, 0, 0, 0], 92863),
        # + £0.01 × 10% × 387⅓ = 0.387 → £0.39
        (4796, [92863, 39, 0, 0], 92902),
        # Band 2 boundary, £95.90. 47.94 × 10% = 4.794 × 387⅓ = 1,856.876 → 1,856.88
        (9589, [92863, 185688, 0, 0], 278551),
        (9590, [92863, 185726, 0, 0], 278589),
        # + £0.01 × 40% × 387⅓ = 1.549 → £1.55
        (9591, [92863, 185726, 155, 0], 278744),
        # Band 3 boundary, £191.80. 95.89 × 40% = 38.356 × 387⅓ = 14,856.557 → 14,856.56
        (19179, [92863, 185726, 1485656, 0], 1764245),
        # 95.90 × 40% = 38.36 × 387⅓ = 14,858.107 → 14,858.11
        (19180, [92863, 185726, 1485811, 0], 1764400),
        # + £0.01 × 100% × 387⅓ = 3.873 → £3.87
        (19181, [92863, 185726, 1485811, 387], 1764787),
    ],
)
def test_band_boundaries(
    make_household: HouseholdMaker, rates: RateTable, excess: int, bands: list[int], contribution: int
) -> None:
    d = assess(_single_with_excess(make_household, excess), rates, on=ON)
    assert d.applicable_amount_pence == 12180
    assert d.excess_pence == excess
    assert [b.contribution_pence for b in d.bands] == bands
    assert d.contribution_pence == contribution


# --------------------------------------------------------------------------------------------------
# Capital and tariff income


@pytest.mark.parametrize(
    ("capital", "tariff", "contribution"),
    [
        ("5999.99", 0, 0),
        ("6000.00", 0, 0),
        # £0.01 above the £6,000 disregard is "part" of £250: £1 a week; £1 × 5% × 387⅓ = 19.37
        ("6000.01", 100, 1937),
        ("6250.00", 100, 1937),
        # £250.01 above: 2 steps, £2 a week; £2 × 5% × 387⅓ = 38.73
        ("6250.01", 200, 3873),
        # £12,420 above: 49.68 steps → 50, £50 a week; band 1 £928.63 + (£2.05 × 10% × 387⅓ = 79.40)
        ("18420.00", 5000, 92863 + 7940),
    ],
)
def test_capital_disregard_and_tariff_or_part(
    make_household: HouseholdMaker, rates: RateTable, capital: str, tariff: int, contribution: int
) -> None:
    # Income equal to the applicable amount, so any excess is the tariff income alone.
    d = assess(_single_with_excess(make_household, 0, capital=capital), rates, on=ON)
    assert d.tariff_income_pence == tariff
    assert d.excess_pence == tariff
    assert d.contribution_pence == contribution
    assert d.outcome == ("assessed" if tariff else "nil")


def test_tariff_trace(make_household: HouseholdMaker, rates: RateTable) -> None:
    d = assess(_single_with_excess(make_household, 0, capital="6250.01"), rates, on=ON)
    line = next(t for t in d.trace if t.step == "Tariff income")
    assert line.working == (
        "capital of £6,250.01 − £6,000.00 disregarded = £250.01; 2 × £250.00 or part × £1.00 = £2.00 a week"
    )
    assert line.rate_key == "capital.tariff_step"
    assert any(w.startswith("capital.tariff_step: UNCONFIRMED") for w in d.warnings)


# --------------------------------------------------------------------------------------------------
# Successive applications


def _earlier(
    approved_on: str,
    *,
    amount: str = "1200.00",
    same_dwelling: bool = True,
    same_person: bool = True,
    tenure: str | None = None,
) -> list[dict[str, Any]]:
    item: dict[str, Any] = {
        "amount": amount,
        "approved_on": approved_on,
        "same_dwelling": same_dwelling,
        "same_person": same_person,
    }
    if tenure is not None:
        item["tenure"] = tenure
    return [item]


@pytest.mark.parametrize(
    ("approved_on", "deducted"),
    [
        ("2020-05-01", 120000),
        ("2015-04-01", 120000),  # exactly 10 years before 1 April 2025: within (inclusive)
        ("2015-03-31", 0),  # a day more than 10 years: beyond
        ("2025-04-01", 120000),  # approved the same day
    ],
)
def test_successive_owner_application(
    make_household: HouseholdMaker, rates: RateTable, approved_on: str, deducted: int
) -> None:
    d = assess(make_household(earlier_contributions=_earlier(approved_on)), rates, on=ON)
    assert d.contribution_before_earlier_pence == 1019945
    assert d.earlier_contributions_pence == deducted
    # £10,199.45 − £1,200.00 = £8,999.45
    assert d.contribution_pence == 1019945 - deducted


@pytest.mark.parametrize(
    ("approved_on", "deducted"),
    [
        ("2022-01-01", 120000),
        ("2020-04-01", 120000),  # exactly 5 years: within
        ("2020-03-31", 0),  # beyond the 5-year look-back
        ("2016-01-01", 0),  # within 10 years but a tenant's look-back is 5
    ],
)
def test_successive_tenant_application(
    make_household: HouseholdMaker, rates: RateTable, approved_on: str, deducted: int
) -> None:
    d = assess(make_household(tenure="tenant", earlier_contributions=_earlier(approved_on)), rates, on=ON)
    # Tenant factor 581/3: £2.3975 × 193⅔ = 464.3158 → 464.32; £4.795 × 193⅔ = 928.6317 → 928.63;
    # £19.14 × 193⅔ = 3,706.78 exactly. Total £5,099.73.
    assert [b.contribution_pence for b in d.bands[:3]] == [46432, 92863, 370678]
    assert d.contribution_before_earlier_pence == 509973
    assert d.contribution_pence == 509973 - deducted
    assert any(w.startswith("loan_factor.tenant: UNCONFIRMED") for w in d.warnings)


def test_earlier_application_keeps_its_own_look_back(
    make_household: HouseholdMaker, rates: RateTable
) -> None:
    # A tenant now, but the earlier application was an owner's: 10 years apply.
    d = assess(
        make_household(tenure="tenant", earlier_contributions=_earlier("2016-01-01", tenure="owner")),
        rates,
        on=ON,
    )
    assert d.earlier_contributions_pence == 120000


@pytest.mark.parametrize(
    ("same_dwelling", "same_person", "why"),
    [(False, True, "a different dwelling"), (True, False, "a different relevant person")],
)
def test_earlier_contribution_elsewhere_is_not_deducted(
    make_household: HouseholdMaker, rates: RateTable, same_dwelling: bool, same_person: bool, why: str
) -> None:
    earlier = _earlier("2020-05-01", same_dwelling=same_dwelling, same_person=same_person)
    d = assess(make_household(earlier_contributions=earlier), rates, on=ON)
    assert d.contribution_pence == 1019945
    assert why in next(t for t in d.trace if t.step == "Earlier contribution 1").working


def test_earlier_contribution_never_takes_it_below_nil(
    make_household: HouseholdMaker, rates: RateTable
) -> None:
    d = assess(make_household(earlier_contributions=_earlier("2020-05-01", amount="12000.00")), rates, on=ON)
    assert (d.outcome, d.earlier_contributions_pence, d.contribution_pence) == ("assessed", 1200000, 0)


def test_earlier_contribution_after_this_assessment_is_refused(
    make_household: HouseholdMaker, rates: RateTable
) -> None:
    with pytest.raises(InvalidInput) as caught:
        assess(make_household(earlier_contributions=_earlier("2025-04-02")), rates, on=ON)
    assert caught.value.message == (
        "earlier_contributions[0].approved_on: 2025-04-02 is after the date of this assessment (2025-04-01)"
    )


# --------------------------------------------------------------------------------------------------
# Applicable amounts for other households (the sample files)


def _sample(name: str, rates: RateTable, **kwargs: Any) -> Determination:
    return assess(load_household(DATA / name), rates, on=ON, **kwargs)


def test_sample_pension_couple(rates: RateTable) -> None:
    d = _sample("pension-couple.json", rates)
    # Couple, elder 65 or over £215.50 + severe disability £50.35 + carer £27.15 + flat £61.30 = £354.30;
    # no disability premium at pension-credit age.
    assert d.applicable_amount_pence == 35430
    # £230.25 + £185.10 + £96.40 = £511.75; attendance allowance £108.55 disregarded.
    assert (d.assessable_income_pence, d.disregarded_income_pence) == (51175, 10855)
    # £18,420 − £6,000 = £12,420 = 49.68 × £250 → 50 steps: £50 a week.
    assert d.tariff_income_pence == 5000
    # £511.75 + £50.00 − £354.30 = £207.45; band 4 share £15.65 × 387⅓ = 6,061.767 → 6,061.77;
    # band 3 £38.36 × 387⅓ = 14,858.11. £928.63 + £1,857.26 + £14,858.11 + £6,061.77 = £23,705.77
    assert d.excess_pence == 20745
    assert [b.contribution_pence for b in d.bands] == [92863, 185726, 1485811, 606177]
    assert d.contribution_pence == 2370577
    assert "Disability premium not applied" in [t.step for t in d.trace]


def test_sample_lone_parent_with_a_disabled_child(rates: RateTable) -> None:
    d = _sample("lone-parent-disabled-child.json", rates)
    # Lone parent 18+ £60.50 + 2 children × £52.59 = £105.18 + family premium (lone parent) £22.20
    # + disabled child £48.72 + enhanced disability (child) £19.60 + carer £27.15 + flat £61.30 = £344.65
    assert d.applicable_amount_pence == 34465
    # Earnings £402.50 + child benefit £42.35 (counted) = £444.85; capital £6,500: £500 above, 2 steps = £2.
    assert (d.assessable_income_pence, d.tariff_income_pence) == (44485, 200)
    # £444.85 + £2.00 − £344.65 = £102.20. Tenant 193⅔: £464.32 + £928.63 + (£6.30 × 40% = £2.52 × 193⅔
    # = £488.04) = £1,880.99
    assert d.excess_pence == 10220
    assert d.contribution_pence == 188099


def test_sample_tenant_on_universal_credit(rates: RateTable) -> None:
    assert _sample("tenant-universal-credit.json", rates).outcome == "passported"
    d = _sample("tenant-universal-credit.json", rates, universal_credit_passport=False)
    # Single 25+ £60.50 + £61.30 = £121.80; earnings £210 (PIP disregarded): excess £88.20.
    # £2.3975 × 193⅔ = 464.32; (£40.25 × 10% = £4.025) × 193⅔ = 779.508 → 779.51. Total £1,243.83
    assert (d.excess_pence, d.contribution_pence) == (8820, 124383)


@pytest.mark.parametrize(
    ("name", "outcome", "passport", "contribution"),
    [
        ("owner-couple-300.json", "assessed", None, 1019945),
        ("single-income-support.json", "passported", "income_support", 0),
        ("tenant-working-tax-credit.json", "passported", "child_tax_credit", 0),
        ("child-application.json", "child_exempt", None, 0),
        ("landlord.json", "landlord", None, 0),
        # £10,199.45 − £1,200 (2020, deducted); 2012 is outside 10 years; 2021 is another dwelling.
        ("owner-successive.json", "assessed", None, 899945),
    ],
)
def test_sample_outcomes(
    rates: RateTable, name: str, outcome: str, passport: str | None, contribution: int
) -> None:
    d = _sample(name, rates)
    assert (d.outcome, d.passport, d.contribution_pence) == (outcome, passport, contribution)


def test_pension_age_derived_from_the_table_when_not_given(
    make_household: HouseholdMaker, rates: RateTable
) -> None:
    # Single aged 70, pension_credit_age not given: 70 ≥ 66 (table), so single 65+ £143.80 + £61.30.
    d = assess(make_household(SINGLE, relevant_persons=[{"age": 70}]), rates, on=ON)
    assert d.applicable_amount_pence == 14380 + 6130
    # Aged 62 but stated to be at pension-credit age: single under 65, £124.05 + £61.30.
    d = assess(
        make_household(SINGLE, relevant_persons=[{"age": 62, "pension_credit_age": True}]), rates, on=ON
    )
    assert d.applicable_amount_pence == 12405 + 6130


def test_adult_premiums_for_a_working_age_couple(make_household: HouseholdMaker, rates: RateTable) -> None:
    data = copy.deepcopy(EXAMPLE)
    data["relevant_persons"][0]["premiums"] = ["disability", "enhanced_disability", "severe_disability"]
    data["relevant_persons"][1]["premiums"] = ["severe_disability", "carer"]
    d = assess(parse_household(data), rates, on=ON)
    # £94.95 + disability (couple) £36.85 + enhanced (couple) £18.15 + severe 2 × £50.35 = £100.70
    # + carer £27.15 + flat £61.30 = £339.10
    assert d.applicable_amount_pence == 33910
    assert any(w.startswith("premium.carer: UNCONFIRMED") for w in d.warnings)


def test_young_single_and_young_couple(make_household: HouseholdMaker, rates: RateTable) -> None:
    d = assess(make_household(SINGLE, relevant_persons=[{"age": 24}]), rates, on=ON)
    assert d.applicable_amount_pence == 4795 + 6130
    d = assess(make_household(relevant_persons=[{"age": 17}, {"age": 16}]), rates, on=ON)
    assert d.applicable_amount_pence == 7235 + 6130


def test_table_not_in_force_is_refused(make_household: HouseholdMaker, rates: RateTable) -> None:
    with pytest.raises(InvalidInput) as caught:
        assess(make_household(), rates, on=date(2008, 1, 1))
    assert caught.value.message == "on: rate table england-2008-10 is not in force on 2008-01-01"


def test_formatting_helpers() -> None:
    assert format_factor(Fraction(1162, 3)) == "387⅓"
    assert format_factor(Fraction(581, 3)) == "193⅔"
    assert format_factor(Fraction("387.33")) == "387.3300"
    assert format_factor(Fraction(390)) == "390"
    assert format_rate(Decimal("0.05")) == "5%"
    assert format_rate(Decimal("1.00")) == "100%"
    assert format_rate(Decimal("0.125")) == "12.5%"


# --------------------------------------------------------------------------------------------------
# Properties


def _household_data(draw: st.DrawFn, income_pence: int) -> dict[str, Any]:
    couple = draw(st.booleans())
    person = st.fixed_dictionaries(
        {"age": st.integers(16, 100), "premiums": st.lists(st.sampled_from(sorted(PREMIUMS)), unique=True)}
    )
    children = st.lists(
        st.fixed_dictionaries({"age": st.integers(0, 19), "disabled": st.booleans()}), max_size=3
    )
    earlier = st.lists(
        st.fixed_dictionaries(
            {
                "amount": st.integers(0, 2_000_000).map(_pounds),
                "approved_on": st.dates(date(2005, 1, 1), ON).map(date.isoformat),
                "same_dwelling": st.booleans(),
                "same_person": st.booleans(),
            }
        ),
        max_size=2,
    )
    return {
        "tenure": draw(st.sampled_from(["owner", "tenant", "occupier"])),
        "couple": couple,
        "relevant_persons": draw(st.lists(person, min_size=2 if couple else 1, max_size=2 if couple else 1)),
        "children": draw(children),
        "weekly_income": [{"kind": "earnings_net", "amount": _pounds(income_pence)}],
        "capital": _pounds(draw(st.integers(0, 5_000_000))),
        "earlier_contributions": draw(earlier),
    }


@st.composite
def _rising_income(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    income = draw(st.integers(0, 200_000))
    rise = draw(st.integers(0, 50_000))
    lower = _household_data(draw, income)
    higher = copy.deepcopy(lower)
    higher["weekly_income"][0]["amount"] = _pounds(income + rise)
    return lower, higher


@settings(max_examples=100, deadline=None)
@given(_rising_income())
def test_contribution_never_negative_and_never_falls_as_income_rises(
    rates: RateTable, pair: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    lower = assess(parse_household(pair[0]), rates, on=ON)
    higher = assess(parse_household(pair[1]), rates, on=ON)
    assert lower.contribution_pence >= 0
    assert higher.contribution_pence >= lower.contribution_pence
    assert lower.contribution_pence == max(
        0, sum(b.contribution_pence for b in lower.bands) - (lower.earlier_contributions_pence)
    )


@st.composite
def _passported(draw: st.DrawFn) -> dict[str, Any]:
    data = _household_data(draw, draw(st.integers(0, 500_000)))
    person = data["relevant_persons"][draw(st.integers(0, len(data["relevant_persons"]) - 1))]
    route = draw(
        st.sampled_from(
            [
                "income_support",
                "income_based_jsa",
                "income_related_esa",
                "housing_benefit",
                "council_tax_benefit",
                "council_tax_support",
                "pension_credit_guarantee",
                "universal_credit",
                "working_tax_credit",
                "child_tax_credit",
            ]
        )
    )
    person["benefits"] = [route]
    if route in ("working_tax_credit", "child_tax_credit"):
        person["tax_credit_annual_income"] = _pounds(draw(st.integers(0, 1_504_999)))
    return data


@settings(max_examples=50, deadline=None)
@given(_passported())
def test_passported_is_always_nil(rates: RateTable, data: dict[str, Any]) -> None:
    d = assess(parse_household(data), rates, on=ON)
    assert (d.outcome, d.contribution_pence) == ("passported", 0)
