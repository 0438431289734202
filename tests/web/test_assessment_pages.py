"""The OT's pages: booking the visit, the assessment form, the feasibility finding and what is recorded."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from dfg.rules.clock import ENGLAND, local_day, utcnow
from dfg.services.appointments import Appointment, book_appointment
from dfg.services.assessment import assessment_records
from dfg.services.case_reading import show_case
from dfg.services.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import walk_to
from tests.web.conftest import hidden_fields, post_form

SignedIn = Callable[[str], FlaskClient]
NHS = "943 476 5919"  # a real check digit


@pytest.fixture
def awaiting(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample()
    walk_to(db, cast, reference, "awaiting_assessment")
    return reference


def _records(db: Database, cast: dict[str, Actor], reference: str) -> tuple[int, int, int, int]:
    """The case's version and what is recorded on it: what a refused form must leave alone."""
    found = assessment_records(db, cast["officer"], reference)
    return found.case.version, len(found.visits), len(found.assessments), len(found.findings)


def _day(values: date, name: str) -> dict[str, str]:
    return {
        f"{name}-day": str(values.day),
        f"{name}-month": str(values.month),
        f"{name}-year": str(values.year),
    }


def _assessment(**changes: str | list[str]) -> dict[str, str | list[str]]:
    today = local_day(utcnow())
    form: dict[str, str | list[str]] = {
        **_day(today, "assessed_on"),
        "assessor": "Ruth Ashley",
        "organisation": "Staffordshire County Council",
        "purposes": ["d", "f"],
        "works": ["stairlift_straight", "other"],
        "notes-other": "Grab rails by the bath",
        "priority": "urgent",
        "priority_reason": "Falls on the stairs twice this month",
        "finding": "yes",
        "reasons": "Cannot climb the stairs or step into the bath safely",
        "nhs_number": NHS,
    }
    form.update(changes)
    return form


# ---------------------------------------------------------------------- the assessment form


