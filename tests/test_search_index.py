"""The search index (``search_terms`` and each database's own trigram index over it): kept in step with
what a case says, filled for the cases already recorded by the migration that made it, and emptied of a
person's names, NHS number and address when their file is disposed of. Each test runs on SQLite and
PostgreSQL; tests/test_case_search.py holds what a search finds and how it ranks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select, text

from dfg.services.assessment import parse_assessment, record_assessment
from dfg.services.case_opening import NewPerson
from dfg.services.case_search import find_cases
from dfg.services.cases import advance
from dfg.services.corrections import Correction, correct_details
from dfg.services.identity import user_actor
from dfg.services.retention import authorise_disposal, dispose
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.store.migrate import upgrade
from dfg.store.tables import SEARCH_TERMS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.test_assessment import ROW
from tests.test_personal_data import (
    FAMILY,
    GIVEN,
    POSTCODE,
    STREET,
    _open,
    _walked_and_cancelled,
    _years_later,
)


def _found(db: Database, actor: Actor, words: str) -> list[tuple[str, str]]:
    return [(f.case.reference, f.matched_on) for f in find_cases(db, actor, words)]


def _terms(db: Database) -> list[str]:
    with db.read_connection() as connection:
        return list(connection.scalars(select(SEARCH_TERMS.c.term).order_by(SEARCH_TERMS.c.id)))


def _index_pages(db: Database) -> bytes:
    with db.read_connection() as connection:
        return b"".join(connection.scalars(text("SELECT block FROM search_terms_text_data")))


def test_a_correction_is_found_by_what_the_case_now_says(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()  # Mrs Margaret Holt, 12 Mill Lane, Cannock WS11 1AA
    officer = cast["officer"]
    correct_details(
        db, officer, reference,
        Correction(reason="Spelt wrongly on the referral", person=1, person_fields={"family_name": "Holté"},
                   home_fields={"address_line_1": "14 Mill Lane", "postcode": "WS12 2BB"}),
    )  # fmt: skip
    assert _found(db, officer, "margaret holte") == [(reference, "name")]
    assert _found(db, officer, "ws12 2bb") == [(reference, "postcode")]
    assert _found(db, officer, "14 mill") == [(reference, "part of a name or address")]
    assert _found(db, officer, "ws11 1aa") == _found(db, officer, "12 mill") == []
    # no longer her whole name, but part of it
    assert _found(db, officer, "margaret holt") == [(reference, "part of a name or address")]


def test_an_nhs_number_the_assessment_records_finds_the_case(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral", TriggerInput(on=date(2026, 1, 7)))
    assert _found(db, cast["officer"], "943 476 5919") == []
    record_assessment(db, cast["ot"], reference, parse_assessment(ROW))  # ROW gives the NHS number
    assert _found(db, cast["officer"], "943 476 5919") == [(reference, "NHS number")]


def test_text_that_the_databases_own_matching_would_read_as_a_pattern_is_only_text(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    odd = NewPerson(given_name="Ann*", family_name="O_Hara%", is_applicant=True, is_disabled_occupant=True)
    reference = open_sample(people=(odd,), address_line_1="1 [Flat] Row")
    open_sample()  # Mrs Holt, whom a pattern of "*", "_" or "%" would find too
    officer = cast["officer"]
    assert _found(db, officer, "o_hara%") == [(reference, "name")]
    assert _found(db, officer, "n* o_h") == [(reference, "part of a name or address")]
    assert _found(db, officer, "[flat]") == [(reference, "part of a name or address")]
    assert _found(db, officer, "%%") == _found(db, officer, "**") == _found(db, officer, "_a") == []


def test_disposal_takes_the_person_out_of_the_index(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = _open(open_sample)  # Mr Zebedee Quartermaine, 77 Xylophone Row, WS11 9QZ
    other = open_sample()
    _walked_and_cancelled(db, cast, reference)
    manager = cast["manager"]
    assert _found(db, manager, FAMILY) == [(reference, "name")]
    assert not db.is_sqlite or b"zeb" in _index_pages(db)  # the FTS5 index holds its trigrams
    later = _years_later(7)
    authorise_disposal(db, manager, [reference], now=later)
    dispose(db, cast["admin"], now=later)

    for words in (FAMILY, GIVEN, "xylophone", POSTCODE, STREET, "quarterm", "ebede"):
        assert _found(db, manager, words) == [], words
    terms = " ".join(_terms(db))
    assert [v for v in ("zebedee", "quartermaine", "xylophone", "ws119qz") if v in terms] == []
    assert _found(db, manager, reference) == [(reference, "reference")]  # the case's own number stays
    assert _found(db, manager, "mill lane") == [(other, "part of a name or address")]  # others stay found
    if db.is_sqlite:  # nor is any trigram of the name left in the pages of the FTS5 index (its segments)
        assert [t for t in (b"zeb", b"ebe", b"xyl") if t in _index_pages(db)] == []


def test_the_migration_indexes_the_cases_already_recorded(empty_url: str) -> None:
    database = Database(empty_url)
    upgrade(database, "0013")
    with database.write_engine.begin() as connection:
        connection.execute(text("INSERT INTO districts (code, name) VALUES ('CAN', 'Cannock Chase')"))
        connection.execute(
            text(
                "INSERT INTO properties (id, address_line_1, town, postcode, district_code) "
                "VALUES (1, '9 Old Street', 'Rugeley', 'WS15 2AB', 'CAN')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO cases (id, reference, district_code, property_id, workflow_version, state, "
                "priority, tenure, first_contact_date, audit_seq, audit_head, version, created_at, updated_at) "
                "VALUES (1, 'CAN-2020-0001', 'CAN', 1, 'dfg@1', 'referral', 'non_urgent', 'owner', "
                "'2020-01-06', 0, '', 1, '2020-01-06 09:00:00', '2020-01-06 09:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO people (case_id, title, given_name, family_name, nhs_number, is_applicant, "
                "is_disabled_occupant, is_relevant_person) "
                "VALUES (1, 'Mrs', 'Édna', 'Oldcastle', '9434765919', true, true, false)"
            )
        )
    upgrade(database)
    add_user(database, None, username="admin", full_name="Admin", roles=["admin"])
    add_user(database, "admin", username="manager", full_name="Manager", roles=["manager"])
    manager = user_actor(database, "manager")
    assert _found(database, manager, "edna oldcastle") == [("CAN-2020-0001", "name")]
    assert _found(database, manager, "943 476 5919") == [("CAN-2020-0001", "NHS number")]
    assert _found(database, manager, "old str") == [("CAN-2020-0001", "part of a name or address")]
    assert _found(database, manager, "ws15") == [("CAN-2020-0001", "part of a name or address")]
    database.dispose()
