"""Repayment on disposal: min(£10,000, grant − £5,000) for grants over £5,000, within 10 years."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfg.errors import ConfigurationError, InvalidInput
from dfg.rules.rates import charge_expiry, land_charge_for, load_land_charge_terms, repayable_on_disposal

ON = date(2025, 4, 1)


def test_shipped_terms() -> None:
    terms = land_charge_for(ON)
    assert (terms.floor_pence, terms.cap_pence, terms.years) == (500000, 1000000, 10)
    assert terms.tenures == {"owner"}
    assert terms.version == "england-2008-05-22"


@pytest.mark.parametrize(
    ("grant", "repayable"),
    [
        (0, 0),
        (499999, 0),  # £4,999.99: under the floor
        (500000, 0),  # £5,000.00: the floor itself, nothing above it
        (500001, 1),  # £5,000.01: one penny above
        (1200000, 700000),  # £12,000 − £5,000 = £7,000
        (1500000, 1000000),  # £15,000 − £5,000 = £10,000, exactly the cap
        (1500001, 1000000),  # capped at £10,000
        (3000000, 1000000),
    ],
)
def test_repayable_on_disposal(grant: int, repayable: int) -> None:
    assert repayable_on_disposal(grant, ON) == repayable


def test_negative_grant_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        repayable_on_disposal(-1, ON)
    assert caught.value.message == "grant: -1 pence must not be negative"


def test_no_terms_before_2008() -> None:
    with pytest.raises(InvalidInput) as caught:
        repayable_on_disposal(1000000, date(2008, 5, 21))
    assert caught.value.message == (
        "on: no land-charge terms in force for england on 2008-05-21 (the earliest starts on 2008-05-22)"
    )


def test_charge_expiry_is_ten_years_from_the_certified_date() -> None:
    terms = land_charge_for(ON)
    assert charge_expiry(date(2025, 6, 30), terms) == date(2035, 6, 30)
    assert charge_expiry(date(2024, 2, 29), terms) == date(2034, 2, 28)


def test_bad_terms_file(tmp_path: Path) -> None:
    path = tmp_path / "land-charge.toml"
    path.write_text(
        '[[terms]]\njurisdiction = "england"\neffective_from = 2008-05-22\nfloor = "5000.00"\n'
        'cap = "10000.00"\nyears = 0\ntenures = ["owner"]\nsource = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError) as caught:
        load_land_charge_terms(path)
    assert caught.value.message == "land-charge.toml: terms[0].years: 0 is outside 1 to 50"


@given(st.integers(min_value=0, max_value=10**8))
def test_repayable_is_never_negative_nor_above_the_cap(grant: int) -> None:
    repayable = repayable_on_disposal(grant, ON)
    assert 0 <= repayable <= 1000000
    assert repayable <= grant
