"""Local policy for the grant calculation: preliminary and ancillary charges, and discretionary funding lines.

Read from ``workflows/policy/``:

- ``charges.toml``: the fee rates and caps for preliminary and ancillary charges, and the cap-order
  setting (``deduct_then_cap`` or ``cap_then_deduct``);
- ``funding-lines.toml``: discretionary funding lines under the council's Housing Assistance Policy
  (Regulatory Reform Order 2002), each with its own cap, means-test switch and repayment terms;
- ``works.toml``: contractors' accreditation, the approval's standard conditions, the cap on interim
  payments, what completion needs;
- ``authority.toml``: the housing authority's jurisdiction (England or Wales: which maximum grant,
  means-test table and land-charge terms apply) and its means-test settings (the Universal Credit
  passport, the tax-credit income ceiling) where it departs from the rate table.

A district may replace any of these files with its own, named with its code: ``charges-CAN.toml``,
``funding-lines-CAN.toml``, ``authority-CAN.toml`` (and so ``targets-CAN.toml`` for the clocks and
``land-charge-CAN.toml`` among the rate tables, through :func:`district_file`). A district's file replaces the default whole (a published policy is read as
one document; nothing is merged). Files are validated at load: a bad one raises
:class:`ConfigurationError` naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from dfg.errors import ConfigurationError, InvalidInput
from dfg.paths import workflows_dir
from dfg.rules.money import Pence
from dfg.rules.rates import JURISDICTIONS, TomlSection, read_toml

CapOrder = Literal["deduct_then_cap", "cap_then_deduct"]
CAP_ORDERS: tuple[CapOrder, ...] = ("deduct_then_cap", "cap_then_deduct")

ChargeBasis = Literal["percent_of_works", "fixed"]
CHARGE_BASES: tuple[ChargeBasis, ...] = ("percent_of_works", "fixed")

FundingKind = Literal["top_up", "fast_track", "named_works", "relocation"]
#: top_up: pays cost above the mandatory maximum. The others are alternative routes that replace the
#: mandatory grant when they apply: fast_track (expense at or under a threshold, optionally only for
#: listed reasons), named_works (every type of work is on the line's list), relocation (moving instead
#: of adapting).
FUNDING_KINDS: tuple[FundingKind, ...] = ("top_up", "fast_track", "named_works", "relocation")

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
#: A district code as a file name carries it: ``charges-CAN.toml``.
DISTRICT_CODE = re.compile(r"^[A-Z]{2,8}$")


@dataclass(frozen=True)
class ChargeRule:
    """How one kind of preliminary or ancillary charge is allowed: a % of the works, or a fixed fee."""

    kind: str
    label: str
    basis: ChargeBasis
    rate: Decimal | None  # for percent_of_works
    cap_pence: Pence | None
    source: str
    payee: str = "professional"  # who the fee is paid to (FEE_PAYEES)


#: Who a fee may be paid to: the home improvement agency, the professional who did the work (surveyor,
#: architect, engineer), or the authority whose fee it is (planning, building control).
FEE_PAYEES = ("agency", "professional", "authority")


@dataclass(frozen=True)
class ChargesPolicy:
    """The charges a council allows and the order of cap and deduction."""

    source_file: str
    cap_order: CapOrder
    cap_order_note: str
    rules: Mapping[str, ChargeRule]

    def rule(self, kind: str, *, field: str = "kind") -> ChargeRule:
        """The rule for a kind of charge; :class:`InvalidInput` naming ``field`` if there is none."""
        if kind not in self.rules:
            raise InvalidInput(f"{field}: unknown charge {kind!r} (known: {', '.join(sorted(self.rules))})")
        return self.rules[kind]


@dataclass(frozen=True)
class RepaymentTerms:
    """What a funding line's recipient must repay, and when."""

    summary: str
    within_years: int  # repayable on disposal within this many years of the certified date; 0: never
    land_charge: bool


