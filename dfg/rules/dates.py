"""Dates typed by officers: ISO (2026-03-31) or British (31/03/2026), never American."""

from __future__ import annotations

from datetime import date, datetime

from dfg.errors import InvalidInput


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse ``2026-03-31`` or ``31/03/2026``; :class:`InvalidInput` naming ``field`` otherwise."""
    raw = text.strip()
    for layout in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, layout).date()
        except ValueError:
            continue
    raise InvalidInput(f"{field}: '{text}' is not a date (use 2026-03-31 or 31/03/2026)")


def parse_date_time(text: str, *, field: str = "time") -> datetime:
    """Parse ``2026-03-31 14:30`` or ``31/03/2026 14:30`` (a 24-hour clock) as a naive wall-clock time."""
    raw = " ".join(text.split())
    for layout in ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(raw, layout)
        except ValueError:
            continue
    raise InvalidInput(f"{field}: '{text}' is not a date and time (use 2026-03-31 14:30 or 31/03/2026 14:30)")


def age_on(born: date, day: date) -> int:
    """Someone's age in whole years on ``day`` (born on 29 February, a year older on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
