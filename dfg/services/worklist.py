"""Worklists and the daily tick: what is overdue or coming due, recording each breach once, and queueing
reminder letters.

Both work from the timelines of :mod:`dfg.workflow.timeline`, rebuilt from each case's history, so a worklist
can never disagree with ``dfg case clocks``. Cases are read with Core in batches (one query for the
cases, one for their events per batch of :data:`BATCH` cases), never as ORM objects.

A worklist rebuilds only the cases that may have something within its horizon: each case keeps the
earliest day anything on it can fall due (``cases.next_due``, :func:`next_due`), which every event on
the case empties (:func:`dfg.store.audit.append_to_case`) and the next worklist or tick works out again
and keeps. It is a day no clock of the case can fall due before, whatever day is asked about: a hold
only moves service targets later, so it is worked out as if the case had never been on hold. A case
with nothing that can fall due keeps :data:`NOTHING_DUE`.

- :func:`due` lists, most urgent first, each deadline or target that is overdue or falls due within a
  horizon, with the action that clears it and the role whose desk it is on; a hold's review date is a
  due item too. A service target on a case that is on hold is not listed (the hold's review is).
- :func:`tick` records a ``clock_breached`` event on a case the first time each of its clocks is found
  breached, and a ``reminder`` event, once for each due date, where the reminder policy
  (``workflows/policy/reminders.toml``, :mod:`dfg.workflow.reminders`) calls for a letter before a clock falls
  due: the event names the letters, which puts them in the letter queue (:mod:`dfg.services.letter_queue`).
  A case on hold is sent no reminder until it is resumed.
  Run again it records nothing. It is safe to run from a daily scheduler, twice, or in two places at
  once: the events are appended with the case's version check, and a case changed meanwhile is left for
  the next run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, bindparam, or_, select, update

from dfg.errors import Conflict, InvalidInput, PermissionDenied
from dfg.presentation import day, text_table
from dfg.rules.calendar import WorkingCalendar, district_calendar
from dfg.rules.clock import local_day, utcnow
from dfg.rules.clocks import CaseTimeline, Clock, ClockPolicy, case_clocks, clock_policy_for
from dfg.services.progress import Progress, unwatched
from dfg.store.audit import NewEvent, append_to_case
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS, ROLES, USERS
from dfg.workflow.actor import Actor
from dfg.workflow.definition import Definition, definition_for, stage_of_states
from dfg.workflow.reminders import REMINDER_EVENT, ReminderPolicy, load_reminders
from dfg.workflow.roles import require_role
from dfg.workflow.timeline import CASE_COLUMNS, histories_for

#: Days ahead a worklist looks when no horizon is given: two working weeks.
DEFAULT_WITHIN_DAYS = 14

#: Cases read (with their events) per query: keeps memory flat and each IN list short.
BATCH = 500

#: The kind of event :func:`tick` records; its ``code`` is the clock's name.
BREACH_EVENT = "clock_breached"

_HOLD_REVIEW_ACTION = "review the hold: resume the case, or resume and hold again with a new review date"

#: How far back :func:`tick` looks at closed cases: a clock breached just before closing is still caught
#: if the scheduler missed a few days.
CLOSED_LOOKBACK_DAYS = 31

# What moves a case on from each state of the shipped workflow, in an officer's words. A state not
# listed (a council's own workflow) falls back to the label of its first forward trigger.
_NEXT_STEP = {
    "referral": "accept the referral",
    "awaiting_assessment": "record the OT assessment",
    "test_of_resources": "complete the test of resources",
    "scheme_design": "receive the formal application",
    "application_incomplete": "get the application complete and validate it",
    "application_valid": "decide: approve or refuse",
    "refused": "close the refused case, or record the applicant's review request",
    "under_review": "decide the review: uphold or overturn the refusal",
    "approved": "order the works",
    "works_ordered": "record the start on site",
    "on_site": "record the works complete",
    "works_complete": "certify completion",
    "certified": "record the final payment",
    "paid": "close the case",
}

# The clocks a worklist shows. Condition periods that simply run out (grant condition, land charge)
# ask nothing of an officer while the case is open, so they are left out.
_LISTED = ("decision_due", "completion_due", "review_window", "end_to_end_target")
#: What a case with nothing that can fall due keeps as its next due day (not NULL: that is "work it out").
NOTHING_DUE = date(9999, 12, 31)
_KIND_ORDER = {"statutory": 0, "condition": 1, "hold": 2, "service": 3}
_PRIORITY_ORDER = {"urgent": 0, "non_urgent": 1}


@dataclass(frozen=True)
class DueItem:
    """One thing on a worklist: a deadline, target or hold review, and what clears it."""

    reference: str
    district: str
    state: str
    stage: int | None
    priority: str
    assigned_to: str | None
    #: The clock's name (``decision_due``, ``stage_1_target``...) or ``hold_review``.
    clock: str
    label: str
    #: ``statutory``, ``condition``, ``service`` or ``hold``.
    kind: str
    due: date
    #: Calendar days from today to the due date; negative once overdue.
    days_left: int
    #: Service targets only: working days left (negative: overdue), holds and closures allowed for.
    working_days_left: int | None
    action: str
    #: The role whose desk the action is on (the owner of the case's state).
    role: str | None

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "district": self.district,
            "state": self.state,
            "stage": self.stage,
            "priority": self.priority,
            "assigned_to": self.assigned_to,
            "clock": self.clock,
            "label": self.label,
            "kind": self.kind,
            "due": self.due.isoformat(),
            "days_left": self.days_left,
            "working_days_left": self.working_days_left,
            "overdue": self.overdue,
            "action": self.action,
            "role": self.role,
        }

    def when(self) -> str:
        """``3 days overdue``, ``due today``, ``in 5 days`` (service targets in working days)."""
        n, unit = (self.days_left, "days")
        if self.working_days_left is not None:
            n, unit = (self.working_days_left, "working days")
        if self.days_left == 0:
            return "due today"
        if n < 0:
            return f"{-n} {unit} overdue"
        return f"in {n} {unit}"


def due_as_text(items: Sequence[DueItem], today: date) -> str:
    """A worklist as an aligned table, most urgent first, for the terminal or an email."""
    if not items:
        return f"Nothing overdue or coming due on {day(today)}."
    overdue = sum(1 for i in items if i.overdue)
    rows = [
        [
            i.reference,
            i.priority.replace("_", "-"),
            i.label,
            day(i.due),
            i.when(),
            i.action,
            i.assigned_to or "",
        ]
        for i in items
    ]
    table = text_table(["case", "priority", "clock", "due", "", "action", "assigned to"], rows)
    return f"Due on {day(today)}: {len(items)} item(s), {overdue} overdue\n{table}"


# ---------------------------------------------------------------------- reading open cases


def _scope(actor: Actor, district: str | None) -> str | None:
    if actor.district and district and district != actor.district:
        raise PermissionDenied(f"{actor.username} works for district {actor.district}")
    return district or actor.district


def _case_rows(connection: Connection, query: Select[Any]) -> list[Mapping[Any, Any]]:
    return list(connection.execute(query).mappings())


def _next_step(flow: Definition, state: str) -> str:
    if state in _NEXT_STEP:
        return _NEXT_STEP[state]
    forward = [t for t in flow.triggers_from(state) if not t.from_any_open_state and t.dest != state]
    return forward[0].label.lower() if forward else "move the case on"


def _awaits_review_window(flow: Definition, state: str) -> bool:
    """Whether a step from ``state`` waits on the review window (a refused case waiting to be closed)."""
    return any("review_window_closed" in t.guards for t in flow.triggers_from(state))


def _action(clock: Clock, flow: Definition, state: str, decided: bool) -> str:
    if clock.name == "decision_due":
        # Decided but not yet notified (s.34): the clock stops when the notice is produced.
        return (
            "produce the decision's notice (dfg letters render)" if decided else "decide: approve or refuse"
        )
    if clock.name == "completion_due":
        return f"{_next_step(flow, state)} (or extend the completion date, with a reason)"
    if clock.name == "review_window":
        return "close the refused case once the window has closed, or record the review request"
    return _next_step(flow, state)


def _items(case: Mapping[Any, Any], clocks: Sequence[Clock], today: date) -> list[DueItem]:
    flow = definition_for(case["workflow_version"])
    state = flow.states.get(case["state"])
    if state is None or state.terminal:
        return []

    def item(name: str, label: str, kind: str, due_on: date, working: int | None, action: str) -> DueItem:
        return DueItem(
            reference=case["reference"],
            district=case["district_code"],
            state=case["state"],
            stage=state.stage,
            priority=case["priority"],
            assigned_to=case["assigned_username"],
            clock=name,
            label=label,
            kind=kind,
            due=due_on,
            days_left=(due_on - today).days,
            working_days_left=working,
            action=action,
            role=state.owner,
        )

    decided = case["approval_date"] is not None or case["refusal_date"] is not None
    found = []
    for clock in _may_fall_due(clocks, flow, state.name):
        if clock.due is None or clock.status not in ("running", "breached"):
            continue  # not started, met, or paused by a hold (the hold's review is listed instead)
        working = clock.days_remaining if clock.kind == "service" else None
        found.append(
            item(
                clock.name,
                clock.label,
                clock.kind,
                clock.due,
                working,
                _action(clock, flow, state.name, decided),
            )
        )
    review: date | None = case["hold_review_date"]
    if case["hold_since"] is not None and review is not None:
        found.append(
            item(
                "hold_review",
                "Hold review",
                "hold",
                review,
                None,
                _HOLD_REVIEW_ACTION,
            )
        )
    return found


def _may_fall_due(clocks: Sequence[Clock], flow: Definition, state: str) -> Iterator[Clock]:
    """The clocks a worklist may list in ``state``: started, not stopped, and asking something of an
    officer while the case is open."""
    for clock in clocks:
        listed = clock.name in _LISTED or clock.name.startswith("stage_")
        if not listed or clock.due is None or clock.stopped is not None:
            continue
        if clock.name == "review_window" and not _awaits_review_window(flow, state):
            continue
        yield clock


def next_due(
    case: Mapping[Any, Any],
    timeline: CaseTimeline,
    clocks: Sequence[Clock],
    *,
    today: date,
    calendar: WorkingCalendar,
    policy: ClockPolicy,
) -> date:
    """The earliest day anything on an open case can fall due, on any day, until its next event: its
    ``clocks`` (worked out as if it had never been on hold, which only moves targets later) and its
    hold's review. :data:`NOTHING_DUE` if nothing can."""
    flow = definition_for(case["workflow_version"])
    state = flow.states.get(case["state"])
    if state is None or state.terminal:
        return NOTHING_DUE
    if timeline.holds:
        clocks = case_clocks(replace(timeline, holds=()), today, calendar=calendar, policy=policy)
    days = [c.due for c in _may_fall_due(clocks, flow, state.name) if c.due is not None]
    if case["hold_since"] is not None and case["hold_review_date"] is not None:
        days.append(case["hold_review_date"])
    return min(days, default=NOTHING_DUE)


