"""Reminder letters: queued by the daily tick where ``workflows/policy/reminders.toml`` says, made by the
letter queue from the case's records, and read back from their PDFs.

The case is approved on 1 April 2026 (the works must be finished by 1 April 2027) and the works are
ordered on 10 April 2026; the shipped policy reminds the contractor 30 days before the completion due
date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest

from dfg.services.letter_batch import RenderReport, pending_letters, render_pending
from dfg.services.letter_queue import LetterRecord
from dfg.services.letter_register import reprint
from dfg.services.worklist import tick
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import extend_completion
from tests.letters.test_letters_works import approved, assert_shows, register_castle, step, text_of


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def render(db: Database, cast: dict[str, Actor], day: date) -> RenderReport:
    """The pending letters, made at 5pm on ``day``."""
    report = render_pending(db, cast["officer"], workers=1, now=at(day, 17))
    assert report.failed == ()
    return report


def reminders(report: RenderReport) -> list[LetterRecord]:
    return [x for x in report.produced if x.kind == "completion_reminder"]


@pytest.fixture
def case(open_sample: Callable[..., str]) -> str:
    return open_sample(referral_source="county OT")


def test_the_completion_reminder_goes_to_the_contractor_with_the_due_date(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    approved(db, cast, case)
    step(db, cast, case, "order_works", "officer", date(2026, 4, 10))
    step(db, cast, case, "start_on_site", "officer", date(2026, 4, 20))
    tick(db, cast["manager"], date(2027, 3, 2), now=at(date(2027, 3, 2)))

    # The contractor has no address on the register yet: the works order and the reminder both wait.
    first = render(db, cast, date(2027, 3, 2))
    assert reminders(first) == []
    waiting = {p.kind: p for p in first.waiting}
    assert set(waiting) == {"works_order", "completion_reminder"}
    reminder = waiting["completion_reminder"]
    assert (reminder.trigger, reminder.step_date) == ("reminder", date(2027, 3, 2))
    assert str(reminder.reason).startswith("Castle Adaptations has no address on the contractor register")
    assert [(p.kind, p.trigger) for p in pending_letters(db, cast["officer"], case)] == [
        ("works_order", "order_works"),
        ("completion_reminder", "reminder"),
    ]

    register_castle(db, cast)
    second = render(db, cast, date(2027, 3, 3))
    (letter,) = reminders(second)
    assert (letter.recipient_name, letter.recipient_role, letter.title) == (
        "Castle Adaptations",
        "contractor",
        "Reminder: the date the work must be finished by",
    )
    text = text_of(db, cast, letter)
    assert_shows(
        text,
        "Castle Adaptations", "Castle Works", "Tamworth", "B79 7NH", "Dear Tom Bloor",
        f"Order number: WO-{case}",
        f"This is a reminder about our works order WO-{case} of 10 April 2026, for the work for "
        "Mrs Margaret Holt at 12 Mill Lane, Cannock, WS11 1AA.",
        "The work must be finished by 1 April 2027.",
        "Please contact us before 1 April 2027 to ask for an extension.",
        f"quoting order number WO-{case} and our reference {case}",
        "Date: 2 March 2027",  # the day of the tick's reminder, not the day it was produced
        # Signed by the officer who ordered the works, not the manager the scheduler runs as.
        "Yours sincerely, Officer Grant officer",
    )  # fmt: skip
    assert "Manager" not in text
    assert pending_letters(db, cast["officer"], case) == []

    # The tick again queues nothing; an extension moves the due date, and its reminder is made afresh.
    tick(db, cast["manager"], date(2027, 3, 3), now=at(date(2027, 3, 3)))
    assert pending_letters(db, cast["officer"], case) == []
    extend_completion(
        db, cast, case, months=3, reason="Stairlift rail on back order", at=at(date(2027, 3, 10))
    )
    tick(db, cast["manager"], date(2027, 6, 1), now=at(date(2027, 6, 1)))
    (extended,) = reminders(render(db, cast, date(2027, 6, 1)))
    assert_shows(
        text_of(db, cast, extended),
        "The work must be finished by 1 July 2027.",
        "Please contact us before 1 July 2027 to ask for an extension.",
    )

    # A reprint of the first reminder still shows the date as it stood then.
    copy = text_of(db, cast, reprint(db, cast["officer"], letter.id, now=at(date(2027, 6, 2))))
    assert_shows(copy, "COPY", "The work must be finished by 1 April 2027.", "Date: 2 March 2027")
    assert "1 July 2027" not in copy
