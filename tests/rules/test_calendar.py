"""The working calendar: bank holidays, closure days, working-day counting, calendar months.

Expected dates are worked out by hand from the published England and Wales bank holidays:
2026: Fri 25 Dec, Sat 26 Dec (substitute Mon 28 Dec). 2027: Fri 1 Jan; Good Friday 26 Mar, Easter
Monday 29 Mar, 3 May, 31 May, 30 Aug; Christmas Sat 25 Dec and Boxing Day Sun 26 Dec (substitutes
Mon 27 and Tue 28 Dec). 2028: New Year Sat 1 Jan (substitute Mon 3 Jan).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dfg.errors import ConfigurationError
from dfg.rules.calendar import (
    WorkingCalendar,
    add_calendar_months,
    calendar_policy_path,
    load_calendar_policy,
)

BANK_HOLIDAYS_ONLY = WorkingCalendar()


# --- Calendar months ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),  # clamped: February 2027 has 28 days
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # clamped: 2028 is a leap year
        (date(2026, 8, 30), 6, date(2027, 2, 28)),
        (date(2026, 8, 28), 6, date(2027, 2, 28)),  # not clamped: the 28th exists
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # across a year end
        (date(2026, 3, 31), 1, date(2026, 4, 30)),  # 30-day month
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # a year after 29 February
        (date(2028, 2, 29), 48, date(2032, 2, 29)),  # four years on: a leap year again
        (date(2096, 2, 29), 48, date(2100, 2, 28)),  # 2100 is not a leap year (century rule)
        (date(1996, 2, 29), 48, date(2000, 2, 29)),  # 2000 is (divisible by 400)
        (date(2026, 6, 15), 0, date(2026, 6, 15)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),  # backwards clamps too
        (date(2027, 1, 31), -2, date(2026, 11, 30)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
    ],
)
def test_add_calendar_months_clamps_at_month_end(start: date, months: int, expected: date) -> None:
    assert add_calendar_months(start, months) == expected


# --- Working days ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2027, 12, 24), True),  # Christmas Eve is not a bank holiday
        (date(2027, 12, 25), False),  # Saturday
        (date(2027, 12, 27), False),  # Monday: substitute for Christmas Day
        (date(2027, 12, 28), False),  # Tuesday: substitute for Boxing Day
        (date(2027, 12, 29), True),
        (date(2028, 1, 3), False),  # Monday: substitute for New Year's Day
        (date(2026, 12, 28), False),  # Monday: substitute for Boxing Day 2026
        (date(2026, 8, 31), False),  # late summer bank holiday
        (date(2027, 3, 26), False),  # Good Friday
        (date(2022, 9, 19), False),  # one-off: the State Funeral of Queen Elizabeth II
        (date(2023, 5, 8), False),  # one-off: the Coronation of King Charles III
        (date(2026, 9, 7), True),  # an ordinary Monday
    ],
)
def test_working_day_excludes_weekends_and_bank_holidays_with_substitutes(day: date, working: bool) -> None:
    assert BANK_HOLIDAYS_ONLY.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 9, 4), date(2026, 9, 7), 1),  # Friday to Monday: the Monday only
        (date(2026, 9, 7), date(2026, 9, 7), 0),  # the start day never counts
        (date(2026, 9, 5), date(2026, 9, 6), 0),  # a weekend
        (date(2027, 12, 24), date(2027, 12, 29), 1),  # over Christmas 2027: only Wed 29th
        (date(2027, 12, 30), date(2028, 1, 4), 2),  # Fri 31 Dec and Tue 4 Jan
        # 2027 has 261 weekdays; not 1 Jan (the start) nor the 7 weekday bank holidays after it.
        (date(2027, 1, 1), date(2027, 12, 31), 253),
        (date(2027, 12, 29), date(2027, 12, 24), -1),  # backwards: negative
    ],
)
def test_working_days_between_counts_after_start_up_to_and_including_end(
    start: date, end: date, expected: int
) -> None:
    assert BANK_HOLIDAYS_ONLY.working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2027, 12, 23), 1, date(2027, 12, 24)),
        # A deadline that would land on the Christmas substitute days moves past them.
        (date(2027, 12, 24), 1, date(2027, 12, 29)),
        (date(2027, 12, 23), 2, date(2027, 12, 29)),
        (date(2027, 12, 25), 0, date(2027, 12, 25)),  # zero days: the start, even on a weekend
        (date(2027, 12, 25), 1, date(2027, 12, 29)),
        (date(2027, 12, 31), 1, date(2028, 1, 4)),  # past the New Year substitute Monday
        (date(2027, 1, 1), 253, date(2027, 12, 31)),  # a whole year (see the count above)
        # 55 working days from Monday 2 November 2026: Nov 20, Dec 21 (not 25 or 28), Jan 14
        # (not 1 Jan) reaches Thursday 21 January 2027.
        (date(2026, 11, 2), 55, date(2027, 1, 21)),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert BANK_HOLIDAYS_ONLY.add_working_days(start, n) == expected


def test_add_working_days_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="n >= 0"):
        BANK_HOLIDAYS_ONLY.add_working_days(date(2026, 9, 7), -1)


def test_closure_days_are_not_working_days() -> None:
    christmas_closure = WorkingCalendar([date(2026, 12, 29)])
    assert not christmas_closure.is_working_day(date(2026, 12, 29))
    # 24 Dec 2026 to 30 Dec: 25th and 28th bank holidays, 29th closed: only Wednesday 30th is left.
    assert christmas_closure.working_days_between(date(2026, 12, 24), date(2026, 12, 30)) == 1
    assert BANK_HOLIDAYS_ONLY.working_days_between(date(2026, 12, 24), date(2026, 12, 30)) == 2
    # The 55-day example above loses Tuesday 29 December, so it ends a working day later.
    assert christmas_closure.add_working_days(date(2026, 11, 2), 55) == date(2027, 1, 22)


@settings(max_examples=300, database=None, deadline=None)
@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    n=st.integers(min_value=0, max_value=400),
)
def test_add_working_days_and_counting_agree(start: date, n: int) -> None:
    calendar = WorkingCalendar([date(2026, 12, 29), date(2027, 6, 14)])
    result = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, result) == n
    if n > 0:
        # The first day that reaches n: a working day, with n - 1 before it.
        assert calendar.is_working_day(result)
        assert calendar.working_days_between(start, result - timedelta(days=1)) == n - 1
    # The bisecting count agrees with asking day by day.
    day_by_day = sum(
        calendar.is_working_day(start + timedelta(days=i)) for i in range(1, (result - start).days + 1)
    )
    assert day_by_day == n


def test_holidays_package_is_imported_only_when_first_needed() -> None:
    code = (
        "import sys, datetime\n"
        "import dfg.rules.calendar as c, dfg.rules.clocks\n"
        "assert 'holidays' not in sys.modules, 'imported at start-up'\n"
        "c.WorkingCalendar().is_working_day(datetime.date(2027, 12, 27))\n"
        "assert 'holidays' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# --- Loading calendar.toml ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_calendar_policy_has_no_live_closure(tmp_path: Path) -> None:
    # A new installation counts working days from bank holidays alone: Tuesday 29 December 2026 is a
    # working day until the council lists its own closure.
    shipped = calendar_policy_path()
    policy = load_calendar_policy(shipped)
    assert policy.closures == ()
    assert policy.for_district("tamworth").is_working_day(date(2026, 12, 29))
    # The commented example is a closure as written once the comment marks are taken off.
    text = shipped.read_text(encoding="utf-8")
    example = text[text.index("# [[closure]]") :]
    uncommented = "\n".join(line.removeprefix("# ") for line in example.splitlines())
    assert date(2026, 12, 29) in load_calendar_policy(write(tmp_path, uncommented)).closure_days()


def test_closures_for_every_district_and_for_one(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[closure]]
reason = "Christmas closure"
days = [2026-12-27, 2026-12-28, 2026-12-29]

[[closure]]
reason = "Office move"
districts = ["tamworth"]
days = [2026-12-30]

[[closure]]
reason = "Training day"
districts = ["stafford"]
days = [2026-12-30]
""",
    )
    policy = load_calendar_policy(path)
    assert policy.closure_days() == {date(2026, 12, 27), date(2026, 12, 28), date(2026, 12, 29)}
    tamworth = policy.for_district("tamworth")
    lichfield = policy.for_district("lichfield")
    # 24 Dec to 30 Dec 2026: Tamworth is closed on the 29th and 30th, Lichfield only on the 29th.
    assert tamworth.working_days_between(date(2026, 12, 24), date(2026, 12, 30)) == 0
    assert lichfield.working_days_between(date(2026, 12, 24), date(2026, 12, 30)) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[closure]]\nreason = "x"\ndays = ["2026-02-30"]\n',
            r"closure\[0\]\.days\[0\]: '2026-02-30' is not a date such as 2026-12-29 \(unquoted\)",
        ),
        (
            '[[closure]]\nreason = "x"\ndays = [2026-12-29T09:00:00]\n',
            r"closure\[0\]\.days\[0\]: datetime\.datetime\(2026, 12, 29, 9, 0\) is not a date",
        ),
        ('[[closure]]\nreason = "x"\ndays = [2026-02-30]\n', "not valid TOML"),
        (
            '[[closure]]\nreason = "x"\ndays = [2026-12-29, 2026-12-29]\n',
            r"closure\[0\]\.days\[1\]: 2026-12-29 is already",
        ),
        (
            '[[closure]]\nreason = "x"\ndays = [2026-12-29]\n'
            '[[closure]]\nreason = "y"\ndistricts = ["tamworth"]\ndays = [2026-12-29]\n',
            r"closure\[1\]\.days\[0\]: 2026-12-29 is already listed at closure\[0\]\.days\[0\]",
        ),
        ("[[closure]]\ndays = [2026-12-29]\n", r"closure\[0\]\.reason: missing"),
        (
            '[[closure]]\nreason = "x"\ndays = []\n',
            r"closure\[0\]\.days: must be a list of one or more dates",
        ),
        (
            '[[closure]]\nreason = "x"\ndays = [2026-12-29]\ndistrict = "tamworth"\n',
            r"closure\[0\]\.district: unknown key",
        ),
        (
            '[[closure]]\nreason = "x"\ndays = [2026-12-29]\ndistricts = "tamworth"\n',
            r"closure\[0\]\.districts: must be a list of strings",
        ),
        ("[closures]\n", "closures: unknown key"),
    ],
)
def test_bad_calendar_policy_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_calendar_policy(path)
    assert path.name in str(caught.value)


def test_missing_calendar_policy_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"absent\.toml: cannot be read"):
        load_calendar_policy(tmp_path / "absent.toml")
