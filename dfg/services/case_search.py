"""Finding a case: by reference, name, postcode, address or NHS number, among the cases a user may see.

Matching is done here, in Python, over the candidates the case list's filters leave (its district and
state rules, so a search can never show more than a list would): the same on SQLite and PostgreSQL,
and insensitive to case, accents and spacing, which neither database's own text search gives alike.
Measured in ``bench/search.py``; a database text index is the next step if a county outgrows it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from dfg.errors import InvalidInput
from dfg.services.access import record_accesses
from dfg.services.case_reading import CaseFilter, CaseSummary, list_cases
from dfg.store.database import Database
from dfg.store.tables import CASES, PEOPLE, PROPERTIES
from dfg.workflow.actor import Actor

#: How good a match is, best first: ranked results put exact identifiers above names and partial text.
RANKS = ("reference", "NHS number", "postcode", "name", "address", "part of a name or address")
_NON_DIGIT = re.compile(r"\D")


def folded(text: str) -> str:
    """``  Zoë  O'Brien `` -> ``zoe o'brien``: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


@dataclass(frozen=True)
class Found:
    case: CaseSummary
    matched_on: str

    @property
    def rank(self) -> int:
        return RANKS.index(self.matched_on)

    def as_dict(self) -> dict[str, Any]:
        return {**self.case.as_dict(), "matched_on": self.matched_on}


def find_cases(db: Database, actor: Actor, text: str, where: CaseFilter | None = None) -> list[Found]:
    """The cases ``text`` finds among those ``where`` lists, best match first (then oldest first)."""
    where = where or CaseFilter()
    wanted = folded(text)
    if len(wanted) < 2:
        raise InvalidInput("give at least two characters to search for")
    candidates = {c.reference: c for c in list_cases(db, actor, replace(where, limit=10_000_000))}
    if not candidates:
        return []
    found: dict[str, int] = {}

    def better(reference: str, rank: int) -> None:
        if reference in candidates and rank < found.get(reference, len(RANKS)):
            found[reference] = rank

    compact = wanted.replace(" ", "")
    digits = _NON_DIGIT.sub("", wanted)
    district = where.district or actor.district
    homes_query = select(
        CASES.c.reference, *PROPERTIES.c[("address_line_1", "address_line_2", "town", "postcode")]
    ).join(PROPERTIES, PROPERTIES.c.id == CASES.c.property_id)
    people_query = select(
        CASES.c.reference, *PEOPLE.c[("title", "given_name", "family_name", "nhs_number")]
    ).join(CASES, CASES.c.id == PEOPLE.c.case_id)
    if district:  # another district's people are never read, let alone shown
        homes_query = homes_query.where(CASES.c.district_code == district.upper())
        people_query = people_query.where(CASES.c.district_code == district.upper())
    with db.read_connection() as connection:
        homes = connection.execute(homes_query).all()
        people = connection.execute(people_query).all()
    for home in homes:
        if home.reference.casefold() == compact:
            better(home.reference, 0)
        postcode = home.postcode.replace(" ", "").casefold()
        if postcode == compact:
            better(home.reference, 2)
        address = folded(" ".join(p for p in (home.address_line_1, home.address_line_2, home.town) if p))
        if address == wanted:
            better(home.reference, 4)
        elif wanted in address or (len(compact) >= 3 and postcode.startswith(compact)):
            better(home.reference, 5)
    for person in people:
        if len(digits) == 10 and person.nhs_number == digits:
            better(person.reference, 1)
        name = folded(f"{person.given_name} {person.family_name}")
        titled = folded(f"{person.title or ''} {person.given_name} {person.family_name}")
        if wanted in (name, titled, folded(person.family_name)):
            better(person.reference, 3)
        elif wanted in titled:
            better(person.reference, 5)
    ranked = sorted(
        found.items(), key=lambda item: (item[1], candidates[item[0]].first_contact_date, item[0])
    )
    shown = [Found(candidates[reference], RANKS[rank]) for reference, rank in ranked[: where.limit]]
    # each result names its applicant: the read is on that case's access record
    record_accesses(db, actor, [f.case.reference for f in shown], "search")
    return shown
