"""Finding cases (``dfg case find``): by reference, NHS number, postcode, name or address, insensitive to
case, accents and spacing, ranked, and never beyond the cases the user may see; the same on both
databases (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner

from cli import main
from dfg.errors import InvalidInput
from dfg.services.case_opening import NewPerson
from dfg.services.case_reading import CaseFilter
from dfg.services.case_search import find_cases, folded
from dfg.services.cases import advance
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput


@pytest.fixture
def cases(open_sample: Callable[..., str]) -> dict[str, str]:
    zoe = NewPerson(title="Ms", given_name="Zoë", family_name="Ó Briain", is_applicant=True, is_disabled_occupant=True,
                    nhs_number="9434765919")  # fmt: skip
    return {
        "holt": open_sample(),  # Mrs Margaret Holt, 12 Mill Lane, Cannock WS11 1AA
        "zoe": open_sample(people=(zoe,), address_line_1="3 Holt Close", postcode="WS12 4QT"),
        "lichfield": open_sample("LIC", by="lichfield"),  # another Mrs Holt, in Lichfield
    }


def _found(db: Database, actor: Actor, text: str, **where: object) -> list[tuple[str, str]]:
    return [(f.case.reference, f.matched_on) for f in find_cases(db, actor, text, CaseFilter(**where))]  # type: ignore[arg-type]


def test_each_way_of_finding_a_case(db: Database, cast: dict[str, Actor], cases: dict[str, str]) -> None:
    officer, holt, zoe = cast["officer"], cases["holt"], cases["zoe"]
    assert _found(db, officer, holt.lower()) == [(holt, "reference")]
    assert _found(db, officer, "943 476 5919") == [(zoe, "NHS number")]
    assert _found(db, officer, "ws111aa") == _found(db, officer, "WS11 1AA") == [(holt, "postcode")]
    assert _found(db, officer, "zoe o briain") == [(zoe, "name")]  # accents and case ignored
    assert _found(db, officer, "  MRS   margaret holt ") == [(holt, "name")]
    assert _found(db, officer, "12 mill lane cannock") == [(holt, "address")]
    assert _found(db, officer, "mill lane") == [(holt, "part of a name or address")]


def test_results_are_ranked_and_kept_to_the_district(
    db: Database, cast: dict[str, Actor], cases: dict[str, str]
) -> None:
    # "holt" is Mrs Holt's family name and part of Ms Ó Briain's address: the name comes first
    assert _found(db, cast["officer"], "holt") == [
        (cases["holt"], "name"),
        (cases["zoe"], "part of a name or address"),
    ]
    assert _found(db, cast["lichfield"], "holt") == [(cases["lichfield"], "name")]
    assert {r for r, _ in _found(db, cast["manager"], "holt")} == set(cases.values())  # a county manager


def test_filters_narrow_the_search(db: Database, cast: dict[str, Actor], cases: dict[str, str]) -> None:
    advance(db, cast["officer"], cases["holt"], "cancel", TriggerInput(code="died", reason="Died"))
    assert _found(db, cast["officer"], "holt", closed=False) == [(cases["zoe"], "part of a name or address")]
    assert _found(db, cast["officer"], "holt", closed=True) == [(cases["holt"], "name")]
    assert _found(db, cast["manager"], "holt", district="LIC") == [(cases["lichfield"], "name")]
    with pytest.raises(InvalidInput):
        find_cases(db, cast["officer"], " h ")


def test_folding() -> None:
    assert folded("  Zoë  ÓBRIAIN ") == "zoe obriain"


def test_the_command(db_url: str, cast: dict[str, Actor], cases: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "officer", "case", "find", "ws12 4qt"])
    assert result.exit_code == 0, result.stderr
    assert (
        cases["zoe"] in result.stdout and "postcode" in result.stdout and cases["holt"] not in result.stdout
    )
    assert result.stderr == "1 case(s) found\n"
    short = CliRunner().invoke(main, ["--db", db_url, "--as", "officer", "case", "find", "x"])
    assert (short.exit_code, short.stderr) == (
        InvalidInput.exit_code,
        "dfg: give at least two characters to search for\n",
    )


def test_the_cases_a_search_shows_are_on_their_access_records(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    from dfg.services.access import access_record

    shown = open_sample()
    someone_else = NewPerson(
        given_name="Someone", family_name="Else", is_applicant=True, is_disabled_occupant=True
    )
    open_sample(people=(someone_else,), address_line_1="1 Other Road")
    assert [f.case.reference for f in find_cases(db, cast["officer"], "holt")] == [shown]
    [entry] = access_record(db, cast["manager"], shown)
    assert (entry.username, entry.view) == ("officer", "search")