def _urgency(item: DueItem) -> tuple[date, int, int, str, str]:
    return (
        item.due,
        _KIND_ORDER.get(item.kind, 9),
        _PRIORITY_ORDER.get(item.priority, 9),
        item.reference,
        item.clock,
    )


@dataclass(frozen=True)
class DuePage:
    """The most urgent items due, as many as were asked for, and whether more are due."""

    items: list[DueItem]
    more: bool


def due(
    db: Database,
    actor: Actor,
    *,
    mine: bool = False,
    role: str | None = None,
    district: str | None = None,
    within_days: int | None = None,
    today: date | None = None,
) -> list[DueItem]:
    """What is overdue or falls due within ``within_days`` (default :data:`DEFAULT_WITHIN_DAYS`) of today.

    ``mine``: only cases assigned to ``actor``. ``role``: only items whose action is on that role's desk
    (the owner of the case's state: ``ot`` for assessments, ``approver`` for decisions...). ``district``:
    one district; a user who belongs to a district sees only that one (:class:`PermissionDenied`
    otherwise). Sorted most urgent first: earliest due date (so the longest overdue leads), then
    statutory before condition, hold reviews and service targets, then urgent cases first.
    """
    return due_page(
        db, actor, mine=mine, role=role, district=district, within_days=within_days, today=today
    ).items


