"""Where a test of resources starts from: the household as the case's people suggest it, for an officer to
complete on a form (their benefits, incomes and capital are not recorded anywhere else).

Running, checking and reading the test itself are :mod:`dfg.services.assessment`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dfg.rules.clock import local_day, utcnow
from dfg.rules.dates import age_on
from dfg.rules.household import CHILD_AGES, RELEVANT_PERSON_AGES
from dfg.services.case_reading import show_case
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.definition import current_definition
from dfg.workflow.roles import require_role


@dataclass(frozen=True)
class HouseholdMember:
    """Someone on the case as the household starts them: their name, age (None: no date of birth) and
    the parts they play (applicant, disabled occupant, relevant person)."""

    name: str
    age: int | None
    parts: tuple[str, ...]
    disabled_occupant: bool


@dataclass(frozen=True)
class HouseholdSkeleton:
    """The household a case's people suggest, on a day; what only the applicant can say is left empty."""

    reference: str
    state_label: str
    version: int
    on: date
    tenure: str
    application_for_child: bool
    relevant_persons: tuple[HouseholdMember, ...]
    children: tuple[HouseholdMember, ...]
    #: Once the grant is approved a new determination needs one of these (code, words) and a reason.
    redetermination_codes: tuple[tuple[str, str], ...]

    @property
    def couple(self) -> bool:
        return len(self.relevant_persons) == 2

    def as_household(self) -> dict[str, Any]:
        """The skeleton in the household's JSON shape (ages left out where no date of birth is known)."""
        return {
            "tenure": self.tenure,
            "application_for_child": self.application_for_child,
            "couple": self.couple,
            "relevant_persons": [_aged(p, {"benefits": [], "premiums": []}) for p in self.relevant_persons],
            "children": [
                _aged(c, {"disabled": c.disabled_occupant, "enhanced_disability": False})
                for c in self.children
            ],
            "weekly_income": [],
            "capital": "0.00",
            "earlier_contributions": [],
        }


def _aged(member: HouseholdMember, rest: Mapping[str, Any]) -> dict[str, Any]:
    return {**({"age": member.age} if member.age is not None else {}), **rest}


def household_skeleton(
    db: Database, actor: Actor, reference: str, *, on: date | None = None, now: datetime | None = None
) -> HouseholdSkeleton:
    """The household the case's people suggest on ``on`` (default today), for the grant officer who runs
    the test: the relevant persons (a disabled occupant is always one) with their ages from their dates
    of birth, the children and young people (under 20), and whether the application is for a disabled
    child (a disabled occupant under 20 who is not the applicant)."""
    require_role(actor, "grant_officer")
    view = show_case(db, actor, reference)
    day = on or local_day(now or utcnow())
    members = [
        HouseholdMember(
            name=person["name"],
            age=age_on(person["date_of_birth"], day) if person["date_of_birth"] else None,
            parts=tuple(person["roles"]),
            disabled_occupant="disabled_occupant" in person["roles"],
        )
        for person in view.people
    ]

    def young(member: HouseholdMember) -> bool:
        return member.age is not None and member.age <= CHILD_AGES[1]

    for_child = view.tenure != "landlord" and any(
        m.disabled_occupant and young(m) and "applicant" not in m.parts for m in members
    )
    relevant = tuple(
        m
        for m in members
        if "relevant_person" in m.parts
        and (m.age is None or m.age >= RELEVANT_PERSON_AGES[0])
        and not (for_child and m.disabled_occupant and young(m))
    )
    children = tuple(m for m in members if young(m) and not any(m is r for r in relevant))
    approved = view.milestones.get("approval_date") is not None
    codes = current_definition().reason_codes["redetermination"] if approved else {}
    return HouseholdSkeleton(
        reference=view.reference,
        state_label=view.state_label,
        version=view.version,
        on=day,
        tenure=view.tenure,
        application_for_child=for_child,
        relevant_persons=relevant,
        children=children,
        redetermination_codes=tuple(codes.items()),
    )
