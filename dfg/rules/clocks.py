"""Clocks: a case's deadlines and targets, worked out from its timeline alone.

Nothing here reads the database or keeps a timer. The caller builds a :class:`CaseTimeline` from the
case's events and asks :func:`case_clocks` for the clocks as they stand on a given day. There are three
kinds of clock:

``statutory``
    Set by the Housing Grants, Construction and Regeneration Act 1996: the decision (s.34) and the
    deferred-payment limit (s.36). Counted in calendar days. Never paused by a hold.
``condition``
    Conditions of the grant and local windows: works completion (s.37), the grant condition period,
    the land charge, the review window. Counted in calendar days. Never paused by a hold.
``service``
    Local performance targets: end to end and per stage. Counted in working days
    (:mod:`dfg.rules.calendar`), and a hold stops them: its working days push the due date back.

The lengths of every clock come from ``workflows/policy/targets.toml`` (:func:`load_clock_policy`), each
with the date it took effect and its source, so a council can see and change them; a district with its
own service targets or review window replaces the file whole with ``targets-<CODE>.toml``
(:func:`clock_policy_for`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeVar

from dfg.errors import InvalidInput
from dfg.paths import workflows_dir
from dfg.rules.calendar import WorkingCalendar, add_calendar_months, default_calendar_policy
from dfg.rules.policy import district_file
from dfg.rules.rates import TomlSection, read_toml

ClockKind = Literal["statutory", "condition", "service"]
ClockStatus = Literal["running", "met", "breached", "paused", "not_started"]
Priority = Literal["urgent", "non_urgent"]
Decision = Literal["approved", "refused"]
PeriodUnit = Literal["days", "months", "years"]

PRIORITIES: tuple[Priority, ...] = ("urgent", "non_urgent")

#: The delivery stages of the 2022 national guidance, as the engine uses them.
STAGES: Mapping[int, str] = MappingProxyType(
    {
        0: "enquiry",
        1: "contact to assessment",
        2: "works identified to formal application",
        3: "application to decision",
        4: "approval to completion",
    }
)

#: The calendar-time periods ``targets.toml`` must define.
PERIOD_NAMES: tuple[str, ...] = (
    "decision_due",
    "deferred_payment_limit",
    "completion_due",
    "grant_condition_period",
    "land_charge_period",
    "review_window",
)

_ONE_DAY = timedelta(days=1)


# --- Policy: how long each clock runs ----------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A length of calendar time, with the date it took effect and where it comes from."""

    amount: int
    unit: PeriodUnit
    effective_from: date
    #: The legal or policy source, as an officer would cite it ("HGCRA 1996 s.34(1)").
    basis: str
    source: str = ""
    note: str = ""
    #: True while the rule is not settled in the sources: check it before live use.
    confirm: bool = False

    def after(self, d: date) -> date:
        """The date this period after ``d``; months and years clamp at month end."""
        if self.unit == "days":
            return d + timedelta(days=self.amount)
        return add_calendar_months(d, self.amount * 12 if self.unit == "years" else self.amount)

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {unit}"


@dataclass(frozen=True)
class ServiceTargets:
    """Working-day targets for one priority: end to end, and per stage where the council sets one."""

    end_to_end: int
    stages: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceTargetVersion:
    """The service targets a council adopted on a date, for each priority."""

    effective_from: date
    basis: str
    by_priority: Mapping[Priority, ServiceTargets]
    source: str = ""
    note: str = ""
    confirm: bool = False


_Version = TypeVar("_Version", Period, ServiceTargetVersion)


def _in_force(versions: Sequence[_Version], on: date) -> _Version:
    # The earliest version also covers earlier dates, so old or imported cases still get clocks.
    chosen = versions[0]
    for version in versions:
        if version.effective_from <= on:
            chosen = version
    return chosen


@dataclass(frozen=True)
class ClockPolicy:
    """Every period and target the clocks use, each as a list of dated versions (oldest first)."""

    periods: Mapping[str, tuple[Period, ...]]
    service: tuple[ServiceTargetVersion, ...]

    def period(self, name: str, on: date) -> Period:
        """The version of period ``name`` (one of :data:`PERIOD_NAMES`) in force on ``on``."""
        return _in_force(self.periods[name], on)

    def service_targets(self, on: date) -> ServiceTargetVersion:
        """The service targets in force on ``on``."""
        return _in_force(self.service, on)