def due_page(
    db: Database,
    actor: Actor,
    *,
    mine: bool = False,
    role: str | None = None,
    district: str | None = None,
    within_days: int | None = None,
    limit: int | None = None,
    today: date | None = None,
) -> DuePage:
    """The ``limit`` most urgent items of :func:`due` (all of them when None), working out the clocks of
    as few cases as that needs: the cases are read in the order of their kept next due day, a day no item
    of theirs falls due before, so once ``limit`` items fall due before the next case's day, no case not
    yet read can come among them."""
    today = today or local_day(utcnow())
    within = DEFAULT_WITHIN_DAYS if within_days is None else within_days
    if within < 0:
        raise InvalidInput(f"--within must be 0 or more days, not {within}")
    if role is not None and role not in ROLES:
        raise InvalidInput(f"unknown role '{role}' (known: {', '.join(ROLES)})")
    if limit is not None and limit < 1:
        raise InvalidInput(f"the number of items to show must be 1 or more, not {limit}")
    district = _scope(actor, district)
    horizon = today + timedelta(days=within)
    query = (
        select(*CASE_COLUMNS, CASES.c.next_due, USERS.c.username.label("assigned_username"))
        .outerjoin(USERS, USERS.c.id == CASES.c.assigned_to)
        .where(CASES.c.state.in_(list(stage_of_states())))
        # only the cases something may fall due on by the horizon, or not worked out since their last event
        .where(or_(CASES.c.next_due <= horizon, CASES.c.next_due.is_(None)))
        # those not worked out first (any day is theirs), then the soonest
        .order_by(CASES.c.next_due.asc().nulls_first(), CASES.c.id)
    )
    if district:
        query = query.where(CASES.c.district_code == district)
    if mine:
        query = query.where(CASES.c.assigned_to == actor.user_id)
    items: list[DueItem] = []
    worked_out: list[dict[str, Any]] = []
    stopped = False
    size = BATCH if limit is None else min(BATCH, max(limit, 20))
    with db.read_connection() as connection:
        cases = _case_rows(connection, query)
        for start in range(0, len(cases), size):
            batch = cases[start : start + size]
            histories = histories_for(connection, batch)
            for case in batch:
                timeline = histories[case["id"]].timeline
                district = case["district_code"]
                calendar, policy = district_calendar(district), clock_policy_for(district)
                clocks = case_clocks(timeline, today, calendar=calendar, policy=policy)
                if case["next_due"] is None:
                    found = next_due(case, timeline, clocks, today=today, calendar=calendar, policy=policy)
                    worked_out.append(_kept(case["id"], case["version"], found))
                items.extend(
                    i
                    for i in _items(case, clocks, today)
                    if i.due <= horizon and (role is None or i.role == role)
                )
            following = cases[start + size]["next_due"] if start + size < len(cases) else None
            if limit is not None and following is not None and sum(i.due < following for i in items) >= limit:
                stopped = True
                break
    if worked_out:
        with db.write_connection() as connection:
            _keep_next_due(connection, worked_out)
    items.sort(key=_urgency)
    if limit is None:
        return DuePage(items, more=False)
    return DuePage(items[:limit], more=stopped or len(items) > limit)


