"""The people on a case after it is opened: adding someone who was left out (a second disabled occupant,
a partner whose means are tested, another member of the household) and removing someone who was listed
wrongly or has left, each with the reason. Each is one event on the case's history (``person_added``,
``person_removed``) with the person's name sealed like every personal value; letters and the case page
read the people as they now are, and the search index follows in the same transaction.

A relevant person added or removed changes the household whose means are tested: the event says so,
and the officer decides whether a new test of resources is needed (the engine does not redo one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from dfg.errors import GuardFailed, InvalidInput, NotFound
from dfg.rules.clock import local_day, utcnow
from dfg.services.case_opening import NewPerson, person_problems
from dfg.services.cases import Recorded, check_version, record_change
from dfg.services.corrections import reason_problem
from dfg.services.people import full_name, person_roles
from dfg.services.search_index import index_case
from dfg.store.database import Database
from dfg.store.tables import PEOPLE
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

PERSON_ADDED = "person_added"
PERSON_REMOVED = "person_removed"
#: The part a person added to a case plays, each in words for a form and ``dfg case person add``.
HOUSEHOLD_ROLES = {
    "disabled_occupant": "A disabled occupant (the grant is for their needs)",
    "relevant_person": "A relevant person (their means are tested with the applicant's)",
    "household_member": "Another member of the household",
}


def in_role(person: NewPerson, role: str) -> NewPerson:
    """The person as they will join the case: never its applicant, and in the part ``role`` names (a
    disabled occupant is also a relevant person: :meth:`NewPerson.row`)."""
    return replace(
        person,
        is_applicant=False,
        is_disabled_occupant=role == "disabled_occupant",
        is_relevant_person=role == "relevant_person",
    )


def addition_problems(
    person: NewPerson, role: str, reason: str, *, now: datetime | None = None
) -> InvalidInput | None:
    """Everything wrong with adding this person, at once: one message for the command line, and each by
    the person's field (``given_name``, ``date_of_birth``, ``role``, ``reason``) for a form. The same
    checks as opening a case (:func:`person_problems`), so the rules are kept once."""
    found: list[tuple[str, str, str]] = []  # the field, the problem, and in a person's words
    if role not in HOUSEHOLD_ROLES:
        found.append((
            "role", f"role '{role}' is not one of: {', '.join(HOUSEHOLD_ROLES)}",
            "Choose the part they play in the case",
        ))  # fmt: skip
    found += [
        (name.split(".", 1)[-1], said, words)
        for name, said, words in person_problems(in_role(person, role), local_day(now or utcnow()))
    ]
    if wrong := reason_problem(reason, "adding them"):
        found.append(("reason", *wrong))
    if not found:
        return None
    return InvalidInput("; ".join(said for _, said, _ in found), fields={f: w for f, _, w in found})


def _trimmed(person: NewPerson) -> NewPerson:
    """Each text detail trimmed, an empty one left unrecorded."""
    changes: dict[str, Any] = {}
    for field in fields(person):
        value = getattr(person, field.name)
        if isinstance(value, str):
            changes[field.name] = value.strip() or None
    return replace(person, **changes)


def _said(row: Any, place: int) -> dict[str, Any]:
    """What the event says about the person: their place, name and date of birth (both sealed), their
    parts, and whether the household whose means are tested changed."""
    return {
        "person": place,
        "name": full_name(row),
        "date_of_birth": row.date_of_birth,
        "roles": person_roles(row),
        "test_of_resources_may_change": bool(row.is_relevant_person),
    }


def add_person(
    db: Database,
    actor: Actor,
    reference: str,
    person: NewPerson,
    role: str,
    reason: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Add a person to the case in ``role`` (one of :data:`HOUSEHOLD_ROLES`), with the reason; they are
    listed last. ``expected_version``: the case's version a form was read at (Conflict if it changed)."""
    role_acting = require_role(actor, "grant_officer")
    now = now or utcnow()
    if problems := addition_problems(person, role, reason, now=now):
        raise problems
    joining = _trimmed(in_role(person, role))

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        connection.execute(insert(PEOPLE).values(case_id=case_id, **joining.row()))
        people = _people(connection, case_id)
        index_case(connection, case_id)  # found by the new name from now on
        return _said(people[-1], len(people))

    return record_change(
        db, actor, reference, role=role_acting, kind=PERSON_ADDED, write_details=write,
        check=lambda case: check_version(case.reference, case.version, expected_version),
        reason=reason.strip(), now=now,
    )  # fmt: skip


def remove_person(
    db: Database,
    actor: Actor,
    reference: str,
    place: int,
    reason: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Remove the person at ``place`` (1 = the first listed on the case), with the reason. Refused for
    the applicant (the application is theirs) and for the case's only disabled occupant (the grant is
    for their needs)."""
    role = require_role(actor, "grant_officer")
    if wrong := reason_problem(reason, "removing them"):
        raise InvalidInput(wrong[0], fields={"reason": wrong[1]})

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        people = _people(connection, case_id)
        if not 1 <= place <= len(people):
            raise NotFound(f"the case has {len(people)} person(s): give 1 to {len(people)}")
        row = people[place - 1]
        if row.is_applicant:
            raise GuardFailed(f"{full_name(row)} is the applicant and cannot be removed from the case")
        if row.is_disabled_occupant and sum(p.is_disabled_occupant for p in people) == 1:
            raise GuardFailed(
                f"{full_name(row)} is the case's only disabled occupant: add the right one before removing them"
            )
        connection.execute(delete(PEOPLE).where(PEOPLE.c.id == row.id))
        index_case(connection, case_id)  # no longer found by their name
        return _said(row, place)

    return record_change(
        db, actor, reference, role=role, kind=PERSON_REMOVED, write_details=write,
        check=lambda case: check_version(case.reference, case.version, expected_version),
        reason=reason.strip(), now=now,
    )  # fmt: skip


def _people(connection: Connection, case_id: int) -> list[Any]:
    """The case's people in the order they are numbered (the order they were added)."""
    return list(connection.execute(select(PEOPLE).where(PEOPLE.c.case_id == case_id).order_by(PEOPLE.c.id)))
