"""Dated rate tables: the shipped figures, selection by approval date, and validation at load."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from dfg.errors import ConfigurationError, InvalidInput
from dfg.rules.rates import (
    RateTable,
    load_maximum_grants,
    load_rate_tables,
    maximum_grant_for,
    rates_for,
)

TABLE = "means-test-england-2008.toml"


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _load_error(folder: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_rate_tables(folder)
    return caught.value.message


# --------------------------------------------------------------------------------------------------
# The shipped table


def test_shipped_table_identity(rates: RateTable) -> None:
    assert rates.version == "england-2008-10"
    assert rates.jurisdiction == "england"
    assert rates.effective_from == date(2008, 10, 2)
    assert rates.effective_to is None
    assert "confirm against regulation 12 before live use" in rates.status
    assert rates.source_file == TABLE
    assert "1162/3" in rates.provenance.text
    assert any("eden.gov.uk" in source for source in rates.provenance.sources)


def test_shipped_applicable_amounts(rates: RateTable) -> None:
    expected = {
        "personal_allowance.single_under_25": 4795,
        "personal_allowance.single_25_or_over": 6050,
        "personal_allowance.lone_parent_18_or_over": 6050,
        "personal_allowance.couple_one_or_both_18_or_over": 9495,
        "pension_age.single": 12405,
        "pension_age.single_higher": 14380,
        "pension_age.couple": 18935,
        "pension_age.couple_higher": 21550,
        "children.dependent_child": 5259,
        "children.family_premium_couple": 1675,
        "children.family_premium_lone_parent": 2220,
        "children.disabled_child_premium": 4872,
        "children.enhanced_disability_child": 1960,
        "premium.disability_single": 2585,
        "premium.disability_couple": 3685,
        "premium.enhanced_disability_single": 1260,
        "premium.enhanced_disability_couple": 1815,
        "premium.severe_disability": 5035,
        "application.flat_addition": 6130,
        "capital.disregard": 600000,
        "capital.tariff_step": 25000,
        "capital.tariff_per_step": 100,
        "passport.tax_credit_income_ceiling": 1505000,
    }
    for key, pence in expected.items():
        assert rates.amount(key) == pence, key


def test_shipped_bands_tapers_and_loan_factors(rates: RateTable) -> None:
    assert [(b.number, b.width_pence, b.rate) for b in rates.bands] == [
        (1, 4795, Decimal("0.05")),
        (2, 4795, Decimal("0.10")),
        (3, 9590, Decimal("0.40")),
        (4, None, Decimal("1.00")),
    ]
    # 387⅓ exactly: 19.14 × 387⅓ = 7,413.56, the published figure (387.33 would give 7,413.50).
    assert rates.loan_factor("owner") == Fraction(1162, 3)
    assert rates.loan_factor("tenant") == Fraction(581, 3)
    assert rates.note("loan_factor.tenant") is not None
    assert "UNCONFIRMED" in (rates.note("loan_factor.tenant") or "")
    assert rates.note("loan_factor.owner") is None
    assert dict(rates.look_back_years) == {"owner": 10, "tenant": 5, "occupier": 5}


def test_shipped_passports_and_disregards(rates: RateTable) -> None:
    assert rates.passport_benefits == {
        "income_support",
        "income_based_jsa",
        "income_related_esa",
        "housing_benefit",
        "council_tax_benefit",
        "council_tax_support",
        "pension_credit_guarantee",
    }
    assert rates.tax_credit_benefits == {"working_tax_credit", "child_tax_credit"}
    assert rates.universal_credit_passport is True
    assert {"dla", "pip", "attendance_allowance", "working_tax_credit", "child_tax_credit"} <= (
        rates.income_disregarded
    )
    assert "armed_forces_compensation_scheme" in rates.income_disregarded
    assert "earnings_net" not in rates.income_disregarded


# --------------------------------------------------------------------------------------------------
# Selection by date


def test_selected_by_approval_date() -> None:
    assert rates_for(date(2008, 10, 2)).version == "england-2008-10"
    assert rates_for(date(2030, 1, 1)).version == "england-2008-10"


def test_no_table_before_the_first() -> None:
    with pytest.raises(InvalidInput) as caught:
        rates_for(date(2008, 10, 1))
    assert caught.value.message == (
        "on: no means-test rate table in force for england on 2008-10-01 (the earliest starts on 2008-10-02)"
    )


def test_no_table_for_a_jurisdiction() -> None:
    with pytest.raises(InvalidInput) as caught:
        rates_for(date(2025, 1, 1), jurisdiction="wales")
    assert caught.value.message == "jurisdiction: no means-test rate table for 'wales'"


def test_a_successor_table_takes_over_on_its_date(rates_dir: Path) -> None:
    _edit(
        rates_dir,
        TABLE,
        "effective_from = 2008-10-02",
        "effective_from = 2008-10-02\neffective_to = 2024-03-31",
    )
    successor = (rates_dir / TABLE).read_text(encoding="utf-8")
    successor = successor.replace('version = "england-2008-10"', 'version = "england-2024-04"')
    successor = successor.replace(
        "effective_from = 2008-10-02\neffective_to = 2024-03-31", "effective_from = 2024-04-01"
    )
    successor = successor.replace('flat_addition = "61.30"', 'flat_addition = "70.00"')
    (rates_dir / "means-test-england-2024.toml").write_text(successor, encoding="utf-8")
    tables = load_rate_tables(rates_dir)
    assert rates_for(date(2024, 3, 31), tables=tables).version == "england-2008-10"
    later = rates_for(date(2024, 4, 1), tables=tables)
    assert later.version == "england-2024-04"
    assert later.amount("application.flat_addition") == 7000


# --------------------------------------------------------------------------------------------------
# Validation at load: one clear message naming the file and the key


def test_gap_between_tables(rates_dir: Path) -> None:
    _edit(
        rates_dir,
        TABLE,
        "effective_from = 2008-10-02",
        "effective_from = 2008-10-02\neffective_to = 2024-03-31",
    )
    successor = (rates_dir / TABLE).read_text(encoding="utf-8")
    successor = successor.replace('version = "england-2008-10"', 'version = "england-2024-04"')
    successor = successor.replace(
        "effective_from = 2008-10-02\neffective_to = 2024-03-31", "effective_from = 2024-04-05"
    )
    (rates_dir / "means-test-england-2024.toml").write_text(successor, encoding="utf-8")
    assert _load_error(rates_dir) == (
        "means-test-england-2024.toml: effective_from: 2024-04-05 leaves a gap after england-2008-10 "
        "(means-test-england-2008.toml), which ends on 2024-03-31; the next must start on 2024-04-01"
    )


def test_overlap_with_an_open_ended_table(rates_dir: Path) -> None:
    successor = (rates_dir / TABLE).read_text(encoding="utf-8")
    successor = successor.replace('version = "england-2008-10"', 'version = "england-2024-04"')
    successor = successor.replace("effective_from = 2008-10-02", "effective_from = 2024-04-01")
    (rates_dir / "means-test-england-2024.toml").write_text(successor, encoding="utf-8")
    assert _load_error(rates_dir) == (
        "means-test-england-2024.toml: effective_from: 2024-04-01 overlaps england-2008-10 "
        "(means-test-england-2008.toml), which has no effective_to; give it effective_to = 2024-03-31"
    )


def test_overlap_between_dated_tables(rates_dir: Path) -> None:
    _edit(
        rates_dir,
        TABLE,
        "effective_from = 2008-10-02",
        "effective_from = 2008-10-02\neffective_to = 2024-04-30",
    )
    successor = (rates_dir / TABLE).read_text(encoding="utf-8")
    successor = successor.replace('version = "england-2008-10"', 'version = "england-2024-04"')
    successor = successor.replace(
        "effective_from = 2008-10-02\neffective_to = 2024-04-30", "effective_from = 2024-04-01"
    )
    (rates_dir / "means-test-england-2024.toml").write_text(successor, encoding="utf-8")
    assert _load_error(rates_dir) == (
        "means-test-england-2024.toml: effective_from: 2024-04-01 overlaps england-2008-10 "
        "(means-test-england-2008.toml), which ends on 2024-04-30; the next must start on 2024-05-01"
    )


def test_missing_band_for_the_rest_of_the_excess(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, '[[bands]]\nrate = "1.00"\n', "")
    assert _load_error(rates_dir) == (
        "means-test-england-2008.toml: bands[2].width: the last band is the rest of the excess: give it no width"
    )


def test_band_without_a_width_in_the_middle(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'width = "47.95"\nrate = "0.10"', 'rate = "0.10"')
    assert _load_error(rates_dir) == (
        "means-test-england-2008.toml: bands[1].width: missing "
        "(only the last band, the rest of the excess, has no width)"
    )


def test_band_without_a_rate(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'width = "95.90"\nrate = "0.40"', 'width = "95.90"')
    assert _load_error(rates_dir) == "means-test-england-2008.toml: bands[2].rate: missing"


def test_taper_rate_above_one(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'rate = "0.05"', 'rate = "1.5"')
    assert (
        _load_error(rates_dir) == "means-test-england-2008.toml: bands[0].rate: 1.5 must be between 0 and 1"
    )


def test_taper_rates_must_not_fall(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'rate = "0.10"', 'rate = "0.01"')
    assert _load_error(rates_dir) == (
        "means-test-england-2008.toml: bands[1].rate: 0.01 is lower than the band before (0.05); "
        "tapers must not fall"
    )


def test_missing_required_amount(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'carer = "27.15"', "")
    assert _load_error(rates_dir) == "means-test-england-2008.toml: premium.carer: missing"


def test_amount_that_does_not_parse(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'carer = "27.15"', 'carer = "27.1x"')
    assert _load_error(rates_dir) == (
        "means-test-england-2008.toml: premium.carer: '27.1x' is not an amount in pounds (e.g. 1234.50)"
    )


def test_amount_as_a_toml_float_is_refused(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'carer = "27.15"', "carer = 27.15")
    assert _load_error(rates_dir) == (
        'means-test-england-2008.toml: premium.carer: must be an amount in pounds as a string, e.g. "47.95"'
    )


def test_unknown_key(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'carer = "27.15"', 'carer = "27.15"\ncarers = "1.00"')
    message = _load_error(rates_dir)
    assert message.startswith("means-test-england-2008.toml: premium.carers: unknown key (known: carer, ")


def test_unknown_passport_benefit(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, '    "income_support",\n', '    "income_suport",\n')
    message = _load_error(rates_dir)
    assert message.startswith(
        "means-test-england-2008.toml: passport.benefits: unknown benefit 'income_suport' (known: "
    )


def test_bad_loan_factor(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, 'owner = "1162/3"', 'owner = "1162/0"')
    assert _load_error(rates_dir) == (
        "means-test-england-2008.toml: loan_factor.owner: '1162/0' is not a number or fraction"
    )


def test_note_on_a_key_that_does_not_exist(rates_dir: Path) -> None:
    _edit(rates_dir, TABLE, '"premium.carer" =', '"premium.carers" =')
    assert (
        _load_error(rates_dir)
        == "means-test-england-2008.toml: notes.premium.carers: names no key of this table"
    )


def test_repeated_version(rates_dir: Path) -> None:
    _edit(
        rates_dir,
        TABLE,
        "effective_from = 2008-10-02",
        "effective_from = 2008-10-02\neffective_to = 2024-03-31",
    )
    successor = (rates_dir / TABLE).read_text(encoding="utf-8")
    successor = successor.replace(
        "effective_from = 2008-10-02\neffective_to = 2024-03-31", "effective_from = 2024-04-01"
    )
    (rates_dir / "means-test-england-2024.toml").write_text(successor, encoding="utf-8")
    assert _load_error(rates_dir) == (
        "means-test-england-2024.toml: version: 'england-2008-10' is also used by means-test-england-2008.toml"
    )


def test_not_toml(rates_dir: Path) -> None:
    (rates_dir / TABLE).write_text("version = \n", encoding="utf-8")
    assert _load_error(rates_dir).startswith("means-test-england-2008.toml: not valid TOML: ")


def test_no_tables(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_rate_tables(tmp_path)
    assert caught.value.message == f"{tmp_path}: no means-test-*.toml rate tables found"


# --------------------------------------------------------------------------------------------------
# Maximum grant


@pytest.mark.parametrize(
    ("on", "jurisdiction", "pence", "version"),
    [
        (date(2008, 5, 21), "england", 2500000, "england-2001-04-02"),
        (date(2008, 5, 22), "england", 3000000, "england-2008-05-22"),
        (date(2025, 4, 1), "england", 3000000, "england-2008-05-22"),
        (date(1997, 1, 1), "england", 2000000, "england-1996-12-17"),
        (date(2008, 10, 2), "wales", 3600000, "wales-2008-10-02"),
    ],
)
def test_maximum_grant_by_date_and_jurisdiction(
    on: date, jurisdiction: str, pence: int, version: str
) -> None:
    row = maximum_grant_for(on, jurisdiction=jurisdiction)
    assert (row.amount_pence, row.version) == (pence, version)


def test_maximum_grant_before_the_wales_row() -> None:
    with pytest.raises(InvalidInput) as caught:
        maximum_grant_for(date(2008, 10, 1), jurisdiction="wales")
    assert (
        caught.value.message
        == "on: no maximum grant in force for wales on 2008-10-01 (the earliest starts on 2008-10-02)"
    )


def test_maximum_grant_rows_must_not_overlap(rates_dir: Path) -> None:
    _edit(rates_dir, "maximum-grant.toml", "effective_to = 2008-05-21", "effective_to = 2008-05-22")
    with pytest.raises(ConfigurationError) as caught:
        load_maximum_grants(rates_dir / "maximum-grant.toml")
    assert caught.value.message == (
        "maximum-grant.toml: maximum[2].effective_from: 2008-05-22 overlaps england-2001-04-02, "
        "which ends on 2008-05-22; the next must start on 2008-05-23"
    )


def test_maximum_grant_needs_an_amount(rates_dir: Path) -> None:
    _edit(rates_dir, "maximum-grant.toml", 'amount = "36000.00"\n', "")
    with pytest.raises(ConfigurationError) as caught:
        load_maximum_grants(rates_dir / "maximum-grant.toml")
    assert caught.value.message == "maximum-grant.toml: maximum[3].amount: missing"
