"""Booking the assessment visit: the step, its record, and the appointment letter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dfg.errors import InvalidInput, InvalidTransition, PermissionDenied
from dfg.rules.clock import ENGLAND
from dfg.services.appointments import Appointment, book_appointment
from dfg.services.case_reading import show_case
from dfg.services.cases import advance
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import letter_pdf
from dfg.store.database import Database
from dfg.store.models import APPOINTMENTS, CASES, EVENTS
from dfg.workflow.actor import Actor
from tests.conftest import walk_to
from tests.letters.letter_pdfs import flat_text

# A summer morning in England (BST, UTC+1): the letter must show the time on the applicant's clock.
VISIT = datetime(2027, 7, 6, 10, 30, tzinfo=ENGLAND)
BOOKED = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


def visit(**changes: object) -> Appointment:
    fields: dict[str, object] = {
        "at": VISIT,
        "assessor_name": "Ruth Ashley",
        "assessor_organisation": "Staffordshire County Council",
        **changes,
    }
    return Appointment(**fields)  # type: ignore[arg-type]


@pytest.fixture
def awaiting(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample(referral_source="county OT")
    advance(db, cast["officer"], reference, "accept_referral")
    return reference


def rows(db: Database) -> tuple[int, int, int]:
    """Appointments, events, and the case versions' sum: what a refused booking must leave alone."""
    with db.read_connection() as connection:
        return (
            connection.scalar(select(func.count()).select_from(APPOINTMENTS)) or 0,
            connection.scalar(select(func.count()).select_from(EVENTS)) or 0,
            connection.scalar(select(func.sum(CASES.c.version))) or 0,
        )


def test_a_booking_queues_the_appointment_letter_with_the_time_in_england(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    booked = book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    assert (booked.trigger, booked.from_state, booked.to_state) == (
        "book_assessment", "awaiting_assessment", "awaiting_assessment",
    )  # fmt: skip
    assert booked.letters == ("assessment_appointment",)
    with db.read_connection() as connection:
        row = connection.execute(select(APPOINTMENTS)).one()
    assert row.appointment_at == datetime(2027, 7, 6, 9, 30, tzinfo=UTC)  # stored in UTC
    assert (row.assessor_name, row.location, row.booked_by) == ("Ruth Ashley", "At your home", "ot")

    produced = render_pending(db, cast["officer"], workers=1, now=BOOKED)
    letter = next(x for x in produced.produced if x.kind == "assessment_appointment")
    text = flat_text(letter_pdf(db, cast["officer"], letter.id))
    assert "Tuesday 6 July 2027 at 10:30am" in text
    assert "Ruth Ashley, occupational therapist, Staffordshire County Council" in text
    assert "At your home" in text
    assert show_case(db, cast["officer"], awaiting).state == "awaiting_assessment"


def test_rebooking_keeps_both_bookings_and_sends_a_letter_for_each(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    render_pending(db, cast["officer"], workers=1, now=BOOKED)
    later = VISIT + timedelta(days=7, hours=4)
    book_appointment(db, cast["officer"], awaiting, visit(at=later, location="Cannock Library, Manor Avenue",
                                                          assessor_role="trusted assessor"), now=BOOKED)  # fmt: skip
    second = render_pending(db, cast["officer"], workers=1, now=BOOKED).produced
    assert [x.kind for x in second] == ["assessment_appointment"]
    text = flat_text(letter_pdf(db, cast["officer"], second[0].id))
    assert "Tuesday 13 July 2027 at 2:30pm" in text
    assert "Cannock Library, Manor Avenue" in text
    assert "trusted assessor" in text
    assert rows(db)[0] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"at": BOOKED - timedelta(minutes=1)}, "has passed"),
        ({"at": datetime(2027, 7, 6, 10, 30)}, "time zone"),
        ({"assessor_name": "  "}, "--assessor must not be empty"),
        ({"assessor_organisation": ""}, "--organisation must not be empty"),
        ({"location": " "}, "--where must not be empty"),
    ],
)
def test_a_bad_booking_is_refused_and_changes_nothing(
    db: Database, cast: dict[str, Actor], awaiting: str, change: dict[str, object], message: str
) -> None:
    before = rows(db)
    with pytest.raises(InvalidInput, match=message):
        book_appointment(db, cast["ot"], awaiting, visit(**change), now=BOOKED)
    assert rows(db) == before


def test_a_booking_needs_a_case_awaiting_assessment_and_a_role_that_books(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], awaiting: str
) -> None:
    assessed = open_sample(referral_source="county OT")
    walk_to(db, cast, assessed, "test_of_resources")
    before = rows(db)
    with pytest.raises(
        InvalidTransition, match="cannot book_assessment: not possible while the case is 'Test of resources'"
    ):
        book_appointment(db, cast["ot"], assessed, visit(), now=BOOKED)
    with pytest.raises(PermissionDenied):
        book_appointment(db, cast["technical"], awaiting, visit(), now=BOOKED)
    assert rows(db) == before