def test_the_form_shows_purposes_and_works_in_words_filled_from_the_booked_visit(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    visit_at = utcnow() - timedelta(hours=1)  # the visit has happened: booked the day before
    book_appointment(
        db, cast["ot"], awaiting,
        Appointment(at=visit_at, assessor_name="Siân Ó Ríordáin", assessor_organisation="County OT Service"),
        now=visit_at - timedelta(days=1),
    )  # fmt: skip
    page = signed_in("ot").get(f"/cases/{awaiting}/assessment").get_data(as_text=True)
    assert "Access to, provision of, or use of a bath or shower (s.23(1)(f))" in page
    assert "Stairlift (straight)" in page and "Level-access shower or wet room" in page
    assert 'value="Siân Ó Ríordáin"' in page and 'value="County OT Service"' in page
    day = local_day(visit_at)
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        assert re.search(rf'name="assessed_on-{part}"[^>]*value="{value}"', page), part


def test_the_form_is_filled_from_the_signed_in_ot_without_a_visit(signed_in: SignedIn, awaiting: str) -> None:
    page = signed_in("ot").get(f"/cases/{awaiting}/assessment").get_data(as_text=True)
    assert re.search(r'name="assessor"[^>]*value="Ot"', page)  # the cast's full name for "ot"
    assert re.search(r'name="assessed_on-day"[^>]*value=""', page)  # no visit: no date guessed


def test_recording_an_assessment_moves_the_case_on(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    client = signed_in("ot")
    response = post_form(client, f"/cases/{awaiting}/assessment", _assessment(), follow_redirects=True)  # type: ignore[arg-type]
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "recorded. The case is now: Test of resources." in page
    case = show_case(db, cast["officer"], awaiting)
    assert (case.state, case.priority, case.priority_reason) == (
        "test_of_resources", "urgent", "Falls on the stairs twice this month",
    )  # fmt: skip
    [recorded] = assessment_records(db, cast["officer"], awaiting).assessments
    assert [code for code, _ in recorded.purposes] == ["d", "f"]
    assert [(w.code, w.notes) for w in recorded.works] == [
        ("stairlift_straight", None),
        ("other", "Grab rails by the bath"),
    ]
    shown = client.get(f"/cases/{awaiting}/assessments").get_data(as_text=True)
    assert "Access to, or provision of, a room used or usable for sleeping (s.23(1)(d))" in shown
    assert "Other (describe): Grab rails by the bath" in shown and "Urgent: Falls on the stairs" in shown


def test_not_necessary_closes_the_case_with_the_reasons(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    form = _assessment(finding="no", priority="non_urgent", reasons="Can manage the stairs with a rail")
    response = post_form(signed_in("ot"), f"/cases/{awaiting}/assessment", form, follow_redirects=True)  # type: ignore[arg-type]
    assert "The case is now: Closed." in response.get_data(as_text=True)
    assert show_case(db, cast["officer"], awaiting).state == "closed"


def test_every_mistake_at_once_in_the_ots_words_and_the_input_kept(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    before = _records(db, cast, awaiting)
    form = {
        "assessed_on-day": "", "assessed_on-month": "", "assessed_on-year": "",
        "assessor": "", "organisation": "Kept <script>alert(1)</script> Ünïcode",
        "priority": "urgent", "priority_reason": "", "reasons": "",
        "nhs_number": "943 476 5918", "works": ["other"], "notes-other": "",
    }  # fmt: skip
    response = post_form(signed_in("ot"), f"/cases/{awaiting}/assessment", form)  # type: ignore[arg-type]
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "There is a problem" in page
    for words in (
        "Enter the date of the assessment", "Enter the assessor&#39;s name", "Choose at least one purpose",
        "Describe the work: Other (describe)", "Enter why the case is urgent",
        "Choose whether the works are necessary and appropriate", "Enter the reasons for your finding",
        "Enter an NHS number of 10 digits",
    ):  # fmt: skip
        assert page.count(words) == 2, words  # in the summary and beside its field
    for internal in ("assessed_on:", "necessary_and_appropriate", "priority_reason:", "nhs_number:"):
        assert internal not in page
    assert "Kept &lt;script&gt;alert(1)&lt;/script&gt; Ünïcode" in page and "<script>alert(1)" not in page
    assert 'value="943 476 5918"' in page
    assert _records(db, cast, awaiting) == before


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"assessor": "R" * 10_000}, "The assessor&#39;s name must be 120 characters or fewer"),
        ({"reasons": "x" * 10_000}, "The reasons must be 4,000 characters or fewer"),
        (
            {"assessed_on-day": "31", "assessed_on-month": "2", "assessed_on-year": "2026"},
            "must be a real date",
        ),
        ({"assessed_on-year": str(local_day(utcnow()).year + 1)}, "must be today or in the past"),
        ({"purposes": ["z"]}, "Choose the purposes from the list"),
        ({"works": ["<script>"]}, "Choose the works from the list"),
        ({"priority": "whenever"}, "Choose whether the case is urgent"),
        ({"nhs_number": "12345"}, "Enter an NHS number of 10 digits"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str,
    changes: dict[str, str | list[str]], words: str,
) -> None:  # fmt: skip
    before = _records(db, cast, awaiting)
    response = post_form(signed_in("ot"), f"/cases/{awaiting}/assessment", _assessment(**changes))  # type: ignore[arg-type]
    assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert _records(db, cast, awaiting) == before


def test_a_conflict_is_shown_and_the_input_kept(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    client = signed_in("ot")
    fields = hidden_fields(client.get(f"/cases/{awaiting}/assessment").get_data(as_text=True))
    visit = Appointment(
        at=utcnow() + timedelta(days=7), assessor_name="Ruth Ashley", assessor_organisation="OT"
    )
    book_appointment(db, cast["officer"], awaiting, visit)  # someone else changes the case meanwhile
    before = _records(db, cast, awaiting)
    response = client.post(
        f"/cases/{awaiting}/assessment", data={**fields, **_assessment(reasons="Kept words")}
    )
    page = response.get_data(as_text=True)
    assert "someone else changed" in page.lower() and "Kept words" in page
    assert _records(db, cast, awaiting) == before


def test_the_form_needs_its_csrf_token(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    client = signed_in("ot")
    fields = hidden_fields(client.get(f"/cases/{awaiting}/assessment").get_data(as_text=True))
    fields.pop("csrf_token")
    before = _records(db, cast, awaiting)
    response = client.post(f"/cases/{awaiting}/assessment", data={**fields, **_assessment()})
    assert response.status_code == 400 and _records(db, cast, awaiting) == before


def test_the_form_is_not_offered_to_an_officer(signed_in: SignedIn, awaiting: str) -> None:
    response = signed_in("officer").get(f"/cases/{awaiting}/assessment")
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "This is not open to you" in page and 'name="purposes"' not in page


def test_another_districts_case_is_not_found(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample("LIC", by="lichfield")
    for page in ("assessment", "visit", "feasibility", "assessments"):
        assert signed_in("technical").get(f"/cases/{reference}/{page}").status_code == 404


# ---------------------------------------------------------------------- booking the visit


def test_booking_the_visit(signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str) -> None:
    client = signed_in("ot")
    page = client.get(f"/cases/{awaiting}/visit").get_data(as_text=True)
    assert "Date of the visit" in page and "Time of the visit" in page
    when = local_day(utcnow()) + timedelta(days=14)
    form = {**_day(when, "visit"), "visit_time": "2:15pm", "assessor_name": "Ruth Ashley",
            "assessor_organisation": "Staffordshire County Council", "location": "Cannock Library"}  # fmt: skip
    response = post_form(client, f"/cases/{awaiting}/visit", form, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Visit booked for" in page and "at 2:15pm" in page and "Assessment appointment" in page
    [visit] = assessment_records(db, cast["officer"], awaiting).visits
    assert visit.at == datetime.combine(when, datetime.min.time().replace(hour=14, minute=15), tzinfo=ENGLAND)
    assert (visit.location, visit.assessor_role) == ("Cannock Library", "occupational therapist")
    shown = client.get(f"/cases/{awaiting}/assessments").get_data(as_text=True)
    assert "Cannock Library" in shown and "2:15pm" in shown and "Rearrange the visit" in shown


def test_a_bad_booking_says_everything_at_once(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    before = _records(db, cast, awaiting)
    form = {"visit-day": "40", "visit-month": "1", "visit-year": "2027", "visit_time": "25:00",
            "assessor_name": "", "assessor_organisation": "O" * 10_000}  # fmt: skip
    response = post_form(signed_in("ot"), f"/cases/{awaiting}/visit", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for words in ("The date of the visit must be a real date", "Enter the time of the visit like 10:30",
                  "Enter the name of the person visiting", "Their organisation must be 120 characters or fewer"):  # fmt: skip
        assert page.count(words) == 2, words
    assert _records(db, cast, awaiting) == before


def test_a_visit_in_the_past_is_refused(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    before = _records(db, cast, awaiting)
    form = {**_day(local_day(utcnow()) - timedelta(days=1), "visit"), "visit_time": "10:30",
            "assessor_name": "Ruth Ashley", "assessor_organisation": "County"}  # fmt: skip
    response = post_form(signed_in("ot"), f"/cases/{awaiting}/visit", form)
    assert "The visit must be at a time still to come" in response.get_data(as_text=True)
    assert _records(db, cast, awaiting) == before


# ---------------------------------------------------------------------- the feasibility finding


def test_the_technical_officers_finding(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    client = signed_in("technical")
    page = client.get(f"/cases/{awaiting}/feasibility").get_data(as_text=True)
    assert "Are the works reasonable and practicable" in page
    response = post_form(client, f"/cases/{awaiting}/feasibility", {"finding": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count("Choose whether the works are reasonable and practicable") == 2
    assert page.count("Enter the reasons for your finding") == 2
    form = {"finding": "not_practicable", "reasons": "The stair is too narrow for a lift rail"}
    response = post_form(client, f"/cases/{awaiting}/feasibility", form, follow_redirects=True)
    assert "the works are not reasonable and practicable" in response.get_data(as_text=True)
    [finding] = assessment_records(db, cast["officer"], awaiting).findings
    assert (finding.reasonable_and_practicable, finding.recorded_by) == (False, "technical")


def test_the_finding_is_not_offered_to_the_ot(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    client = signed_in("ot")
    assert client.get(f"/cases/{awaiting}/feasibility").status_code == 403
    before = _records(db, cast, awaiting)
    response = client.post(f"/cases/{awaiting}/feasibility", data={"finding": "practicable", "reasons": "x"})
    assert response.status_code in (400, 403) and _records(db, cast, awaiting) == before


# ---------------------------------------------------------------------- cancelling the visit


def _book_ahead(db: Database, cast: dict[str, Actor], reference: str, days: int = 7) -> Appointment:
    visit = Appointment(
        at=utcnow() + timedelta(days=days), assessor_name="Ruth Ashley", assessor_organisation="County OT"
    )
    book_appointment(db, cast["ot"], reference, visit)
    return visit


def test_cancelling_the_visit_from_the_case_page(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    _book_ahead(db, cast, awaiting)
    client = signed_in("ot")
    case_page = client.get(f"/cases/{awaiting}").get_data(as_text=True)
    assert "Visit booked" in case_page and f"/cases/{awaiting}/visit/cancel" in case_page
    form = client.get(f"/cases/{awaiting}/visit/cancel").get_data(as_text=True)
    assert "Cancel the assessment visit" in form and "Ruth Ashley" in form
    response = post_form(client, f"/cases/{awaiting}/visit/cancel", {"reason": "Applicant in hospital"},
                         follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "cancelled." in page and "Assessment cancellation" in page
    assert show_case(db, cast["officer"], awaiting).booked_visit is None
    [visit] = assessment_records(db, cast["officer"], awaiting).visits
    assert visit.cancelled and visit.cancelled_by == "ot"
    shown = client.get(f"/cases/{awaiting}/assessments").get_data(as_text=True)
    assert (
        "Visit cancelled" in shown
        and "Book the assessment visit" in shown
        and "Cancel the visit" not in shown
    )
    # nothing left to cancel: the page says so rather than offering the form
    again = client.get(f"/cases/{awaiting}/visit/cancel")
    assert again.status_code == 403 and "no visit is booked" in again.get_data(as_text=True)


def test_a_cancellation_without_a_reason_is_refused_in_plain_words(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    _book_ahead(db, cast, awaiting)
    before = _records(db, cast, awaiting)
    response = post_form(signed_in("ot"), f"/cases/{awaiting}/visit/cancel", {"reason": "  "})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and page.count("Enter why the visit is cancelled") == 2
    assert "--reason" not in page
    long = post_form(signed_in("ot"), f"/cases/{awaiting}/visit/cancel", {"reason": "x" * 2001})
    assert "The reason must be 2,000 characters or fewer" in long.get_data(as_text=True)
    assert _records(db, cast, awaiting) == before


def test_an_assessment_before_the_booked_visit_needs_the_date_confirmed(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    _book_ahead(db, cast, awaiting)
    client = signed_in("ot")
    before = _records(db, cast, awaiting)
    response = post_form(client, f"/cases/{awaiting}/assessment", _assessment(reasons="Kept words"))  # type: ignore[arg-type]
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Kept words" in page
    assert page.count("is before the visit booked for") == 2 and "--before-visit" not in page
    assert 'href="#before_visit"' in page
    assert _records(db, cast, awaiting) == before
    confirmed = post_form(client, f"/cases/{awaiting}/assessment", _assessment(before_visit="yes"),  # type: ignore[arg-type]
                          follow_redirects=True)  # fmt: skip
    assert "The case is now: Test of resources." in confirmed.get_data(as_text=True)
