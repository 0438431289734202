"""Check the local policy files for ``dfg workflow lint``: every file loads; each district's own file
(``charges-CAN.toml``, ``targets-CAN.toml``, ``land-charge-CAN.toml`` ...) names a district of the
installation; and a district's file changes only what is the council's to set (the law stays as the
default files have it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from dfg.errors import ConfigurationError
from dfg.rules.clocks import PERIOD_NAMES, ClockPolicy, load_clock_policy
from dfg.rules.money import format_pounds
from dfg.rules.policy import (
    DISTRICT_CODE,
    AuthorityPolicy,
    read_authority_policy,
    read_charges_policy,
    read_funding_policy,
    read_works_policy,
)
from dfg.rules.rates import (
    LandChargeTerms,
    load_land_charge_terms,
    load_maximum_grants,
    load_rate_tables,
)
from dfg.rules.retention import read_retention_policy

#: The clock periods a council sets for itself; every other period in targets.toml is the law's.
LOCAL_PERIODS = ("review_window",)


@dataclass(frozen=True)
class _Kind:
    folder: str  # under workflows/
    stem: str  # the default file's name without .toml; a district's is <stem>-<CODE>.toml
    read: Callable[[Path], object]


_KINDS = (
    _Kind("policy", "charges", read_charges_policy),
    _Kind("policy", "funding-lines", read_funding_policy),
    _Kind("policy", "works", read_works_policy),
    _Kind("policy", "retention", read_retention_policy),
    _Kind("policy", "authority", read_authority_policy),
    _Kind("policy", "targets", load_clock_policy),
    _Kind("policy", "reminders", lambda path: None),  # read by lint.reminder_problems
    _Kind("rates", "land-charge", load_land_charge_terms),
)


def _district_files(folder: Path, stem: str) -> dict[str, Path]:
    """Each district's own file of one kind, by the code in its name (``funding-lines-CAN`` is not a
    ``funding`` file: the code is what follows the whole stem)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob(f"{stem}-*.toml")):
        found[path.stem.removeprefix(f"{stem}-")] = path
    return found


def _law_changed(default: ClockPolicy, own: ClockPolicy) -> list[str]:
    """The periods of a district's targets file that differ from the default's, where the law sets them."""
    changed = []
    for name in PERIOD_NAMES:
        if name in LOCAL_PERIODS:
            continue
        lengths = [
            [(p.amount, p.unit, p.effective_from) for p in policy.periods[name]] for policy in (default, own)
        ]
        if lengths[0] != lengths[1]:
            changed.append(name)
    return changed


def _beyond_consent(default: tuple[LandChargeTerms, ...], own: tuple[LandChargeTerms, ...]) -> list[str]:
    """A district's land-charge terms that demand more than the default terms (the general consent) allow."""
    problems = []
    for index, terms in enumerate(own):
        for law in default:
            if law.jurisdiction != terms.jurisdiction or law.effective_from > terms.effective_from:
                continue
            if law.effective_to is not None and law.effective_to < terms.effective_from:
                continue
            if (
                terms.floor_pence < law.floor_pence
                or terms.cap_pence > law.cap_pence
                or terms.years > law.years
            ):
                problems.append(
                    f"terms[{index}]: demands more than the terms in force ({law.version}: above "
                    f"{format_pounds(law.floor_pence)}, at most {format_pounds(law.cap_pence)}, within {law.years} years)"
                )
    return problems


def _jurisdiction_problems(
    name: str, policy: AuthorityPolicy, land_charge: tuple[LandChargeTerms, ...] | None, workflows: Path
) -> list[str]:
    where = f"{name}: jurisdiction {policy.jurisdiction!r}"
    problems = []
    tables: list[tuple[str, set[str]]] = []
    try:
        tables.append(
            (
                "rates/maximum-grant.toml",
                {r.jurisdiction for r in load_maximum_grants(workflows / "rates" / "maximum-grant.toml")},
            )
        )
        tables.append(
            ("rates/means-test-*.toml", {t.jurisdiction for t in load_rate_tables(workflows / "rates")})
        )
    except ConfigurationError as exc:
        return [str(exc)]
    if land_charge is not None:
        tables.append(("its land-charge terms", {t.jurisdiction for t in land_charge}))
    for file, jurisdictions in tables:
        if policy.jurisdiction not in jurisdictions:
            problems.append(f"{where} has no row in {file}")
    return problems


def policy_problems(workflows: Path, districts: Collection[str]) -> list[str]:
    """Every problem with the local policy files under ``workflows``, one sentence each; empty when sound.

    ``districts`` are the codes of the installation's districts: a district's own file for any other
    code is refused (it would never be read)."""
    problems: list[str] = []
    loaded: dict[tuple[str, str], object] = {}  # (stem, code or "") -> what the file holds
    for kind in _KINDS:
        folder = workflows / kind.folder
        files = {"": folder / f"{kind.stem}.toml", **_district_files(folder, kind.stem)}
        for code, path in files.items():
            if code and not DISTRICT_CODE.match(code):
                problems.append(
                    f"{path.name}: {code!r} is not a district code (2 to 8 capital letters, e.g. CAN)"
                )
                continue
            if code and code not in districts:
                known = ", ".join(sorted(districts)) or "none"
                problems.append(
                    f"{path.name}: {code} is not a district of this installation (known: {known})"
                )
                continue
            if not path.is_file():
                continue  # a missing default is reported by the commands that need it
            try:
                loaded[kind.stem, code] = kind.read(path)
            except ConfigurationError as exc:
                problems.append(str(exc))
    default_targets = loaded.get(("targets", ""))
    default_terms = loaded.get(("land-charge", ""))
    for (stem, code), value in loaded.items():
        if not code:
            continue
        if stem == "targets" and isinstance(default_targets, ClockPolicy) and isinstance(value, ClockPolicy):
            problems.extend(
                f"targets-{code}.toml: period.{name}: differs from targets.toml, but it is set by law "
                "(a district may change only the review window and the service targets)"
                for name in _law_changed(default_targets, value)
            )
        if stem == "land-charge" and isinstance(default_terms, tuple) and isinstance(value, tuple):
            problems.extend(f"land-charge-{code}.toml: {p}" for p in _beyond_consent(default_terms, value))
    for code in ("", *sorted(districts)):
        policy = loaded.get(("authority", code)) or loaded.get(("authority", ""))
        if not isinstance(policy, AuthorityPolicy):
            continue
        if code and ("authority", code) not in loaded and ("land-charge", code) not in loaded:
            continue  # the default's own check covers a district with neither file
        terms = loaded.get(("land-charge", code)) or loaded.get(("land-charge", ""))
        name = f"{policy.source_file} (district {code})" if code else policy.source_file
        problems.extend(
            _jurisdiction_problems(name, policy, terms if isinstance(terms, tuple) else None, workflows)
        )
    return problems
