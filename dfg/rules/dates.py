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