_KEEP_NEXT_DUE = (
    update(CASES)
    .where(CASES.c.id == bindparam("case_id"), CASES.c.version == bindparam("read_version"))
    .values(next_due=bindparam("due"))
)


def _kept(case_id: int, version: int, due_on: date) -> dict[str, Any]:
    return {"case_id": case_id, "read_version": version, "due": due_on}


def _keep_next_due(connection: Connection, worked_out: Sequence[Mapping[str, Any]]) -> None:
    """Keep each case's next due day as worked out at its version: a case changed since keeps its empty
    one (its event emptied it), for the next reader to work out."""
    connection.execute(_KEEP_NEXT_DUE, list(worked_out))


# ---------------------------------------------------------------------- the daily tick


@dataclass(frozen=True)
class Breach:
    """A clock found breached, and recorded as a ``clock_breached`` event on its case."""

    reference: str
    clock: str
    label: str
    kind: str
    due: date
    #: Calendar days for statutory and condition clocks, working days for service targets.
    days_overdue: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "clock": self.clock,
            "label": self.label,
            "kind": self.kind,
            "due": self.due.isoformat(),
            "days_overdue": self.days_overdue,
        }


@dataclass(frozen=True)
class Reminder:
    """A reminder the policy called for, recorded as a ``reminder`` event that queues its letters."""

    reference: str
    clock: str
    label: str
    due: date
    #: Calendar days from the tick's day to the due date.
    days_left: int
    #: The policy's threshold that was met (``days_before`` in ``reminders.toml``).
    days_before: int
    letters: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "clock": self.clock,
            "label": self.label,
            "due": self.due.isoformat(),
            "days_left": self.days_left,
            "days_before": self.days_before,
            "letters": list(self.letters),
        }


