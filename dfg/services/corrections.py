"""Corrections to the people and the home on a case: a name spelt wrongly, a date of birth, an NHS
number, a phone number, the address. Each is one event (``details_corrected``) saying what changed,
from what to what, by whom and why; the values are personal and sealed beside the chain like the rest,
so the history shows the change and disposal erases both values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from dfg.errors import InvalidInput, NotFound
from dfg.rules.clock import local_day, utcnow
from dfg.rules.nhs_number import parse_nhs_number
from dfg.rules.plausible import postcode, postcode_problem
from dfg.services.cases import Recorded, check_version, record_change
from dfg.services.people import LARGE_PRINT, born_problem, detail_problem
from dfg.services.search_index import index_case
from dfg.store.database import Database
from dfg.store.tables import CASES, PEOPLE, PROPERTIES
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

DETAILS_CORRECTED = "details_corrected"
#: What may be corrected on a person, and on the home to be adapted.
PERSON_FIELDS = (
    "title", "given_name", "family_name", "date_of_birth", "nhs_number", "phone", "email",
    "preferred_contact", "advocate", "format_note", "large_print",
)  # fmt: skip
HOME_FIELDS = ("address_line_1", "address_line_2", "town", "postcode")
_REQUIRED = {"given_name", "family_name", "address_line_1", "town", "postcode"}


@dataclass(frozen=True)
class Correction:
    """What to change: a person's fields (``person``: their place on the case, 1 = first listed) and
    the home's. A field left out is unchanged; ``""`` clears an optional one."""

    reason: str
    person: int | None = None
    person_fields: Mapping[str, str | date | None] | None = None
    home_fields: Mapping[str, str | None] | None = None


#: Each field in a person's words, for the problems a form shows beside it.
FIELD_WORDS = {"title": "title", "given_name": "given name", "family_name": "family name",
               "date_of_birth": "date of birth", "nhs_number": "NHS number", "phone": "phone number",
               "email": "e-mail address", "preferred_contact": "preferred contact",
               "advocate": "advocate", "format_note": "format note", "large_print": "large print",
               "communication_needs": "large print",
               "address_line_1": "first line of the address",
               "address_line_2": "second line of the address", "town": "town", "postcode": "postcode"}  # fmt: skip
LONGEST_REASON = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _checked(
    correction: Correction, today: date
) -> tuple[dict[str, Any], dict[str, Any], InvalidInput | None]:
    """The new values as they will be kept, and every problem with them: one message for the command
    line, and each by its field in a person's words for a form."""
    problems: list[str] = []
    words: dict[str, str] = {}
    person: dict[str, Any] = {}
    home: dict[str, Any] = {}
    for fields, allowed, into in (
        (correction.person_fields, PERSON_FIELDS, person),
        (correction.home_fields, HOME_FIELDS, home),
    ):
        for name, value in (fields or {}).items():
            said = FIELD_WORDS.get(name, name)
            if name not in allowed:
                problems.append(f"{name}: cannot be corrected here")
                words[name] = f"The {said} cannot be corrected here"
                continue
            text = value.strip() if isinstance(value, str) else value
            if isinstance(text, str) and _CONTROL.search(text):
                # PostgreSQL refuses a NUL; none of these belong in a name or an address anyway
                problems.append(f"{name}: holds a control character")
                words[name] = f"The {said} must not contain hidden characters such as tabs or line breaks"
            elif name == "large_print":
                # on or off; kept as communication_needs, which letters read
                if text not in ("yes", "no", True, False):
                    problems.append("large_print: say yes or no")
                    words[name] = "Say whether letters should be in large print"
                else:
                    into["communication_needs"] = LARGE_PRINT if text in ("yes", True) else None
            elif text in ("", None):
                if name in _REQUIRED:
                    problems.append(f"{name}: is required and cannot be cleared")
                    words[name] = f"Enter the {said}: it cannot be left empty"
                into[name] = None
            elif name == "date_of_birth":
                if not isinstance(text, date):
                    problems.append("date_of_birth: give a date")
                    words[name] = "The date of birth must be a real date, for example 27 3 1950"
                elif born := born_problem(text, today):
                    problems.append(born[0])
                    words[name] = born[1]
                into[name] = text
            elif name == "nhs_number":
                try:
                    into[name] = parse_nhs_number(str(text), field="nhs_number")
                except InvalidInput as error:
                    problems.append(error.message)
                    words[name] = "Enter a real NHS number: 10 digits, like 943 476 5919"
            elif name == "postcode":
                if wrong := postcode_problem(str(text)):
                    problems.append(wrong)
                    words[name] = "Enter a real postcode, like WS11 1AA"
                into[name] = postcode(str(text))
            elif unfit := detail_problem(name, str(text), said):
                problems.append(f"{name}: {unfit[0]}")
                words[name] = unfit[1]
            else:
                into[name] = text
    if person and correction.person is None:
        problems.append("say whose details: --person N (1 = the first listed on the case)")
        words["person"] = "Say whose details to correct"
    if not person and not home and not problems:
        problems.append("nothing to correct: give at least one new value")
        words["details"] = "Nothing has changed: change at least one detail before saving"
    if unfit_reason := reason_problem(correction.reason, "the correction"):
        problems.append(unfit_reason[0])
        words["reason"] = unfit_reason[1]
    return person, home, InvalidInput("; ".join(problems), fields=words) if problems else None


