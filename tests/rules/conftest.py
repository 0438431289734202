"""Fixtures for the rules tests: the shipped tables and a builder for household dicts."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dfg.paths import workflows_dir
from dfg.rules.household import Household, parse_household
from dfg.rules.policy import ChargesPolicy, FundingPolicy, load_charges_policy, load_funding_lines
from dfg.rules.rates import MaximumGrant, RateTable, maximum_grant_for, rates_for

#: An approval date under the shipped tables (2008-10 means test, £30,000 maximum).
ON = date(2025, 4, 1)

#: The hand-checked example: owner-occupier couple, both 18 to pension age, no passport, no capital,
#: £300.00 a week assessable income.
EXAMPLE: dict[str, Any] = {
    "tenure": "owner",
    "application_for_child": False,
    "couple": True,
    "relevant_persons": [
        {"age": 45, "benefits": [], "premiums": []},
        {"age": 44, "benefits": [], "premiums": []},
    ],
    "children": [],
    "weekly_income": [{"kind": "earnings_net", "amount": "300.00"}],
    "capital": "0.00",
    "earlier_contributions": [],
}

#: A single person aged 25 or over, no children: applicable amount £60.50 + £61.30 = £121.80.
SINGLE: dict[str, Any] = {
    "tenure": "owner",
    "couple": False,
    "relevant_persons": [{"age": 40}],
    "weekly_income": [{"kind": "earnings_net", "amount": "121.80"}],
    "capital": "0.00",
}


@pytest.fixture(scope="session")
def rates() -> RateTable:
    """The shipped England table in force on ``ON``."""
    return rates_for(ON)


@pytest.fixture(scope="session")
def maximum() -> MaximumGrant:
    """England's maximum grant on ``ON`` (£30,000)."""
    return maximum_grant_for(ON)


@pytest.fixture(scope="session")
def charges_policy() -> ChargesPolicy:
    return load_charges_policy()


@pytest.fixture(scope="session")
def funding() -> FundingPolicy:
    return load_funding_lines()


HouseholdMaker = Callable[..., Household]


@pytest.fixture
def make_household() -> HouseholdMaker:
    """Build a household from the worked example (or ``base``) with top-level keys replaced."""

    def make(base: dict[str, Any] | None = None, **changes: Any) -> Household:
        data = copy.deepcopy(base if base is not None else EXAMPLE)
        data.update(changes)
        return parse_household(data)

    return make


@pytest.fixture
def rates_dir(tmp_path: Path) -> Path:
    """A scratch copy of ``workflows/rates`` to break in tests."""
    target = tmp_path / "rates"
    shutil.copytree(workflows_dir() / "rates", target)
    return target


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A scratch copy of ``workflows/policy`` to break or extend in tests."""
    target = tmp_path / "policy"
    shutil.copytree(workflows_dir() / "policy", target)
    return target
