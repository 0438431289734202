"""Dates as people enter them on a page: the GOV.UK date input's day, month and year boxes."""

from __future__ import annotations

from datetime import date
from typing import Any


class DateProblem(ValueError):
    """What is wrong with a date someone entered, in their words."""


def date_from_form(values: Any, name: str, label: str, *, required: bool) -> date | None:
    """The date in the fields ``{name}-day``, ``{name}-month`` and ``{name}-year``; None if all are empty
    and the date is optional."""
    parts = [str(values.get(f"{name}-{part}", "") or "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        if required:
            raise DateProblem(f"Enter {label}")
        return None
    missing = [part for part, text in zip(("day", "month", "year"), parts, strict=True) if not text]
    if missing:
        raise DateProblem(f"{label[0].upper()}{label[1:]} must include a {' and '.join(missing)}")
    if not all(text.isdigit() for text in parts) or len(parts[2]) != 4:
        raise DateProblem(f"{label[0].upper()}{label[1:]} must be a real date, for example 27 3 2026")
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise DateProblem(
            f"{label[0].upper()}{label[1:]} must be a real date, for example 27 3 2026"
        ) from None
