"""The working calendar: which days count for service clocks, and calendar-month arithmetic.

A **working day** is a Monday to Friday that is neither an England and Wales bank holiday (substitute
days included, from the ``holidays`` package) nor a council closure day (from
``workflows/policy/calendar.toml``). Statutory and condition clocks run in calendar time and never use
this: only service targets count working days.

Counting convention, used everywhere in the engine: :meth:`WorkingCalendar.working_days_between`
counts the working days **after** ``start`` up to **and including** ``end``, so
``working_days_between(d, add_working_days(d, n)) == n`` and a referral on Friday with a reply on the
next Monday took one working day.

``holidays`` costs about 60 ms to import, so it is imported inside :func:`_bank_holidays`, the first
function that needs it, and each year's holidays are built once per process.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from dfg.paths import workflows_dir
from dfg.rules.rates import TomlSection, read_toml

_ONE_DAY = timedelta(days=1)


def add_calendar_months(d: date, n: int) -> date:
    """The date ``n`` calendar months after ``d`` (before it if ``n`` is negative), clamped at month end.

    31 August 2026 + 6 months is 28 February 2027; 31 August 2027 + 6 months is 29 February 2028; a
    year is 12 months, so 29 February 2028 + 5 years is 28 February 2033.
    """
    months = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(months, 12)
    last_day = _stdlib_calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays in ``year``, substitute days and one-off holidays included."""
    import holidays  # lazy: ~60 ms, and most CLI commands never count working days

    # England and Wales share one list of bank holidays; the package files it under "ENG".
    # country_holidays("UK", ...) is holidays.UK(...) through the package's typed entry point.
    return frozenset(holidays.country_holidays("UK", subdiv="ENG", years=year))


def _weekdays_up_to(d: date) -> int:
    """Mondays to Fridays from 1 January AD 1 (a Monday) up to and including ``d``."""
    weeks, days = divmod(d.toordinal(), 7)
    return weeks * 5 + min(days, 5)


