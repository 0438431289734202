"""How the people on a case read: their name as written on letters, the parts they play in the case,
and where letters to them go. Read by showing a case, by its letters and by opening it."""

from __future__ import annotations

from typing import Any

#: The ``people`` columns of a postal address, in the order it is printed (postcode last).
POSTAL_COLUMNS = ("postal_address_line_1", "postal_address_line_2", "postal_town", "postal_postcode")


#: Titles a name written whole may begin with ("Mrs Margaret Holt", as a list of cases shows an applicant).
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "rev", "prof", "sir", "lady", "lord", "dame"})


def split_name(name: str, *, titled: bool = False) -> tuple[str | None, str, str] | None:
    """A name written whole as its title, given names and family name (the last word); with ``titled``, a
    first word that is a title (Mrs, Dr.) is the title. None unless a given and a family name are left."""
    words = name.split()
    title = None
    if titled and len(words) > 2 and words[0].lower().rstrip(".") in TITLES:
        title, words = words[0], words[1:]
    if len(words) < 2:
        return None
    return title, " ".join(words[:-1]), words[-1]


def full_name(person: Any) -> str:
    """A person's name as written on letters and shown, from a row (or record) with their name's columns."""
    return " ".join(p for p in (person.title, person.given_name, person.family_name) if p)


def postal_lines(person: Any) -> tuple[str, ...]:
    """A ``people`` row's postal address as printed, postcode last; empty when none is recorded."""
    return tuple(part for part in (getattr(person, column) for column in POSTAL_COLUMNS) if part)


def person_roles(person: Any) -> list[str]:
    """The parts a person plays in the case, as the case view and its JSON name them."""
    return [
        name
        for name, flag in (
            ("applicant", person.is_applicant),
            ("disabled_occupant", person.is_disabled_occupant),
            ("relevant_person", person.is_relevant_person),
        )
        if flag
    ]
