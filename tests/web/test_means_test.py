"""The test of resources on a page: the household from the case's people, the workings shown before
anything is saved, saving through the service `dfg means-test run` calls, and the recorded result."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

import pytest
from flask.testing import FlaskClient

from dfg.rules.clock import local_day, utcnow
from dfg.rules.household import household_to_dict, parse_household
from dfg.rules.money import format_pounds
from dfg.services.assessment import check_means_test, determinations, run_means_test
from dfg.services.case_opening import NewPerson
from dfg.services.cases import record_change
from dfg.services.database import Database
from dfg.services.means_test import household_skeleton
from dfg.workflow.actor import Actor
from tests.conftest import HOUSEHOLD, HOUSEHOLD_CONTRIBUTION, sample_case, walk_to
from tests.web.conftest import hidden_fields

SignedIn = Callable[[str], FlaskClient]

#: HOUSEHOLD as the form is filled in: a couple of 45 and 44, £300.00 a week net earnings, no capital.
COUPLE = {
    "tenure": "owner",
    "application_for_child": "no",
    "couple": "couple",
    "person-0-age": "45",
    "person-1-age": "44",
    "income-earnings_net": "300.00",
    "capital": "0",
}


@pytest.fixture
def at_test(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A Cannock case waiting for its test of resources."""
    reference = open_sample()
    walk_to(db, cast, reference, "test_of_resources")
    return reference


def _value(page: str, name: str) -> str | None:
    """The value an input of the page holds."""
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else None


def _url(reference: str) -> str:
    return f"/cases/{reference}/means-test"


def _post(
    client: FlaskClient, reference: str, data: dict[str, str], action: str = "check"
) -> tuple[int, str]:
    fields = hidden_fields(client.get(_url(reference)).get_data(as_text=True))
    response = client.post(_url(reference), data={**fields, **data, "action": action})
    return response.status_code, html.unescape(response.get_data(as_text=True))


def test_the_form_starts_from_the_cases_people(signed_in: SignedIn, at_test: str) -> None:
    page = html.unescape(signed_in("officer").get(_url(at_test)).get_data(as_text=True))
    age = local_day(utcnow()).year - 1950 - (local_day(utcnow()) < date(local_day(utcnow()).year, 6, 1))
    assert "Relevant person 1: Mrs Margaret Holt" in page
    assert _value(page, "person-0-age") == str(age)
    assert 'value="owner" checked' in page and 'value="single" checked' in page
    # the rules' own lists, in words
    assert "Income-based jobseeker's allowance" in page and "Severe disability premium" in page
    assert 'name="income-occupational_pension"' in page and "Occupational pension a week" in page


