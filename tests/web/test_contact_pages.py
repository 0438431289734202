"""Contact preferences in the browser: taken when a case is opened, corrected on the person's form
(with large print on or off), shown on the person's card, and the letters section says what to arrange."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from dfg.services.case_history import history
from dfg.services.case_reading import CaseFilter, list_cases, show_case
from dfg.services.database import Database
from dfg.workflow.actor import Actor
from tests.web.conftest import post_form
from tests.web.test_corrections_pages import _person_form
from tests.web.test_opening import GOOD

SignedIn = Callable[[str], FlaskClient]
ADVOCATE = "Priya Wexford-Lunn, Age UK, 01785 223344"


def test_opening_with_contact_preferences_and_a_bad_choice_refused(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    client = signed_in("officer")
    refused = post_form(client, "/cases/new", {**GOOD, "preferred_contact": "pigeon", "advocate": ADVOCATE})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Choose how the applicant would like to be contacted" in page
    assert 'href="#preferred_contact"' in page and "Wexford-Lunn" in page  # the input survives
    assert list_cases(db, cast["officer"], CaseFilter()) == []
    opened = post_form(client, "/cases/new", {**GOOD, "preferred_contact": "advocate", "advocate": ADVOCATE,
                                              "format_note": "Audio CD"}, follow_redirects=True)  # fmt: skip
    page = opened.get_data(as_text=True)
    assert "Through their advocate" in page and ADVOCATE in page and "Audio CD" in page
    assert f"Letters to the applicant: a copy goes to their advocate, {ADVOCATE}." in page
    [case] = list_cases(db, cast["officer"], CaseFilter())
    person = show_case(db, cast["officer"], case.reference).people[0]
    assert (person["preferred_contact"], person["format_note"]) == ("advocate", "Audio CD")


def test_correcting_them_with_large_print(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/people/1"
    form = _person_form(client, url)
    bad = post_form(client, url, {**form, "preferred_contact": "fax", "reason": "asked"})
    assert bad.status_code == 422 and "Choose how they would like to be contacted" in bad.get_data(
        as_text=True
    )
    form |= {"preferred_contact": "phone", "large_print": "yes", "format_note": "Interpreter: Polish",
             "reason": "asked at the visit"}  # fmt: skip
    page = post_form(client, url, form, follow_redirects=True).get_data(as_text=True)
    assert "corrected: preferred contact, large print, format note." in page
    person = show_case(db, cast["officer"], reference).people[0]
    assert (person["preferred_contact"], person["large_print"], person["format_note"]) == (
        "phone", True, "Interpreter: Polish",
    )  # fmt: skip
    assert history(db, cast["officer"], reference)[-1].kind == "details_corrected"
    again = client.get(url).get_data(as_text=True)
    assert 'value="phone" checked' in again and 'value="yes" checked' in again
    off = {**_person_form(client, url), "preferred_contact": "phone", "reason": "no longer needed"}
    post_form(client, url, off)  # the large print box left unticked: off
    assert show_case(db, cast["officer"], reference).people[0]["large_print"] is False
