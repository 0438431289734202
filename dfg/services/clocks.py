"""A case's clocks as ``dfg case clocks`` shows them: every deadline and target on a day, with the pause ledger.

The timeline they are worked out from is rebuilt from the case's own history by
:mod:`dfg.workflow.timeline`, the same way the reports and the worklist build it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from dfg.errors import NotFound
from dfg.presentation import day, text_table
from dfg.rules.calendar import WorkingCalendar, district_calendar
from dfg.rules.clock import local_day, utcnow
from dfg.rules.clocks import (
    Clock,
    Hold,
    case_clocks,
    clock_policy_for,
    pause_ledger,
)
from dfg.services.cases import check_district, normalise_reference
from dfg.store.database import Database
from dfg.store.models import CASES
from dfg.workflow.actor import Actor
from dfg.workflow.timeline import CASE_COLUMNS, HoldSpell, histories_for

# ---------------------------------------------------------------------- one case's clocks


@dataclass(frozen=True)
class PauseEntry:
    """One line of the pause ledger: a hold spell and the working days it has paused service clocks."""

    spell: HoldSpell
    working_days: int

    def as_dict(self) -> dict[str, Any]:
        s = self.spell
        return {
            "start": s.start.isoformat(),
            "last_day": s.last_day.isoformat() if s.last_day and s.last_day >= s.start else None,
            "resumed_on": s.resumed_on.isoformat() if s.resumed_on else None,
            "open": s.is_open,
            "review_date": s.review_date.isoformat() if s.review_date else None,
            "code": s.code,
            "reason": s.reason,
            "placed_by": s.placed_by,
            "ended_by": s.ended_by,
            "working_days": self.working_days,
        }


def pauses(spells: Sequence[HoldSpell], calendar: WorkingCalendar, today: date) -> list[PauseEntry]:
    """The pause ledger: each spell with its working days on hold (an open one up to ``today``)."""
    entries = []
    for spell in spells:
        last = spell.last_day
        if last is not None and last < spell.start:
            entries.append(PauseEntry(spell, 0))
            continue
        [paused] = pause_ledger([Hold(spell.start, last)], calendar, today)
        entries.append(PauseEntry(spell, paused.working_days))
    return entries


def clock_as_dict(clock: Clock) -> dict[str, Any]:
    """A clock for ``--json``: dates in ISO 8601, and which kind of day ``days_remaining`` counts."""

    def iso(value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "name": clock.name,
        "label": clock.label,
        "kind": clock.kind,
        "basis": clock.basis,
        "start": iso(clock.start),
        "due": iso(clock.due),
        "stopped": iso(clock.stopped),
        "status": clock.status,
        "days_remaining": clock.days_remaining,
        "day_unit": clock.day_unit,
        "paused_working_days": clock.paused_working_days,
    }


@dataclass(frozen=True)
class CaseClocks:
    """Every clock of one case on one day, and its pause ledger: what ``dfg case clocks`` shows."""

    reference: str
    district: str
    today: date
    clocks: tuple[Clock, ...]
    pauses: tuple[PauseEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "district": self.district,
            "today": self.today.isoformat(),
            "clocks": [clock_as_dict(c) for c in self.clocks],
            "pauses": [p.as_dict() for p in self.pauses],
        }

    def as_text(self) -> str:
        def remaining(clock: Clock) -> str:
            if clock.days_remaining is None or (clock.status == "met" and clock.kind == "condition"):
                return ""
            unit = "working days" if clock.kind == "service" else "days"
            n = clock.days_remaining
            if clock.stopped is not None:
                return f"{n} {unit} to spare" if n >= 0 else f"{-n} {unit} late"
            return f"{n} {unit} left" if n >= 0 else f"{-n} {unit} overdue"

        rows = [
            [
                c.label,
                c.kind,
                day(c.start),
                day(c.due),
                day(c.stopped),
                c.status.replace("_", " "),
                remaining(c),
            ]
            for c in self.clocks
        ]
        lines = [
            f"Clocks of {self.reference} on {day(self.today)}",
            text_table(["clock", "kind", "started", "due", "stopped", "status", ""], rows),
        ]
        if self.pauses:
            lines += ["", "Holds (they pause service targets, never statutory or condition clocks)"]
            lines.append(
                text_table(
                    ["on hold from", "resumed", "review", "working days", "reason"],
                    [
                        [
                            day(p.spell.start),
                            day(p.spell.resumed_on) if p.spell.resumed_on else "still on hold",
                            day(p.spell.review_date),
                            str(p.working_days),
                            ": ".join(x for x in (p.spell.code, p.spell.reason) if x),
                        ]
                        for p in self.pauses
                    ],
                    numeric=[3],
                )
            )
        return "\n".join(lines)


def _read(connection: Connection, actor: Actor, reference: str) -> Mapping[Any, Any]:
    row = (
        connection.execute(select(*CASE_COLUMNS).where(CASES.c.reference == reference))
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"no case {reference}")
    check_district(actor, reference, row["district_code"])
    return row


def case_clock_sheet(db: Database, actor: Actor, reference: str, today: date | None = None) -> CaseClocks:
    """Every clock of the case on ``today`` (default: today in England) with its pause ledger.

    Anyone may look; a user who belongs to one district only at that district's cases
    (:class:`PermissionDenied`). Raises :class:`NotFound` for an unknown case.
    """
    today = today or local_day(utcnow())
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        case = _read(connection, actor, reference)
        history = histories_for(connection, [case])[case["id"]]
    calendar = district_calendar(case["district_code"])
    return CaseClocks(
        reference=reference,
        district=case["district_code"],
        today=today,
        clocks=tuple(
            case_clocks(
                history.timeline, today, calendar=calendar, policy=clock_policy_for(case["district_code"])
            )
        ),
        pauses=tuple(pauses(history.spells, calendar, today)),
    )


def case_clocks_for(db: Database, actor: Actor, reference: str, today: date | None = None) -> list[Clock]:
    """The clocks of one case on ``today``: :func:`case_clock_sheet` without the ledger."""
    return list(case_clock_sheet(db, actor, reference, today).clocks)
