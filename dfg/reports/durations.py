"""Summaries of durations: how many, mean, median and 90th percentile.

SQLite has no percentile function and PostgreSQL's ``percentile_cont`` is not portable, and service
targets count *working* days, which no database knows. So the reports fetch the two dates of each
interval with one query and summarise here, in one pass over plain tuples (never ORM objects). The
percentile is the one PostgreSQL's ``percentile_cont`` and a spreadsheet's ``PERCENTILE.INC`` give:
linear interpolation between the closest ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def percentile(sorted_values: Sequence[int], fraction: float) -> float:
    """The ``fraction`` (0 to 1) percentile of ``sorted_values`` (ascending, not empty), interpolated."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    position = (len(sorted_values) - 1) * fraction
    below = int(position)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * (position - below)


@dataclass(frozen=True)
class Summary:
    """How long a set of intervals took, in one unit of days. Empty sets have ``count`` 0 and no figures."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[int]) -> Summary:
        if not values:
            return cls(0, None, None, None)
        ordered = sorted(values)
        return cls(
            len(ordered), sum(ordered) / len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9)
        )

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean": self.mean, "median": self.median, "p90": self.p90}

    def cells(self) -> list[str]:
        """Mean, median and 90th percentile to one decimal place, for a table ("" when empty)."""
        return [figure(v) for v in (self.mean, self.median, self.p90)]


def figure(value: float | None) -> str:
    """A number of days for a table: one decimal place, blank for none."""
    return "" if value is None else f"{value:,.1f}"
