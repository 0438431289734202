"""Clocks worked out from a case's event log: the date rules at their edges, through real transitions.

Every case here is walked with :func:`advance`, dated with ``--date`` (``TriggerInput.on``) and recorded
at a chosen moment (``now``), so the clocks come from the same events live use writes. Expected dates are
counted by hand in the comments. England and Wales bank holidays used: 2026 Fri 25 Dec and Mon 28 Dec
(Boxing Day's substitute); none between 6 January and 2 April 2026.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from dfg.errors import NotFound, PermissionDenied
from dfg.rules.clocks import Clock
from dfg.services.clocks import case_clock_sheet, case_clocks_for
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import extend_completion, take_step

Step = Callable[..., None]


def make_step(db: Database, cast: dict[str, Actor]) -> Step:
    """A function that fires a trigger dated ``on``, recorded at noon on ``recorded`` (default: ``on``).

    The assessment, the test of resources and the approval go through their services, which record what
    the step needs before it may fire.
    """

    def fire(
        reference: str, trigger: str, who: str, on: date, recorded: date | None = None, **given: Any
    ) -> None:
        now = datetime.combine(recorded or on, time(12), tzinfo=UTC)
        grant = given.pop("amount_pence", 0)
        take_step(db, cast, reference, trigger, who, TriggerInput(on=on, **given), now=now, grant_pence=grant)

    return fire


@pytest.fixture
def step(db: Database, cast: dict[str, Actor]) -> Step:
    return make_step(db, cast)


def clocks(db: Database, actor: Actor, reference: str, today: date) -> dict[str, Clock]:
    return {c.name: c for c in case_clocks_for(db, actor, reference, today)}


HOSPITAL = {"code": "hospital", "reason": "Admitted to Royal Stoke"}


def to_valid_application(step: Step, reference: str, received: date, valid: date) -> None:
    step(reference, "accept_referral", "officer", date(2026, 1, 7))
    step(reference, "record_assessment", "ot", date(2026, 2, 10))
    step(reference, "complete_test_of_resources", "officer", date(2026, 2, 24))
    step(reference, "receive_application", "officer", received)
    step(reference, "validate_application", "officer", valid)


def test_a_hold_spanning_a_week_moves_the_stage_target_and_not_the_statutory_clocks(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()  # non-urgent, first contact Monday 5 January 2026
    step(reference, "accept_referral", "officer", date(2026, 1, 7))
    # Put on hold from Monday 2 February, keyed in the next day; resumed Monday 9 February.
    step(
        reference,
        "hold",
        "ot",
        date(2026, 2, 2),
        recorded=date(2026, 2, 3),
        review_date=date(2026, 2, 20),
        **HOSPITAL,
    )
    step(reference, "resume", "ot", date(2026, 2, 9))
    sheet = case_clock_sheet(db, cast["officer"], reference, date(2026, 2, 10))
    by_name = {c.name: c for c in sheet.clocks}
    stage_1 = by_name["stage_1_target"]
    # 30 working days after Wed 7 Jan: 8–9 Jan (2), 12–16 (7), 19–23 (12), 26–30 (17), 2–6 Feb (22),
    # 9–13 (27), 16–18 (30): Wed 18 Feb. On hold Mon 2 – Sun 8 Feb: 5 working days, so Wed 25 Feb.
    assert (stage_1.start, stage_1.due, stage_1.paused_working_days, stage_1.status) == (
        date(2026, 1, 7),
        date(2026, 2, 25),
        5,
        "running",
    )
    assert stage_1.days_remaining == 11  # 11–13 Feb (3), 16–20 (8), 23–25 (11)
    [pause] = sheet.pauses
    assert (pause.spell.start, pause.spell.resumed_on, pause.spell.last_day, pause.working_days) == (
        date(2026, 2, 2),
        date(2026, 2, 9),
        date(2026, 2, 8),
        5,
    )
    assert (pause.spell.code, pause.spell.review_date, pause.spell.ended_by) == (
        "hospital",
        date(2026, 2, 20),
        "resume",
    )
    assert by_name["end_to_end_target"].paused_working_days == 5
    assert by_name["decision_due"].status == "not_started"
    assert "still on hold" not in sheet.as_text()


def test_a_hold_still_open_pauses_and_shows_in_the_ledger(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    step(reference, "accept_referral", "officer", date(2026, 1, 7))
    step(reference, "hold", "officer", date(2026, 2, 2), review_date=date(2026, 3, 2), **HOSPITAL)
    sheet = case_clock_sheet(db, cast["officer"], reference, date(2026, 2, 4))
    stage_1 = {c.name: c for c in sheet.clocks}["stage_1_target"]
    # Mon 2 – Wed 4 Feb on hold so far: 3 working days; the target moves from Wed 18 to Mon 23 Feb.
    assert (stage_1.status, stage_1.paused_working_days, stage_1.due) == ("paused", 3, date(2026, 2, 23))
    assert [(p.spell.is_open, p.working_days) for p in sheet.pauses] == [(True, 3)]
    text = sheet.as_text()
    assert "still on hold" in text and "hospital: Admitted to Royal Stoke" in text
    assert sheet.as_dict()["pauses"][0]["open"] is True


def test_a_hold_resumed_the_same_day_pauses_nothing(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    step(reference, "accept_referral", "officer", date(2026, 1, 7))
    step(reference, "hold", "officer", date(2026, 2, 2), review_date=date(2026, 3, 2), **HOSPITAL)
    step(reference, "resume", "officer", date(2026, 2, 2))
    sheet = case_clock_sheet(db, cast["officer"], reference, date(2026, 2, 10))
    assert {c.name: c for c in sheet.clocks}["stage_1_target"].due == date(2026, 2, 18)
    assert [p.working_days for p in sheet.pauses] == [0]


def test_withdrawal_while_on_hold_ends_the_hold_and_stops_the_service_clocks(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    step(reference, "accept_referral", "officer", date(2026, 1, 7))
    step(reference, "hold", "officer", date(2026, 2, 2), review_date=date(2026, 3, 2), **HOSPITAL)
    step(reference, "withdraw", "officer", date(2026, 2, 6), reason="Moving to sheltered housing")
    sheet = case_clock_sheet(db, cast["officer"], reference, date(2026, 3, 1))
    [pause] = sheet.pauses
    assert (pause.spell.resumed_on, pause.spell.ended_by, pause.working_days) == (
        date(2026, 2, 6),
        "withdraw",
        4,
    )
    stage_1 = {c.name: c for c in sheet.clocks}["stage_1_target"]
    assert (stage_1.stopped, stage_1.status) == (date(2026, 2, 6), "met")


def test_a_statutory_deadline_on_a_bank_holiday_stays_there(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    # Valid Thursday 25 June 2026: the decision is due six calendar months later, Christmas Day 2026.
    to_valid_application(step, reference, date(2026, 6, 11), date(2026, 6, 25))
    on_christmas_eve = clocks(db, cast["officer"], reference, date(2026, 12, 24))["decision_due"]
    assert (on_christmas_eve.due, on_christmas_eve.status, on_christmas_eve.days_remaining) == (
        date(2026, 12, 25),
        "running",
        1,
    )
    # Decided on Monday 28 December, the Boxing Day substitute: statutory time is calendar time, so a
    # bank holiday neither moves the deadline nor excuses the days. Its notice is not produced yet, and
    # s.34 asks for the applicant to be notified: on 4 January the clock is 10 calendar days over.
    step(reference, "approve", "approver", date(2026, 12, 28), amount_pence=9_000_00)
    decision = clocks(db, cast["officer"], reference, date(2027, 1, 4))["decision_due"]
    assert (decision.due, decision.stopped, decision.status, decision.days_overdue) == (
        date(2026, 12, 25),
        None,
        "breached",
        10,
    )


def test_a_service_target_never_falls_on_a_bank_holiday(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    to_valid_application(step, reference, date(2026, 11, 27), date(2026, 12, 4))
    stage_3 = clocks(db, cast["officer"], reference, date(2026, 12, 21))["stage_3_target"]
    # Stage 3 (non-urgent, 20 working days) from Fri 27 Nov: 30 Nov–4 Dec (5), 7–11 (10), 14–18 (15),
    # 21–24 (19); Fri 25 and Mon 28 Dec are bank holidays (no council closure is shipped), so Tue 29 Dec:
    # 4 working days left on Mon 21 Dec.
    assert (stage_3.start, stage_3.due, stage_3.days_remaining) == (date(2026, 11, 27), date(2026, 12, 29), 4)


def test_decision_due_clamps_at_month_end(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    to_valid_application(step, reference, date(2026, 8, 20), date(2026, 8, 31))
    last_day = clocks(db, cast["officer"], reference, date(2027, 2, 28))["decision_due"]
    assert (last_day.due, last_day.status, last_day.days_remaining) == (date(2027, 2, 28), "running", 0)
    next_day = clocks(db, cast["officer"], reference, date(2027, 3, 1))["decision_due"]
    assert (next_day.status, next_day.days_overdue) == ("breached", 1)


def test_a_reopened_case_counts_its_stage_from_the_reopening(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    step(reference, "accept_referral", "officer", date(2026, 1, 7))
    step(reference, "cancel", "officer", date(2026, 1, 20), code="no_response", reason="No reply")
    closed = clocks(db, cast["officer"], reference, date(2026, 2, 1))
    assert (closed["stage_1_target"].stopped, closed["end_to_end_target"].stopped) == (date(2026, 1, 20),) * 2
    step(
        reference, "reopen", "officer", date(2026, 3, 2), code="wrongly_closed", reason="Letters went astray"
    )
    reopened = clocks(db, cast["officer"], reference, date(2026, 3, 3))
    assert (reopened["stage_1_target"].start, reopened["stage_1_target"].status) == (
        date(2026, 3, 2),
        "running",
    )
    # End to end still runs from first contact: the reopening does not restart the applicant's wait.
    assert (reopened["end_to_end_target"].start, reopened["end_to_end_target"].stopped) == (
        date(2026, 1, 5),
        None,
    )


def test_a_completion_extension_in_the_log_moves_completion_due(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], step: Step
) -> None:
    reference = open_sample()
    to_valid_application(step, reference, date(2026, 4, 1), date(2026, 4, 20))
    step(reference, "approve", "approver", date(2026, 5, 11), amount_pence=8_450_00)
    before = clocks(db, cast["officer"], reference, date(2027, 5, 12))["completion_due"]
    assert (before.due, before.status) == (date(2027, 5, 11), "breached")
    extend_completion(
        db,
        cast,
        reference,
        months=3,
        reason="Contractor's supplier delay",
        at=datetime(2027, 4, 1, 9, tzinfo=UTC),
    )
    after = clocks(db, cast["officer"], reference, date(2027, 5, 12))["completion_due"]
    assert (after.due, after.status, after.days_remaining) == (date(2027, 8, 11), "running", 91)


def test_clocks_respect_the_district_and_name_unknown_cases(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    with pytest.raises(PermissionDenied, match="lichfield works for district LIC"):
        case_clocks_for(db, cast["lichfield"], reference)
    with pytest.raises(NotFound, match="no case CAN-2026-0999"):
        case_clocks_for(db, cast["manager"], "can-2026-999")
    assert case_clocks_for(db, cast["manager"], reference.lower())  # any case, any role, in their district