class WorkingCalendar:
    """Working days for one council (or one district): weekdays less bank holidays and closure days.

    Immutable. Build one from configuration with :meth:`CalendarPolicy.for_district`; a bare
    ``WorkingCalendar()`` knows bank holidays only.
    """

    __slots__ = ("_closure_days", "_non_working_weekdays")

    def __init__(self, closure_days: Iterable[date] = ()) -> None:
        self._closure_days = frozenset(closure_days)
        # Per year, the sorted weekdays that are not working days: lets counting bisect, not loop.
        self._non_working_weekdays: dict[int, tuple[date, ...]] = {}

    def __repr__(self) -> str:
        return f"WorkingCalendar({len(self._closure_days)} closure days)"

    @property
    def closure_days(self) -> frozenset[date]:
        """The council closure days this calendar knows (bank holidays not included)."""
        return self._closure_days

    def with_closures(self, days: Iterable[date]) -> WorkingCalendar:
        """A copy that also treats ``days`` as non-working (used to take a case's holds out of a clock)."""
        return WorkingCalendar(self._closure_days | frozenset(days))

    def is_bank_holiday(self, d: date) -> bool:
        """Whether ``d`` is an England and Wales bank holiday, substitute days included."""
        return d in _bank_holidays(d.year)

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a weekday that is neither a bank holiday nor a closure day."""
        return d.weekday() < 5 and d not in self._closure_days and not self.is_bank_holiday(d)

    def _non_working_weekdays_in(self, year: int) -> tuple[date, ...]:
        days = self._non_working_weekdays.get(year)
        if days is None:
            closures = {d for d in self._closure_days if d.year == year}
            days = tuple(sorted(d for d in _bank_holidays(year) | closures if d.weekday() < 5))
            self._non_working_weekdays[year] = days
        return days

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``.

        ``start`` itself never counts, so Friday to the next Monday is 1 and a date to itself is 0. If
        ``end`` is before ``start`` the answer is negative: ``-working_days_between(end, start)``, which
        reads as "working days overdue" when ``start`` is a due date already passed.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = _weekdays_up_to(end) - _weekdays_up_to(start)
        for year in range(start.year, end.year + 1):
            days = self._non_working_weekdays_in(year)
            count -= bisect_right(days, end) - bisect_right(days, start)
        return count

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself if ``n`` is 0).

        The result is always a working day when ``n`` > 0, so a target never falls on a bank holiday
        or a closure day. ``n`` must not be negative.
        """
        if n < 0:
            raise ValueError(f"add_working_days needs n >= 0, got {n}")
        d, remaining = start, n
        # Jump whole weeks while at least one working day would be left to step to; a week holds
        # at most 5 working days, so a jump never overshoots and the last steps land on a working day.
        while remaining > 5:
            end = d + timedelta(weeks=(remaining - 1) // 5)
            remaining -= self.working_days_between(d, end)
            d = end
        while remaining > 0:
            d += _ONE_DAY
            if self.is_working_day(d):
                remaining -= 1
        return d


@dataclass(frozen=True)
class Closure:
    """Days a council (or one district) is closed: not working days for service clocks."""

    days: tuple[date, ...]
    reason: str
    #: District codes it applies to; empty means every district.
    districts: frozenset[str] = frozenset()

    def applies_to(self, district: str | None) -> bool:
        """Whether the closure covers ``district`` (``None``: only closures for every district do)."""
        return not self.districts or district in self.districts


@dataclass(frozen=True)
class CalendarPolicy:
    """The council's closure days, as loaded from ``calendar.toml``."""

    closures: tuple[Closure, ...] = ()

    def closure_days(self, district: str | None = None) -> frozenset[date]:
        """Every closure day that applies to ``district`` (``None``: council-wide closures only)."""
        return frozenset(d for c in self.closures if c.applies_to(district) for d in c.days)

    def for_district(self, district: str | None = None) -> WorkingCalendar:
        """The working calendar of ``district``: bank holidays, council-wide and district closures."""
        return WorkingCalendar(self.closure_days(district))


def calendar_policy_path() -> Path:
    """Where the closure days live: ``workflows/policy/calendar.toml``."""
    return workflows_dir() / "policy" / "calendar.toml"


def load_calendar_policy(path: Path | None = None) -> CalendarPolicy:
    """Load and validate the closure days (default ``workflows/policy/calendar.toml``).

    Raises :class:`ConfigurationError` naming the file and the key for an unknown key, a day that is
    not a TOML date, an empty list, or a day listed twice for the same district.
    """
    path = path or calendar_policy_path()
    top = TomlSection(read_toml(path), str(path))
    top.only(("closure",))
    closures: list[Closure] = []
    # Each day once per district: a council-wide day overlaps every district's list.
    seen: dict[date, list[tuple[frozenset[str], str]]] = {}
    for entry in top.sections("closure") if "closure" in top.data else []:
        entry.only(("days", "reason", "districts"))
        reason = entry.text("reason")
        districts = frozenset(entry.strings("districts")) if "districts" in entry.data else frozenset()
        raw_days = entry.raw("days")
        if not isinstance(raw_days, list) or not raw_days:
            raise entry.error("days", "must be a list of one or more dates")
        days: list[date] = []
        for j, day in enumerate(raw_days):
            key = f"days[{j}]"
            if not isinstance(day, date) or isinstance(day, datetime):
                raise entry.error(key, f"{day!r} is not a date such as 2026-12-29 (unquoted)")
            for other_districts, other_key in seen.get(day, []):
                if not districts or not other_districts or districts & other_districts:
                    raise entry.error(key, f"{day.isoformat()} is already listed at {other_key}")
            seen.setdefault(day, []).append((districts, entry.name(key)))
            days.append(day)
        closures.append(Closure(tuple(days), reason, districts))
    return CalendarPolicy(tuple(closures))


@cache
def default_calendar_policy() -> CalendarPolicy:
    """The closure days from ``workflows/policy/calendar.toml``, loaded once per process."""
    return load_calendar_policy()


@cache
def district_calendar(district: str) -> WorkingCalendar:
    """The working calendar of ``district`` (bank holidays, council and district closures), built once:
    it keeps its own per-year cache of non-working days, which every case of the district shares."""
    return default_calendar_policy().for_district(district)