# --- The case's timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """A spell on hold. Both ``start`` and ``end`` count as days on hold; ``end`` is None while open."""

    start: date
    end: date | None = None

    def last_day(self, today: date) -> date:
        """The last day on hold so far: ``end``, or ``today`` while the hold is open."""
        return self.end if self.end is not None else today


@dataclass(frozen=True)
class CompletionExtension:
    """An extension of the 12-month completion period: by ``months``, or to ``new_date``, with a reason."""

    reason: str
    months: int | None = None
    new_date: date | None = None

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvalidInput("completion extension: give a reason")
        if (self.months is None) == (self.new_date is None):
            raise InvalidInput("completion extension: give either a number of months or a new date")
        if self.months is not None and self.months < 1:
            raise InvalidInput(f"completion extension: {self.months} months must be 1 or more")


@dataclass(frozen=True, kw_only=True)
class CaseTimeline:
    """The milestone dates of one case: everything the clocks need, nothing else.

    A milestone the case has not reached is None. ``stage_entries`` maps a stage (0–4) to the date the
    case entered it; where a stage is missing, its milestone stands in (0: ``first_contact``,
    2: ``assessment_date``, 3: ``valid_application_date``, 4: the approval date).
    """

    priority: Priority
    first_contact: date | None = None
    assessment_date: date | None = None
    valid_application_date: date | None = None
    decision: Decision | None = None
    #: The date of the written decision. For an approval it defaults to ``approval_date`` and back.
    decision_date: date | None = None
    approval_date: date | None = None
    #: The day the written notice of the decision was produced: s.34 is met by notifying the applicant,
    #: not by recording the decision. None when none was produced (see ``notice_outstanding``).
    decision_notice: date | None = None
    #: The decision's step asked for a notice that is not produced yet: the decision clock runs on.
    notice_outstanding: bool = False
    deferred_payment_date: date | None = None
    completion_extensions: Sequence[CompletionExtension] = ()
    works_completed_date: date | None = None
    certified_date: date | None = None
    closed_date: date | None = None
    #: False for a case known not to carry a land charge (not an owner's application, or grant
    #: of £5,000 or less); the land charge clock is then left out.
    land_charge_applies: bool = True
    stage_entries: Mapping[int, date] = field(default_factory=dict)
    holds: Sequence[Hold] = ()

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise InvalidInput(f"priority: {self.priority!r} is not one of {', '.join(PRIORITIES)}")
        if self.decision not in (None, "approved", "refused"):
            raise InvalidInput(f"decision: {self.decision!r} is not 'approved' or 'refused'")
        if self.decision == "refused" and self.approval_date is not None:
            raise InvalidInput("a refused case cannot have an approval date")
        unknown = set(self.stage_entries) - set(STAGES)
        if unknown:
            raise InvalidInput(f"stage_entries: no stage {sorted(unknown)[0]!r} (stages are 0 to 4)")
        # Freeze the containers so a timeline cannot change under the clocks computed from it.
        object.__setattr__(self, "stage_entries", MappingProxyType(dict(self.stage_entries)))
        object.__setattr__(self, "completion_extensions", tuple(self.completion_extensions))
        holds = tuple(sorted(self.holds, key=lambda h: h.start))
        for i, hold in enumerate(holds):
            if hold.end is not None and hold.end < hold.start:
                raise InvalidInput(f"hold from {hold.start}: ends {hold.end}, before it starts")
            if i + 1 < len(holds):
                if hold.end is None:
                    raise InvalidInput(f"hold from {hold.start} is still open but another follows it")
                if holds[i + 1].start <= hold.end:
                    raise InvalidInput(f"holds from {hold.start} and {holds[i + 1].start} overlap")
        object.__setattr__(self, "holds", holds)

    @property
    def approved_on(self) -> date | None:
        """The approval date (the decision date of an approval if no separate date was recorded)."""
        if self.approval_date is not None:
            return self.approval_date
        return self.decision_date if self.decision == "approved" else None

    @property
    def decided_on(self) -> date | None:
        """The date of the decision, approval or refusal."""
        return self.decision_date or self.approval_date

    @property
    def notified_on(self) -> date | None:
        """The day the applicant was notified of the decision (s.34): its notice's day, or the decision's
        own date where the case records no notice apart from it; None while the notice is outstanding."""
        if self.decision_notice is not None:
            return self.decision_notice
        return None if self.notice_outstanding else self.decided_on

    @property
    def works_completed_on(self) -> date | None:
        """When the works were complete: ``works_completed_date``, else the certified date."""
        return self.works_completed_date or self.certified_date

    def stage_entered(self, stage: int) -> date | None:
        """The date the case entered ``stage``, or the milestone that marks that stage's start."""
        if stage in self.stage_entries:
            return self.stage_entries[stage]
        milestone = {
            0: self.first_contact,
            2: self.assessment_date,
            3: self.valid_application_date,
            4: self.approved_on,
        }
        return milestone.get(stage)