def reason_problem(reason: str, what: str) -> tuple[str, str] | None:
    """What is wrong with the reason given for a change to a case's details (``what``: "the
    correction"): the problem for the command line and in a person's words for a form; None if fine."""
    reason = reason.strip()
    if not reason:
        return "reason: say why (for example 'spelt wrongly on the referral')", f"Enter the reason for {what}"
    if "\x00" in reason:
        return "reason: holds a NUL character", "The reason must not contain hidden characters"
    if len(reason) > LONGEST_REASON:
        return (
            f"reason: at most {LONGEST_REASON:,} characters",
            f"The reason must be {LONGEST_REASON:,} characters or fewer",
        )
    return None


def correction_problems(correction: Correction, *, now: datetime | None = None) -> InvalidInput | None:
    """Everything wrong with a correction, without making it (a form shows these beside its own)."""
    return _checked(correction, local_day(now or utcnow()))[2]


def correct_details(
    db: Database,
    actor: Actor,
    reference: str,
    correction: Correction,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Correct a person's or the home's details, with the reason; every problem said at once.
    ``expected_version``: the case's version a form was read at (Conflict if it changed since)."""
    role = require_role(actor, "grant_officer")
    now = now or utcnow()
    person, home, problems = _checked(correction, local_day(now))
    if problems is not None:
        raise problems

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        changed: dict[str, Any] = {}
        if person:
            people = connection.execute(
                select(PEOPLE).where(PEOPLE.c.case_id == case_id).order_by(PEOPLE.c.id)
            ).all()
            place = correction.person or 0
            if not 1 <= place <= len(people):
                raise NotFound(f"the case has {len(people)} person(s): --person 1 to {len(people)}")
            row = people[place - 1]
            moved = {k: v for k, v in person.items() if getattr(row, k) != v}
            if moved:
                connection.execute(update(PEOPLE).where(PEOPLE.c.id == row.id).values(moved))
                changed.update({k: {"from": getattr(row, k), "to": v} for k, v in moved.items()})
        if home:
            row = connection.execute(
                select(PROPERTIES)
                .join(CASES, CASES.c.property_id == PROPERTIES.c.id)
                .where(CASES.c.id == case_id)
            ).one()
            moved = {k: v for k, v in home.items() if getattr(row, k) != v}
            if moved:
                connection.execute(update(PROPERTIES).where(PROPERTIES.c.id == row.id).values(moved))
                changed.update({k: {"from": getattr(row, k), "to": v} for k, v in moved.items()})
        if not changed:
            raise InvalidInput(
                "nothing to correct: the details are already as given",
                fields={"details": "Nothing has changed: the details are already as given"},
            )
        index_case(connection, case_id)  # found by what it now says, not what it said
        return {"person": correction.person if person else None, "changed": changed}

    return record_change(
        db, actor, reference, role=role, kind=DETAILS_CORRECTED, write_details=write,
        check=lambda case: check_version(case.reference, case.version, expected_version),
        reason=correction.reason.strip(), now=now,
    )  # fmt: skip