@dataclass(frozen=True)
class FundingLine:
    """A discretionary funding line from the council's Housing Assistance Policy."""

    code: str
    label: str
    kind: FundingKind
    cap_pence: Pence
    means_tested: bool
    repayment: RepaymentTerms
    threshold_pence: Pence | None = None  # fast_track: the estimated expense must be at or under it
    works: frozenset[str] = frozenset()  # named_works: the types of work it covers
    reasons: frozenset[str] = frozenset()  # fast_track: if given, the case needs one of these reasons
    source: str = ""


@dataclass(frozen=True)
class FundingPolicy:
    """The funding lines in force for a district (or the default policy)."""

    source_file: str
    district: str | None
    lines: tuple[FundingLine, ...]

    def line(self, code: str, *, field: str = "funding_line") -> FundingLine:
        """The line with ``code``; :class:`InvalidInput` naming ``field`` if there is none."""
        for line in self.lines:
            if line.code == code:
                return line
        known = ", ".join(line.code for line in self.lines)
        raise InvalidInput(f"{field}: unknown funding line {code!r} (known: {known})")


def district_file(folder: Path, stem: str, district: str | None) -> Path:
    """``<stem>-<CODE>.toml`` in ``folder`` if the district has its own file, else ``<stem>.toml``."""
    if district is not None:
        code = district.strip().upper()
        if not DISTRICT_CODE.match(code):
            raise InvalidInput(f"district: {district!r} is not a district code (2 to 8 letters, e.g. CAN)")
        own = folder / f"{stem}-{code}.toml"
        if own.is_file():
            return own
    return folder / f"{stem}.toml"


def _code(section: TomlSection, key: str) -> str:
    value = section.text(key)
    if not _CODE.match(value):
        raise section.error(key, f"{value!r} must be a lower-case code such as top_up")
    return value


def _codes(section: TomlSection, key: str) -> frozenset[str]:
    if key not in section.data:
        return frozenset()
    values = section.strings(key)
    for value in values:
        if not _CODE.match(value):
            raise section.error(key, f"{value!r} must be a lower-case code such as stairlift")
    return frozenset(values)


def read_charges_policy(path: Path) -> ChargesPolicy:
    """Read and validate one charges policy file."""
    top = TomlSection(read_toml(path), path.name)
    top.only(("cap_order", "cap_order_note", "charges"))
    cap_order = top.text("cap_order")
    if cap_order not in CAP_ORDERS:
        raise top.error("cap_order", f"{cap_order!r} is not one of {', '.join(CAP_ORDERS)}")
    charges = top.section("charges")
    rules: dict[str, ChargeRule] = {}
    for kind in charges.data:
        row = charges.section(kind)
        if not _CODE.match(kind):
            raise charges.error(kind, "must be a lower-case code such as agency_fee")
        row.only(("label", "basis", "rate", "cap", "source", "payee"))
        payee = row.text("payee", default="professional")
        if payee not in FEE_PAYEES:
            raise row.error("payee", f"{payee!r} is not one of {', '.join(FEE_PAYEES)}")
        basis = row.text("basis")
        if basis not in CHARGE_BASES:
            raise row.error("basis", f"{basis!r} is not one of {', '.join(CHARGE_BASES)}")
        rate = row.rate("rate") if basis == "percent_of_works" else None
        if basis == "fixed" and "rate" in row.data:
            raise row.error("rate", "a fixed fee has no rate (its amount is given per case)")
        cap = row.pence("cap", optional=True)
        rules[kind] = ChargeRule(
            kind=kind,
            label=row.text("label"),
            basis=basis,
            rate=rate,
            cap_pence=cap,
            source=row.text("source", default=""),
            payee=payee,
        )
    if not rules:
        raise top.error("charges", "at least one kind of charge is needed")
    return ChargesPolicy(
        source_file=path.name,
        cap_order=cap_order,
        cap_order_note=top.text("cap_order_note", default=""),
        rules=rules,
    )