# --- The clocks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """One clock of a case, as it stands on the day it was worked out.

    ``status``: ``not_started`` (its starting milestone is not reached); ``running`` (due date not yet
    passed); ``paused`` (a service clock on a day the case is on hold); ``met`` (stopped on or before
    its due date, or a period that has run its course); ``breached`` (stopped after its due date, or
    still running past it). Due dates are the last day in time.

    ``days_remaining`` is positive while time is left, negative once overdue (how late the clock
    stopped, or how late it is today), and None when the clock has not started. It counts calendar
    days for statutory and condition clocks and working days for service clocks.
    """

    name: str
    label: str
    kind: ClockKind
    #: The legal or policy source of the period or target.
    basis: str
    start: date | None
    due: date | None
    stopped: date | None
    status: ClockStatus
    days_remaining: int | None
    #: Service clocks only: working days on hold within the clock's span, added to its due date.
    paused_working_days: int = 0

    @property
    def day_unit(self) -> Literal["working", "calendar"]:
        """Whether ``days_remaining`` counts working days or calendar days."""
        return "working" if self.kind == "service" else "calendar"

    @property
    def days_overdue(self) -> int:
        """How many days past due (0 if not overdue or not started)."""
        return max(0, -(self.days_remaining or 0))


def _not_started(name: str, label: str, kind: ClockKind, basis: str) -> Clock:
    return Clock(name, label, kind, basis, None, None, None, "not_started", None)


def _calendar_deadline(
    name: str,
    label: str,
    kind: ClockKind,
    basis: str,
    start: date,
    due: date,
    stopped: date | None,
    today: date,
) -> Clock:
    """A deadline in calendar days: met if it stopped on or before its due date."""
    if stopped is not None:
        status: ClockStatus = "met" if stopped <= due else "breached"
        return Clock(name, label, kind, basis, start, due, stopped, status, (due - stopped).days)
    remaining = (due - today).days
    return Clock(
        name, label, kind, basis, start, due, None, "running" if remaining >= 0 else "breached", remaining
    )


def _calendar_period(
    name: str, label: str, basis: str, start: date | None, end: date | None, today: date
) -> Clock:
    """A period that simply runs out (a condition period, a charge, a window): it cannot be breached."""
    if start is None or end is None:
        return _not_started(name, label, "condition", basis)
    if today > end:
        return Clock(name, label, "condition", basis, start, end, end, "met", 0)
    return Clock(name, label, "condition", basis, start, end, None, "running", (end - today).days)


def _days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += _ONE_DAY


def days_on_hold(holds: Sequence[Hold], start: date, end: date) -> frozenset[date]:
    """The days on hold after ``start`` up to and including ``end``: the days a service clock (or a
    working-day interval) from ``start`` to ``end`` does not count."""
    return frozenset(
        d for hold in holds for d in _days(max(hold.start, start + _ONE_DAY), min(hold.last_day(end), end))
    )


def working_days_on_hold(holds: Sequence[Hold], start: date, end: date, calendar: WorkingCalendar) -> int:
    """How many of the days on hold after ``start`` up to ``end`` are working days."""
    return sum(1 for d in days_on_hold(holds, start, end) if calendar.is_working_day(d))


def _service_clock(
    name: str,
    label: str,
    basis: str,
    start: date | None,
    target: int,
    stopped: date | None,
    today: date,
    holds: Sequence[Hold],
    calendar: WorkingCalendar,
) -> Clock:
    """A working-day target from ``start``; days on hold within its span do not count."""
    if start is None:
        return _not_started(name, label, "service", basis)
    span_end = stopped or today
    held = days_on_hold(holds, start, span_end)
    # Held days become non-working days for this clock, so the due date moves back by exactly the
    # working days on hold before it, and a hold after the due date cannot undo a breach.
    counting = calendar.with_closures(held) if held else calendar
    due = counting.add_working_days(start, target)
    paused = sum(1 for d in held if calendar.is_working_day(d))
    if stopped is not None:
        status: ClockStatus = "met" if stopped <= due else "breached"
        remaining = counting.working_days_between(stopped, due)
        return Clock(name, label, "service", basis, start, due, stopped, status, remaining, paused)
    remaining = counting.working_days_between(today, due)
    on_hold = any(hold.start <= today <= hold.last_day(today) for hold in holds)
    status = "breached" if today > due else "paused" if on_hold else "running"
    return Clock(name, label, "service", basis, start, due, None, status, remaining, paused)


def _earliest(*dates: date | None, not_before: date | None) -> date | None:
    """The earliest of ``dates`` on or after ``not_before`` (a clock cannot stop before it starts)."""
    if not_before is None:
        return None
    candidates = [d for d in dates if d is not None and d >= not_before]
    return min(candidates) if candidates else None


def decision_due(valid_application_date: date, policy: ClockPolicy | None = None) -> date:
    """The last day for the written decision: the valid application date + 6 months (s.34)."""
    policy = policy or default_clock_policy()
    return policy.period("decision_due", valid_application_date).after(valid_application_date)


def review_window_end(decided_on: date, policy: ClockPolicy | None = None) -> date:
    """The last day to ask for a review of a decision made on ``decided_on``: the review window runs from
    the decision, which is the date its letter carries. The one computation behind the letters' "ask by"
    date, the ``review_window_open``/``closed`` guards and the review window clock, so they cannot
    disagree."""
    policy = policy or default_clock_policy()
    return policy.period("review_window", decided_on).after(decided_on)


def deferred_payment_limit(valid_application_date: date, policy: ClockPolicy | None = None) -> date:
    """The latest date an approval may defer payment to: the application date + 12 months (s.36)."""
    policy = policy or default_clock_policy()
    return policy.period("deferred_payment_limit", valid_application_date).after(valid_application_date)


def deferred_payment_allowed(
    valid_application_date: date, deferred_date: date, policy: ClockPolicy | None = None
) -> bool:
    """Whether an approval may defer payment to ``deferred_date`` (on or before the s.36 limit)."""
    return deferred_date <= deferred_payment_limit(valid_application_date, policy)


def completion_due(
    approval_date: date, extensions: Sequence[CompletionExtension] = (), policy: ClockPolicy | None = None
) -> date:
    """The date the works must be complete by: approval + 12 months (s.37), then each extension in turn.

    An extension by months moves the current due date on by that many calendar months (clamped at
    month end); an extension to a new date replaces it. Raises :class:`InvalidInput` if an
    extension's new date is not later than the due date it extends.
    """
    policy = policy or default_clock_policy()
    due = policy.period("completion_due", approval_date).after(approval_date)
    for extension in extensions:
        if extension.months is not None:
            due = add_calendar_months(due, extension.months)
        elif extension.new_date is not None:
            if extension.new_date <= due:
                raise InvalidInput(
                    f"completion extension to {extension.new_date}: not later than the due date {due}"
                )
            due = extension.new_date
    return due


@dataclass(frozen=True)
class HoldPause:
    """One hold and the working days it has paused the service clocks (to today if still open)."""

    hold: Hold
    working_days: int


def pause_ledger(holds: Sequence[Hold], calendar: WorkingCalendar, today: date) -> list[HoldPause]:
    """Each hold with its working days on hold, both its first and last day included.

    An open hold counts up to and including ``today``; a hold starting after ``today`` counts 0.
    A service clock counts only the part of a hold that falls within its own span.
    """
    ledger = []
    for hold in sorted(holds, key=lambda h: h.start):
        last = min(hold.last_day(today), today)
        days = calendar.working_days_between(hold.start - _ONE_DAY, last) if last >= hold.start else 0
        ledger.append(HoldPause(hold, days))
    return ledger


def case_clocks(
    timeline: CaseTimeline,
    today: date,
    *,
    calendar: WorkingCalendar | None = None,
    policy: ClockPolicy | None = None,
) -> list[Clock]:
    """Every clock of the case as it stands on ``today``, in a fixed order.

    ``calendar`` should be the case's district calendar (default: council-wide closures only);
    ``policy`` defaults to ``workflows/policy/targets.toml``. A clock that can no longer apply is left
    out: completion, grant condition and land charge clocks after a refusal; the land charge where
    ``land_charge_applies`` is False; the deferred-payment limit unless a deferred payment date is
    recorded; a stage target the council has not set. Closing the case stops the decision,
    completion and service clocks; the condition periods and the review window run on.
    """
    t = timeline
    policy = policy or default_clock_policy()
    calendar = calendar or default_calendar_policy().for_district(None)
    application = t.valid_application_date
    approved_on = t.approved_on
    decided_on = t.decided_on
    certified = t.certified_date

    def deadline(
        name: str,
        label: str,
        kind: ClockKind,
        start: date | None,
        stops: list[date | None],
        due: date | None = None,
    ) -> Clock:
        # A statutory or condition deadline: the period (named as the clock) in force on its start date.
        version = policy.period(name, start or today)
        if start is None:
            return _not_started(name, label, kind, version.basis)
        stopped = _earliest(*stops, not_before=start)
        return _calendar_deadline(
            name, label, kind, version.basis, start, due or version.after(start), stopped, today
        )

    def runs_out(name: str, label: str, period: str, start: date | None) -> Clock:
        version = policy.period(period, start or today)
        end = version.after(start) if start is not None else None
        return _calendar_period(name, label, version.basis, start, end, today)

    clocks = [
        # s.34: the council must *notify* the decision within the period, so its notice stops the clock.
        deadline("decision_due", "Decision due", "statutory", application, [t.notified_on, t.closed_date]),
    ]
    if application is not None and t.deferred_payment_date is not None:
        # s.36 is a limit on the date the approval names, not a countdown: checked once it is named.
        clocks.append(
            deadline(
                "deferred_payment_limit",
                "Deferred payment limit",
                "statutory",
                application,
                [t.deferred_payment_date],
            )
        )
    if t.decision != "refused":
        due = completion_due(approved_on, t.completion_extensions, policy) if approved_on else None
        clocks.append(
            deadline(
                "completion_due",
                "Works completion due",
                "condition",
                approved_on,
                [t.works_completed_on, t.closed_date],
                due,
            )
        )
        clocks.append(
            runs_out(
                "grant_condition_period_end",
                "Grant condition period ends",
                "grant_condition_period",
                certified,
            )
        )
        if t.land_charge_applies:
            clocks.append(
                runs_out("land_charge_expiry", "Land charge expires", "land_charge_period", certified)
            )
    # Only a refusal can be reviewed: an approval opens no review window.
    refused_on = decided_on if t.decision == "refused" else None
    window = policy.period("review_window", refused_on or today)
    clocks.append(
        _calendar_period(
            "review_window",
            "Review window closes",
            window.basis,
            refused_on,
            review_window_end(refused_on, policy) if refused_on else None,
            today,
        )
    )

    # Service targets: a case keeps the targets in force on its first contact.
    first_contact = t.first_contact or t.stage_entered(0)
    targets = policy.service_targets(first_contact or today)
    by_priority = targets.by_priority[t.priority]
    clocks.append(
        _service_clock(
            "end_to_end_target",
            "End-to-end target",
            targets.basis,
            first_contact,
            by_priority.end_to_end,
            _earliest(t.works_completed_on, t.closed_date, not_before=first_contact),
            today,
            t.holds,
            calendar,
        )
    )
    for stage, target in sorted(by_priority.stages.items()):
        start = t.stage_entered(stage)
        # A stage ends when a later stage begins; a decision also ends stage 3, completion stage 4.
        ends = [t.stage_entered(later) for later in STAGES if later > stage]
        ends += [decided_on if stage == 3 else None, t.works_completed_on if stage == 4 else None]
        clocks.append(
            _service_clock(
                f"stage_{stage}_target",
                f"Stage {stage} target ({STAGES[stage]})",
                targets.basis,
                start,
                target,
                _earliest(*ends, t.closed_date, not_before=start),
                today,
                t.holds,
                calendar,
            )
        )
    return clocks


# --- Loading targets.toml ---------------------------------------------------------------------------


def clock_policy_path() -> Path:
    """Where the periods and service targets live: ``workflows/policy/targets.toml``."""
    return workflows_dir() / "policy" / "targets.toml"


#: Ceiling for any length in targets.toml: catches a slip of the keyboard, not a policy choice.
_LONGEST = 10_000


def _effective_from(section: TomlSection) -> date:
    day = section.day("from")
    assert day is not None  # day() without optional=True raises rather than return None
    return day


def _confirm(section: TomlSection) -> bool:
    return section.boolean("confirm") if "confirm" in section.data else False


def _read_period(section: TomlSection) -> Period:
    section.only(("from", "days", "months", "years", "basis", "source", "note", "confirm"))
    units: list[PeriodUnit] = [u for u in ("days", "months", "years") if u in section.data]
    if len(units) != 1:
        # Name the key that is one too many, or where the missing length belongs.
        raise section.error(units[1] if units else "months", "give exactly one of days, months or years")
    unit = units[0]
    return Period(
        amount=section.integer(unit, low=1, high=_LONGEST),
        unit=unit,
        effective_from=_effective_from(section),
        basis=section.text("basis"),
        source=section.text("source", default=""),
        note=section.text("note", default=""),
        confirm=_confirm(section),
    )


def _read_service(section: TomlSection) -> ServiceTargetVersion:
    section.only(("from", "basis", "source", "note", "confirm", *PRIORITIES))
    by_priority: dict[Priority, ServiceTargets] = {}
    for priority in PRIORITIES:
        targets = section.section(priority)
        targets.only(("end_to_end", "stages"))
        stages: dict[int, int] = {}
        if "stages" in targets.data:
            table = targets.section("stages")
            table.only(str(stage) for stage in STAGES)
            stages = {int(key): table.integer(key, low=1, high=_LONGEST) for key in table.data}
        by_priority[priority] = ServiceTargets(
            end_to_end=targets.integer("end_to_end", low=1, high=_LONGEST), stages=stages
        )
    return ServiceTargetVersion(
        effective_from=_effective_from(section),
        basis=section.text("basis"),
        by_priority=by_priority,
        source=section.text("source", default=""),
        note=section.text("note", default=""),
        confirm=_confirm(section),
    )


def _in_date_order(versions: list[_Version], where: TomlSection, key: str) -> tuple[_Version, ...]:
    dates = [v.effective_from for v in versions]
    for day in dates:
        if dates.count(day) > 1:
            raise where.error(key, f"two versions take effect on {day}")
    return tuple(sorted(versions, key=lambda v: v.effective_from))


def load_clock_policy(path: Path | None = None) -> ClockPolicy:
    """Load and validate the periods and service targets (default ``workflows/policy/targets.toml``).

    Raises :class:`ConfigurationError` naming the file and key for a missing period, an unknown key,
    a length that is not a whole number of 1 or more, a date that does not parse, or two versions of
    one value taking effect on the same date.
    """
    path = path or clock_policy_path()
    top = TomlSection(read_toml(path), str(path))
    top.only(("period", "service"))
    period_table = top.section("period")
    period_table.only(PERIOD_NAMES)
    periods = {
        name: _in_date_order([_read_period(v) for v in period_table.sections(name)], period_table, name)
        for name in PERIOD_NAMES
    }
    service = _in_date_order([_read_service(v) for v in top.sections("service")], top, "service")
    return ClockPolicy(periods=MappingProxyType(periods), service=service)


@cache
def default_clock_policy() -> ClockPolicy:
    """The periods and targets from ``workflows/policy/targets.toml``, loaded once per process."""
    return load_clock_policy()


#: The periods the law sets: a district's own targets file may not change them.
STATUTORY_PERIODS: tuple[str, ...] = ("decision_due", "deferred_payment_limit")


@cache
def _clock_policy_at(path: Path) -> ClockPolicy:
    return load_clock_policy(path)


def clock_policy_file(district: str | None) -> Path:
    """The targets file a district's clocks use: its ``targets-<CODE>.toml``, else ``targets.toml``."""
    return district_file(clock_policy_path().parent, "targets", district)


def clock_policy_for(district: str | None) -> ClockPolicy:
    """The periods and targets for ``district`` (its own file if it has one), loaded once per process.

    ``clock_policy_for(None)`` is the installation's default, as :func:`default_clock_policy`."""
    path = clock_policy_file(district)
    if path == clock_policy_path():
        return default_clock_policy()
    return _clock_policy_at(path)
