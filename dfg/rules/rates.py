"""Dated rate tables: the means test's numbers, the maximum grant and the land-charge thresholds.

Every statutory number lives in a TOML file under ``workflows/rates/``, never in code. The rules in
force are those for applications **approved** on or after each amendment's date, so each table carries
``effective_from`` (and, except the latest, ``effective_to``) and is selected by the approval date (the
assessment date for a provisional result).

Files are validated when loaded: every required key present, amounts parse to pence, bands complete and
in order, taper rates between 0 and 1, no gap or overlap between tables of one jurisdiction. A bad file
raises :class:`ConfigurationError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from dfg.errors import ConfigurationError, InvalidInput
from dfg.paths import workflows_dir
from dfg.rules.household import (
    APPLICANT_TENURES,
    BENEFITS,
    INCOME_KINDS,
    MEANS_TESTED_TENURES,
    PREMIUMS,
)
from dfg.rules.money import Pence, parse_pounds

_T = TypeVar("_T")

#: Jurisdictions a table may be written for.
JURISDICTIONS = frozenset({"england", "wales"})

#: The amounts (in pounds, as strings) a means-test table must give, by section.
REQUIRED_AMOUNTS: Mapping[str, tuple[str, ...]] = {
    "personal_allowance": (
        "single_under_25",
        "single_25_or_over",
        "lone_parent_under_18",
        "lone_parent_18_or_over",
        "couple_both_under_18",
        "couple_one_or_both_18_or_over",
    ),
    "pension_age": ("single", "single_higher", "couple", "couple_higher"),
    "children": (
        "dependent_child",
        "family_premium_couple",
        "family_premium_lone_parent",
        "disabled_child_premium",
        "enhanced_disability_child",
    ),
    "premium": (
        "disability_single",
        "disability_couple",
        "enhanced_disability_single",
        "enhanced_disability_couple",
        "severe_disability",
        "carer",
    ),
    "application": ("flat_addition",),
    "capital": ("disregard", "tariff_step", "tariff_per_step"),
    "passport": ("tax_credit_income_ceiling",),
}

#: Top-level keys of a means-test table file.
_TABLE_KEYS = (
    "version",
    "jurisdiction",
    "effective_from",
    "effective_to",
    "status",
    "provenance",
    "notes",
    *REQUIRED_AMOUNTS,
    "income",
    "bands",
    "loan_factor",
    "look_back_years",
)


# --------------------------------------------------------------------------------------------------
# Reading TOML with messages that name the file and key


class TomlSection:
    """A TOML table under validation: knows its file and dotted path, so every error names both.

    Shared by the rate tables here and the policy files in :mod:`dfg.rules.policy`.
    """

    def __init__(self, data: Mapping[str, Any], file: str, path: str = "") -> None:
        self.data = data
        self.file = file
        self.path = path

    def name(self, key: str) -> str:
        """The dotted path of ``key`` in this file, e.g. ``bands[2].rate``."""
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, problem: str) -> ConfigurationError:
        """A :class:`ConfigurationError` naming the file and ``key``."""
        return ConfigurationError(f"{self.file}: {self.name(key)}: {problem}")

    def only(self, allowed: Iterable[str]) -> None:
        """Refuse any key not in ``allowed`` (a misspelt key is never silently ignored)."""
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown key (known: {', '.join(sorted(allowed))})")

    def raw(self, key: str) -> Any:
        """The value of a required key, as parsed."""
        if key not in self.data:
            raise self.error(key, "missing")
        return self.data[key]

    def section(self, key: str) -> TomlSection:
        """A required sub-table."""
        value = self.raw(key)
        if not isinstance(value, dict):
            raise self.error(key, "must be a table")
        return TomlSection(value, self.file, self.name(key))

    def sections(self, key: str) -> list[TomlSection]:
        """A required array of tables (``[[key]]``)."""
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(key, "must be an array of tables ([[" + self.name(key) + "]])")
        return [TomlSection(item, self.file, f"{self.name(key)}[{i}]") for i, item in enumerate(value)]

    def text(self, key: str, *, default: str | None = None) -> str:
        """A non-empty string, stripped; ``default`` (if given) when the key is absent."""
        if key not in self.data and default is not None:
            return default
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string")
        return value.strip()

    def boolean(self, key: str) -> bool:
        """A required ``true`` or ``false``."""
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def integer(self, key: str, *, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``."""
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, "must be a whole number")
        if not low <= value <= high:
            raise self.error(key, f"{value} is outside {low} to {high}")
        return value

    def day(self, key: str, *, optional: bool = False) -> date | None:
        """A TOML local date (unquoted); ``None`` if optional and absent."""
        if optional and key not in self.data:
            return None
        value = self.raw(key)
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise self.error(key, "must be a date such as 2008-10-02 (unquoted)")
        return value

    def pence(self, key: str, *, optional: bool = False) -> Pence | None:
        """An amount in pounds (a string, or whole pounds) as pence; ``None`` if optional and absent."""
        if optional and key not in self.data:
            return None
        value = self.raw(key)
        # Floats are refused: "47.95" as a TOML float is not exactly 47.95.
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(key, 'must be an amount in pounds as a string, e.g. "47.95"')
        try:
            return parse_pounds(value, field=self.name(key))
        except InvalidInput as exc:
            raise ConfigurationError(f"{self.file}: {exc.message}") from None

    def amount(self, key: str) -> Pence:
        """A required amount in pounds, as pence."""
        value = self.pence(key)
        assert value is not None  # optional=False never returns None
        return value

    def rate(self, key: str) -> Decimal:
        """A proportion between 0 and 1 written as a string, e.g. ``"0.05"`` for 5%."""
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.error(key, 'must be a proportion as a string, e.g. "0.05" for 5%')
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            raise self.error(key, f"{value!r} is not a number") from None
        if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
            raise self.error(key, f"{value} must be between 0 and 1")
        return rate

    def factor(self, key: str) -> Fraction:
        """A positive exact number: a decimal (``"387.33"``) or a fraction (``"1162/3"``)."""
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.error(key, 'must be a string such as "1162/3" or "387.33"')
        try:
            number = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise self.error(key, f"{value!r} is not a number or fraction") from None
        if number <= 0:
            raise self.error(key, f"{value} must be more than 0")
        return number

    def codes(self, key: str, known: Iterable[str], what: str) -> tuple[str, ...]:
        """A list of codes, each one of ``known`` (``what`` names them in the message)."""
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, "must be a list of strings")
        known = frozenset(known)
        for item in value:
            if item not in known:
                raise self.error(key, f"unknown {what} {item!r} (known: {', '.join(sorted(known))})")
        return tuple(value)

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of strings."""
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, "must be a list of strings")
        return tuple(value)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error or unreadable file is a :class:`ConfigurationError`."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path.name}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path.name}: not valid TOML: not UTF-8 text") from None
    except RecursionError:  # the parser recurses once per nested array or table
        raise ConfigurationError(f"{path.name}: not valid TOML: nested too deeply") from None
    except OSError as exc:
        raise ConfigurationError(f"{path.name}: cannot be read: {exc.strerror}") from None


def _jurisdiction(section: TomlSection) -> str:
    value = section.text("jurisdiction")
    if value not in JURISDICTIONS:
        raise section.error("jurisdiction", f"unknown jurisdiction {value!r} (known: england, wales)")
    return value


def _dated(section: TomlSection) -> tuple[date, date | None]:
    start = section.day("effective_from")
    end = section.day("effective_to", optional=True)
    assert start is not None
    if end is not None and end < start:
        raise section.error("effective_to", f"{end} is before effective_from {start}")
    return start, end


# --------------------------------------------------------------------------------------------------
# Continuity of dated rows


@dataclass(frozen=True)
class _Span:
    label: str  # how an error names the row, e.g. "england-2008-10 (means-test-england-2008.toml)"
    file: str
    key_prefix: str  # "" for a whole file, "maximum[1]." for a row
    jurisdiction: str
    effective_from: date
    effective_to: date | None


def _check_continuous(spans: Sequence[_Span]) -> None:
    """Refuse a gap or an overlap between consecutive spans of each jurisdiction."""
    for jurisdiction in sorted({s.jurisdiction for s in spans}):
        ordered = sorted((s for s in spans if s.jurisdiction == jurisdiction), key=lambda s: s.effective_from)
        for before, after in pairwise(ordered):
            where = f"{after.file}: {after.key_prefix}effective_from: {after.effective_from}"
            if before.effective_to is None:
                raise ConfigurationError(
                    f"{where} overlaps {before.label}, which has no effective_to; "
                    f"give it effective_to = {after.effective_from - timedelta(days=1)}"
                )
            expected = before.effective_to + timedelta(days=1)
            if after.effective_from > expected:
                raise ConfigurationError(
                    f"{where} leaves a gap after {before.label}, which ends on {before.effective_to}; "
                    f"the next must start on {expected}"
                )
            if after.effective_from < expected:
                raise ConfigurationError(
                    f"{where} overlaps {before.label}, which ends on {before.effective_to}; "
                    f"the next must start on {expected}"
                )


def _select(rows: Sequence[_T], spans: Sequence[_Span], on: date, jurisdiction: str, what: str) -> _T:
    for row, span in zip(rows, spans, strict=True):
        if span.jurisdiction != jurisdiction or span.effective_from > on:
            continue
        if span.effective_to is None or on <= span.effective_to:
            return row
    covered = sorted(s.effective_from for s in spans if s.jurisdiction == jurisdiction)
    if not covered:
        raise InvalidInput(f"jurisdiction: no {what} for {jurisdiction!r}")
    raise InvalidInput(
        f"on: no {what} in force for {jurisdiction} on {on} (the earliest starts on {covered[0]})"
    )


# --------------------------------------------------------------------------------------------------
# The means-test rate table


@dataclass(frozen=True)
class Provenance:
    """Where a table's numbers came from: a paragraph of explanation and the sources."""

    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Band:
    """One band of the excess: its width (``None`` for the rest) and its taper rate (0 to 1)."""

    number: int  # 1-based, as an officer counts them
    width_pence: Pence | None
    rate: Decimal


