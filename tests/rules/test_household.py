"""Parsing a household: the JSON shape, defaults, and one clear message per bad field."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dfg.errors import InvalidInput
from dfg.rules.household import (
    Child,
    EarlierContribution,
    HouseholdProblems,
    IncomeItem,
    RelevantPerson,
    household_to_dict,
    load_household,
    parse_household,
)

from .conftest import EXAMPLE

DATA = Path(__file__).resolve().parent.parent / "data" / "households"


def _error(data: Any) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_household(data)
    return caught.value.message


def _changed(path: str, value: Any) -> dict[str, Any]:
    """The example with one field replaced, addressed like ``relevant_persons.1.age``."""
    data = copy.deepcopy(EXAMPLE)
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


_DELETE = object()


def test_the_worked_example_parses() -> None:
    household = parse_household(EXAMPLE)
    assert household.tenure == "owner"
    assert household.couple is True
    assert household.relevant_persons == (RelevantPerson(45), RelevantPerson(44))
    assert household.weekly_income == (IncomeItem("earnings_net", 30000),)
    assert household.capital_pence == 0
    assert household.means_tested


def test_all_fields() -> None:
    household = parse_household(
        {
            "tenure": "tenant",
            "couple": False,
            "relevant_persons": [
                {
                    "age": 30,
                    "benefits": ["working_tax_credit", "pip"],
                    "premiums": ["carer"],
                    "pension_credit_age": False,
                    "tax_credit_annual_income": "15049.99",
                }
            ],
            "children": [{"age": 7, "disabled": True, "enhanced_disability": True}, {"age": 3}],
            "weekly_income": [{"kind": "pip", "amount": 68.1, "person": 0}, {"kind": "other", "amount": 12}],
            "capital": "6,250.01",
            "earlier_contributions": [
                {
                    "amount": "1200.00",
                    "approved_on": "2020-05-01",
                    "same_dwelling": True,
                    "same_person": False,
                    "tenure": "owner",
                }
            ],
        }
    )
    assert household.relevant_persons[0] == RelevantPerson(
        30, frozenset({"working_tax_credit", "pip"}), frozenset({"carer"}), False, 1504999
    )
    assert household.children == (Child(7, True, True), Child(3))
    assert household.weekly_income == (IncomeItem("pip", 6810, 0), IncomeItem("other", 1200))
    assert household.capital_pence == 625001
    assert household.earlier_contributions == (
        EarlierContribution(120000, date(2020, 5, 1), True, False, "owner"),
    )


def test_round_trip() -> None:
    for path in sorted(DATA.glob("*.json")):
        household = load_household(path)
        assert parse_household(household_to_dict(household)) == household, path.name


def test_landlord_and_child_applications_need_no_means() -> None:
    landlord = parse_household({"tenure": "landlord"})
    assert (landlord.means_tested, landlord.relevant_persons, landlord.capital_pence) == (False, (), 0)
    child = parse_household({"tenure": "owner", "application_for_child": True})
    assert child.means_tested is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_changed("relevant_persons.1.age", 200), "relevant_persons[1].age: 200 is not a plausible age"),
        (_changed("relevant_persons.0.age", 15), "relevant_persons[0].age: 15 is not a plausible age"),
        (
            _changed("relevant_persons.0.age", "45"),
            "relevant_persons[0].age: must be a whole number of years, got '45'",
        ),
        (_changed("relevant_persons.0.age", _DELETE), "relevant_persons[0].age: required"),
        (
            _changed("weekly_income.0.amount", "-300.00"),
            "weekly_income[0].amount: '-300.00' must not be negative",
        ),
        (
            _changed("weekly_income.0.amount", None),
            'weekly_income[0].amount: expected an amount in pounds such as "300.00", got None',
        ),
        (
            _changed("weekly_income.0.kind", "lottery"),
            "weekly_income[0].kind: unknown income kind 'lottery' (known: armed_forces_compensation_scheme, "
            "armed_forces_independence_payment, attendance_allowance, carers_allowance, child_benefit, "
            "child_tax_credit, contribution_based_jsa, contributory_esa, dla, earnings_net, incapacity_benefit, "
            "maintenance, occupational_pension, other, pension_credit_savings, personal_pension, pip, "
            "rental_income, self_employed_net, state_pension, war_disablement_pension, working_tax_credit)",
        ),
        (
            _changed("weekly_income.0", {"kind": "earnings_net", "amount": "1", "person": 2}),
            "weekly_income[0].person: 2 is not a relevant person (0 to 1)",
        ),
        (
            _changed("relevant_persons.0.benefits", ["foo"]),
            "relevant_persons[0].benefits: unknown benefit 'foo' (known: armed_forces_independence_payment, "
            "attendance_allowance, carers_allowance, child_benefit, child_tax_credit, contribution_based_jsa, "
            "contributory_esa, council_tax_benefit, council_tax_support, dla, housing_benefit, income_based_jsa, "
            "income_related_esa, income_support, pension_credit_guarantee, pension_credit_savings, pip, "
            "state_pension, universal_credit, working_tax_credit)",
        ),
        (
            _changed("relevant_persons.0.benefits", ["pip", "pip"]),
            "relevant_persons[0].benefits: 'pip' is listed twice",
        ),
        (
            _changed("relevant_persons.0.premiums", ["disabled"]),
            "relevant_persons[0].premiums: unknown premium 'disabled' "
            "(known: carer, disability, enhanced_disability, severe_disability)",
        ),
        (
            _changed("relevant_persons.0.benefits", ["working_tax_credit"]),
            "relevant_persons[0].tax_credit_annual_income: required when receiving working tax credit or "
            "child tax credit (the annual income the award was based on)",
        ),
        (_changed("tenure", _DELETE), "tenure: required"),
        (
            _changed("tenure", "lodger"),
            "tenure: unknown tenure 'lodger' (known: owner, tenant, occupier, landlord)",
        ),
        (_changed("couple", "yes"), "couple: must be true or false, got 'yes'"),
        (_changed("capital", _DELETE), "capital: required"),
        (_changed("capital", "-1"), "capital: '-1' must not be negative"),
        (_changed("weekly_income", _DELETE), "weekly_income: required"),
        (_changed("weekly_income", {}), "weekly_income: must be a list ([...])"),
        (
            _changed("relevant_persons", [{"age": 45}]),
            "relevant_persons: a couple has 2 relevant persons, got 1",
        ),
        (
            _changed("couple", False),
            "relevant_persons: a single person has 1 relevant person, got 2 (set couple to true for a couple)",
        ),
        (
            _changed("children", [{"age": 25}]),
            "children[0].age: 25 is not a plausible age for a dependent child (0 to 19)",
        ),
        (
            _changed("children", [{"age": 5, "enhanced_disability": True}]),
            "children[0].enhanced_disability: only a disabled child can have it; set disabled to true",
        ),
        (
            _changed("earlier_contributions", [{"amount": "1.00", "approved_on": "2020-13-01"}]),
            "earlier_contributions[0].approved_on: '2020-13-01' is not a date (YYYY-MM-DD)",
        ),
        (
            _changed(
                "earlier_contributions",
                [{"amount": "1.00", "approved_on": "2020-01-01", "same_dwelling": True}],
            ),
            "earlier_contributions[0].same_person: required",
        ),
        (
            _changed("colour", "blue"),
            "colour: unknown key (known: tenure, application_for_child, couple, relevant_persons, children, "
            "weekly_income, capital, earlier_contributions)",
        ),
        (
            _changed("relevant_persons.0.agee", 45),
            "relevant_persons[0].agee: unknown key "
            "(known: age, benefits, premiums, pension_credit_age, tax_credit_annual_income)",
        ),
        ([], "household: must be an object ({...})"),
    ],
)
def test_bad_field_gives_one_message_naming_it(data: Any, message: str) -> None:
    assert _error(data) == message


def test_sample_files_that_are_invalid() -> None:
    expected = {
        "age-200.json": "relevant_persons[1].age: 200 is not a plausible age",
        "negative-income.json": "weekly_income[0].amount: '-300.00' must not be negative",
        "unknown-benefit.json": "relevant_persons[0].benefits: unknown benefit 'foo' (known: ",
    }
    for name, message in expected.items():
        with pytest.raises(InvalidInput) as caught:
            load_household(DATA / "invalid" / name)
        assert caught.value.message.startswith(message), name


def test_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"tenure": ', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_household(path)
    assert caught.value.message == f"{path.name}: not valid JSON (line 1, column 12): Expecting value"


def test_sample_files_are_valid_json_objects() -> None:
    names = sorted(p.name for p in DATA.glob("*.json"))
    assert "owner-couple-300.json" in names
    for path in DATA.glob("*.json"):
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)


def test_every_problem_is_named_at_once_and_the_first_leads() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["couple"] = True
    data["relevant_persons"] = [{"age": 200}]
    data["children"] = [{"age": 3, "enhanced_disability": True}, {"age": "six"}]
    data["weekly_income"] = [
        {"kind": "earnings_net", "amount": "-1"},
        {"kind": "pocket_money", "amount": "1"},
    ]
    data["capital"] = "lots"
    with pytest.raises(HouseholdProblems) as caught:
        parse_household(data)
    paths = [problem.partition(": ")[0] for problem in caught.value.problems]
    assert paths == [
        "relevant_persons[0].age",
        "relevant_persons",
        "children[0].enhanced_disability",
        "children[1].age",
        "weekly_income[0].amount",
        "weekly_income[1].kind",
        "capital",
    ]
    assert caught.value.message == caught.value.problems[0]  # what the command line says
    assert isinstance(caught.value, InvalidInput)
