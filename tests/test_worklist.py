"""Worklists and the daily tick, over cases walked through the real services.

The scene, on Monday 21 December 2026 (all non-urgent, Cannock Chase unless said otherwise):

- A: first contact 5 Jan, application received 11 Jun, valid Thu 25 Jun: decision due Fri 25 Dec.
- B: first contact 5 Jan, application received 20 May, valid Sun 31 May: decision due Mon 30 Nov, overdue.
- C: first contact 27 Nov, referral accepted 30 Nov, on hold from 1 Dec with a review on 28 Dec.
- L: a Lichfield case at referral, first contact 14 Dec.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from dfg.errors import InvalidInput, PermissionDenied
from dfg.services.audit import verify_audit
from dfg.services.cases import assign, open_case
from dfg.services.worklist import BREACH_EVENT, DueItem, due, due_as_text, tick
from dfg.store.database import Database
from dfg.store.models import EVENTS
from dfg.workflow.actor import Actor
from tests.conftest import sample_case
from tests.test_clocks_service import Step, make_step, to_valid_application

TODAY = date(2026, 12, 21)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def scene(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> dict[str, str]:
    step = make_step(db, cast)
    a = open_sample()
    to_valid_application(step, a, date(2026, 6, 11), date(2026, 6, 25))
    b = open_sample()
    to_valid_application(step, b, date(2026, 5, 20), date(2026, 5, 31))
    # Opened on the day of first contact (whatever the date the suite runs on).
    c = open_case(
        db, cast["officer"], sample_case(first_contact_date=date(2026, 11, 27)), now=noon(date(2026, 11, 27))
    )
    step(c, "accept_referral", "officer", date(2026, 11, 30))
    step(
        c, "hold", "ot", date(2026, 12, 1), review_date=date(2026, 12, 28), code="hospital", reason="Admitted"
    )
    assign(db, cast["officer"], c, "officer")
    first = date(2026, 12, 14)
    lic = open_case(db, cast["lichfield"], sample_case("LIC", first_contact_date=first), now=noon(first))
    return {"A": a, "B": b, "C": c, "L": lic}


def names(items: list[DueItem], scene: dict[str, str]) -> list[tuple[str, str]]:
    letter = {reference: name for name, reference in scene.items()}
    return [(letter[i.reference], i.clock) for i in items]


def test_due_lists_the_most_urgent_first_with_the_action_that_clears_it(
    db: Database, cast: dict[str, Actor], scene: dict[str, str]
) -> None:
    items = due(db, cast["manager"], today=TODAY)
    assert names(items, scene) == [
        ("B", "stage_3_target"),  # 20 working days from Wed 20 May (25 May a bank holiday): Thu 18 Jun
        ("A", "stage_3_target"),  # from Thu 11 Jun: Thu 9 Jul
        ("A", "end_to_end_target"),  # 150 working days from 5 Jan, both: the same day, by reference
        ("B", "end_to_end_target"),
        ("B", "decision_due"),  # statutory, Mon 30 Nov
        ("A", "decision_due"),  # Fri 25 Dec
        ("C", "hold_review"),  # Mon 28 Dec
        # 10 working days from Mon 14 Dec: 15–18 (4), 21–24 (8), then 25 and 28 (bank holidays) and
        # 29 (council closure) do not count: 30 (9), Thu 31 Dec (10).
        ("L", "stage_0_target"),
    ]
    assert [i.due for i in items] == sorted(i.due for i in items)
    decision_b = next(i for i in items if i.clock == "decision_due" and i.reference == scene["B"])
    assert (decision_b.due, decision_b.days_left, decision_b.overdue, decision_b.kind) == (
        date(2026, 11, 30),
        -21,
        True,
        "statutory",
    )
    assert (decision_b.action, decision_b.role, decision_b.when()) == (
        "decide: approve or refuse",
        "approver",
        "21 days overdue",
    )
    decision_a = next(i for i in items if i.clock == "decision_due" and i.reference == scene["A"])
    assert (decision_a.due, decision_a.when()) == (date(2026, 12, 25), "in 4 days")
    review = next(i for i in items if i.clock == "hold_review")
    assert (review.due, review.kind, review.role, review.assigned_to) == (
        date(2026, 12, 28),
        "hold",
        "ot",
        "officer",
    )
    assert review.action.startswith("review the hold")
    # C's own service targets are paused by the hold: only its review is listed.
    assert [i.clock for i in items if i.reference == scene["C"]] == ["hold_review"]
    text = due_as_text(items, TODAY)
    assert text.splitlines()[0] == f"Due on 21/12/2026: {len(items)} item(s), 5 overdue"
    assert json.loads(json.dumps([i.as_dict() for i in items]))[0]["overdue"] is True


def test_the_horizon_role_mine_and_district_filters(
    db: Database, cast: dict[str, Actor], scene: dict[str, str]
) -> None:
    within_3 = due(db, cast["manager"], within_days=3, today=TODAY)
    assert all(i.due <= date(2026, 12, 24) for i in within_3)
    assert ("A", "decision_due") not in names(within_3, scene)
    assert names(due(db, cast["manager"], role="ot", today=TODAY), scene) == [("C", "hold_review")]
    assert {i.role for i in due(db, cast["manager"], role="approver", today=TODAY)} == {"approver"}
    assert names(due(db, cast["officer"], mine=True, today=TODAY), scene) == [("C", "hold_review")]
    assert {i.district for i in due(db, cast["lichfield"], today=TODAY)} == {"LIC"}
    assert {i.district for i in due(db, cast["manager"], district="LIC", today=TODAY)} == {"LIC"}
    with pytest.raises(PermissionDenied, match="lichfield works for district LIC"):
        due(db, cast["lichfield"], district="CAN", today=TODAY)
    with pytest.raises(InvalidInput, match="unknown role 'surveyor'"):
        due(db, cast["manager"], role="surveyor", today=TODAY)
    with pytest.raises(InvalidInput, match="--within must be 0 or more"):
        due(db, cast["manager"], within_days=-1, today=TODAY)


def breach_events(db: Database) -> list[tuple[str, str, dict[str, object]]]:
    with db.read_connection() as connection:
        rows = connection.execute(
            select(EVENTS.c.stream, EVENTS.c.code, EVENTS.c.payload)
            .where(EVENTS.c.kind == BREACH_EVENT)
            .order_by(EVENTS.c.id)
        )
        return [(r.stream, r.code, json.loads(r.payload)) for r in rows]


def test_tick_records_each_breach_once(db: Database, cast: dict[str, Actor], scene: dict[str, str]) -> None:
    first = tick(db, cast["manager"], TODAY, now=noon(TODAY))
    expected = {
        # Stage 2 (40 working days from the assessment on 10 Feb: 8 Apr) ended late on both.
        (scene["A"], "stage_2_target"),
        (scene["B"], "stage_2_target"),
        (scene["A"], "stage_3_target"),
        (scene["A"], "end_to_end_target"),
        (scene["B"], "stage_3_target"),
        (scene["B"], "end_to_end_target"),
        (scene["B"], "decision_due"),
    }
    assert {(b.reference, b.clock) for b in first.recorded} == expected
    assert (first.cases_checked, first.already_recorded, first.conflicts) == (4, 0, ())
    recorded = breach_events(db)
    assert {(stream, code) for stream, code, _ in recorded} == expected
    decision = next(p for s, c, p in recorded if c == "decision_due")
    assert (decision["clock"], decision["due"], decision["days_overdue"]) == (
        "decision_due",
        "2026-11-30",
        21,
    )

    again = tick(db, cast["manager"], TODAY)
    assert (again.recorded, again.already_recorded) == ((), 7)
    assert len(breach_events(db)) == 7
    assert verify_audit(db, cast["manager"]).problems == ()
    assert "7 new breach(es) recorded" in first.as_text()


def test_tick_records_a_deadline_missed_by_the_step_that_stopped_it(
    db: Database, cast: dict[str, Actor], scene: dict[str, str]
) -> None:
    tick(db, cast["manager"], TODAY)
    step: Step = make_step(db, cast)
    step(scene["A"], "approve", "approver", date(2026, 12, 29), amount_pence=9_000_00)  # due Fri 25 Dec
    later = tick(db, cast["manager"], date(2027, 1, 4))
    assert [(b.reference, b.clock, b.due, b.days_overdue) for b in later.recorded] == [
        (scene["A"], "decision_due", date(2026, 12, 25), 4),  # calendar days: statutory time
        # Lichfield's referral passed its stage 0 target on Thu 31 Dec: Fri 1 Jan is a bank holiday, so
        # by Monday 4 January it is 1 working day over.
        (scene["L"], "stage_0_target", date(2026, 12, 31), 1),
    ]


def test_tick_needs_a_manager_or_an_administrator(
    db: Database, cast: dict[str, Actor], scene: dict[str, str]
) -> None:
    with pytest.raises(PermissionDenied, match="needs the role admin or manager"):
        tick(db, cast["officer"], TODAY)
