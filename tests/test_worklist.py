"""Worklists and the daily tick, over cases walked through the real services.

The scene, on Monday 21 December 2026 (all non-urgent, Cannock Chase unless said otherwise):

- A: first contact 5 Jan, application received 11 Jun, valid Thu 25 Jun: decision due Fri 25 Dec.
- B: first contact 5 Jan, application received 20 May, valid Sun 31 May: decision due Mon 30 Nov, overdue.
- C: first contact 27 Nov, referral accepted 30 Nov, on hold from 1 Dec with a review on 28 Dec.
- L: a Lichfield case at referral, first contact 14 Dec.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dfg.errors import ConfigurationError, InvalidInput, PermissionDenied
from dfg.letters.contracts import LETTER_KINDS
from dfg.paths import letter_templates_dir
from dfg.services.audit import verify_audit
from dfg.services.case_opening import assign, open_case
from dfg.services.worklist import BREACH_EVENT, DueItem, due, due_as_text, tick
from dfg.store.database import Database
from dfg.store.models import EVENTS
from dfg.workflow import reminders
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from dfg.workflow.lint import reminder_problems
from dfg.workflow.reminders import REMINDER_EVENT, load_reminders, reminders_dir
from tests.conftest import extend_completion, sample_case, take_step, walk_to
from tests.test_clocks_service import Step, make_step, to_valid_application

TODAY = date(2026, 12, 21)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def scene(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> dict[str, str]:
    step = make_step(db, cast)
    # A and B on no one's list; C the officer's (opened unassigned so that its assignment below is what
    # puts it on their list)
    a = open_sample(unassigned=True)
    to_valid_application(step, a, date(2026, 6, 11), date(2026, 6, 25))
    b = open_sample(unassigned=True)
    to_valid_application(step, b, date(2026, 5, 20), date(2026, 5, 31))
    # Opened on the day of first contact (whatever the date the suite runs on).
    opened = sample_case(first_contact_date=date(2026, 11, 27), unassigned=True)
    c = open_case(db, cast["officer"], opened, now=noon(date(2026, 11, 27)))
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
        # Calendar days, statutory time: the decision's notice is not produced yet, so 10 days by 4 Jan.
        (scene["A"], "decision_due", date(2026, 12, 25), 10),
        # Lichfield's referral passed its stage 0 target on Wed 30 Dec: Fri 1 Jan is a bank holiday, so
        # by Monday 4 January it is 2 working days over (Thu 31 Dec and Mon 4 Jan).
        (scene["L"], "stage_0_target", date(2026, 12, 30), 2),
    ]


def test_tick_needs_a_manager_or_an_administrator(
    db: Database, cast: dict[str, Actor], scene: dict[str, str]
) -> None:
    with pytest.raises(PermissionDenied, match="needs the role admin or manager"):
        tick(db, cast["officer"], TODAY)


# ---------------------------------------------------------------------- reminders


APPROVED_ON = date(2026, 4, 1)  # the walked cases' every step: completion due 1 April 2027
DUE = date(2027, 4, 1)
THRESHOLD = date(2027, 3, 2)  # 30 days before: the shipped policy's completion reminder


def reminder_events(db: Database) -> list[tuple[str, str | None, dict[str, object]]]:
    with db.read_connection() as connection:
        rows = connection.execute(
            select(EVENTS.c.stream, EVENTS.c.code, EVENTS.c.payload)
            .where(EVENTS.c.kind == REMINDER_EVENT)
            .order_by(EVENTS.c.id)
        )
        return [(r.stream, r.code, json.loads(r.payload)) for r in rows]


@pytest.fixture
def works(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> dict[str, str]:
    """Cases approved on 1 April 2026, walked on to: works ordered (W), approved only (A), certified (C)."""
    cases = {}
    for name, state in (("W", "works_ordered"), ("A", "approved"), ("C", "certified")):
        cases[name] = open_sample()
        walk_to(db, cast, cases[name], state, on=APPROVED_ON)
    return cases


def test_tick_queues_a_reminder_once_at_the_threshold_and_again_for_an_extended_date(
    db: Database, cast: dict[str, Actor], works: dict[str, str]
) -> None:
    manager = cast["manager"]
    day_before = tick(db, manager, THRESHOLD - timedelta(days=1), now=noon(THRESHOLD - timedelta(days=1)))
    assert (day_before.reminders, day_before.reminders_already_queued) == ((), 0)
    assert reminder_events(db) == []

    first = tick(db, manager, THRESHOLD, now=noon(THRESHOLD))
    # Only the case whose works are ordered: the one approved only is not in a state the policy names,
    # and the certified one's completion clock stopped when its works were completed.
    assert [r.as_dict() for r in first.reminders] == [
        {
            "reference": works["W"],
            "clock": "completion_due",
            "label": "Works completion due",
            "due": "2027-04-01",
            "days_left": 30,
            "days_before": 30,
            "letters": ["completion_reminder"],
        }
    ]
    assert "1 reminder letter(s) queued, 0 already queued" in first.as_text()
    ((stream, code, payload),) = reminder_events(db)
    assert (stream, code) == (works["W"], "completion_due")
    assert payload == {
        "clock": "completion_due",
        "label": "Works completion due",
        "due": "2027-04-01",
        "days_before": 30,
        "days_left": 30,
        "letters": ["completion_reminder"],
        "effective_date": "2027-03-02",
    }

    # Idempotent: the same day again, or any later day before the due date, queues nothing more.
    for later in (THRESHOLD, date(2027, 3, 20), DUE):
        again = tick(db, manager, later, now=noon(later))
        assert (again.reminders, again.reminders_already_queued) == ((), 1)
    assert len(reminder_events(db)) == 1

    # An extension moves the due date: its reminder is queued afresh, 30 days before the new date.
    extend_completion(db, cast, works["W"], months=3, reason="Stairlift rail on back order",
                      at=noon(date(2027, 3, 21)))  # fmt: skip
    new_due = date(2027, 7, 1)
    assert tick(db, manager, date(2027, 5, 31), now=noon(date(2027, 5, 31))).reminders == ()
    extended = tick(db, manager, date(2027, 6, 1), now=noon(date(2027, 6, 1)))
    assert [(r.reference, r.due, r.days_left) for r in extended.reminders] == [(works["W"], new_due, 30)]
    assert [p["due"] for _, _, p in reminder_events(db)] == ["2027-04-01", "2027-07-01"]
    assert tick(db, manager, date(2027, 6, 2), now=noon(date(2027, 6, 2))).reminders == ()
    assert verify_audit(db, manager).problems == ()

    # Once the works are complete the clock has stopped: no reminder, however near the date.
    for trigger, who, on in (("start_on_site", "officer", date(2027, 6, 3)),
                             ("complete_works", "technical", date(2027, 6, 10))):  # fmt: skip
        take_step(db, cast, works["W"], trigger, who, TriggerInput(on=on), now=noon(on))
    extend_completion(db, cast, works["W"], months=1, reason="Snagging", at=noon(date(2027, 6, 11)))
    done = tick(db, manager, date(2027, 7, 20), now=noon(date(2027, 7, 20)))
    assert (done.reminders, done.reminders_already_queued) == ((), 0)
    assert len(reminder_events(db)) == 2


def test_no_reminder_is_queued_while_the_case_is_on_hold_and_it_follows_the_resumption(
    db: Database, cast: dict[str, Actor], works: dict[str, str]
) -> None:
    manager = cast["manager"]
    step: Step = make_step(db, cast)
    hold_from = THRESHOLD - timedelta(days=5)
    step(works["W"], "hold", "officer", hold_from, review_date=DUE, code="hospital", reason="Admitted")
    # The completion date is still running (a condition, not a service target), but the case waits.
    for on_hold in (THRESHOLD, date(2027, 3, 10)):
        held = tick(db, manager, on_hold, now=noon(on_hold))
        assert (held.reminders, held.reminders_already_queued) == ((), 0)
    assert reminder_events(db) == []
    resumed_on = date(2027, 3, 11)
    step(works["W"], "resume", "officer", resumed_on)
    resumed = tick(db, manager, resumed_on, now=noon(resumed_on))
    assert [(r.reference, r.days_left, r.letters) for r in resumed.reminders] == [
        (works["W"], 21, ("completion_reminder",))
    ]
    assert [code for _, code, _ in reminder_events(db)] == ["completion_due"]


def test_a_reminder_is_not_queued_before_its_policy_took_effect_or_when_the_clock_has_passed(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], policy_dir: Path
) -> None:
    write_policy(policy_dir / "reminders.toml", days_before=400, effective_from="2026-12-01")
    case = open_sample()
    walk_to(db, cast, case, "works_ordered", on=APPROVED_ON)
    manager = cast["manager"]
    assert tick(db, manager, date(2026, 11, 30), now=noon(date(2026, 11, 30))).reminders == ()
    assert [r.days_left for r in tick(db, manager, date(2026, 12, 1)).reminders] == [121]
    # Past the due date the clock is breached, not running: a breach is recorded, and no reminder.
    write_policy(policy_dir / "reminders.toml", days_before=0)
    late = tick(db, manager, date(2027, 4, 2), now=noon(date(2027, 4, 2)))
    assert late.reminders == ()
    assert (case, "completion_due") in {(b.reference, b.clock) for b in late.recorded}


def test_days_before_0_reminds_on_the_due_date_itself(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], policy_dir: Path
) -> None:
    write_policy(policy_dir / "reminders.toml", days_before=0)
    case = open_sample()
    walk_to(db, cast, case, "on_site", on=APPROVED_ON)
    manager = cast["manager"]
    assert tick(db, manager, DUE - timedelta(days=1), now=noon(DUE - timedelta(days=1))).reminders == ()
    assert [(r.reference, r.days_left) for r in tick(db, manager, DUE, now=noon(DUE)).reminders] == [
        (case, 0)
    ]


def test_the_nearest_threshold_met_wins_and_a_district_file_replaces_the_default(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], policy_dir: Path
) -> None:
    write_policy(policy_dir / "reminders.toml", days_before=30)
    # Cannock's own file: 60 and 14 days before. Lichfield keeps the default.
    (policy_dir / "reminders-CAN.toml").write_text(
        reminder_toml(days_before=60) + reminder_toml(days_before=14), encoding="utf-8"
    )
    can = open_sample()
    walk_to(db, cast, can, "works_ordered", on=APPROVED_ON)
    manager = cast["manager"]
    assert [r.days_before for r in tick(db, manager, date(2027, 1, 31)).reminders] == [60]
    assert tick(db, manager, date(2027, 3, 2)).reminders == ()  # 30 days: not Cannock's policy
    # A tick missed from 60 days to 10 days before sends the 14-day reminder only.
    missed = tick(db, manager, date(2027, 3, 22))
    assert [(r.days_before, r.days_left) for r in missed.reminders] == [(14, 10)]
    assert [p["days_before"] for _, _, p in reminder_events(db)] == [60, 14]


def test_tick_refuses_a_bad_reminder_policy_before_recording_anything(
    db: Database, cast: dict[str, Actor], scene: dict[str, str], policy_dir: Path
) -> None:
    (policy_dir / "reminders-LIC.toml").write_text(
        reminder_toml(days_before=30).replace('"completion_due"', '"completion_date"'), encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match=r"reminders-LIC\.toml: reminder\[0\]\.clock: unknown clock"):
        tick(db, cast["manager"], TODAY, now=noon(TODAY))
    assert breach_events(db) == []


# The policy files, on their own.


def reminder_toml(
    *, days_before: int, letter: str = "completion_reminder", clock: str = "completion_due",
    effective_from: str = "2026-04-01", extra: str = "",
) -> str:  # fmt: skip
    return (
        f'[[reminder]]\nclock = "{clock}"\ndays_before = {days_before}\nletter = "{letter}"\n'
        f'states = ["works_ordered", "on_site"]\nfrom = {effective_from}\nnote = "A test."\n{extra}\n'
    )


def write_policy(path: Path, **changes: Any) -> None:
    path.write_text(reminder_toml(**changes), encoding="utf-8")


@pytest.fixture
def policy_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder the reminder policies are read from, for the test to fill."""
    folder = tmp_path / "policy"
    folder.mkdir()
    shutil.copy(reminders_dir() / "reminders.toml", folder / "reminders.toml")
    monkeypatch.setattr(reminders, "reminders_dir", lambda: folder)
    return folder