@dataclass(frozen=True)
class TickResult:
    """What one run of :func:`tick` found and recorded."""

    today: date
    cases_checked: int
    recorded: tuple[Breach, ...]
    #: Breaches found that an earlier run had already recorded.
    already_recorded: int
    #: Cases changed by someone else while the tick ran: their breaches and reminders wait for the next run.
    conflicts: tuple[str, ...]
    #: Reminders recorded by this run, each queueing its letters.
    reminders: tuple[Reminder, ...] = ()
    #: Reminder letters the policy called for that an earlier run had already queued.
    reminders_already_queued: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "cases_checked": self.cases_checked,
            "recorded": [b.as_dict() for b in self.recorded],
            "already_recorded": self.already_recorded,
            "reminders": [r.as_dict() for r in self.reminders],
            "reminders_already_queued": self.reminders_already_queued,
            "conflicts": list(self.conflicts),
        }

    def as_text(self) -> str:
        head = (
            f"Tick on {day(self.today)}: {self.cases_checked} case(s) checked, "
            f"{len(self.recorded)} new breach(es) recorded, {self.already_recorded} already recorded"
        )
        lines = [head]
        if self.recorded:
            rows = [[b.reference, b.label, b.kind, day(b.due), str(b.days_overdue)] for b in self.recorded]
            lines.append(text_table(["case", "clock", "kind", "was due", "days over"], rows, numeric=[4]))
        if self.reminders or self.reminders_already_queued:
            queued = sum(len(r.letters) for r in self.reminders)
            lines.append(
                f"{queued} reminder letter(s) queued, {self.reminders_already_queued} already queued"
            )
        if self.reminders:
            rows = [
                [r.reference, r.label, day(r.due), str(r.days_left), ", ".join(r.letters)]
                for r in self.reminders
            ]
            lines.append(text_table(["case", "clock", "due", "days left", "letters"], rows, numeric=[3]))
        if self.conflicts:
            lines.append(f"Changed while checking, left for the next run: {', '.join(self.conflicts)}")
        return "\n".join(lines)


_SELECT_RECORDED = select(EVENTS.c.case_id, EVENTS.c.code).where(
    EVENTS.c.kind == BREACH_EVENT, EVENTS.c.case_id.in_(bindparam("case_ids", expanding=True))
)

_SELECT_REMINDED = select(EVENTS.c.case_id, EVENTS.c.payload).where(
    EVENTS.c.kind == REMINDER_EVENT, EVENTS.c.case_id.in_(bindparam("case_ids", expanding=True))
)

#: A reminder letter already queued: (case id, clock, due date, days_before, letter kind).
_Sent = tuple[int, str, str, int, str]


def _sent(connection: Connection, ids: Sequence[int]) -> set[_Sent]:
    """The reminder letters already queued for the cases ``ids``, for each clock's due date."""
    sent: set[_Sent] = set()
    for row in connection.execute(_SELECT_REMINDED, {"case_ids": list(ids)}):
        payload = json.loads(row.payload)
        for letter in payload.get("letters", ()):
            sent.add((row.case_id, payload["clock"], payload["due"], int(payload["days_before"]), letter))
    return sent


