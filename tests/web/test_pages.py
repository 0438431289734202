"""My work, search, the case page and firing a step: what a person sees, and what is written."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from dfg.services.case_opening import open_cases
from dfg.services.case_reading import show_case
from dfg.services.cases import advance
from dfg.services.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import sample_case
from tests.web.conftest import csrf_token, hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]


def test_my_work_lists_what_is_coming_due(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    page = signed_in("officer").get("/work?mine=0").get_data(as_text=True)
    assert "My work" in page and reference in page and "Accept the referral" in page


def test_my_work_shows_the_most_urgent_first_and_more_on_asking(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor]
) -> None:
    opened = [sample_case(address_line_1=f"{n} Mill Lane", allow_duplicate=True) for n in range(55)]
    open_cases(db, cast["officer"], opened)  # two items each within a year: 110
    client = signed_in("officer")
    page = client.get("/work?mine=0&within=366").get_data(as_text=True)
    assert (
        "The 50 most urgent items, 50 of them overdue" in page
        and page.count('<tr class="govuk-table__row">') == 51
    )
    more = re.search(r'<a class="govuk-link" href="([^"]+)">Show more</a>', page)
    assert more is not None and "show=100" in more.group(1)
    page = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "The 100 most urgent items" in page
    page = client.get("/work?mine=0&within=366&show=150").get_data(as_text=True)
    assert re.search(r">110 items, \d+ overdue<", page) and "Show more" not in page
    assert "The 50 most urgent items" in client.get("/work?mine=0&within=366&show=many").get_data(
        as_text=True
    )


def test_my_work_refuses_a_bad_filter_in_words(signed_in: SignedIn) -> None:
    response = signed_in("officer").get("/work?within=lots")
    assert "Choose how many days ahead to look" in response.get_data(as_text=True)


def test_search_by_name_and_postcode(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    client = signed_in("officer")
    page = client.get("/search?q=holt").get_data(as_text=True)
    assert "1 case found" in page and reference in page
    response = client.get(f"/search?q={reference.lower()}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{reference}")


def test_search_shows_only_the_users_district(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    open_sample("LIC", by="lichfield")
    page = signed_in("officer").get("/search?q=holt").get_data(as_text=True)
    assert "0 cases found" in page


def test_search_too_short_says_so(signed_in: SignedIn) -> None:
    response = signed_in("officer").get("/search?q=h")
    assert response.status_code == 422 and "Give at least two characters" in response.get_data(as_text=True)


def test_the_case_page(signed_in: SignedIn, open_sample: Callable[..., str], db: Database) -> None:
    reference = open_sample()
    page = signed_in("officer").get(f"/cases/{reference}").get_data(as_text=True)
    assert "Mrs Margaret Holt" in page and "What you can do next" in page
    assert f'href="/cases/{reference}/act/accept_referral"' in page
    assert "Not open to you yet" in page  # e.g. recording the assessment is the OT's
    with db.read_connection() as connection:
        views = connection.exec_driver_sql("SELECT view FROM access_records").scalars().all()
    assert views == ["case"]  # one read, on the access record


def test_another_districts_case_is_not_found(signed_in: SignedIn, open_sample: Callable[..., str]) -> None:
    reference = open_sample("LIC", by="lichfield")
    response = signed_in("officer").get(f"/cases/{reference}")
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 404 and f"No case {reference}." in page and "works for district" not in page
    )


def test_firing_a_step_from_its_form(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    response = post_form(client, f"/cases/{reference}/act/accept_referral", {}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Accept the referral and request an OT assessment: done, on" in page
    assert "Letters queued: acknowledgement" in page
    assert show_case(db, cast["officer"], reference).state == "awaiting_assessment"


def test_a_step_form_shows_every_mistake_and_keeps_the_input(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/act/hold"
    form = client.get(url).get_data(as_text=True)
    response = client.post(
        url,
        data={"csrf_token": csrf_token(form), "reason": "<script>alert(1)</script>", "review_date-day": "31",
              "review_date-month": "2", "review_date-year": "2027"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose why" in page and "must be a real date" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert show_case(db, cast["officer"], reference).on_hold_since is None  # nothing changed


def test_someone_else_saving_first_is_a_conflict(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    reference = open_sample()
    client = signed_in("officer")
    url = f"/cases/{reference}/act/hold"
    form = hidden_fields(client.get(url).get_data(as_text=True))
    advance(db, cast["officer"], reference, "accept_referral", TriggerInput())  # another officer, first
    response = client.post(
        url,
        data={**form, "code": "hospital", "reason": "In hospital",
              "review_date-day": "1", "review_date-month": "3", "review_date-year": "2027"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Someone else changed" in page
    assert "In hospital" in page  # the input is kept
    assert show_case(db, cast["officer"], reference).on_hold_since is None


def test_an_action_not_open_from_the_state_is_not_found(
    signed_in: SignedIn, open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    assert signed_in("officer").get(f"/cases/{reference}/act/certify").status_code == 404


def test_the_booked_visit_is_on_the_case_page(
    signed_in: SignedIn, open_sample: Callable[..., str], db: Database, cast: dict[str, Actor]
) -> None:
    from datetime import datetime

    from dfg.rules.clock import ENGLAND
    from dfg.services.appointments import Appointment, book_appointment

    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral", TriggerInput())
    at = datetime(2099, 7, 6, 10, 30, tzinfo=ENGLAND)
    book_appointment(
        db,
        cast["ot"],
        reference,
        Appointment(at=at, assessor_name="Ruth Ashley", assessor_organisation="Staffordshire County Council"),
    )
    page = signed_in("officer").get(f"/cases/{reference}").get_data(as_text=True)
    assert "Visit booked" in page and "Monday 6 July 2099 at 10:30, Ruth Ashley" in page