def load_charges_policy(district: str | None = None, *, directory: Path | None = None) -> ChargesPolicy:
    """The charges policy for ``district`` (its ``charges-<CODE>.toml`` if it has one, else the default)."""
    folder = directory if directory is not None else workflows_dir() / "policy"
    return read_charges_policy(district_file(folder, "charges", district))


def _read_line(row: TomlSection) -> FundingLine:
    row.only(
        (
            "code",
            "label",
            "kind",
            "cap",
            "means_tested",
            "threshold",
            "works",
            "reasons",
            "repayment",
            "source",
        )
    )
    kind = row.text("kind")
    if kind not in FUNDING_KINDS:
        raise row.error("kind", f"{kind!r} is not one of {', '.join(FUNDING_KINDS)}")
    cap = row.amount("cap")
    if cap <= 0:
        raise row.error("cap", "must be more than 0")
    threshold = row.pence("threshold", optional=True)
    works = _codes(row, "works")
    reasons = _codes(row, "reasons")
    allowed = {"fast_track": {"threshold", "reasons"}, "named_works": {"works"}}.get(kind, set())
    for key in ("threshold", "works", "reasons"):
        if key in row.data and key not in allowed:
            raise row.error(key, f"does not apply to a {kind} line")
    if kind == "fast_track" and threshold is None and not reasons:
        raise row.error("threshold", "a fast_track line needs a threshold, reasons, or both")
    if kind == "named_works" and not works:
        raise row.error("works", "a named_works line needs the list of works it covers")
    repayment = row.section("repayment")
    repayment.only(("summary", "within_years", "land_charge"))
    return FundingLine(
        code=_code(row, "code"),
        label=row.text("label"),
        kind=kind,
        cap_pence=cap,
        means_tested=row.boolean("means_tested"),
        repayment=RepaymentTerms(
            summary=repayment.text("summary"),
            within_years=repayment.integer("within_years", low=0, high=50),
            land_charge=repayment.boolean("land_charge"),
        ),
        threshold_pence=threshold,
        works=works,
        reasons=reasons,
        source=row.text("source", default=""),
    )


def read_funding_policy(path: Path, district: str | None = None) -> FundingPolicy:
    """Read and validate one funding-lines file."""
    top = TomlSection(read_toml(path), path.name)
    top.only(("line",))
    lines = tuple(_read_line(row) for row in top.sections("line"))
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.code in seen:
            raise ConfigurationError(f"{path.name}: line[{index}].code: {line.code!r} is used twice")
        seen.add(line.code)
    return FundingPolicy(source_file=path.name, district=district, lines=lines)


def load_funding_lines(district: str | None = None, *, directory: Path | None = None) -> FundingPolicy:
    """The funding lines for ``district``: its ``funding-lines-<CODE>.toml``, else the default file."""
    folder = directory if directory is not None else workflows_dir() / "policy"
    path = district_file(folder, "funding-lines", district)
    own = path.stem != "funding-lines"
    return read_funding_policy(path, district.strip().upper() if own and district else None)


@dataclass(frozen=True)
class WorksPolicy:
    """The local rules for contractors, interim payments and completion."""

    source_file: str
    require_current_accreditation: bool
    conditions: tuple[str, ...]  # stated on every approval
    interim_cap: Decimal  # share of the approved assistance payable before the certified date
    interim_cap_note: str
    ot_sign_off: bool
    applicant_satisfaction: bool
    largest_estimate_pence: Pence