def test_the_shipped_policy_reminds_the_contractor_30_days_before_completion_is_due() -> None:
    policy = load_reminders()
    assert policy.source_file == "reminders.toml"
    ((clock, days_before, letter, states, confirm),) = [
        (r.clock, r.days_before, r.letter, r.states, r.confirm) for r in policy.reminders
    ]
    assert (clock, days_before, letter, confirm) == ("completion_due", 30, "completion_reminder", True)
    assert states == {"works_ordered", "on_site"}
    assert load_reminders("LIC") == policy  # no district has its own file
    assert reminder_problems() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clock": "completion_date"}, r"reminder\[0\]\.clock: unknown clock 'completion_date' \(known, from "
         r"\[clocks\] of dfg@1: completion_due, decision_due, "),
        ({"letter": "postcard"}, r"reminder\[0\]\.letter: unknown letter kind 'postcard'"),
        ({"letter": "approval_notice"}, r"reminder\[0\]\.letter: 'approval_notice' is made by a step of the "
         r"workflow, not by a reminder \(reminder letters: completion_reminder\)"),
        ({"days_before": -1}, r"reminder\[0\]\.days_before: -1 is outside 0 to 3660"),
        ({"effective_from": '"2026-04-01"'}, r"reminder\[0\]\.from: must be a date"),
        ({"extra": "day = 3"}, r"reminder\[0\]\.day: unknown key \(known: clock, confirm, days_before, "),
    ],
)  # fmt: skip
def test_a_bad_policy_file_is_refused_naming_the_file_and_key(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    write_policy(tmp_path / "reminders.toml", **{"days_before": 30, **changes})
    with pytest.raises(ConfigurationError, match=r"^reminders\.toml: " + message):
        load_reminders(directory=tmp_path)


def test_states_must_be_open_states_and_a_reminder_given_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reminders.toml"
    path.write_text(reminder_toml(days_before=30).replace('"on_site"', '"closed"'), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"reminder\[0\]\.states: unknown open state 'closed'"):
        load_reminders(directory=tmp_path)
    path.write_text(reminder_toml(days_before=30) * 2, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"reminder\[1\]: completion_reminder 30 day\(s\) before "
                       r"completion_due is given twice"):  # fmt: skip
        load_reminders(directory=tmp_path)
    path.write_text("", encoding="utf-8")
    assert load_reminders(directory=tmp_path).reminders == ()  # a council may send no reminders


def test_a_district_file_replaces_the_default_whole(tmp_path: Path) -> None:
    write_policy(tmp_path / "reminders.toml", days_before=30)
    write_policy(tmp_path / "reminders-CAN.toml", days_before=45)
    can = load_reminders("can", directory=tmp_path)
    assert (can.source_file, can.district, [r.days_before for r in can.reminders]) == (
        "reminders-CAN.toml",
        "CAN",
        [45],
    )
    assert [r.days_before for r in load_reminders("LIC", directory=tmp_path).reminders] == [30]
    with pytest.raises(InvalidInput, match="district: 'C4N' is not a district code"):
        load_reminders("C4N", directory=tmp_path)


def test_reminder_problems_lists_every_file_that_does_not_load_and_every_template_problem(
    tmp_path: Path,
) -> None:
    write_policy(tmp_path / "reminders.toml", days_before=30)
    write_policy(tmp_path / "reminders-LIC.toml", days_before=30, letter="postcard")
    templates = tmp_path / "letter_templates"
    shutil.copytree(letter_templates_dir(), templates)
    page = templates / "completion_reminder.html"
    page.write_text(page.read_text().replace("{{ complete_by|longdate }}", "the date"), encoding="utf-8")
    assert reminder_problems(directory=tmp_path, templates_dir=templates) == [
        "reminders-LIC.toml: reminder[0].letter: unknown letter kind 'postcard' (known: "
        + ", ".join(LETTER_KINDS)
        + ")",
        "letter template: completion_reminder: template does not show required field 'complete_by'",
    ]


def test_a_page_of_the_most_urgent_is_the_head_of_the_whole_list_and_reads_fewer_cases(
    db: Database, cast: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dfg.services import worklist
    from dfg.services.case_opening import open_cases
    from dfg.services.worklist import due_page

    opened = [
        sample_case(first_contact_date=date(2026, 1, 5) + timedelta(days=7 * n), postcode=f"WS11 {n % 9 + 1}AA",
                    address_line_1=f"{n} Mill Lane", unassigned=True, allow_duplicate=True)
        for n in range(45)
    ]  # fmt: skip
    open_cases(db, cast["officer"], opened, now=noon(date(2026, 12, 1)))
    whole = due(db, cast["manager"], today=TODAY)  # works out and keeps each case's next due day
    assert len(whole) > 45
    read: list[int] = []
    counted = worklist.histories_for

    def counting(connection: Any, cases: Any) -> Any:
        read.append(len(cases))
        return counted(connection, cases)

    monkeypatch.setattr(worklist, "histories_for", counting)
    for limit in (1, 5, 20, len(whole) - 1, len(whole), len(whole) + 5):
        read.clear()
        page = due_page(db, cast["manager"], limit=limit, today=TODAY)
        assert page.items == whole[:limit], limit
        assert page.more == (limit < len(whole)), limit
        if limit == 1:
            assert sum(read) == 20 < 45  # one batch: no case after it can come first
    with pytest.raises(InvalidInput, match="must be 1 or more"):
        due_page(db, cast["manager"], limit=0, today=TODAY)
