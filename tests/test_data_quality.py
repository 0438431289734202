"""Plausible-looking mistakes refused before they are recorded: a postcode that is not one, a date of
birth before anyone living was born, an estimate of £0 or of a trillion pounds, the same applicant
opened twice; each said in one message with every problem, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from dfg.errors import GuardFailed, InvalidInput
from dfg.rules.plausible import date_of_birth_problem, postcode, postcode_problem
from dfg.services.case_opening import NewPerson, open_case
from dfg.services.case_reading import CaseFilter, list_cases, show_case
from dfg.services.estimates import record_estimate
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import prepare_works, sample_case, walk_to


@pytest.mark.parametrize(
    "good", ["WS11 1AA", "ws111aa", " EC1A 1BB ", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "GIR 0AA"]
)
def test_real_postcodes_pass_and_are_written_one_way(good: str) -> None:
    assert postcode_problem(good) is None
    assert postcode(good) == postcode(good.replace(" ", "")) and " " in postcode(good)


@pytest.mark.parametrize("bad", ["NOTAPOSTCODE", "12345", "WS11", "QQ1 1AA", "WS11 1CA", "W"])
def test_what_is_not_a_postcode_is_refused(bad: str) -> None:
    assert postcode_problem(bad) is not None


def test_dates_of_birth() -> None:
    today = date(2026, 12, 3)
    assert date_of_birth_problem(date(1930, 1, 1), today) is None
    assert "over 120" in str(date_of_birth_problem(date(1800, 6, 1), today))
    assert "future" in str(date_of_birth_problem(date(2027, 1, 1), today))


def test_a_new_case_with_several_mistakes_is_told_them_all(db: Database, cast: dict[str, Actor]) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_case(
            db, cast["officer"], sample_case(dob=date(1800, 6, 1), postcode="NOTAPOSTCODE", tenure="squatter")
        )
    message = str(refused.value)
    assert (
        "tenure 'squatter'" in message
        and "over 120" in message
        and "'NOTAPOSTCODE' is not a UK postcode" in message
    )
    assert list_cases(db, cast["officer"], CaseFilter()) == []


def test_the_postcode_is_written_one_way(db: Database, cast: dict[str, Actor]) -> None:
    reference = open_case(db, cast["officer"], sample_case(postcode="ws111aa"))
    assert show_case(db, cast["officer"], reference).address[-1] == "WS11 1AA"


def test_the_same_applicant_is_not_opened_twice_by_mistake(db: Database, cast: dict[str, Actor]) -> None:
    first = open_case(db, cast["officer"], sample_case(allow_duplicate=False))
    with pytest.raises(GuardFailed, match=f"{first} is already open for this applicant"):
        open_case(db, cast["officer"], sample_case(allow_duplicate=False))
    # the same NHS number under another spelling of the name is the same person
    nhs = NewPerson(
        given_name="Maggie",
        family_name="Holt",
        nhs_number="9434765919",
        is_applicant=True,
        is_disabled_occupant=True,
    )
    second = open_case(db, cast["officer"], sample_case(allow_duplicate=True, people=(nhs,)))
    again = NewPerson(
        given_name="M",
        family_name="Holt-Smith",
        nhs_number="9434765919",
        is_applicant=True,
        is_disabled_occupant=True,
    )
    with pytest.raises(GuardFailed):
        open_case(db, cast["officer"], sample_case(allow_duplicate=False, people=(again,)))
    assert second != first
    open_case(db, cast["lichfield"], sample_case("LIC", allow_duplicate=False))  # another district's own case


def test_estimates_of_nothing_or_of_a_fortune_are_refused(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "scheme_design")
    prepare_works(db, cast)
    for pence, said in ((0, "more than £0.00"), (1_000_000_000_000_00, "largest estimate")):
        with pytest.raises(InvalidInput, match=said):
            record_estimate(db, cast["officer"], reference, contractor="Able Lifts Ltd", price_pence=pence,
                            received_on=date(2026, 1, 10))  # fmt: skip
