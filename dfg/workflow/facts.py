"""What the workflow knows about a case when it decides: a read-only snapshot, no database handle.

Services build a :class:`CaseFacts` from the store; guards and the engine only read it. People are
loaded on first use, so a trigger whose guards never ask about people costs no extra query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from dfg.rules.dates import age_on


@dataclass(frozen=True)
class PersonFacts:
    person_id: int
    full_name: str
    date_of_birth: date | None
    is_applicant: bool
    is_disabled_occupant: bool
    is_relevant_person: bool

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        return age_on(self.date_of_birth, day)


@dataclass
class CaseFacts:
    case_id: int
    reference: str
    district: str
    state: str
    workflow_version: str
    version: int
    priority: str
    hold_since: datetime | None
    milestones: dict[str, date | None]
    amounts: dict[str, int | None]
    assigned_to: int | None = None
    load_people: Callable[[], list[PersonFacts]] = field(default=lambda: [], repr=False)
    load_records: Callable[[], dict[str, Any]] = field(default=lambda: {}, repr=False)

    @property
    def on_hold(self) -> bool:
        return self.hold_since is not None

    @cached_property
    def people(self) -> list[PersonFacts]:
        return self.load_people()

    @cached_property
    def records(self) -> dict[str, Any]:
        """The case's decision records as guards need them: counts, the determination in force, the grant calculation."""
        return self.load_records()

    @property
    def applicant(self) -> PersonFacts | None:
        return next((p for p in self.people if p.is_applicant), None)