@dataclass(frozen=True)
class RateTable:
    """Every number the test of resources needs, for one jurisdiction and one dated period.

    Amounts are pence, looked up by their dotted key (``amount("application.flat_addition")``) so that
    each line of a determination's trace can name the key it came from.
    """

    version: str
    jurisdiction: str
    effective_from: date
    effective_to: date | None
    status: str
    provenance: Provenance
    source_file: str
    amounts: Mapping[str, Pence]
    pension_credit_qualifying_age: int
    pension_higher_age: int
    premiums_not_at_pension_age: frozenset[str]
    passport_benefits: frozenset[str]
    tax_credit_benefits: frozenset[str]
    universal_credit_passport: bool
    universal_credit_basis: str
    income_disregarded: frozenset[str]
    bands: tuple[Band, ...]
    loan_factors: Mapping[str, Fraction]
    look_back_years: Mapping[str, int]
    notes: Mapping[str, str] = field(default_factory=dict)

    def amount(self, key: str) -> Pence:
        """The amount in pence for a dotted key such as ``"premium.carer"``."""
        return self.amounts[key]

    def note(self, key: str) -> str | None:
        """The table's note on a key still to confirm, if any."""
        return self.notes.get(key)

    def loan_factor(self, tenure: str) -> Fraction:
        """The loan factor (pounds of loan per £1 a week of tapered excess) for a tenure."""
        return self.loan_factors[tenure]

    def in_force_on(self, on: date) -> bool:
        """Whether the table covers approvals on ``on``."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


def _read_bands(table: TomlSection) -> tuple[Band, ...]:
    rows = table.sections("bands")
    if not rows:
        raise table.error("bands", "at least one band is needed")
    bands: list[Band] = []
    for number, row in enumerate(rows, start=1):
        row.only(("width", "rate"))
        last = number == len(rows)
        width = row.pence("width", optional=True)
        if last and width is not None:
            raise row.error("width", "the last band is the rest of the excess: give it no width")
        if not last and width is None:
            raise row.error("width", "missing (only the last band, the rest of the excess, has no width)")
        if width is not None and width <= 0:
            raise row.error("width", "must be more than 0")
        rate = row.rate("rate")
        if bands and rate < bands[-1].rate:
            raise row.error(
                "rate", f"{rate} is lower than the band before ({bands[-1].rate}); tapers must not fall"
            )
        bands.append(Band(number=number, width_pence=width, rate=rate))
    return tuple(bands)


def _read_table(path: Path) -> RateTable:
    file = path.name
    top = TomlSection(read_toml(path), file)
    top.only(_TABLE_KEYS)
    start, end = _dated(top)
    assert start is not None

    amounts: dict[str, Pence] = {}
    sections: dict[str, TomlSection] = {}
    extra_keys = {
        "pension_age": ("qualifying_age", "higher_age", "premiums_not_applicable"),
        "passport": ("benefits", "tax_credit_benefits", "universal_credit", "universal_credit_basis"),
    }
    for name, keys in REQUIRED_AMOUNTS.items():
        section = top.section(name)
        section.only((*keys, *extra_keys.get(name, ())))
        for key in keys:
            amounts[f"{name}.{key}"] = section.amount(key)
        sections[name] = section
    if amounts["capital.tariff_step"] <= 0:
        raise sections["capital"].error("tariff_step", "must be more than 0")

    pension = sections["pension_age"]
    passport = sections["passport"]
    income = top.section("income")
    income.only(("disregarded",))

    loan = top.section("loan_factor")
    loan.only(MEANS_TESTED_TENURES)
    look_back = top.section("look_back_years")
    look_back.only(MEANS_TESTED_TENURES)

    leaf_keys = set(amounts) | {
        "pension_age.qualifying_age",
        "pension_age.higher_age",
        "pension_age.premiums_not_applicable",
        "passport.benefits",
        "passport.tax_credit_benefits",
        "passport.universal_credit",
        "income.disregarded",
        *(f"loan_factor.{t}" for t in MEANS_TESTED_TENURES),
        *(f"look_back_years.{t}" for t in MEANS_TESTED_TENURES),
        *(f"bands[{i}]" for i in range(len(top.raw("bands")) if isinstance(top.raw("bands"), list) else 0)),
    }
    notes: dict[str, str] = {}
    if "notes" in top.data:
        notes_section = top.section("notes")
        for key in notes_section.data:
            if key not in leaf_keys:
                raise notes_section.error(key, "names no key of this table")
            notes[key] = notes_section.text(key)

    provenance = top.section("provenance")
    provenance.only(("text", "sources"))

    return RateTable(
        version=top.text("version"),
        jurisdiction=_jurisdiction(top),
        effective_from=start,
        effective_to=end,
        status=top.text("status"),
        provenance=Provenance(text=provenance.text("text"), sources=provenance.strings("sources")),
        source_file=file,
        amounts=amounts,
        pension_credit_qualifying_age=pension.integer("qualifying_age", low=50, high=80),
        pension_higher_age=pension.integer("higher_age", low=50, high=90),
        premiums_not_at_pension_age=frozenset(pension.codes("premiums_not_applicable", PREMIUMS, "premium")),
        passport_benefits=frozenset(passport.codes("benefits", BENEFITS, "benefit")),
        tax_credit_benefits=frozenset(passport.codes("tax_credit_benefits", BENEFITS, "benefit")),
        universal_credit_passport=passport.boolean("universal_credit"),
        universal_credit_basis=passport.text("universal_credit_basis"),
        income_disregarded=frozenset(income.codes("disregarded", INCOME_KINDS, "income kind")),
        bands=_read_bands(top),
        loan_factors={tenure: loan.factor(tenure) for tenure in MEANS_TESTED_TENURES},
        look_back_years={
            tenure: look_back.integer(tenure, low=0, high=50) for tenure in MEANS_TESTED_TENURES
        },
        notes=notes,
    )


def load_rate_table(path: Path) -> RateTable:
    """Read and validate one means-test rate table file (a council's draft, or a table to compare)."""
    return _read_table(path)


def load_rate_tables(directory: Path | None = None) -> tuple[RateTable, ...]:
    """Load and validate every ``means-test-*.toml`` in ``directory`` (default ``workflows/rates``).

    Raises :class:`ConfigurationError` for a bad file, a repeated version id, or a gap or overlap
    between the tables of one jurisdiction.
    """
    folder = directory if directory is not None else workflows_dir() / "rates"
    paths = sorted(folder.glob("means-test-*.toml"))
    if not paths:
        raise ConfigurationError(f"{folder}: no means-test-*.toml rate tables found")
    tables = tuple(sorted((_read_table(p) for p in paths), key=lambda t: (t.jurisdiction, t.effective_from)))
    seen: dict[str, str] = {}
    for table in tables:
        if table.version in seen:
            raise ConfigurationError(
                f"{table.source_file}: version: {table.version!r} is also used by {seen[table.version]}"
            )
        seen[table.version] = table.source_file
    _check_continuous([_table_span(t) for t in tables])
    return tables


def _table_span(table: RateTable) -> _Span:
    return _Span(
        label=f"{table.version} ({table.source_file})",
        file=table.source_file,
        key_prefix="",
        jurisdiction=table.jurisdiction,
        effective_from=table.effective_from,
        effective_to=table.effective_to,
    )


@cache
def _default_tables(folder: Path) -> tuple[RateTable, ...]:
    return load_rate_tables(folder)


def rates_for(
    on: date, *, jurisdiction: str = "england", tables: Sequence[RateTable] | None = None
) -> RateTable:
    """The means-test table in force for an application approved on ``on``.

    Use the approval date; for a provisional result before approval, the assessment date. ``tables``
    defaults to the validated tables in ``workflows/rates``. Raises :class:`InvalidInput` if no table
    covers the date.
    """
    rows = tuple(tables) if tables is not None else _default_tables(workflows_dir() / "rates")
    return _select(rows, [_table_span(t) for t in rows], on, jurisdiction, "means-test rate table")


# --------------------------------------------------------------------------------------------------
# Maximum mandatory grant


@dataclass(frozen=True)
class MaximumGrant:
    """The maximum mandatory grant for one jurisdiction over one dated period."""

    version: str  # e.g. "england-2008-05-22"
    jurisdiction: str
    effective_from: date
    effective_to: date | None
    amount_pence: Pence
    source: str
    note: str


def load_maximum_grants(path: Path | None = None) -> tuple[MaximumGrant, ...]:
    """Load and validate ``maximum-grant.toml`` (rows by jurisdiction, without gaps or overlaps)."""
    file_path = path if path is not None else workflows_dir() / "rates" / "maximum-grant.toml"
    top = TomlSection(read_toml(file_path), file_path.name)
    top.only(("maximum",))
    rows: list[MaximumGrant] = []
    spans: list[_Span] = []
    for index, row in enumerate(top.sections("maximum")):
        row.only(("jurisdiction", "effective_from", "effective_to", "amount", "source", "note"))
        start, end = _dated(row)
        assert start is not None
        jurisdiction = _jurisdiction(row)
        amount = row.amount("amount")
        if amount <= 0:
            raise row.error("amount", "must be more than 0")
        item = MaximumGrant(
            version=f"{jurisdiction}-{start.isoformat()}",
            jurisdiction=jurisdiction,
            effective_from=start,
            effective_to=end,
            amount_pence=amount,
            source=row.text("source"),
            note=row.text("note", default=""),
        )
        rows.append(item)
        spans.append(_Span(item.version, file_path.name, f"maximum[{index}].", jurisdiction, start, end))
    _check_continuous(spans)
    return tuple(rows)


@cache
def _default_maximum_grants(folder: Path) -> tuple[MaximumGrant, ...]:
    return load_maximum_grants(folder / "maximum-grant.toml")


def maximum_grant_for(
    on: date, *, jurisdiction: str = "england", rows: Sequence[MaximumGrant] | None = None
) -> MaximumGrant:
    """The maximum mandatory grant in force on ``on`` (the approval date) in ``jurisdiction``."""
    table = tuple(rows) if rows is not None else _default_maximum_grants(workflows_dir() / "rates")
    spans = [_Span(r.version, "", "", r.jurisdiction, r.effective_from, r.effective_to) for r in table]
    return _select(table, spans, on, jurisdiction, "maximum grant")


# --------------------------------------------------------------------------------------------------
# Land charge (repayment on disposal)


@dataclass(frozen=True)
class LandChargeTerms:
    """Repayment on disposal: the part of the grant above ``floor``, at most ``cap``, within ``years``."""

    version: str
    jurisdiction: str
    effective_from: date
    effective_to: date | None
    floor_pence: Pence
    cap_pence: Pence
    years: int
    tenures: frozenset[str]
    source: str
    note: str


def load_land_charge_terms(path: Path | None = None) -> tuple[LandChargeTerms, ...]:
    """Load and validate ``land-charge.toml`` (or a district's ``land-charge-<CODE>.toml``, whose
    versions carry its code, ``CAN:england-2008-05-22``, so a registered charge names the terms it used)."""
    file_path = path if path is not None else workflows_dir() / "rates" / "land-charge.toml"
    top = TomlSection(read_toml(file_path), file_path.name)
    own = file_path.stem.removeprefix("land-charge-") if file_path.stem != "land-charge" else ""
    top.only(("terms",))
    rows: list[LandChargeTerms] = []
    spans: list[_Span] = []
    for index, row in enumerate(top.sections("terms")):
        row.only(
            (
                "jurisdiction",
                "effective_from",
                "effective_to",
                "floor",
                "cap",
                "years",
                "tenures",
                "source",
                "note",
            )
        )
        start, end = _dated(row)
        assert start is not None
        jurisdiction = _jurisdiction(row)
        item = LandChargeTerms(
            version=f"{own}:{jurisdiction}-{start.isoformat()}"
            if own
            else f"{jurisdiction}-{start.isoformat()}",
            jurisdiction=jurisdiction,
            effective_from=start,
            effective_to=end,
            floor_pence=row.amount("floor"),
            cap_pence=row.amount("cap"),
            years=row.integer("years", low=1, high=50),
            tenures=frozenset(row.codes("tenures", APPLICANT_TENURES, "tenure")),
            source=row.text("source"),
            note=row.text("note", default=""),
        )
        rows.append(item)
        spans.append(_Span(item.version, file_path.name, f"terms[{index}].", jurisdiction, start, end))
    _check_continuous(spans)
    return tuple(rows)


@cache
def _default_land_charge_terms(folder: Path) -> tuple[LandChargeTerms, ...]:
    return load_land_charge_terms(folder / "land-charge.toml")


#: The circumstances the council weighs before demanding repayment (2008 general consent), by code.
REPAYMENT_FACTORS: Mapping[str, str] = {
    "hardship": "Repaying would cause the owner financial hardship",
    "health": "The owner is moving for health reasons",
    "care": "The owner is moving to give or receive care",
    "employment": "The owner is moving for work",
    "none": "No special circumstances",
}


def land_charge_for(
    on: date, *, jurisdiction: str = "england", rows: Sequence[LandChargeTerms] | None = None
) -> LandChargeTerms:
    """The land-charge terms in force for a grant approved on ``on``."""
    table = tuple(rows) if rows is not None else _default_land_charge_terms(workflows_dir() / "rates")
    spans = [_Span(r.version, "", "", r.jurisdiction, r.effective_from, r.effective_to) for r in table]
    return _select(table, spans, on, jurisdiction, "land-charge terms")


def repayable_on_disposal(grant_pence: Pence, on: date, *, terms: LandChargeTerms | None = None) -> Pence:
    """The most the council may demand on disposal: ``min(cap, max(0, grant − floor))``.

    ``on`` is the approval date (it selects the terms). Whether the charge applies at all (owner's
    application, disposal before the charge expires) and whether to waive it are for the caller and the
    council's discretion; this gives the amount only.
    """
    if grant_pence < 0:
        raise InvalidInput(f"grant: {grant_pence} pence must not be negative")
    selected = terms if terms is not None else land_charge_for(on)
    return min(selected.cap_pence, max(0, grant_pence - selected.floor_pence))


def charge_expiry(certified_on: date, terms: LandChargeTerms) -> date:
    """The day the charge period ends: the certified date plus the terms' years (29 Feb → 28 Feb)."""
    return add_years(certified_on, terms.years)


def long_date(day: date) -> str:
    """A date as an officer writes it: ``2 October 2008``."""
    return f"{day.day} {day:%B %Y}"


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (negative to go back); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
