"""How the people on a case read: their name as written on letters, the parts they play in the case,
and where letters to them go; and what their details (and the home's) may be, however they are given.
Read by showing a case, by its letters, by opening it and by correcting it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from dfg.rules.plausible import date_of_birth_problem, email_problem, phone_problem

#: The ``people`` columns of a postal address, in the order it is printed (postcode last).
POSTAL_COLUMNS = ("postal_address_line_1", "postal_address_line_2", "postal_town", "postal_postcode")


#: The longest each detail of a person or of the home may be (the store's columns).
DETAIL_LONGEST = {
    "title": 20, "given_name": 80, "family_name": 80, "relationship_to_applicant": 40, "phone": 30,
    "email": 120, "communication_needs": 200, "address_line_1": 120, "address_line_2": 120, "town": 60,
    "uprn": 12, "referral_source": 60, "advocate": 300, "format_note": 200,
}  # fmt: skip

#: How a person would rather be contacted, and each in words for a page and ``dfg case show``.
PREFERRED_CONTACTS = ("post", "phone", "email", "advocate")
CONTACT_WORDS = {
    "post": "By post",
    "phone": "By phone",
    "email": "By e-mail",
    "advocate": "Through their advocate",
}
#: What ``communication_needs`` holds when letters to the person are printed in large print.
LARGE_PRINT = "large_print"


def preferred_contact_problem(choice: str) -> tuple[str, str] | None:
    """What is wrong with a preferred way of contact as given (trimmed, not empty): the problem, and in
    a person's words for a form; None if it is one of :data:`PREFERRED_CONTACTS`."""
    if choice in PREFERRED_CONTACTS:
        return None
    return (
        f"'{choice}' is not one of: {', '.join(PREFERRED_CONTACTS)}",
        "Choose how they would like to be contacted: post, phone, e-mail or their advocate",
    )


def contact_lines(person: Mapping[str, Any]) -> list[str]:
    """A shown person's contact preferences in words, one line each (none recorded, none shown): for
    ``dfg case show`` and the case page."""
    lines = []
    if person.get("preferred_contact"):
        lines.append(
            f"Contact: {CONTACT_WORDS.get(person['preferred_contact'], person['preferred_contact'])}"
        )
    if person.get("advocate"):
        lines.append(f"Advocate: {person['advocate']}")
    if person.get("large_print"):
        lines.append("Letters in large print")
    if person.get("format_note"):
        lines.append(f"Format: {person['format_note']}")
    return lines


def in_large_print(person: Any) -> bool:
    """Whether letters to a person (a row or record with ``communication_needs``) are in large print."""
    return LARGE_PRINT in (person.communication_needs or "")


def copy_to_advocate(person: Mapping[str, Any]) -> bool:
    """Whether a copy of each letter goes to the person's advocate: they asked to be contacted through
    one, and one is recorded."""
    return person.get("preferred_contact") == "advocate" and bool(person.get("advocate"))


def detail_problem(name: str, text: str, said: str) -> tuple[str, str] | None:
    """What is wrong with one detail as given (trimmed, not empty): longer than the store keeps, or an
    e-mail address or phone number that cannot be one. The problem (to follow the detail's name), and in
    a person's words for a form (``said`` is the detail in words: "phone number"); None if it is fine."""
    longest = DETAIL_LONGEST.get(name)
    if longest is not None and len(text) > longest:
        return f"at most {longest} characters", f"The {said} must be {longest} characters or fewer"
    if name == "email" and (wrong := email_problem(text)):
        return wrong, "Enter an e-mail address in the right form, like name@example.com"
    if name == "phone" and (wrong := phone_problem(text)):
        return wrong, "Enter a phone number, like 01543 462621"
    if name == "preferred_contact":
        return preferred_contact_problem(text)
    return None


def born_problem(born: date, today: date) -> tuple[str, str] | None:
    """What is wrong with a date of birth (in the future, or too long ago): the problem, and in a
    person's words for a form; None if it could be one."""
    wrong = date_of_birth_problem(born, today)
    if wrong is None:
        return None
    if born > today:
        return wrong, "The date of birth must be in the past"
    return wrong, "The date of birth is too long ago: check the year"


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


def letter_arrangements(person: Mapping[str, Any]) -> list[str]:
    """What the officer must arrange for letters to a person beyond printing them (a ``people`` row's
    mapping, or a shown person): the format they need (Braille, audio, an interpreter), and a copy to
    their advocate (text only: the letter is addressed to the person)."""
    notes = []
    if person.get("format_note"):
        notes.append(f"arrange: {person['format_note']}")
    if copy_to_advocate(person):
        notes.append(f"a copy goes to their advocate, {person['advocate']}")
    return notes
