"""Clocks from a case's timeline: statutory and condition clocks in calendar days, service targets in
working days paused by holds.

Every expected date is worked out by hand in the comment beside it. Bank holidays used: 2026 Fri 25 Dec
and Mon 28 Dec (Boxing Day substitute); 2027 Fri 1 Jan, Christmas substitutes Mon 27 and Tue 28 Dec.
The reference example, counted once here: 55 working days after Monday 2 November 2026 is Thursday
21 January 2027 (Nov 3–30: 20; Dec 1–24: 18, total 38; Dec 29–31: 41; Jan 4–8: 46; 11–15: 51;
18–21: 55).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dfg.errors import ConfigurationError, InvalidInput
from dfg.rules.calendar import WorkingCalendar
from dfg.rules.clocks import (
    CaseTimeline,
    Clock,
    ClockPolicy,
    CompletionExtension,
    Hold,
    case_clocks,
    clock_policy_path,
    completion_due,
    decision_due,
    deferred_payment_allowed,
    deferred_payment_limit,
    load_clock_policy,
    pause_ledger,
    review_window_end,
)

TARGETS = """
[[period.decision_due]]
from = 1996-12-17
months = 6
basis = "HGCRA 1996 s.34(1)"

[[period.deferred_payment_limit]]
from = 1996-12-17
months = 12
basis = "HGCRA 1996 s.36"

[[period.completion_due]]
from = 1996-12-17
months = 12
basis = "HGCRA 1996 s.37"

[[period.grant_condition_period]]
from = 1996-12-17
years = 5
basis = "HGCRA 1996 ss.21-22A"

[[period.land_charge_period]]
from = 2008-05-22
years = 10
basis = "General Consent 2008"

[[period.review_window]]
from = 2020-01-01
days = 28
basis = "Local policy"

[[period.review_window]]
from = 2027-01-01
days = 21
basis = "Local policy, revised"

[[service]]
from = 2020-01-01
basis = "Local targets"

[service.urgent]
end_to_end = 55
stages = { 1 = 10, 3 = 5 }

