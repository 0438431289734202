"""Budgets: financial years, a budget's position, and how a payment draws down a case's lines. Pure.

A district has an allocation for each funding line (``mandatory`` for the mandatory DFG, and the codes
of its discretionary lines) in each financial year, 1 April to 31 March, named by the year it starts
(2026 is April 2026 to March 2027, written ``2026-27``). Every movement is a ledger entry:

- ``allocation``: the allocation changes by the amount (signed);
- ``commitment``: an approval commits money (committed goes up);
- ``adjustment``: a variation commits more or less (signed);
- ``payment``: a payment moves money from committed to spent;
- ``release``: a cancellation, withdrawal or closure releases what is still committed (negative).

So ``remaining = allocation - committed - spent`` and ``committed + spent + remaining = allocation``
always. A commitment that would leave ``remaining`` below nil is an over-commitment: refused unless a
manager has recorded an override with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from dfg.errors import InvalidInput
from dfg.rules.money import Pence, format_pounds
from dfg.rules.policy import load_funding_lines

MANDATORY = "mandatory"  # the funding line of the mandatory grant; the others are discretionary

#: How one ledger entry of each kind moves (allocation, committed, spent), per penny of its amount.
ENTRY_EFFECTS: Mapping[str, tuple[int, int, int]] = {
    "allocation": (1, 0, 0),
    "commitment": (0, 1, 0),
    "adjustment": (0, 1, 0),
    "release": (0, 1, 0),  # its amount is negative
    "payment": (0, -1, 1),
}

# Years a budget may be for: the DFG dates from 1990; anything past 2100 is a typing slip.
FIRST_YEAR, LAST_YEAR = 1990, 2100

_FINANCIAL_YEAR = re.compile(r"(?P<start>[0-9]{4})(?:[/-](?P<end>[0-9]{2}))?", re.ASCII)


def financial_year_of(day: date) -> int:
    """The financial year ``day`` falls in, by the year it starts: 31 March 2027 is in 2026 (2026-27)."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(year: int) -> str:
    """The financial year's one name, in every report, command, page and message: 2026 is ``2026-27``
    (as the government's statistics write it; safe in a file name, unlike ``2026/27``)."""
    return f"{year}-{(year + 1) % 100:02d}"


def parse_financial_year(text: str | int) -> int:
    """The starting year of a financial year written ``2026``, ``2026-27`` or ``2026/27``."""
    found = _FINANCIAL_YEAR.fullmatch(str(text).strip())
    if found is None:
        raise InvalidInput(f"financial year '{text}' is not like 2026-27")
    start = check_financial_year(int(found["start"]))
    if found["end"] is not None and int(found["end"]) != (start + 1) % 100:
        raise InvalidInput(f"financial year '{text}': {found['end']} does not follow {start}")
    return start


def check_financial_year(year: int) -> int:
    """``year`` if it can be the start of a financial year of this scheme (a typo such as 2206 is not)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"financial year {year}: expected a year from {FIRST_YEAR} to {LAST_YEAR}")
    return year


def line_order(code: str) -> tuple[int, str]:
    """Sort key for funding lines: ``mandatory`` first, then the discretionary lines alphabetically."""
    return (0 if code == MANDATORY else 1, code)


def ordered_lines(codes: Iterable[str]) -> list[str]:
    return sorted(set(codes), key=line_order)


@dataclass(frozen=True)
class BudgetPosition:
    """Where a budget stands: what was allocated, committed and spent, and what is expected.

    ``pipeline_pence`` is assistance calculated on applications awaiting a decision: not yet
    committed, but likely to be."""

    allocation_pence: Pence = 0
    committed_pence: Pence = 0
    spent_pence: Pence = 0
    pipeline_pence: Pence = 0

    @property
    def remaining_pence(self) -> Pence:
        return self.allocation_pence - self.committed_pence - self.spent_pence

    @property
    def forecast_outturn_pence(self) -> Pence:
        """What the year will have cost if every pending application is approved as calculated."""
        return self.spent_pence + self.committed_pence + self.pipeline_pence

    @property
    def forecast_remaining_pence(self) -> Pence:
        return self.allocation_pence - self.forecast_outturn_pence

    @classmethod
    def from_ledger(cls, totals: Mapping[str, Pence], *, pipeline_pence: Pence = 0) -> BudgetPosition:
        """The position the ledger's totals by kind (``{"allocation": …, "payment": …}``) add up to."""
        position = cls(pipeline_pence=pipeline_pence)
        for kind, amount in totals.items():
            position = position.after(kind, amount)
        return position

    def after(self, kind: str, amount_pence: Pence) -> BudgetPosition:
        """The position once an entry of ``kind`` for ``amount_pence`` is recorded."""
        if kind not in ENTRY_EFFECTS:
            raise ValueError(f"unknown budget entry kind {kind!r}")
        allocation, committed, spent = ENTRY_EFFECTS[kind]
        return BudgetPosition(
            self.allocation_pence + allocation * amount_pence,
            self.committed_pence + committed * amount_pence,
            self.spent_pence + spent * amount_pence,
            self.pipeline_pence,
        )

    def __add__(self, other: BudgetPosition) -> BudgetPosition:
        return BudgetPosition(
            self.allocation_pence + other.allocation_pence,
            self.committed_pence + other.committed_pence,
            self.spent_pence + other.spent_pence,
            self.pipeline_pence + other.pipeline_pence,
        )

    def as_dict(self) -> dict[str, Pence]:
        return {
            "allocation_pence": self.allocation_pence,
            "committed_pence": self.committed_pence,
            "spent_pence": self.spent_pence,
            "remaining_pence": self.remaining_pence,
            "pipeline_pence": self.pipeline_pence,
            "forecast_outturn_pence": self.forecast_outturn_pence,
            "forecast_remaining_pence": self.forecast_remaining_pence,
        }


def shortfall_pence(after: BudgetPosition, committed_pence: Pence) -> Pence:
    """How much of a commitment of ``committed_pence`` the budget could not cover, given the position
    ``after`` it: nil when it fits. Never more than the commitment itself (a budget already overdrawn
    by an earlier override is short by the whole of a new commitment, not by the old overdraft too)."""
    if committed_pence <= 0:
        return 0
    return max(0, min(committed_pence, -after.remaining_pence))


def split_payment(outstanding: Mapping[str, Pence], amount_pence: Pence) -> dict[str, Pence]:
    """Which funding lines a payment of ``amount_pence`` draws down, given what is still committed on
    each: ``mandatory`` first, then the discretionary lines alphabetically, each up to what is
    outstanding on it. (The mandatory grant is the applicant's entitlement; discretionary money is
    spent only once it is used up.) Raises :class:`InvalidInput` for a payment that is not positive or
    is more than the case has committed."""
    if amount_pence <= 0:
        raise InvalidInput(f"a payment must be more than nil, not {format_pounds(amount_pence)}")
    total = sum(max(0, pence) for pence in outstanding.values())
    if amount_pence > total:
        raise InvalidInput(
            f"a payment of {format_pounds(amount_pence)} is more than the {format_pounds(total)} committed "
            "and not yet paid on the case"
        )
    parts: dict[str, Pence] = {}
    left = amount_pence
    for code in ordered_lines(outstanding):
        take = min(left, max(0, outstanding[code]))
        if take:
            parts[code] = take
            left -= take
    return parts


def funding_lines_of(district: str) -> list[str]:
    """The funding lines a district may budget for: ``mandatory`` and its discretionary lines."""
    return [MANDATORY, *sorted(line.code for line in load_funding_lines(district).lines)]
