"""Keeping a case's search terms (``search_terms``) as its people and home now read.

Every write that changes what a case is found by (opening it, correcting a name, a home or an NHS
number, disposing of its file) calls :func:`index_case` in its own transaction, so a search never finds
a case by what it no longer says, and a case is findable the moment it is committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, select

from dfg.rules.search_text import Home, Named, case_terms
from dfg.store.tables import CASES, PEOPLE, PROPERTIES
from dfg.store.text_index import add_many_terms, replace_terms

_HOME = select(
    CASES.c.reference,
    CASES.c.legacy_reference,
    *PROPERTIES.c[("address_line_1", "address_line_2", "town", "postcode")],
).join(PROPERTIES, PROPERTIES.c.id == CASES.c.property_id)
_PEOPLE = select(*PEOPLE.c[("title", "given_name", "family_name", "nhs_number")]).order_by(PEOPLE.c.id)


def index_opened_cases(
    connection: Connection, cases: Sequence[tuple[int, str, Home, Iterable[Named], str | None]]
) -> None:
    """Index cases as they are opened (id, reference, home, people, the reference in a system they were
    brought in from), from what the opening wrote: nothing to read back or delete."""
    add_many_terms(
        connection,
        [
            (case_id, case_terms(reference, home, people, legacy))
            for case_id, reference, home, people, legacy in cases
        ],
    )


def index_case(connection: Connection, case_id: int) -> None:
    """Rewrite the case's search terms from its rows as they stand in this transaction."""
    home = connection.execute(_HOME.where(CASES.c.id == case_id)).one()
    people = connection.execute(_PEOPLE.where(PEOPLE.c.case_id == case_id)).all()
    terms = case_terms(
        home.reference,
        Home(home.address_line_1, home.address_line_2, home.town, home.postcode),
        [Named(p.title, p.given_name, p.family_name, p.nhs_number) for p in people],
        home.legacy_reference,
    )
    replace_terms(connection, case_id, terms)
