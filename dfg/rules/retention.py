"""When a closed DFG file falls due for disposal: the retention policy (``workflows/policy/retention.toml``,
per district ``retention-<CODE>.toml``) and the date it gives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dfg.paths import workflows_dir
from dfg.rules.policy import district_file
from dfg.rules.rates import TomlSection, add_years, read_toml


@dataclass(frozen=True)
class RetentionPolicy:
    keep_years: int
    audit_years: int
    source: str
    confirm_note: str
    file: str

    @property
    def rule(self) -> str:
        """The rule as the disposal's tombstone records it."""
        return f"{self.keep_years} + {self.audit_years} years after the later of closure and any land charge ({self.file})"


@dataclass(frozen=True)
class Retention:
    """One closed case's standing against the policy."""

    starts_on: date  # the latest of closure and the end of its land charge
    due_on: date
    #: Why it may not be disposed of yet even if due (a live land charge), or None.
    held_by: str | None


def read_retention_policy(path: Path) -> RetentionPolicy:
    top = TomlSection(read_toml(path), path.name)
    top.only(("keep_years", "audit_years", "source", "confirm_note"))
    return RetentionPolicy(
        keep_years=top.integer("keep_years", low=1, high=100),
        audit_years=top.integer("audit_years", low=0, high=10),
        source=top.text("source"),
        confirm_note=top.text("confirm_note", default=""),
        file=path.name,
    )


def load_retention_policy(district: str | None = None, *, directory: Path | None = None) -> RetentionPolicy:
    folder = directory if directory is not None else workflows_dir() / "policy"
    return read_retention_policy(district_file(folder, "retention", district))


def retention(
    policy: RetentionPolicy, *, closed_on: date, charge_ends_on: date | None, today: date
) -> Retention:
    """When a file closed on ``closed_on`` falls due, and whether a land charge still holds it."""
    starts = max(closed_on, charge_ends_on) if charge_ends_on else closed_on
    held = (
        f"land charge live until {charge_ends_on.isoformat()}"
        if charge_ends_on and charge_ends_on > today
        else None
    )
    return Retention(starts, add_years(starts, policy.keep_years + policy.audit_years), held)
