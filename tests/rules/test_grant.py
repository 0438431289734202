"""The grant calculation and the policy files behind it. Expected figures are worked by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dfg.errors import ConfigurationError, InvalidInput
from dfg.rules.grant import ChargeRequest, GrantCalculation, calculate_grant, explain_grant, grant_to_dict
from dfg.rules.policy import (
    ChargesPolicy,
    FundingLine,
    FundingPolicy,
    RepaymentTerms,
    load_charges_policy,
    load_funding_lines,
)
from dfg.rules.rates import MaximumGrant, maximum_grant_for

POUNDS = 100  # pence in a pound, to keep the figures below readable


def grant(
    policy: ChargesPolicy,
    maximum: MaximumGrant,
    works: int,
    contribution: int,
    **kwargs: Any,
) -> GrantCalculation:
    return calculate_grant(
        works_pence=works, contribution_pence=contribution, maximum=maximum, policy=policy, **kwargs
    )


# --------------------------------------------------------------------------------------------------
# Estimated expense


def test_estimated_expense_with_agency_fee_and_fixed_fees(
    charges_policy: ChargesPolicy, maximum: MaximumGrant
) -> None:
    g = grant(
        charges_policy,
        maximum,
        20_000 * POUNDS,
        1019945,
        charges=[ChargeRequest("agency_fee"), ChargeRequest("survey", 350 * POUNDS)],
    )
    # Agency fee 15% of £20,000 = £3,000; survey £350: charges £3,350; expense £23,350.
    assert [(c.kind, c.amount_pence) for c in g.charges] == [("agency_fee", 300000), ("survey", 35000)]
    assert g.charges_pence == 335000
    assert g.estimated_expense_pence == 2335000
    # £23,350.00 − £10,199.45 = £13,150.55, within £30,000.
    assert g.grant_pence == 1315055
    assert (g.route, g.is_nil) == ("mandatory", False)
    assert g.charges[0].how_calculated == "15% of the eligible works £20,000.00 = £3,000.00, per charges.toml"


def test_agency_fee_is_capped(charges_policy: ChargesPolicy, maximum: MaximumGrant) -> None:
    g = grant(charges_policy, maximum, 60_000 * POUNDS, 0, charges=[ChargeRequest("agency_fee")])
    # 15% of £60,000 = £9,000, capped at £7,500.
    assert g.charges[0].amount_pence == 750000
    assert g.charges[0].how_calculated == (
        "15% of the eligible works £60,000.00 = £9,000.00, capped at the policy limit of £7,500.00, "
        "per charges.toml"
    )


def test_fixed_fee_with_a_cap(charges_policy: ChargesPolicy, maximum: MaximumGrant) -> None:
    g = grant(
        charges_policy,
        maximum,
        10_000 * POUNDS,
        0,
        charges=[ChargeRequest("other", 1_200 * POUNDS, "asbestos")],
    )
    assert (g.charges[0].label, g.charges[0].amount_pence) == (
        "Other preliminary or ancillary charge (asbestos)",
        100000,
    )
    assert g.estimated_expense_pence == 1100000


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            ChargeRequest("agency_fee", 100),
            "charges[0].amount: the agency_fee is calculated as 15% of the eligible works; give no amount",
        ),
        (ChargeRequest("survey"), "charges[0].amount: required for a survey"),
        (ChargeRequest("survey", -1), "charges[0].amount: must not be negative"),
        (
            ChargeRequest("lunch", 100),
            "charges[0].kind: unknown charge 'lunch' (known: agency_fee, building_regulations_fee, drawings, "
            "other, planning_fee, structural_engineer, survey)",
        ),
    ],
)
def test_bad_charge(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, request_: ChargeRequest, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        grant(charges_policy, maximum, 10_000 * POUNDS, 0, charges=[request_])
    assert caught.value.message == message


def test_negative_amounts_are_refused(charges_policy: ChargesPolicy, maximum: MaximumGrant) -> None:
    with pytest.raises(InvalidInput) as caught:
        grant(charges_policy, maximum, -1, 0)
    assert caught.value.message == "works: must not be negative"
    with pytest.raises(InvalidInput) as caught:
        grant(charges_policy, maximum, 1, -1)
    assert caught.value.message == "contribution: must not be negative"


# --------------------------------------------------------------------------------------------------
# Mandatory grant: cap and deduction


@pytest.mark.parametrize("order", ["deduct_then_cap", "cap_then_deduct"])
def test_below_the_cap_both_orders_agree(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, order: str
) -> None:
    # £20,000 − £5,000 = £15,000 either way.
    g = grant(charges_policy, maximum, 20_000 * POUNDS, 5_000 * POUNDS, cap_order=order)
    assert (g.grant_pence, g.cap_order, g.is_nil) == (1500000, order, False)
    assert g.applicant_pays_pence == 500000


def test_above_the_cap_deduct_then_cap(charges_policy: ChargesPolicy, maximum: MaximumGrant) -> None:
    # min(£30,000, £40,000 − £5,000 = £35,000) = £30,000.
    g = grant(charges_policy, maximum, 40_000 * POUNDS, 5_000 * POUNDS)
    assert g.cap_order == "deduct_then_cap"  # the shipped default
    assert g.grant_pence == 3000000
    assert g.applicant_pays_pence == 1000000
    how = next(w.how_calculated for w in g.workings if w.item == "Mandatory grant")
    assert (
        how == "deduct, then cap: £40,000.00 − £5,000.00 = £35,000.00, more than the maximum, so £30,000.00"
    )


def test_above_the_cap_cap_then_deduct(charges_policy: ChargesPolicy, maximum: MaximumGrant) -> None:
    # min(£40,000, £30,000) − £5,000 = £25,000.
    g = grant(charges_policy, maximum, 40_000 * POUNDS, 5_000 * POUNDS, cap_order="cap_then_deduct")
    assert g.grant_pence == 2500000
    how = next(w.how_calculated for w in g.workings if w.item == "Mandatory grant")
    assert how == (
        "cap, then deduct: the expense £40,000.00 is capped at the maximum £30,000.00; "
        "£30,000.00 − £5,000.00 = £25,000.00"
    )


def test_cap_order_from_a_policy(charges_policy: ChargesPolicy, maximum: MaximumGrant) -> None:
    g = grant(replace(charges_policy, cap_order="cap_then_deduct"), maximum, 40_000 * POUNDS, 5_000 * POUNDS)
    assert g.grant_pence == 2500000


def test_wales_maximum(charges_policy: ChargesPolicy) -> None:
    wales = maximum_grant_for(date(2025, 4, 1), jurisdiction="wales")
    g = grant(charges_policy, wales, 40_000 * POUNDS, 0)
    assert (g.grant_pence, g.maximum_grant_version, g.jurisdiction) == (3600000, "wales-2008-10-02", "wales")


@pytest.mark.parametrize("contribution", [20_000 * POUNDS, 25_000 * POUNDS])
def test_nil_grant(charges_policy: ChargesPolicy, maximum: MaximumGrant, contribution: int) -> None:
    g = grant(charges_policy, maximum, 20_000 * POUNDS, contribution)
    assert (g.grant_pence, g.is_nil, g.total_assistance_pence) == (0, True, 0)
    assert g.applicant_pays_pence == 2000000
    assert "Nil grant" in explain_grant(g)


def test_nil_under_cap_then_deduct_only(charges_policy: ChargesPolicy, maximum: MaximumGrant) -> None:
    # Expense £40,000, contribution £32,000: deduct then cap gives £8,000; cap then deduct, nil.
    assert grant(charges_policy, maximum, 40_000 * POUNDS, 32_000 * POUNDS).grant_pence == 800000
    g = grant(charges_policy, maximum, 40_000 * POUNDS, 32_000 * POUNDS, cap_order="cap_then_deduct")
    assert (g.grant_pence, g.is_nil) == (0, True)


# --------------------------------------------------------------------------------------------------
# Discretionary funding lines


def test_top_up_above_the_maximum(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    top_up = funding.line("top_up")
    g = grant(charges_policy, maximum, 40_000 * POUNDS, 0, funding_lines=[top_up])
    # Mandatory £30,000; the £10,000 above the maximum from the top-up (cap £15,000).
    assert (g.grant_pence, g.funding[0].amount_pence, g.total_assistance_pence, g.applicant_pays_pence) == (
        3000000,
        1000000,
        4000000,
        0,
    )
    assert g.funding[0].repayment.land_charge is True
    g = grant(charges_policy, maximum, 50_000 * POUNDS, 0, funding_lines=[top_up])
    # £20,000 above the maximum, top-up capped at £15,000: the applicant meets £5,000.
    assert (g.funding[0].amount_pence, g.applicant_pays_pence) == (1500000, 500000)


@pytest.mark.parametrize(
    ("order", "mandatory", "top_up"),
    [("deduct_then_cap", 3000000, 500000), ("cap_then_deduct", 2500000, 1000000)],
)
def test_means_tested_top_up_leaves_the_contribution(
    charges_policy: ChargesPolicy,
    maximum: MaximumGrant,
    funding: FundingPolicy,
    order: str,
    mandatory: int,
    top_up: int,
) -> None:
    # Expense £40,000, contribution £5,000. Deduct then cap: £30,000 + top-up min(£10,000, £40,000 − £30,000
    # − £5,000 = £5,000). Cap then deduct: £25,000 + top-up min(£10,000, £40,000 − £25,000 − £5,000).
    # Either way the applicant pays exactly the contribution.
    g = grant(
        charges_policy,
        maximum,
        40_000 * POUNDS,
        5_000 * POUNDS,
        cap_order=order,
        funding_lines=[funding.line("top_up")],
    )
    assert (g.grant_pence, g.funding[0].amount_pence, g.applicant_pays_pence) == (mandatory, top_up, 500000)


def test_non_means_tested_top_up(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    line = replace(funding.line("top_up"), means_tested=False)
    g = grant(charges_policy, maximum, 40_000 * POUNDS, 5_000 * POUNDS, funding_lines=[line])
    # The whole £10,000 above the maximum, not reduced by the contribution.
    assert (g.grant_pence, g.funding[0].amount_pence, g.applicant_pays_pence) == (3000000, 1000000, 0)


def test_top_up_does_not_apply_within_the_maximum(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    g = grant(charges_policy, maximum, 20_000 * POUNDS, 0, funding_lines=[funding.line("top_up")])
    assert (g.funding[0].applies, g.funding[0].amount_pence) == (False, 0)


def test_fast_track_non_means_tested(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    line = funding.line("fast_track")
    g = grant(
        charges_policy,
        maximum,
        12_000 * POUNDS,
        5_000 * POUNDS,
        funding_lines=[line],
        reasons=["hospital_discharge"],
    )
    # Not means-tested: the whole £12,000 from the fast-track line; no mandatory grant.
    assert (g.route, g.grant_pence, g.funding[0].amount_pence, g.is_nil) == ("fast_track", 0, 1200000, False)
    assert g.funding[0].means_tested is False
    assert g.applicant_pays_pence == 0
    # Without a listed reason it does not apply: mandatory grant £12,000 − £5,000 = £7,000.
    g = grant(charges_policy, maximum, 12_000 * POUNDS, 5_000 * POUNDS, funding_lines=[line])
    assert (g.route, g.grant_pence, g.funding[0].applies) == ("mandatory", 700000, False)
    assert g.funding[0].how_calculated == (
        "does not apply: the case has none of the reasons hospital_discharge, life_limiting_condition"
    )
    # Over the £15,000 threshold it does not apply either.
    g = grant(
        charges_policy,
        maximum,
        16_000 * POUNDS,
        5_000 * POUNDS,
        funding_lines=[line],
        reasons=["hospital_discharge"],
    )
    assert (g.route, g.grant_pence) == ("mandatory", 1100000)


def test_small_works_without_a_means_test(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    # Works £4,000 and a contribution of £10,000: the mandatory grant would be nil.
    assert grant(charges_policy, maximum, 4_000 * POUNDS, 10_000 * POUNDS).is_nil
    g = grant(
        charges_policy, maximum, 4_000 * POUNDS, 10_000 * POUNDS, funding_lines=[funding.line("small_works")]
    )
    assert (g.route, g.total_assistance_pence, g.is_nil) == ("small_works", 400000, False)


def test_named_works(charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy) -> None:
    line = funding.line("stairlift_and_shower")
    g = grant(
        charges_policy,
        maximum,
        6_000 * POUNDS,
        8_000 * POUNDS,
        funding_lines=[line],
        works_types=["stairlift"],
    )
    assert (g.route, g.total_assistance_pence) == ("stairlift_and_shower", 600000)
    g = grant(
        charges_policy,
        maximum,
        6_000 * POUNDS,
        8_000 * POUNDS,
        funding_lines=[line],
        works_types=["stairlift", "ramp"],
    )
    assert (g.route, g.total_assistance_pence, g.is_nil) == ("mandatory", 0, True)
    assert g.funding[0].how_calculated == "does not apply: ramp is not among level_access_shower, stairlift"


def test_relocation_is_means_tested(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    g = grant(
        charges_policy, maximum, 8_000 * POUNDS, 3_000 * POUNDS, funding_lines=[funding.line("relocation")]
    )
    # £8,000 − £3,000 = £5,000, within the £10,000 cap; repayable within 5 years.
    assert (g.route, g.funding[0].amount_pence, g.funding[0].repayment.within_years) == (
        "relocation",
        500000,
        5,
    )


def test_only_the_first_alternative_route_is_used(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    lines = [funding.line("small_works"), funding.line("stairlift_and_shower")]
    g = grant(charges_policy, maximum, 4_000 * POUNDS, 0, funding_lines=lines, works_types=["stairlift"])
    assert g.route == "small_works"
    assert (g.funding[1].applies, g.funding[1].how_calculated) == (
        False,
        "not used: small_works already applies",
    )
    assert g.total_assistance_pence == 400000


def test_every_figure_has_a_how_calculated_line(
    charges_policy: ChargesPolicy, maximum: MaximumGrant, funding: FundingPolicy
) -> None:
    g = grant(
        charges_policy,
        maximum,
        36_000 * POUNDS,
        1019945,
        charges=[ChargeRequest("agency_fee")],
        funding_lines=[funding.line("top_up")],
    )
    # Works £36,000 + agency fee £5,400 = £41,400; £41,400 − £10,199.45 = £31,200.55, capped at £30,000;
    # top-up: £11,400 above the maximum; less the contribution: £41,400 − £30,000 − £10,199.45 = £1,200.55.
    assert (g.estimated_expense_pence, g.grant_pence, g.funding[0].amount_pence) == (4140000, 3000000, 120055)
    assert g.applicant_pays_pence == 1019945
    lines = explain_grant(g).splitlines()
    assert lines[0] == "Eligible works: £36,000.00 (the cost of the eligible works as approved)"
    assert "Estimated expense: £41,400.00 (works £36,000.00 + charges £5,400.00 = £41,400.00)" in lines
    assert all(w.how_calculated for w in g.workings)
    data = grant_to_dict(g)
    assert json.loads(json.dumps(data)) == data
    assert data["funding"][0]["repayment"]["land_charge"] is True


# --------------------------------------------------------------------------------------------------
# Properties


_orders = st.sampled_from(["deduct_then_cap", "cap_then_deduct"])


@settings(max_examples=150, deadline=None)
@given(
    works=st.integers(0, 10_000_000),
    contribution=st.integers(0, 10_000_000),
    order=_orders,
    agency=st.booleans(),
    top_up_cap=st.integers(1, 5_000_000),
    means_tested=st.booleans(),
)
def test_grant_never_above_its_cap_nor_below_zero(
    charges_policy: ChargesPolicy,
    maximum: MaximumGrant,
    works: int,
    contribution: int,
    order: str,
    agency: bool,
    top_up_cap: int,
    means_tested: bool,
) -> None:
    line = FundingLine(
        "top_up", "Top-up", "top_up", top_up_cap, means_tested, RepaymentTerms("none", 0, False)
    )
    g = grant(
        charges_policy,
        maximum,
        works,
        contribution,
        cap_order=order,
        charges=[ChargeRequest("agency_fee")] if agency else [],
        funding_lines=[line],
    )
    assert 0 <= g.grant_pence <= maximum.amount_pence
    assert 0 <= g.funding[0].amount_pence <= top_up_cap
    assert 0 <= g.total_assistance_pence <= g.estimated_expense_pence
    assert g.applicant_pays_pence >= 0
    assert g.is_nil == (g.grant_pence == 0)
    if means_tested:
        # A means-tested top-up never relieves the applicant of the contribution.
        assert g.applicant_pays_pence >= min(contribution, g.estimated_expense_pence)


# --------------------------------------------------------------------------------------------------
# Policy files


def test_shipped_policies(charges_policy: ChargesPolicy, funding: FundingPolicy) -> None:
    assert charges_policy.cap_order == "deduct_then_cap"
    assert "UNCONFIRMED" in charges_policy.cap_order_note
    assert [line.code for line in funding.lines] == [
        "top_up",
        "fast_track",
        "small_works",
        "stairlift_and_shower",
        "relocation",
    ]
    assert funding.district is None
    with pytest.raises(InvalidInput) as caught:
        funding.line("bogus")
    assert caught.value.message == (
        "funding_line: unknown funding line 'bogus' "
        "(known: top_up, fast_track, small_works, stairlift_and_shower, relocation)"
    )


def test_district_override(policy_dir: Path) -> None:
    (policy_dir / "funding-lines-CAN.toml").write_text(
        '[[line]]\ncode = "top_up"\nlabel = "Cannock Chase top-up"\nkind = "top_up"\ncap = "10000.00"\n'
        'means_tested = false\n[line.repayment]\nsummary = "None."\nwithin_years = 0\nland_charge = false\n',
        encoding="utf-8",
    )
    own = load_funding_lines("can", directory=policy_dir)
    assert (own.district, own.source_file, own.line("top_up").cap_pence) == (
        "CAN",
        "funding-lines-CAN.toml",
        1000000,
    )
    other = load_funding_lines("LIC", directory=policy_dir)
    assert (other.district, other.source_file) == (None, "funding-lines.toml")
    assert load_charges_policy("CAN", directory=policy_dir).source_file == "charges.toml"


def test_bad_district_code(policy_dir: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_funding_lines("../x", directory=policy_dir)
    assert caught.value.message == "district: '../x' is not a district code (2 to 8 letters, e.g. CAN)"


def _replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "charges.toml",
            'cap_order = "deduct_then_cap"',
            'cap_order = "cap_first"',
            "charges.toml: cap_order: 'cap_first' is not one of deduct_then_cap, cap_then_deduct",
        ),
        (
            "charges.toml",
            'rate = "0.15"',
            'rate = "15"',
            "charges.toml: charges.agency_fee.rate: 15 must be between 0 and 1",
        ),
        (
            "charges.toml",
            'basis = "percent_of_works"',
            'basis = "percent"',
            "charges.toml: charges.agency_fee.basis: 'percent' is not one of percent_of_works, fixed",
        ),
        (
            "funding-lines.toml",
            'threshold = "15000.00"\n',
            "",
            None,
        ),
        (
            "funding-lines.toml",
            'kind = "top_up"',
            'kind = "top_upp"',
            "funding-lines.toml: line[0].kind: 'top_upp' is not one of top_up, fast_track, named_works, relocation",
        ),
        (
            "funding-lines.toml",
            'cap = "15000.00"',
            "cap = 15000.5",
            'funding-lines.toml: line[0].cap: must be an amount in pounds as a string, e.g. "47.95"',
        ),
        (
            "funding-lines.toml",
            'works = ["stairlift", "level_access_shower"]',
            "works = []",
            "funding-lines.toml: line[3].works: a named_works line needs the list of works it covers",
        ),
        (
            "funding-lines.toml",
            'code = "small_works"',
            'code = "fast_track"',
            "funding-lines.toml: line[2].code: 'fast_track' is used twice",
        ),
        (
            "funding-lines.toml",
            "within_years = 10\n",
            "",
            "funding-lines.toml: line[0].repayment.within_years: missing",
        ),
    ],
)
def test_bad_policy_file(policy_dir: Path, file: str, old: str, new: str, message: str | None) -> None:
    _replace_in(policy_dir / file, old, new)
    if message is None:  # a fast-track line keeps its reasons, so losing the threshold is allowed
        assert load_funding_lines(directory=policy_dir).line("fast_track").threshold_pence is None
        return
    with pytest.raises(ConfigurationError) as caught:
        if file == "charges.toml":
            load_charges_policy(directory=policy_dir)
        else:
            load_funding_lines(directory=policy_dir)
    assert caught.value.message == message


def test_fast_track_needs_a_threshold_or_reasons(policy_dir: Path) -> None:
    _replace_in(policy_dir / "funding-lines.toml", 'threshold = "5000.00"\n', "")
    with pytest.raises(ConfigurationError) as caught:
        load_funding_lines(directory=policy_dir)
    assert caught.value.message == (
        "funding-lines.toml: line[2].threshold: a fast_track line needs a threshold, reasons, or both"
    )