def test_check_shows_the_workings_and_saves_nothing(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    status, page = _post(signed_in("officer"), at_test, COUPLE)
    assert status == 200
    assert "Nothing has been saved yet" in page
    assert format_pounds(HOUSEHOLD_CONTRIBUTION) == "£10,199.45"
    assert "£10,199.45" in page
    assert "Personal allowance, couple" in page and "Excess income" in page and "Loan factor" in page
    assert "for an application approved on" in page
    assert _value(page, "person-1-age") == "44"  # the form is still filled in
    assert determinations(db, cast["officer"], at_test) == []


def test_save_records_it_through_the_service(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    fields = hidden_fields(client.get(_url(at_test)).get_data(as_text=True))
    response = client.post(_url(at_test), data={**fields, **COUPLE, "action": "save"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{_url(at_test)}/result")
    [record] = determinations(db, cast["officer"], at_test)
    expected = check_means_test(db, cast["officer"], at_test, HOUSEHOLD)
    assert record.determination.contribution_pence == expected.contribution_pence == HOUSEHOLD_CONTRIBUTION
    assert record.determination.trace == expected.trace
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Test of resources saved: assessed contribution, contribution £10,199.45." in page
    assert "Provisional (before approval)" in page and "Net earnings" in page and "£300.00 a week" in page
    # the step the workflow takes on it is now open on the case page
    case_page = client.get(f"/cases/{at_test}").get_data(as_text=True)
    assert f'href="/cases/{at_test}/act/complete_test_of_resources"' in case_page


def test_every_problem_at_once_beside_its_field(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    status, page = _post(
        signed_in("officer"),
        at_test,
        {
            **COUPLE,
            "person-1-age": "two hundred",
            "person-0-benefits": "working_tax_credit",
            "income-earnings_net": "lots",
            "income-maintenance": "-20",
            "capital": "1" * 10_000,
            "child-0-age": "30",
            "child-1-age": "5",
            "child-1-enhanced": "yes",
            "earlier-0-amount": "500",
            "earlier-0-approved-day": "31",
            "earlier-0-approved-month": "2",
            "earlier-0-approved-year": "2020",
        },
        action="save",
    )
    assert status == 422 and "There is a problem" in page
    for message, field in (
        ("Enter the age of relevant person 2 as a whole number of years from 16 to 120", "person-1-age"),
        (
            "Enter the annual income relevant person 1's tax credit award was based on",
            "person-0-tax-credit-income",
        ),
        ("Enter the weekly net earnings as an amount in pounds, like 250.00", "income-earnings_net"),
        ("The weekly maintenance must not be negative", "income-maintenance"),
        ("Enter the household's capital as an amount in pounds, like 250.00", "capital"),
        ("Enter the age of child 1 as a whole number of years from 0 to 19", "child-0-age"),
        ("Tick disabled for child 2 too", "child-1-disabled"),
        ("The date the first earlier grant was approved must be a real date", "earlier-0-approved-day"),
    ):
        assert f'href="#{field}">{message}' in page, message
        assert page.count(message) == 2, message  # in the summary and beside the field
    assert _value(page, "income-earnings_net") == "lots" and _value(page, "income-maintenance") == "-20"
    assert "relevant_persons" not in page and "weekly_income" not in page  # never the internal names
    assert determinations(db, cast["officer"], at_test) == []


def test_hostile_input_is_refused_and_shown_safely(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    status, page = _post(
        signed_in("officer"),
        at_test,
        {
            **COUPLE,
            "tenure": "<script>alert(1)</script>",
            "person-0-premiums": "<b>rich</b>",
            "income-earnings_net": "三百",
            "income-other": "1e400",
            "capital": "99999999999999999999",
        },
        action="save",
    )
    assert status == 422
    assert "Choose the kind of application" in page
    assert "Choose the premiums of relevant person 1 from the list" in page
    assert "Enter the weekly net earnings as an amount in pounds" in page
    assert "Enter the weekly other income as an amount in pounds" in page
    assert "Enter the household's capital as an amount in pounds" in page
    assert "<script>alert" not in page and "<b>rich</b>" not in page  # never echoed, even escaped
    assert determinations(db, cast["officer"], at_test) == []


def test_the_shape_of_the_household_in_words(signed_in: SignedIn, at_test: str) -> None:
    client = signed_in("officer")
    status, page = _post(client, at_test, {**COUPLE, "person-1-age": ""})
    assert status == 422 and "Enter the age of relevant person 2: a couple has two relevant persons" in page
    status, page = _post(client, at_test, {**COUPLE, "couple": "single"})
    assert status == 422 and "Choose ‘A couple’, or leave relevant person 2 empty" in page
    status, page = _post(client, at_test, {**COUPLE, "capital": ""})
    assert status == 422 and "Enter the household's capital, or 0" in page


def test_a_landlords_application_needs_no_figures(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    landlords = open_sample(tenure="landlord")
    walk_to(db, cast, landlords, "test_of_resources")
    status, page = _post(signed_in("officer"), landlords, {"tenure": "landlord", "couple": "single"})
    assert status == 200 and "Landlord's application: not means-tested" in page


def test_a_household_for_another_kind_of_application_is_refused_beside_the_field(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    # The case is an owner's application: a tenant's household is not its test of resources.
    status, page = _post(signed_in("officer"), at_test, {**COUPLE, "tenure": "tenant"}, action="save")
    assert status == 422 and 'href="#tenure"' in page
    assert (
        "The household is for a tenant's application, but the case is an owner's application: a test of "
        "resources is for the case's own kind of application." in page
    )
    assert determinations(db, cast["officer"], at_test) == []


def test_a_conflict_keeps_the_input(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    fields = hidden_fields(client.get(_url(at_test)).get_data(as_text=True))
    record_change(db, cast["officer"], at_test, role="grant_officer", kind="note_added", payload={"n": 1})
    response = client.post(_url(at_test), data={**fields, **COUPLE, "action": "save"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "Someone else changed" in page
    assert _value(page, "person-1-age") == "44"
    assert determinations(db, cast["officer"], at_test) == []


def test_without_csrf_nothing_is_saved(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    response = signed_in("officer").post(_url(at_test), data={**COUPLE, "action": "save"})
    assert response.status_code == 400
    assert determinations(db, cast["officer"], at_test) == []


def test_only_a_grant_officer_gets_the_form(signed_in: SignedIn, at_test: str) -> None:
    response = signed_in("ot").get(_url(at_test))
    assert response.status_code == 403


def test_another_districts_case_is_not_found(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    reference = open_sample("LIC", by="lichfield")
    assert signed_in("officer").get(_url(reference)).status_code == 404
    assert signed_in("officer").get(f"{_url(reference)}/result").status_code == 404


def test_the_recorded_result_with_its_workings(
    signed_in: SignedIn, at_test: str, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    assert "No test of resources has been recorded" in client.get(f"{_url(at_test)}/result").get_data(
        as_text=True
    )
    first = run_means_test(db, cast["officer"], at_test, HOUSEHOLD)
    single = {**HOUSEHOLD, "couple": False, "relevant_persons": HOUSEHOLD["relevant_persons"][:1]}  # type: ignore[index]
    second = run_means_test(db, cast["officer"], at_test, single)
    page = html.unescape(client.get(f"{_url(at_test)}/result").get_data(as_text=True))
    assert f"Number {second.id}, the one in force" in page
    assert format_pounds(second.determination.contribution_pence) in page
    assert "Personal allowance, single" in page or "Personal allowance" in page
    earlier = html.unescape(client.get(f"{_url(at_test)}/result?number={first.id}").get_data(as_text=True))
    assert "replaced by a later one" in earlier and "£10,199.45" in earlier


def test_the_skeleton_of_a_household_from_the_cases_people(db: Database, cast: dict[str, Actor]) -> None:
    from dfg.services.case_opening import open_case

    people = (
        NewPerson(given_name="Ann", family_name="Holt", date_of_birth=date(1980, 6, 1), is_applicant=True,
                  is_relevant_person=True),
        NewPerson(given_name="Tom", family_name="Holt", date_of_birth=date(1979, 1, 1), is_relevant_person=True),
        NewPerson(given_name="Amy", family_name="Holt", date_of_birth=date(2016, 3, 1), is_disabled_occupant=True),
        NewPerson(given_name="Ben", family_name="Holt", date_of_birth=date(2019, 9, 9)),
    )  # fmt: skip
    reference = open_case(db, cast["officer"], sample_case(people=people))
    skeleton = household_skeleton(db, cast["officer"], reference, on=date(2026, 5, 1))
    assert [(p.name, p.age) for p in skeleton.relevant_persons] == [("Ann Holt", 45), ("Tom Holt", 47)]
    assert [(c.name, c.age, c.disabled_occupant) for c in skeleton.children] == [
        ("Amy Holt", 10, True),
        ("Ben Holt", 6, False),
    ]
    assert skeleton.couple and skeleton.application_for_child and skeleton.redetermination_codes == ()
    # the skeleton is a household the rules accept as it is
    household = parse_household(skeleton.as_household())
    assert household_to_dict(household)["children"][0] == {
        "age": 10,
        "disabled": True,
        "enhanced_disability": False,
    }


def test_the_skeleton_is_the_grant_officers(db: Database, cast: dict[str, Actor], at_test: str) -> None:
    from dfg.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        household_skeleton(db, cast["ot"], at_test)
