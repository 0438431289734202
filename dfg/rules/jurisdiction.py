"""Which dated tables a district's cases are decided by: its jurisdiction's maximum grant, its
jurisdiction's means-test table with the council's own passport settings, and its land-charge terms.

The district's ``authority-<CODE>.toml`` (else ``policy/authority.toml``) names the jurisdiction and the
settings; its ``land-charge-<CODE>.toml`` (else ``rates/land-charge.toml``) the land-charge terms. The
files are chosen by :func:`dfg.rules.policy.district_file`, as every per-district policy is, and read
once per process.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path

from dfg.paths import workflows_dir
from dfg.rules.policy import AuthorityPolicy, district_file, read_authority_policy
from dfg.rules.rates import (
    LandChargeTerms,
    MaximumGrant,
    RateTable,
    land_charge_for,
    load_land_charge_terms,
    maximum_grant_for,
    rates_for,
)


@cache
def _authority_at(path: Path) -> AuthorityPolicy:
    return read_authority_policy(path)


@cache
def _land_charge_at(path: Path) -> tuple[LandChargeTerms, ...]:
    return load_land_charge_terms(path)


def authority_policy(district: str | None) -> AuthorityPolicy:
    """The district's authority policy: its jurisdiction and means-test settings."""
    return _authority_at(district_file(workflows_dir() / "policy", "authority", district))


def land_charge_file(district: str | None) -> Path:
    """The land-charge terms the district's cases use: its own file, else ``rates/land-charge.toml``."""
    return district_file(workflows_dir() / "rates", "land-charge", district)


def jurisdiction_of(district: str | None) -> str:
    """``england`` or ``wales``: the law the district's grants are made under."""
    return authority_policy(district).jurisdiction


def maximum_grant_in(district: str | None, on: date) -> MaximumGrant:
    """The maximum mandatory grant in force on ``on`` (the approval date) in the district's jurisdiction."""
    return maximum_grant_for(on, jurisdiction=jurisdiction_of(district))


def land_charge_in(district: str | None, on: date) -> LandChargeTerms:
    """The land-charge terms in force for a grant the district approved on ``on``."""
    rows = _land_charge_at(land_charge_file(district))
    return land_charge_for(on, jurisdiction=jurisdiction_of(district), rows=rows)


def with_council_settings(table: RateTable, policy: AuthorityPolicy) -> RateTable:
    """``table`` with the council's Universal Credit passport and tax-credit ceiling where it sets them;
    each setting's basis is kept in the table's notes, so a determination can say where it came from."""
    notes = dict(table.notes)
    amounts = dict(table.amounts)
    passport, basis = table.universal_credit_passport, table.universal_credit_basis
    if policy.universal_credit_passport is not None:
        passport, basis = policy.universal_credit_passport, policy.universal_credit_basis
        notes["passport.universal_credit"] = f"Set by {policy.source_file}: {basis}"
    if policy.tax_credit_income_ceiling_pence is not None:
        amounts["passport.tax_credit_income_ceiling"] = policy.tax_credit_income_ceiling_pence
        notes["passport.tax_credit_income_ceiling"] = (
            f"Set by {policy.source_file}: {policy.tax_credit_income_ceiling_basis}"
        )
    if notes == table.notes:
        return table
    return replace(
        table, amounts=amounts, notes=notes, universal_credit_passport=passport, universal_credit_basis=basis
    )


def means_test_rates_in(district: str | None, on: date) -> RateTable:
    """The means-test table in force on ``on`` in the district's jurisdiction, with its settings."""
    policy = authority_policy(district)
    return with_council_settings(rates_for(on, jurisdiction=policy.jurisdiction), policy)
