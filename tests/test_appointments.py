"""Booking the assessment visit (and rearranging and cancelling it): the steps, their records, and their
letters; an assessment dated before the visit still booked."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main
from dfg.errors import GuardFailed, InvalidInput, InvalidTransition, PermissionDenied
from dfg.rules.clock import ENGLAND
from dfg.services.appointments import Appointment, book_appointment, cancel_visit
from dfg.services.assessment import assessment_records, record_assessment
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.cases import advance
from dfg.services.diary import diary
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import letter_pdf
from dfg.store.database import Database
from dfg.store.models import APPOINTMENTS, CASES, EVENTS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import sample_assessment, walk_to
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


# ---------------------------------------------------------------------- rearranging and cancelling

ASSESSED = datetime(2027, 6, 20, 15, 0, tzinfo=UTC)  # a day before the visit booked for 6 July


def test_booking_again_rearranges_the_visit_in_force(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    first = book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    book_appointment(db, cast["ot"], awaiting, visit(at=VISIT + timedelta(days=1)), now=BOOKED)
    with db.read_connection() as connection:
        payloads = [
            json.loads(e.payload)
            for e in connection.execute(select(EVENTS).where(EVENTS.c.trigger == "book_assessment"))
        ]
    assert "rearranges" not in payloads[0] and payloads[1]["rearranges"] == payloads[0]["appointment"]
    assert first.letters == ("assessment_appointment",)
    assert show_case(db, cast["officer"], awaiting).booked_visit["at"] == VISIT + timedelta(days=1)  # type: ignore[index]


def test_a_cancelled_visit_stays_on_record_leaves_the_diary_and_sends_its_letter(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:

    book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    render_pending(db, cast["officer"], workers=1, now=BOOKED)
    cancelled = cancel_visit(db, cast["officer"], awaiting, "Mrs Holt is in hospital", now=BOOKED)
    assert (cancelled.trigger, cancelled.to_state) == ("cancel_assessment_visit", "awaiting_assessment")
    assert cancelled.letters == ("assessment_cancellation",)

    records = assessment_records(db, cast["ot"], awaiting, now=BOOKED)
    assert [(v.cancelled, v.cancelled_by) for v in records.visits] == [(True, "officer")]
    assert records.defaults.assessed_on is None
    assert show_case(db, cast["officer"], awaiting).booked_visit is None
    assert diary(db, cast["ot"], start=VISIT.date(), days=3) == []
    step = history(db, cast["officer"], awaiting)[-1]
    assert step.trigger == "cancel_assessment_visit" and step.reason == "Mrs Holt is in hospital"
    with db.read_connection() as connection:  # the reason is sealed: not in the hashed event
        stored = connection.execute(
            select(EVENTS.c.reason).where(EVENTS.c.trigger == "cancel_assessment_visit")
        )
        assert stored.scalar_one().startswith("$sealed:")

    produced = render_pending(db, cast["officer"], workers=1, now=BOOKED).produced
    assert [x.kind for x in produced] == ["assessment_cancellation"]
    text = flat_text(letter_pdf(db, cast["officer"], produced[0].id))
    assert "Your home assessment visit is cancelled" in text
    assert "Tuesday 6 July 2027 at 10:30am, with Ruth Ashley" in text
    assert "Mrs Holt is in hospital" not in text


@pytest.mark.parametrize(
    ("booked", "when", "message"),
    [
        (False, BOOKED, "no visit is booked"),
        (True, VISIT + timedelta(hours=2), "has passed"),
    ],
)
def test_a_cancellation_needs_a_visit_still_ahead_and_changes_nothing_when_refused(
    db: Database, cast: dict[str, Actor], awaiting: str, booked: bool, when: datetime, message: str
) -> None:

    if booked:
        book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    before = rows(db)
    with pytest.raises((InvalidInput, GuardFailed), match=message):
        cancel_visit(db, cast["ot"], awaiting, "Assessor off sick", now=when)
    assert rows(db) == before


def test_a_cancellation_needs_a_reason_and_a_role_that_books(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:

    book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    before = rows(db)
    with pytest.raises(InvalidInput, match="reason"):
        cancel_visit(db, cast["ot"], awaiting, "  ", now=BOOKED)
    with pytest.raises(PermissionDenied):
        cancel_visit(db, cast["technical"], awaiting, "Assessor off sick", now=BOOKED)
    with pytest.raises(GuardFailed, match="dfg assess cancel-visit"):  # not without its record
        advance(db, cast["ot"], awaiting, "cancel_assessment_visit", TriggerInput(reason="x"), now=BOOKED)
    assert rows(db) == before


def test_an_assessment_before_the_booked_visit_needs_the_visit_cancelled_or_the_date_confirmed(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:

    book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    early = sample_assessment(ASSESSED.date())
    before = rows(db)
    with pytest.raises(InvalidInput, match="20/06/2027 is before the visit booked for 06/07/2027"):
        record_assessment(db, cast["ot"], awaiting, early, now=ASSESSED)
    assert rows(db) == before
    confirmed = record_assessment(db, cast["ot"], awaiting, replace(early, before_visit_confirmed=True),
                                  now=ASSESSED)  # fmt: skip
    assert confirmed.to_state == "test_of_resources"


def test_an_assessment_after_a_cancelled_visit_is_recorded(
    db: Database, cast: dict[str, Actor], awaiting: str
) -> None:

    book_appointment(db, cast["ot"], awaiting, visit(), now=BOOKED)
    cancel_visit(db, cast["ot"], awaiting, "Assessed by telephone instead", now=BOOKED)
    done = record_assessment(db, cast["ot"], awaiting, sample_assessment(ASSESSED.date()), now=ASSESSED)
    assert done.to_state == "test_of_resources"


def test_the_command_line_cancels_the_visit_and_refuses_an_early_assessment(
    db_url: str, db: Database, cast: dict[str, Actor], awaiting: str
) -> None:
    def run(*args: str, user: str = "ot") -> Any:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args], catch_exceptions=False)

    ahead = (datetime.now(ENGLAND) + timedelta(days=14)).strftime("%Y-%m-%d 10:30")
    assert run("assess", "appoint", awaiting, "--at", ahead, "--assessor", "Ruth Ashley",
               "--organisation", "County").exit_code == 0  # fmt: skip
    today = datetime.now(ENGLAND).date().isoformat()
    early = run("assess", "record", awaiting, "--date", today, "--assessor", "Ruth Ashley", "--organisation",
                "County", "--purpose", "d", "--work", "stairlift_straight", "--finding", "necessary",
                "--reasons", "Cannot climb the stairs")  # fmt: skip
    assert early.exit_code == 8 and early.stderr.startswith("dfg: assessed_on: ")
    assert "cancel the visit, or confirm the date (--before-visit" in early.stderr
    assert len(early.stderr.splitlines()) == 1

    missing = run("assess", "cancel-visit", awaiting, "--reason", " ")
    assert (missing.exit_code, missing.stderr) == (8, "dfg: --reason: say why the visit is cancelled\n")
    cancelled = run("assess", "cancel-visit", awaiting, "--reason", "Applicant in hospital", "--json")
    assert cancelled.exit_code == 0, cancelled.stderr
    said = json.loads(cancelled.stdout)
    assert (said["trigger"], said["to"], said["letters"]) == (
        "cancel_assessment_visit", "awaiting_assessment", ["assessment_cancellation"],
    )  # fmt: skip
    again = run("assess", "cancel-visit", awaiting, "--reason", "Twice")
    assert again.exit_code == 5 and "has_booked_visit: no visit is booked" in again.stderr