[service.non_urgent]
end_to_end = 150
"""

BANK_HOLIDAYS_ONLY = WorkingCalendar()
FIRST_CONTACT = date(2026, 11, 2)  # a Monday


@pytest.fixture
def policy(tmp_path: Path) -> ClockPolicy:
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS, encoding="utf-8")
    return load_clock_policy(path)


def clocks_of(
    policy: ClockPolicy, today: date, *, calendar: WorkingCalendar = BANK_HOLIDAYS_ONLY, **timeline: object
) -> dict[str, Clock]:
    clocks = case_clocks(CaseTimeline(**timeline), today, calendar=calendar, policy=policy)  # type: ignore[arg-type]
    return {clock.name: clock for clock in clocks}


# --- Statutory: the s.34 decision -----------------------------------------------------------------


def test_decision_due_clamps_at_month_end(policy: ClockPolicy) -> None:
    clock = clocks_of(policy, date(2026, 12, 1), priority="urgent", valid_application_date=date(2026, 8, 31))[
        "decision_due"
    ]
    assert (clock.kind, clock.start, clock.due) == ("statutory", date(2026, 8, 31), date(2027, 2, 28))
    # 1 Dec 2026 to 28 Feb 2027: 30 + 31 + 28 calendar days.
    assert (clock.status, clock.days_remaining, clock.day_unit) == ("running", 89, "calendar")
    assert clock.basis == "HGCRA 1996 s.34(1)"


def test_decision_due_in_a_leap_year(policy: ClockPolicy) -> None:
    assert decision_due(date(2027, 8, 31), policy) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("decided", "status", "days_remaining"),
    [(date(2027, 2, 28), "met", 0), (date(2027, 3, 1), "breached", -1), (date(2026, 12, 1), "met", 89)],
)
def test_decision_stops_the_decision_clock(
    policy: ClockPolicy, decided: date, status: str, days_remaining: int
) -> None:
    clock = clocks_of(
        policy,
        date(2027, 6, 1),
        priority="non_urgent",
        valid_application_date=date(2026, 8, 31),
        decision="refused",
        decision_date=decided,
    )["decision_due"]
    assert (clock.stopped, clock.status, clock.days_remaining) == (decided, status, days_remaining)


@pytest.mark.parametrize(
    ("notice", "outstanding", "stopped", "status"),
    [
        (date(2027, 2, 28), False, date(2027, 2, 28), "met"),  # notified on the last day
        (date(2027, 3, 3), False, date(2027, 3, 3), "breached"),  # decided in time, notified late
        (None, True, None, "breached"),  # not notified at all by 1 June 2027
        (None, False, date(2027, 2, 20), "met"),  # no notice recorded apart from the decision
    ],
)
def test_the_notice_of_the_decision_stops_the_decision_clock(
    policy: ClockPolicy, notice: date | None, outstanding: bool, stopped: date | None, status: str
) -> None:
    """s.34: the council must notify the applicant within the period; deciding is not enough."""
    clocks = clocks_of(
        policy,
        date(2027, 6, 1),
        priority="non_urgent",
        valid_application_date=date(2026, 8, 31),
        decision="refused",
        decision_date=date(2027, 2, 20),
        decision_notice=notice,
        notice_outstanding=outstanding,
    )
    assert (clocks["decision_due"].stopped, clocks["decision_due"].status) == (stopped, status)
    # The review window runs from the decision whatever the notice: the date the refusal notice carries.
    assert (clocks["review_window"].start, clocks["review_window"].due) == (
        date(2027, 2, 20),
        date(2027, 3, 13),
    )


def test_the_review_window_ends_by_the_period_in_force_on_the_decision(policy: ClockPolicy) -> None:
    assert review_window_end(date(2026, 12, 31), policy) == date(2027, 1, 28)  # 28 days
    assert review_window_end(date(2027, 1, 1), policy) == date(2027, 1, 22)  # revised to 21 days


def test_decision_not_made_in_time_is_breached_today(policy: ClockPolicy) -> None:
    clock = clocks_of(policy, date(2027, 3, 3), priority="urgent", valid_application_date=date(2026, 8, 31))[
        "decision_due"
    ]
    assert (clock.status, clock.days_remaining, clock.days_overdue) == ("breached", -3, 3)


def test_statutory_deadline_on_a_substitute_bank_holiday_is_not_moved(policy: ClockPolicy) -> None:
    # 27 June 2027 + 6 months = Monday 27 December 2027, the Christmas Day substitute: the Act counts
    # calendar months, so the due date stays there.
    clock = clocks_of(
        policy, date(2027, 12, 27), priority="urgent", valid_application_date=date(2027, 6, 27)
    )["decision_due"]
    assert (clock.due, clock.status, clock.days_remaining) == (date(2027, 12, 27), "running", 0)


def test_a_hold_never_pauses_a_statutory_clock(policy: ClockPolicy) -> None:
    clocks = clocks_of(
        policy,
        date(2026, 9, 1),
        priority="non_urgent",
        first_contact=date(2026, 4, 1),
        valid_application_date=date(2026, 6, 1),
        holds=[Hold(date(2026, 7, 1), date(2026, 7, 31)), Hold(date(2026, 8, 28))],  # one still open
    )
    decision = clocks["decision_due"]
    # 1 June + 6 months = 1 December, hold or no hold; 1 Sep to 1 Dec = 30 + 31 + 30 days.
    assert (decision.due, decision.status, decision.days_remaining) == (date(2026, 12, 1), "running", 91)
    assert decision.paused_working_days == 0
    assert clocks["end_to_end_target"].status == "paused"  # while the service clock is paused


def test_closing_the_case_stops_the_decision_clock(policy: ClockPolicy) -> None:
    clock = clocks_of(
        policy,
        date(2027, 6, 1),
        priority="urgent",
        valid_application_date=date(2026, 8, 31),
        closed_date=date(2026, 10, 1),  # withdrawn
    )["decision_due"]
    assert (clock.stopped, clock.status) == (date(2026, 10, 1), "met")


# --- Statutory: the s.36 deferred-payment limit ---------------------------------------------------


def test_deferred_payment_limit(policy: ClockPolicy) -> None:
    assert deferred_payment_limit(date(2027, 8, 31), policy) == date(2028, 8, 31)
    assert deferred_payment_allowed(date(2027, 8, 31), date(2028, 8, 31), policy)
    assert not deferred_payment_allowed(date(2027, 8, 31), date(2028, 9, 1), policy)
    # From 29 February, 12 months on is 28 February 2029 (no 29th).
    assert deferred_payment_allowed(date(2028, 2, 29), date(2029, 2, 28), policy)
    assert not deferred_payment_allowed(date(2028, 2, 29), date(2029, 3, 1), policy)


def test_deferred_payment_clock_appears_only_with_a_deferred_date(policy: ClockPolicy) -> None:
    without = clocks_of(
        policy, date(2027, 1, 10), priority="urgent", valid_application_date=date(2026, 8, 31)
    )
    assert "deferred_payment_limit" not in without
    late = clocks_of(
        policy,
        date(2027, 1, 10),
        priority="urgent",
        valid_application_date=date(2026, 8, 31),
        decision="approved",
        decision_date=date(2027, 1, 5),
        deferred_payment_date=date(2027, 9, 3),
    )["deferred_payment_limit"]
    # Limit 31 Aug 2027; 3 Sep is 3 days past it.
    assert (late.due, late.stopped, late.status, late.days_remaining) == (
        date(2027, 8, 31),
        date(2027, 9, 3),
        "breached",
        -3,
    )


# --- Conditions: completion, grant condition period, land charge, review window -------------------


def test_completion_due_with_extensions(policy: ClockPolicy) -> None:
    approval = date(2026, 8, 31)
    assert completion_due(approval, (), policy) == date(2027, 8, 31)
    by_months = CompletionExtension("contractor changed", months=6)
    to_date = CompletionExtension("applicant in hospital", new_date=date(2028, 6, 30))
    # 31 Aug 2027 + 6 months = 29 Feb 2028 (leap year); then moved to 30 June 2028; then + 2 months.
    assert completion_due(approval, [by_months], policy) == date(2028, 2, 29)
    assert completion_due(approval, [by_months, to_date], policy) == date(2028, 6, 30)
    more = CompletionExtension("snagging", months=2)
    assert completion_due(approval, [by_months, to_date, more], policy) == date(2028, 8, 30)


def test_completion_extension_must_move_the_date_later(policy: ClockPolicy) -> None:
    earlier = CompletionExtension("typo", new_date=date(2027, 8, 31))
    with pytest.raises(InvalidInput, match="not later than the due date 2027-08-31"):
        completion_due(date(2026, 8, 31), [earlier], policy)


@pytest.mark.parametrize(
    "kwargs",
    [{"months": 3, "new_date": date(2028, 1, 1)}, {}, {"months": 0}],
)
def test_completion_extension_needs_months_or_a_date(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="completion extension"):
        CompletionExtension("reason", **kwargs)  # type: ignore[arg-type]


def test_completion_clock_stops_at_works_completion(policy: ClockPolicy) -> None:
    clock = clocks_of(
        policy,
        date(2028, 7, 1),
        priority="urgent",
        decision="approved",
        decision_date=date(2026, 8, 31),
        completion_extensions=[CompletionExtension("contractor changed", months=6)],
        works_completed_date=date(2028, 2, 20),
    )["completion_due"]
    # Due 29 Feb 2028 after the extension; completed 9 days early.
    assert (clock.kind, clock.start, clock.due) == ("condition", date(2026, 8, 31), date(2028, 2, 29))
    assert (clock.stopped, clock.status, clock.days_remaining) == (date(2028, 2, 20), "met", 9)


def test_grant_condition_period_and_land_charge_from_the_certified_date(policy: ClockPolicy) -> None:
    timeline: dict[str, Any] = {
        "priority": "urgent",
        "decision": "approved",
        "approval_date": date(2027, 5, 1),
        "certified_date": date(2028, 2, 29),
    }
    # 29 Feb 2028 + 5 years = 28 Feb 2033; + 10 years = 28 Feb 2038 (neither is a leap year).
    on_last_day = clocks_of(policy, date(2033, 2, 28), **timeline)
    condition = on_last_day["grant_condition_period_end"]
    assert (condition.due, condition.status, condition.days_remaining) == (date(2033, 2, 28), "running", 0)
    day_after = clocks_of(policy, date(2033, 3, 1), **timeline)
    assert day_after["grant_condition_period_end"].status == "met"
    charge = day_after["land_charge_expiry"]
    assert (charge.due, charge.status) == (date(2038, 2, 28), "running")
    # 1 Mar 2033 to 1 Mar 2038 is 5 × 365 days + 29 Feb 2036 = 1826 days; to 28 Feb, a day less.
    assert charge.days_remaining == 1825


def test_land_charge_left_out_when_it_does_not_apply(policy: ClockPolicy) -> None:
    clocks = clocks_of(
        policy,
        date(2029, 1, 1),
        priority="urgent",
        decision="approved",
        approval_date=date(2027, 5, 1),
        certified_date=date(2028, 2, 29),
        land_charge_applies=False,
    )
    assert "land_charge_expiry" not in clocks
    assert "grant_condition_period_end" in clocks


def test_refusal_leaves_out_the_clocks_of_an_approved_grant(policy: ClockPolicy) -> None:
    clocks = clocks_of(
        policy,
        date(2027, 1, 1),
        priority="urgent",
        valid_application_date=date(2026, 8, 31),
        decision="refused",
        decision_date=date(2026, 12, 15),
    )
    for name in ("completion_due", "grant_condition_period_end", "land_charge_expiry"):
        assert name not in clocks
    # 15 Dec 2026 + 28 days (the version in force on the decision date) = 12 Jan 2027.
    review = clocks["review_window"]
    assert (review.kind, review.due, review.days_remaining) == ("condition", date(2027, 1, 12), 11)


def test_review_window_closes_the_day_after_its_last_day(policy: ClockPolicy) -> None:
    timeline: dict[str, Any] = {
        "priority": "urgent",
        "decision": "refused",
        "decision_date": date(2026, 12, 15),
    }
    assert clocks_of(policy, date(2027, 1, 12), **timeline)["review_window"].status == "running"
    closed = clocks_of(policy, date(2027, 1, 13), **timeline)["review_window"]
    assert (closed.status, closed.stopped) == ("met", date(2027, 1, 12))


def test_review_window_follows_the_policy_version_in_force(policy: ClockPolicy) -> None:
    # A decision on 1 Feb 2027 falls under the revised 21-day window: 22 Feb 2027.
    review = clocks_of(
        policy, date(2027, 2, 1), priority="urgent", decision="refused", decision_date=date(2027, 2, 1)
    )["review_window"]
    assert (review.due, review.basis) == (date(2027, 2, 22), "Local policy, revised")


def test_a_new_case_has_clocks_not_yet_started(policy: ClockPolicy) -> None:
    clocks = clocks_of(policy, date(2026, 11, 3), priority="urgent", first_contact=FIRST_CONTACT)
    assert [c.name for c in clocks.values()] == [
        "decision_due",
        "completion_due",
        "grant_condition_period_end",
        "land_charge_expiry",
        "review_window",
        "end_to_end_target",
        "stage_1_target",
        "stage_3_target",
    ]
    for name in ("decision_due", "completion_due", "review_window", "stage_1_target", "stage_3_target"):
        assert (clocks[name].status, clocks[name].due, clocks[name].days_remaining) == (
            "not_started",
            None,
            None,
        )
    assert clocks["end_to_end_target"].status == "running"


# --- Service targets: working days, paused by holds -----------------------------------------------


def test_end_to_end_target_in_working_days(policy: ClockPolicy) -> None:
    clock = clocks_of(policy, date(2027, 1, 18), priority="urgent", first_contact=FIRST_CONTACT)[
        "end_to_end_target"
    ]
    assert (clock.kind, clock.day_unit, clock.due) == ("service", "working", date(2027, 1, 21))
    # Monday 18 Jan: Tuesday, Wednesday and Thursday are left.
    assert (clock.status, clock.days_remaining, clock.paused_working_days) == ("running", 3, 0)


def test_end_to_end_target_counts_across_council_closure_days(policy: ClockPolicy) -> None:
    closed_29th = WorkingCalendar([date(2026, 12, 29)])
    clock = clocks_of(
        policy, date(2027, 1, 18), calendar=closed_29th, priority="urgent", first_contact=FIRST_CONTACT
    )["end_to_end_target"]
    assert clock.due == date(2027, 1, 22)  # one working day lost to the closure


def test_a_hold_from_monday_to_friday_adds_its_five_working_days(policy: ClockPolicy) -> None:
    clock = clocks_of(
        policy,
        date(2027, 1, 18),
        priority="urgent",
        first_contact=FIRST_CONTACT,
        holds=[Hold(date(2026, 11, 16), date(2026, 11, 20))],
    )["end_to_end_target"]
    # 21 Jan 2027 + 5 working days: 22, 25, 26, 27, 28 January.
    assert (clock.due, clock.paused_working_days, clock.status) == (date(2027, 1, 28), 5, "running")
    assert clock.days_remaining == 8  # 19, 20, 21, 22, 25, 26, 27, 28 January


def test_a_hold_across_a_weekend_and_bank_holidays_pauses_only_its_working_days(policy: ClockPolicy) -> None:
    # Thu 24 Dec 2026 to Mon 4 Jan 2027: working days 24, 29, 30, 31 Dec and 4 Jan = 5 (25 and 28 Dec,
    # 1 Jan are bank holidays; two weekends).
    hold = Hold(date(2026, 12, 24), date(2027, 1, 4))
    clock = clocks_of(
        policy, date(2027, 1, 18), priority="urgent", first_contact=FIRST_CONTACT, holds=[hold]
    )["end_to_end_target"]
    assert (clock.due, clock.paused_working_days) == (date(2027, 1, 28), 5)
    assert [p.working_days for p in pause_ledger([hold], BANK_HOLIDAYS_ONLY, date(2027, 1, 18))] == [5]


def test_a_hold_still_open_today_pauses_the_clock(policy: ClockPolicy) -> None:
    hold = Hold(date(2026, 12, 7))  # Monday, still open on Wednesday 9 December
    clock = clocks_of(
        policy, date(2026, 12, 9), priority="urgent", first_contact=FIRST_CONTACT, holds=[hold]
    )["end_to_end_target"]
    # 7, 8, 9 Dec are on hold so far: due 21 Jan + 3 working days = Tue 26 Jan 2027.
    assert (clock.status, clock.paused_working_days, clock.due) == ("paused", 3, date(2027, 1, 26))
    # 24 working days used by 4 Dec (Nov 3–30: 20; Dec 1–4: 4); 55 − 24 = 31 left if work resumes tomorrow.
    assert clock.days_remaining == 31
    assert [p.working_days for p in pause_ledger([hold], BANK_HOLIDAYS_ONLY, date(2026, 12, 9))] == [3]


def test_a_hold_after_the_due_date_does_not_undo_a_breach(policy: ClockPolicy) -> None:
    clock = clocks_of(
        policy,
        date(2027, 2, 1),
        priority="urgent",
        first_contact=FIRST_CONTACT,
        holds=[Hold(date(2027, 1, 25))],  # Monday, still open
    )["end_to_end_target"]
    # Due 21 Jan stays; on hold 25–29 Jan and 1 Feb (6 working days); overdue by Fri 22 Jan only.
    assert (clock.due, clock.status, clock.paused_working_days) == (date(2027, 1, 21), "breached", 6)
    assert (clock.days_remaining, clock.days_overdue) == (-1, 1)


def test_pause_ledger_counts_each_hold(policy: ClockPolicy) -> None:
    holds = [
        Hold(date(2027, 12, 24), date(2027, 12, 29)),  # Fri 24 and Wed 29: 27 and 28 are substitutes
        Hold(date(2028, 1, 1), date(2028, 1, 3)),  # Sat, Sun, and the New Year substitute Monday
        Hold(date(2028, 1, 10)),  # open on Wed 12 Jan 2028: 10, 11, 12
    ]
    ledger = pause_ledger(holds, BANK_HOLIDAYS_ONLY, date(2028, 1, 12))
    assert [(p.hold.start, p.working_days) for p in ledger] == [
        (date(2027, 12, 24), 2),
        (date(2028, 1, 1), 0),
        (date(2028, 1, 10), 3),
    ]


def test_stage_targets(policy: ClockPolicy) -> None:
    clocks = clocks_of(
        policy,
        date(2027, 2, 1),
        priority="urgent",
        first_contact=FIRST_CONTACT,
        stage_entries={1: date(2026, 11, 9), 3: date(2026, 12, 24)},
        assessment_date=date(2026, 11, 23),
        valid_application_date=date(2026, 12, 24),
        decision="approved",
        decision_date=date(2027, 1, 6),
    )
    stage_1 = clocks["stage_1_target"]
    # 10 working days after Mon 9 Nov: 10–13 (4), 16–20 (9), Mon 23 Nov (10); assessed that day.
    assert (stage_1.due, stage_1.stopped, stage_1.status, stage_1.days_remaining) == (
        date(2026, 11, 23),
        date(2026, 11, 23),
        "met",
        0,
    )
    stage_3 = clocks["stage_3_target"]
    # 5 working days after Thu 24 Dec 2026: 29, 30, 31 Dec, 4, 5 Jan; decided Wed 6 Jan, a day late.
    assert (stage_3.due, stage_3.stopped, stage_3.status, stage_3.days_remaining) == (
        date(2027, 1, 5),
        date(2027, 1, 6),
        "breached",
        -1,
    )
    assert stage_3.label == "Stage 3 target (application to decision)"
    assert "stage_0_target" not in clocks  # the council set no stage 0 target


def test_service_clock_counts_only_holds_within_its_span(policy: ClockPolicy) -> None:
    clocks = clocks_of(
        policy,
        date(2027, 2, 1),
        priority="urgent",
        first_contact=FIRST_CONTACT,
        stage_entries={1: date(2026, 11, 9)},
        assessment_date=date(2026, 11, 23),
        # Before stage 1 began (Wed 4 – Fri 6 Nov: 3 days) and after it ended (Mon 30 Nov: 1 day).
        holds=[Hold(date(2026, 11, 4), date(2026, 11, 6)), Hold(date(2026, 11, 30), date(2026, 11, 30))],
    )
    assert clocks["stage_1_target"].paused_working_days == 0
    assert clocks["end_to_end_target"].paused_working_days == 4


def test_non_urgent_target_and_closure_stops_service_clocks(policy: ClockPolicy) -> None:
    clock = clocks_of(
        policy,
        date(2027, 6, 1),
        priority="non_urgent",
        first_contact=FIRST_CONTACT,
        closed_date=date(2027, 1, 21),  # cancelled
    )["end_to_end_target"]
    # 150 working days: well after the closure on the 55th working day, 95 left when it stopped.
    assert (clock.stopped, clock.status, clock.days_remaining) == (date(2027, 1, 21), "met", 95)


# --- Timeline validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeline", "message"),
    [
        ({"priority": "soon"}, "priority"),
        ({"priority": "urgent", "decision": "deferred"}, "decision"),
        (
            {"priority": "urgent", "decision": "refused", "approval_date": date(2027, 1, 1)},
            "refused case cannot have an approval date",
        ),
        ({"priority": "urgent", "stage_entries": {5: date(2027, 1, 1)}}, "no stage 5"),
        ({"priority": "urgent", "holds": [Hold(date(2027, 1, 5), date(2027, 1, 4))]}, "before it starts"),
        (
            {
                "priority": "urgent",
                "holds": [Hold(date(2027, 1, 4), date(2027, 1, 8)), Hold(date(2027, 1, 8))],
            },
            "overlap",
        ),
        (
            {
                "priority": "urgent",
                "holds": [Hold(date(2027, 1, 4)), Hold(date(2027, 2, 1), date(2027, 2, 2))],
            },
            "still open",
        ),
    ],
)
def test_timeline_rejects_impossible_input(timeline: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CaseTimeline(**timeline)  # type: ignore[arg-type]


def test_timeline_is_frozen() -> None:
    entries = {1: date(2026, 11, 9)}
    timeline = CaseTimeline(priority="urgent", stage_entries=entries, holds=[Hold(date(2026, 11, 16))])
    entries[2] = date(2026, 11, 23)  # changing the caller's dict does not change the timeline
    assert dict(timeline.stage_entries) == {1: date(2026, 11, 9)}
    assert timeline.holds == (Hold(date(2026, 11, 16)),)
    with pytest.raises(AttributeError):
        timeline.priority = "non_urgent"  # type: ignore[misc]


# --- Loading targets.toml -------------------------------------------------------------------------


def test_shipped_targets_load() -> None:
    policy = load_clock_policy(clock_policy_path())
    on = date(2027, 1, 1)
    assert str(policy.period("decision_due", on)) == "6 months"
    assert str(policy.period("deferred_payment_limit", on)) == "12 months"
    assert str(policy.period("completion_due", on)) == "12 months"
    assert str(policy.period("grant_condition_period", on)) == "5 years"
    assert str(policy.period("land_charge_period", on)) == "10 years"
    assert str(policy.period("review_window", on)) == "28 days"
    assert "s.34" in policy.period("decision_due", on).basis
    assert "s.36" in policy.period("deferred_payment_limit", on).basis
    targets = policy.service_targets(on).by_priority
    assert (targets["urgent"].end_to_end, targets["non_urgent"].end_to_end) == (55, 150)
    # The shipped per-stage figures add up to the end-to-end targets.
    assert sum(targets["urgent"].stages.values()) == 55
    assert sum(targets["non_urgent"].stages.values()) == 150


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '[[period.decision_due]]\nfrom = 1996-12-17\nmonths = 6\nbasis = "HGCRA 1996 s.34(1)"\n',
            "",
            r"period\.decision_due: missing",
        ),
        ("months = 6\n", "months = 0\n", r"period\.decision_due\[0\]\.months: 0 is outside 1 to"),
        (
            "months = 6\n",
            "months = 6\nyears = 1\n",
            r"period\.decision_due\[0\]\.years: give exactly one of days, months or years",
        ),
        ("months = 6\n", "months = 6\nweeks = 1\n", r"period\.decision_due\[0\]\.weeks: unknown key"),
        ('basis = "HGCRA 1996 s.34(1)"\n', "", r"period\.decision_due\[0\]\.basis: missing"),
        (
            "from = 1996-12-17\nmonths = 6\n",
            'from = "17/12/1996"\nmonths = 6\n',
            r"decision_due\[0\]\.from: must be a date",
        ),
        (
            "from = 2027-01-01\ndays = 21\n",
            "from = 2020-01-01\ndays = 21\n",
            "two versions take effect on 2020-01-01",
        ),
        (
            "stages = { 1 = 10, 3 = 5 }",
            "stages = { 1 = 10, 5 = 5 }",
            r"service\[0\]\.urgent\.stages\.5: unknown key",
        ),
        ("end_to_end = 150\n", "", r"service\[0\]\.non_urgent\.end_to_end: missing"),
        ("[[service]]\n", "[[services]]\n", "services: unknown key"),
        (
            "end_to_end = 55\n",
            "end_to_end = true\n",
            r"service\[0\]\.urgent\.end_to_end: must be a whole number",
        ),
    ],
)
def test_bad_targets_name_file_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in TARGETS
    path = tmp_path / "targets.toml"
    path.write_text(TARGETS.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_clock_policy(path)
    assert str(path) in str(caught.value)


def test_an_approval_opens_no_review_window(policy: ClockPolicy) -> None:
    clocks = clocks_of(policy, date(2027, 1, 1), priority="urgent", decision="approved",
                       decision_date=date(2026, 12, 15))  # fmt: skip
    assert clocks["review_window"].status == "not_started"
