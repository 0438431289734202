"""Plausible-looking mistakes refused before they are recorded: a postcode that is not one, a date of
birth before anyone living was born, an estimate of £0 or of a trillion pounds, the same applicant
opened twice; each said in one message with every problem, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from dfg.errors import GuardFailed, InvalidInput
from dfg.rules.plausible import (
    date_of_birth_problem,
    email_problem,
    phone_problem,
    postcode,
    postcode_problem,
)
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
    someone_else = NewPerson(
        given_name="Ann", family_name="Lodger", is_applicant=True, is_disabled_occupant=True
    )
    with pytest.raises(GuardFailed, match="applicant or home"):  # the same home, in another name
        open_case(db, cast["officer"], sample_case(allow_duplicate=False, people=(someone_else,)))
    with pytest.raises(InvalidInput, match="before 1990"):
        open_case(db, cast["officer"], sample_case(first_contact_date=date(1066, 10, 14)))


def test_estimates_of_nothing_or_of_a_fortune_are_refused(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "scheme_design")
    prepare_works(db, cast)
    for pence, said in ((0, "more than £0.00"), (1_000_000_000_000_00, "confirm-price")):
        with pytest.raises(InvalidInput, match=said):
            record_estimate(db, cast["officer"], reference, contractor="Able Lifts Ltd", price_pence=pence,
                            received_on=date(2026, 1, 10))  # fmt: skip
    confirmed = record_estimate(db, cast["officer"], reference, contractor="Able Lifts Ltd", price_pence=150_000_00,
                                received_on=date(2026, 1, 10), price_confirmed=True)  # fmt: skip
    assert confirmed.price_pence == 150_000_00


@pytest.mark.parametrize("good", ["a@b.com", "margaret.holt@example.co.uk", " ruth+dfg@council.gov.uk "])
def test_email_addresses_in_their_form_pass(good: str) -> None:
    assert email_problem(good) is None


@pytest.mark.parametrize("bad", ["holt", "a@b", "a b@c.com", "@c.com", "a@@c.com", "a@.com"])
def test_what_is_not_an_email_address_is_refused(bad: str) -> None:
    assert email_problem(bad) is not None


@pytest.mark.parametrize(
    "good", ["01543 462621", "07700 900123", "(01543) 462621", "+44 1543 462621", "+44 (0)1543 462621",
             "0800 123 456", "+1 212 555 0100"],
)  # fmt: skip
def test_phone_numbers_as_people_write_them_pass(good: str) -> None:
    assert phone_problem(good) is None


@pytest.mark.parametrize("bad", ["1", "123456", "01543 46262a", "phone me", "+0 123 456 789"])
def test_what_is_not_a_phone_number_is_refused(bad: str) -> None:
    assert phone_problem(bad) is not None


def test_a_person_without_a_name_or_with_details_the_store_cannot_keep_is_refused_by_the_service(
    db: Database, cast: dict[str, Actor]
) -> None:
    applicant = NewPerson(given_name="  ", family_name="Holt", is_applicant=True, is_disabled_occupant=True,
                          phone="12", email="holt-at-home", title="T" * 21)  # fmt: skip
    occupant = NewPerson(given_name="Ann", family_name="", is_disabled_occupant=True)
    with pytest.raises(InvalidInput) as refused:
        open_case(db, cast["officer"], sample_case(people=(applicant, occupant), address_line_1="1" * 121,
                                                   referral_source="county OT " * 10))  # fmt: skip
    assert refused.value.fields == {
        "applicant.title": "the applicant's title: at most 20 characters",
        "applicant.given_name": "the applicant's first name is required",
        "applicant.phone": "the applicant's phone number: '12' is not a phone number (for example 01543 462621 "
        "or +44 1543 462621)",
        "applicant.email": "the applicant's e-mail address: 'holt-at-home' is not an e-mail address (for "
        "example name@example.com)",
        "occupant.family_name": "the disabled person's last name is required",
        "address_line_1": "the address: at most 120 characters",
        "referral_source": "the referral source: at most 60 characters",
    }
    assert list_cases(db, cast["officer"], CaseFilter()) == []
