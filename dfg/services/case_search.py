"""Finding a case: by reference, name, postcode, address or NHS number, among the cases a user may see.

Each case's search terms (``search_terms``: its reference, postcode, address and its people's names and
NHS numbers, folded by :mod:`dfg.rules.search_text` and kept in step with every write that changes them,
:mod:`dfg.services.search_index`) are matched in the database: whole terms through their ordinary index,
a part of a name or an address through the database's own trigram index (FTS5 on SQLite, pg_trgm on
PostgreSQL: :mod:`dfg.store.text_index`). What is found is joined to the case list's own query (its
district and state rules), so a search can never show more than a list would, and ranked there: the
same results on both databases, insensitive to case, accents and spacing. Measured in
``bench/search.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select, union_all

from dfg.errors import InvalidInput
from dfg.rules.search_text import PARTIAL_KINDS, compact, digits, folded
from dfg.services.access import record_accesses
from dfg.services.case_reading import CaseFilter, CaseSummary, case_list_query, case_summaries
from dfg.store.database import Database
from dfg.store.tables import CASES, SEARCH_TERMS
from dfg.store.text_index import holds
from dfg.workflow.actor import Actor

__all__ = ["RANKS", "Found", "find_cases", "folded"]

#: How good a match is, best first: ranked results put exact identifiers above names and partial text.
RANKS = ("reference", "NHS number", "postcode", "name", "address", "part of a name or address")
_PARTIAL = RANKS.index("part of a name or address")
_terms = SEARCH_TERMS
_POSTCODE_LONGEST = 10  # properties.postcode's width


@dataclass(frozen=True)
class Found:
    case: CaseSummary
    matched_on: str

    @property
    def rank(self) -> int:
        return RANKS.index(self.matched_on)

    def as_dict(self) -> dict[str, Any]:
        return {**self.case.as_dict(), "matched_on": self.matched_on}


def _is(kinds: tuple[str, ...], value: str) -> ColumnElement[bool]:
    return and_(_terms.c.kind.in_(kinds), _terms.c.term == value)


def _matches(wanted: str, dialect: str) -> Select[Any]:
    """(case id, rank) of each term ``wanted`` matches: whole terms, then parts of names and addresses,
    then the start of a postcode."""
    whole, number = compact(wanted), digits(wanted)
    ranked = [
        (_is(("reference",), whole), RANKS.index("reference")),
        (_is(("postcode",), whole), RANKS.index("postcode")),
        (_is(("name", "titled", "family"), wanted), RANKS.index("name")),
        (_is(("address",), wanted), RANKS.index("address")),
    ]
    values = {wanted, whole}
    if len(number) == 10:
        ranked.append((_is(("nhs",), number), RANKS.index("NHS number")))
        values.add(number)
    rank = case(*ranked, else_=None)
    exact = select(_terms.c.case_id, rank.label("rank")).where(_terms.c.term.in_(sorted(values)))
    parts = [
        exact,
        select(_terms.c.case_id, literal(_PARTIAL).label("rank")).where(
            _terms.c.kind.in_(PARTIAL_KINDS), holds(dialect, wanted)
        ),
    ]
    if 3 <= len(whole) <= _POSTCODE_LONGEST:  # no postcode starts with more than the whole of one
        parts.append(
            select(_terms.c.case_id, literal(_PARTIAL).label("rank")).where(
                _terms.c.kind == "postcode", holds(dialect, whole, at_start=True)
            )
        )
    matched = union_all(*parts).subquery()
    return (
        select(matched.c.case_id, func.min(matched.c.rank).label("rank"))
        .where(matched.c.rank.is_not(None))
        .group_by(matched.c.case_id)
    )


def find_cases(db: Database, actor: Actor, text: str, where: CaseFilter | None = None) -> list[Found]:
    """The cases ``text`` finds among those ``where`` lists, best match first (then oldest first)."""
    where = where or CaseFilter()
    wanted = folded(text)
    if len(wanted) < 2:
        raise InvalidInput("give at least two characters to search for")
    listed = case_list_query(actor, where)
    with db.read_connection() as connection:
        best = _matches(wanted, connection.dialect.name).subquery()
        query = (
            listed.join(best, best.c.case_id == CASES.c.id)
            .add_columns(best.c.rank)
            .order_by(None)
            .order_by(best.c.rank, CASES.c.first_contact_date, CASES.c.reference)
        )
        rows = connection.execute(query).all()
    shown = [Found(summary, RANKS[row.rank]) for summary, row in zip(case_summaries(rows), rows, strict=True)]
    # each result names its applicant: the read is on that case's access record
    record_accesses(db, actor, [f.case.reference for f in shown], "search")
    return shown