def _breaches(case: Mapping[Any, Any], clocks: Sequence[Clock]) -> list[Breach]:
    return [
        Breach(case["reference"], c.name, c.label, c.kind, c.due, c.days_overdue)
        for c in clocks
        if c.status == "breached" and c.due is not None
    ]


def _reminders(
    case: Mapping[Any, Any], clocks: Sequence[Clock], policy: ReminderPolicy, today: date, sent: set[_Sent]
) -> tuple[list[Reminder], int]:
    """The reminders ``policy`` calls for on ``today`` that were not queued before for the same due date,
    and how many letters it calls for that were."""
    state = definition_for(case["workflow_version"]).states.get(case["state"])
    if state is None or state.terminal or not policy.reminders:
        return [], 0
    found: list[Reminder] = []
    already = 0
    for clock in clocks:
        if clock.status != "running" or clock.due is None or clock.name not in policy.clocks:
            continue  # not started, stopped, met, breached, or a service target paused by a hold
        days_left = (clock.due - today).days
        met = policy.due(clock.name, days_left, state.name, today, on_hold=case["hold_since"] is not None)
        if met is None:
            continue
        threshold, letters = met
        key = (case["id"], clock.name, clock.due.isoformat(), threshold)
        new = tuple(kind for kind in letters if (*key, kind) not in sent)
        already += len(letters) - len(new)
        if new:
            found.append(
                Reminder(case["reference"], clock.name, clock.label, clock.due, days_left, threshold, new)
            )
    return found, already


def _breach_event(breach: Breach) -> tuple[str, str, str, dict[str, Any]]:
    return (
        BREACH_EVENT,
        breach.clock,
        f"{breach.label}: due {breach.due:%d/%m/%Y}, not met",
        {
            "clock": breach.clock,
            "label": breach.label,
            "clock_kind": breach.kind,
            "due": breach.due,
            "days_overdue": breach.days_overdue,
        },
    )


def _reminder_event(reminder: Reminder, today: date) -> tuple[str, str, str, dict[str, Any]]:
    return (
        REMINDER_EVENT,
        reminder.clock,
        f"{reminder.label}: due {reminder.due:%d/%m/%Y}, in {reminder.days_left} day(s)",
        {
            "clock": reminder.clock,
            "label": reminder.label,
            "due": reminder.due,
            "days_before": reminder.days_before,
            "days_left": reminder.days_left,
            # The letter queue takes every event naming letters (dfg.services.letter_queue); the letter is
            # dated, and its step shown, as of the tick's day.
            "letters": list(reminder.letters),
            "effective_date": today,
        },
    )


def _record(
    connection: Connection,
    case: Mapping[Any, Any],
    events: Sequence[tuple[str, str, str, dict[str, Any]]],
    actor: Actor,
    role: str,
    now: datetime,
) -> None:
    """Append ``events`` (kind, code, reason, payload) to the case's audit chain, each with the version
    check against the case as the tick read it: :class:`Conflict` if anyone changed it since."""
    version, seq, head = case["version"], case["audit_seq"], case["audit_head"]
    for kind, code, reason, payload in events:
        head = append_to_case(
            connection,
            case_id=case["id"],
            reference=case["reference"],
            version=version,
            audit_seq=seq,
            audit_head=head,
            changes={},
            new=NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=role,
                kind=kind,
                code=code,
                reason=reason,
                payload=payload,
                workflow_version=case["workflow_version"],
            ),
        )
        version, seq = version + 1, seq + 1