def read_works_policy(path: Path) -> WorksPolicy:
    """Read and validate one works policy file."""
    top = TomlSection(read_toml(path), path.name)
    top.only(("contractors", "estimates", "approval", "payments", "completion"))
    approval = top.section("approval")
    approval.only(("conditions",))
    contractors = top.section("contractors")
    contractors.only(("require_current_accreditation",))
    payments = top.section("payments")
    payments.only(("interim_cap", "interim_cap_note"))
    cap = payments.rate("interim_cap")
    completion = top.section("completion")
    completion.only(("ot_sign_off", "applicant_satisfaction"))
    estimates = top.section("estimates")
    estimates.only(("largest_price",))
    return WorksPolicy(
        source_file=path.name,
        require_current_accreditation=contractors.boolean("require_current_accreditation"),
        conditions=approval.strings("conditions"),
        interim_cap=cap,
        interim_cap_note=payments.text("interim_cap_note", default=""),
        ot_sign_off=completion.boolean("ot_sign_off"),
        applicant_satisfaction=completion.boolean("applicant_satisfaction"),
        largest_estimate_pence=estimates.amount("largest_price"),
    )


def load_works_policy(district: str | None = None, *, directory: Path | None = None) -> WorksPolicy:
    """The works policy for ``district`` (its ``works-<CODE>.toml`` if it has one, else the default)."""
    folder = directory if directory is not None else workflows_dir() / "policy"
    return read_works_policy(district_file(folder, "works", district))


@dataclass(frozen=True)
class AuthorityPolicy:
    """Where the housing authority is and how it runs the test of resources where councils differ."""

    source_file: str
    jurisdiction: str  # one of JURISDICTIONS: selects the maximum grant, means-test table, land charge
    universal_credit_passport: bool | None  # None: the rate table's setting
    universal_credit_basis: str  # why, when the council sets it
    tax_credit_income_ceiling_pence: Pence | None  # None: the rate table's figure
    tax_credit_income_ceiling_basis: str


def read_authority_policy(path: Path) -> AuthorityPolicy:
    """Read and validate one authority policy file."""
    top = TomlSection(read_toml(path), path.name)
    top.only(("jurisdiction", "means_test"))
    jurisdiction = top.text("jurisdiction")
    if jurisdiction not in JURISDICTIONS:
        known = ", ".join(sorted(JURISDICTIONS))
        raise top.error("jurisdiction", f"unknown jurisdiction {jurisdiction!r} (known: {known})")
    means = (
        TomlSection({}, path.name, "means_test")
        if "means_test" not in top.data
        else top.section("means_test")
    )
    means.only(
        (
            "universal_credit_passport",
            "universal_credit_basis",
            "tax_credit_income_ceiling",
            "tax_credit_income_ceiling_basis",
        )
    )
    passport = (
        means.boolean("universal_credit_passport") if "universal_credit_passport" in means.data else None
    )
    ceiling = means.pence("tax_credit_income_ceiling", optional=True)
    if ceiling is not None and ceiling <= 0:
        raise means.error("tax_credit_income_ceiling", "must be more than 0")
    # A setting that departs from the rate table must say why: it is quoted in every determination.
    for key, value in (("universal_credit_passport", passport), ("tax_credit_income_ceiling", ceiling)):
        basis = key.removesuffix("_passport") + "_basis"
        if value is not None and basis not in means.data:
            raise means.error(basis, f"missing (say on what basis the council sets {key})")
        if value is None and basis in means.data:
            raise means.error(basis, f"given without {key}")
    return AuthorityPolicy(
        source_file=path.name,
        jurisdiction=jurisdiction,
        universal_credit_passport=passport,
        universal_credit_basis=means.text("universal_credit_basis", default=""),
        tax_credit_income_ceiling_pence=ceiling,
        tax_credit_income_ceiling_basis=means.text("tax_credit_income_ceiling_basis", default=""),
    )


def load_authority_policy(district: str | None = None, *, directory: Path | None = None) -> AuthorityPolicy:
    """The authority policy for ``district`` (its ``authority-<CODE>.toml`` if it has one, else the
    default)."""
    folder = directory if directory is not None else workflows_dir() / "policy"
    return read_authority_policy(district_file(folder, "authority", district))
