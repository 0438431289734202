"""Opening a case in the browser: every mistake at once, the duplicate asked about, nothing opened on a mistake."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from dfg.services.case_reading import CaseFilter, list_cases, show_case
from dfg.services.database import Database
from dfg.workflow.actor import Actor
from tests.web.conftest import post_form

SignedIn = Callable[[str], FlaskClient]
GOOD = {
    "address_line_1": "12 Mill Lane", "town": "Cannock", "postcode": "ws111aa", "tenure": "owner",
    "title": "Mrs", "given_name": "Margaret", "family_name": "Holt", "dob-day": "12", "dob-month": "5",
    "dob-year": "1946", "occupant_is_applicant": "yes", "priority": "non_urgent",
}  # fmt: skip


def test_opening_a_case(signed_in: SignedIn, db: Database, cast: dict[str, Actor]) -> None:
    response = post_form(signed_in("officer"), "/cases/new", GOOD, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "opened, and on your list" in page and "Mrs Margaret Holt" in page
    [case] = list_cases(db, cast["officer"], CaseFilter())
    view = show_case(db, cast["officer"], case.reference)
    assert view.assigned_to == "officer" and view.address[-1] == "WS11 1AA" and view.district == "CAN"


def test_every_mistake_at_once_and_nothing_opened(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    bad = {**GOOD, "postcode": "NOTAPOSTCODE", "given_name": "", "tenure": "", "priority": "urgent",
           "dob-day": "1", "dob-month": "1", "dob-year": "1800", "first_contact-day": "31", "first_contact-month": "2",
           "first_contact-year": "2026", "occupant_is_applicant": "no"}  # fmt: skip
    response = post_form(signed_in("officer"), "/cases/new", bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for words in ("is not a UK postcode", "Enter the applicant&#39;s first name", "Choose the applicant&#39;s tenure",
                  "Say why the case is urgent", "would make them over", "must be a real date",
                  "Enter the disabled person&#39;s first name", "Enter the disabled person&#39;s last name"):  # fmt: skip
        assert words in page, words
    assert "--priority-reason" not in page and "NOTAPOSTCODE" in page  # the input survives
    assert list_cases(db, cast["officer"], CaseFilter()) == []


def test_the_same_applicant_twice_is_asked_about(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    post_form(client, "/cases/new", GOOD)
    again = post_form(client, "/cases/new", GOOD)
    page = again.get_data(as_text=True)
    assert again.status_code == 422 and "is already open for this applicant or home" in page
    assert "Open another case: this is a separate need" in page
    assert len(list_cases(db, cast["officer"], CaseFilter())) == 1
    post_form(client, "/cases/new", {**GOOD, "duplicate": "yes"})
    assert len(list_cases(db, cast["officer"], CaseFilter())) == 2


def test_only_grant_officers_open_cases(signed_in: SignedIn, db: Database, cast: dict[str, Actor]) -> None:
    response = post_form(signed_in("manager"), "/cases/new", {**GOOD, "district": "CAN"})
    assert response.status_code == 403 and "needs the role grant_officer" in response.get_data(as_text=True)
    assert list_cases(db, cast["manager"], CaseFilter()) == []
