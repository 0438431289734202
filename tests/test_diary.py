"""The booked visit on the case, and the visits diary per assessor and day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

import cli
from dfg.errors import InvalidInput, PermissionDenied
from dfg.rules.clock import ENGLAND
from dfg.services.appointments import Appointment, book_appointment
from dfg.services.case_reading import show_case
from dfg.services.cases import advance
from dfg.services.database import Database
from dfg.services.diary import diary
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step

BOOKED = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)


def _awaiting(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], district: str = "CAN"
) -> str:
    reference = open_sample(district, by="officer" if district == "CAN" else "lichfield")
    advance(db, cast["officer" if district == "CAN" else "lichfield"], reference, "accept_referral")
    return reference


def _book(
    db: Database, cast: dict[str, Actor], reference: str, at: datetime, who: str = "Ruth Ashley"
) -> None:
    book_appointment(db, cast["ot"], reference, Appointment(at=at, assessor_name=who,
                     assessor_organisation="Staffordshire County Council"), now=BOOKED)  # fmt: skip


def test_the_booked_visit_is_on_the_case_and_rebooking_moves_it(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = _awaiting(db, cast, open_sample)
    assert show_case(db, cast["officer"], reference).booked_visit is None
    _book(db, cast, reference, datetime(2027, 7, 6, 10, 30, tzinfo=ENGLAND))
    _book(db, cast, reference, datetime(2027, 7, 8, 14, 0, tzinfo=ENGLAND))
    visit = show_case(db, cast["officer"], reference).booked_visit
    assert visit is not None and visit["at"] == datetime(2027, 7, 8, 13, 0, tzinfo=UTC)
    assert visit["assessor_name"] == "Ruth Ashley" and visit["location"] == "At your home"


def test_the_diary_lists_each_assessors_visits_in_the_days_asked(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    first, second = (_awaiting(db, cast, open_sample) for _ in range(2))
    elsewhere = _awaiting(db, cast, open_sample, "LIC")
    _book(db, cast, first, datetime(2027, 7, 6, 10, 30, tzinfo=ENGLAND))
    _book(db, cast, second, datetime(2027, 7, 6, 9, 0, tzinfo=ENGLAND), who="Sam Patel")
    _book(db, cast, elsewhere, datetime(2027, 7, 7, 9, 0, tzinfo=ENGLAND))
    week = diary(db, cast["ot"], start=date(2027, 7, 5))
    assert [v.reference for v in week] == [second, first, elsewhere]  # by time, every district for the OT
    assert [v.reference for v in diary(db, cast["officer"], start=date(2027, 7, 5))] == [second, first]
    assert [v.reference for v in diary(db, cast["ot"], start=date(2027, 7, 5), assessor="ashley")] == [
        first,
        elsewhere,
    ]
    assert diary(db, cast["ot"], start=date(2027, 7, 7), days=1)[0].reference == elsewhere
    assert diary(db, cast["ot"], start=date(2027, 7, 8)) == []


def test_an_assessed_case_leaves_the_diary(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = _awaiting(db, cast, open_sample)
    _book(db, cast, reference, datetime(2027, 7, 6, 10, 30, tzinfo=ENGLAND))
    take_step(
        db,
        cast,
        reference,
        "record_assessment",
        "ot",
        TriggerInput(on=date(2027, 7, 6)),
        now=datetime(2027, 7, 6, 15, 0, tzinfo=UTC),
    )
    assert diary(db, cast["ot"], start=date(2027, 7, 5)) == []
    assert show_case(db, cast["officer"], reference).booked_visit is None


def test_the_diary_refuses_a_bad_span_and_the_wrong_role(db: Database, cast: dict[str, Actor]) -> None:
    with pytest.raises(InvalidInput, match="--days"):
        diary(db, cast["ot"], days=0)
    with pytest.raises(PermissionDenied):
        diary(db, cast["approver"])


def test_dfg_assess_diary(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:
    reference = _awaiting(db, cast, open_sample)
    _book(db, cast, reference, datetime(2027, 7, 6, 10, 30, tzinfo=ENGLAND))
    result = CliRunner().invoke(
        cli.main, ["--db", db.url, "--as", "ot", "assess", "diary", "--from", "2027-07-05"]
    )
    assert result.exit_code == 0, result.output
    assert "Ruth Ashley (Staffordshire County Council), Tuesday 06/07/2027" in result.stdout
    assert f"10:30  {reference}" in result.stdout
    shown = CliRunner().invoke(cli.main, ["--db", db.url, "--as", "officer", "case", "show", reference])
    assert "Visit booked: 06/07/2027 10:30, Ruth Ashley" in shown.stdout
