"""What a case can be found by: its search terms, each folded the way a search's text is folded.

A case's terms are worked out here, with no database, so the search index (``search_terms``), the
migration that fills it and the search itself fold text one way: insensitive to case, accents and
spacing, which neither database's own text search gives alike. Each term has a kind, which is what a
match on it ranks as (see :mod:`dfg.services.case_search`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: The kinds of term a case is indexed by. ``titled`` is the name with its title (``mrs margaret holt``),
#: the text a part of a name is looked for in; ``address`` is the home's lines without the postcode.
TERM_KINDS = ("reference", "nhs", "postcode", "name", "titled", "family", "address")
#: The kinds a part of the text is looked for in (a substring), not only the whole of it.
PARTIAL_KINDS = ("titled", "address")

_NON_DIGIT = re.compile(r"\D")


def folded(text: str) -> str:
    """``  Zoë  O'Brien `` -> ``zoe o'brien``: no accents, no case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def compact(text: str) -> str:
    """A reference or postcode as compared: folded, without spaces (``WS11 1AA`` -> ``ws111aa``)."""
    return folded(text).replace(" ", "")


def digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


@dataclass(frozen=True)
class Home:
    address_line_1: str
    address_line_2: str | None
    town: str
    postcode: str


@dataclass(frozen=True)
class Named:
    title: str | None
    given_name: str
    family_name: str
    nhs_number: str | None


def case_terms(
    reference: str, home: Home, people: Iterable[Named], legacy_reference: str | None = None
) -> list[tuple[str, str]]:
    """The (kind, term) pairs a case is found by, without repeats, in a fixed order: its reference (and
    the one it had in a system it was brought in from) first."""
    address = " ".join(p for p in (home.address_line_1, home.address_line_2, home.town) if p)
    terms = [("reference", reference.casefold())]
    if legacy_reference:
        terms.append(("reference", compact(legacy_reference)))
    terms += [("postcode", compact(home.postcode)), ("address", folded(address))]
    for person in people:
        if person.nhs_number:
            terms.append(("nhs", person.nhs_number))
        terms.append(("name", folded(f"{person.given_name} {person.family_name}")))
        terms.append(("titled", folded(f"{person.title or ''} {person.given_name} {person.family_name}")))
        terms.append(("family", folded(person.family_name)))
    return list(dict.fromkeys(terms))
