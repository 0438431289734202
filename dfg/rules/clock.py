"""The time of an action: instants in UTC, and the day it is in England, which deadlines count from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_day(instant: datetime) -> date:
    """The calendar day in England at ``instant`` (a case advanced at 00:30 BST happened that day)."""
    return instant.astimezone(ENGLAND).date()