def tick(
    db: Database,
    actor: Actor,
    today: date | None = None,
    *,
    now: datetime | None = None,
    closed_within_days: int = CLOSED_LOOKBACK_DAYS,
    progress: Progress = unwatched,
) -> TickResult:
    """Record a ``clock_breached`` event, once, for every clock found breached on ``today``, and a
    ``reminder`` event, once for each due date, for every reminder the district's reminder policy
    (``workflows/policy/reminders.toml``, :mod:`dfg.workflow.reminders`) calls for.

    Checks open cases, and cases closed within ``closed_within_days`` (a clock can be breached by the
    step that closed the case). Each breach event's ``code`` is the clock's name and its payload names the
    clock, its due date and the days overdue; a (case, clock) pair already recorded is never recorded
    again. A reminder is for an open case whose clock is running and due within the policy's
    ``days_before``: its event's payload names the clock, the due date, the threshold met and the
    ``letters`` it queues (``dfg letters render --pending`` makes them); a (case, clock, due date,
    threshold, letter) already queued is never queued again, so a due date moved by an extension is
    reminded of afresh. Events are appended with the case's version check: a case changed while the tick
    ran is left for the next run. Each case checked keeps its next due day (:func:`next_due`) where it
    has moved, so the worklists after it rebuild only the cases due. Needs the manager or admin role (a scheduler runs it as such a user); a
    district user ticks only their district. A reminder policy that does not load stops the tick with
    :class:`ConfigurationError` before anything is recorded for that district.
    """
    role = require_role(actor, "admin", "manager")
    now = now or utcnow()
    today = today or local_day(now)
    query = (
        select(CASES.c.id, CASES.c.district_code)
        .where(
            or_(
                CASES.c.state.in_(list(stage_of_states())),
                CASES.c.closed_date >= today - timedelta(days=closed_within_days),
            )
        )
        .order_by(CASES.c.id)
    )
    if actor.district:
        query = query.where(CASES.c.district_code == actor.district)
    with db.read_connection() as connection:
        rows = connection.execute(query).all()
    case_ids = [row.id for row in rows]
    # Every district's reminder policy is read (and checked) before anything is recorded.
    policies = {
        district: load_reminders(district) for district in sorted({row.district_code for row in rows})
    }
    recorded: list[Breach] = []
    reminded: list[Reminder] = []
    conflicts: list[str] = []
    already = reminders_already = 0
    progress(0, len(case_ids))
    for start in range(0, len(case_ids), BATCH):
        ids = case_ids[start : start + BATCH]
        with db.read_connection() as connection:
            # Re-read the batch inside one transaction, so versions and histories agree with each other.
            fresh = _case_rows(
                connection,
                select(*CASE_COLUMNS, CASES.c.next_due).where(CASES.c.id.in_(ids)).order_by(CASES.c.id),
            )
            histories = histories_for(connection, fresh)
            done = {(r.case_id, r.code) for r in connection.execute(_SELECT_RECORDED, {"case_ids": ids})}
            sent = _sent(connection, ids)
        found: list[tuple[Mapping[Any, Any], list[Breach], list[Reminder], date]] = []
        worked_out: list[dict[str, Any]] = []  # each case's next due day, where it has moved
        for case in fresh:
            timeline = histories[case["id"]].timeline
            district = case["district_code"]
            calendar, policy = district_calendar(district), clock_policy_for(district)
            clocks = case_clocks(timeline, today, calendar=calendar, policy=policy)
            breaches = _breaches(case, clocks)
            new = [b for b in breaches if (case["id"], b.clock) not in done]
            already += len(breaches) - len(new)
            reminders, queued_before = _reminders(case, clocks, policies[case["district_code"]], today, sent)
            reminders_already += queued_before
            bound = next_due(case, timeline, clocks, today=today, calendar=calendar, policy=policy)
            if new or reminders:
                found.append((case, new, reminders, bound))
            elif bound != case["next_due"]:
                worked_out.append(_kept(case["id"], case["version"], bound))
        if not found and not worked_out:
            progress(len(ids), len(case_ids))
            continue
        with db.write_connection() as connection:
            for case, new, reminders, bound in found:
                events = [_breach_event(b) for b in new] + [_reminder_event(r, today) for r in reminders]
                try:
                    _record(connection, case, events, actor, role, now)
                except Conflict:
                    conflicts.append(case["reference"])
                    continue
                # its own events move no clock: the day worked out stands, at the version they made
                worked_out.append(_kept(case["id"], case["version"] + len(events), bound))
                recorded.extend(new)
                reminded.extend(reminders)
            if worked_out:
                _keep_next_due(connection, worked_out)
        progress(len(ids), len(case_ids))
    return TickResult(
        today,
        len(case_ids),
        tuple(recorded),
        already,
        tuple(conflicts),
        tuple(reminded),
        reminders_already,
    )
