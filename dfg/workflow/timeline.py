"""A case's timeline for its clocks, rebuilt from its own history: the event log and the milestone columns.

No timer runs anywhere. Every time someone asks, the case's :class:`~dfg.rules.clocks.CaseTimeline` is
rebuilt from what was recorded, and :func:`~dfg.rules.clocks.case_clocks` works out each deadline and
target as it stands that day:

- **Milestones** (valid application, approval or refusal, works completed, certified, closed) come from
  the case's columns, which every transition keeps current (a reopen clears ``closed_date``).
- **Stage entries** come from the transitions: a transition into a state of another stage enters that
  stage on its ``effective_date`` (the date the step happened, which an officer may set earlier than the
  moment it was recorded). A stage entered twice (after a reopen) counts from its latest entry.
- **Holds** come from the ``hold`` transitions and whatever ended them: a ``resume``, or a transition
  into a terminal state (withdrawal, cancellation). A hold's first day is the effective date of the
  ``hold``; its last day is the day *before* the case was resumed, because work restarts on the day of
  the resume. A hold resumed on the day it began paused no whole day: it stays in the ledger with 0
  working days. Holds pause service targets only, never statutory or condition clocks.
- **The notice of the decision** is the original of a letter the deciding step (``approve``, ``refuse``:
  the triggers that stop ``decision_due``) asked for, from its ``letter_produced`` event: s.34 has the
  council *notify* the applicant within six months, so the decision clock stops on the day the notice was
  produced, not on the decision's date. Until it is, the clock runs on; a step that asks for no letter
  is its own notice.
- **A case brought in from another system** (:data:`MIGRATED`) entered its stages on the days its
  payload gives, worked out from the dates that system kept.
- **Completion extensions** are events of kind :data:`COMPLETION_EXTENDED` whose payload gives either
  ``months`` or ``new_date``, with the reason in the event's ``reason``.

Which step starts a stage or a hold is the workflow definition's to say, so the timeline lives in the
workflow, below both ``dfg case clocks`` (:mod:`dfg.services.clocks`) and the reports: both build it with
:func:`histories_for` (one query per batch), so they can never disagree about a deadline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, bindparam, select

from dfg.errors import InvalidInput
from dfg.rules.clock import local_day
from dfg.rules.clocks import CaseTimeline, CompletionExtension, Decision, Hold, Priority
from dfg.rules.jurisdiction import land_charge_in
from dfg.rules.rates import repayable_on_disposal
from dfg.store.models import CASES, EVENTS
from dfg.store.personal import reason_digest, values_of
from dfg.workflow.definition import Definition, definition_for

#: The kind of event that extends the 12-month completion period (payload ``months`` or ``new_date``).
COMPLETION_EXTENDED = "completion_extended"

#: The event recorded in the case's audit chain for every letter in the register, with its SHA-256 (the
#: letter services write it); a decision's notice stops the decision clock, so the timeline reads it.
LETTER_PRODUCED = "letter_produced"

#: The event that brings a case opened from another system's record to the state it stands in there. The
#: clocks and the audit check read it as a transition's: its ``to_state``, the milestone dates in its
#: payload by their column names, and the day each stage was entered (``stage_entries``).
MIGRATED = "migrated"

#: The kinds of event a timeline is built from; other events (assignments, breaches) never move a clock.
TIMELINE_EVENT_KINDS = ("case_opened", "transition", MIGRATED, COMPLETION_EXTENDED, LETTER_PRODUCED)

#: The case columns a timeline needs, for callers that read cases in bulk.
CASE_COLUMNS = (
    CASES.c.id,
    CASES.c.reference,
    CASES.c.district_code,
    CASES.c.state,
    CASES.c.workflow_version,
    CASES.c.priority,
    CASES.c.tenure,
    CASES.c.assigned_to,
    CASES.c.hold_since,
    CASES.c.hold_review_date,
    CASES.c.first_contact_date,
    CASES.c.assessment_date,
    CASES.c.valid_application_date,
    CASES.c.approval_date,
    CASES.c.refusal_date,
    CASES.c.works_completed_date,
    CASES.c.certified_date,
    CASES.c.closed_date,
    CASES.c.approved_grant_pence,
    CASES.c.version,
    CASES.c.audit_seq,
    CASES.c.audit_head,
)

_EVENT_COLUMNS = (
    EVENTS.c.case_id,
    EVENTS.c.seq,
    EVENTS.c.kind,
    EVENTS.c.trigger,
    EVENTS.c.from_state,
    EVENTS.c.to_state,
    EVENTS.c.reason,
    EVENTS.c.code,
    EVENTS.c.payload,
    EVENTS.c.occurred_at,
    EVENTS.c.actor,
    EVENTS.c.workflow_version,
)

_ONE_DAY = timedelta(days=1)


# ---------------------------------------------------------------------- from the log to a timeline


@dataclass(frozen=True)
class HoldSpell:
    """One time the case was put on hold, as recorded: the pause ledger shows one line per spell."""

    start: date
    #: The effective date of the resume (or closing transition) that ended it; None while on hold.
    resumed_on: date | None
    review_date: date | None
    code: str | None
    reason: str | None
    placed_by: str
    #: The trigger that ended it: ``resume``, ``withdraw``, ``cancel``...; None while on hold.
    ended_by: str | None = None

    @property
    def last_day(self) -> date | None:
        """The last whole day on hold: the day before the resume (None while the hold is open)."""
        return None if self.resumed_on is None else self.resumed_on - _ONE_DAY

    @property
    def is_open(self) -> bool:
        return self.resumed_on is None


@dataclass(frozen=True)
class CaseHistory:
    """A case's timeline for the clocks, and the hold spells behind its holds."""

    timeline: CaseTimeline
    spells: tuple[HoldSpell, ...]


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return cast(dict[str, Any], json.loads(value or "{}"))


def _effective_date(event: Mapping[Any, Any], payload: Mapping[Any, Any]) -> date:
    recorded = payload.get("effective_date")
    if isinstance(recorded, str):
        return date.fromisoformat(recorded)
    occurred: datetime = event["occurred_at"]
    return local_day(occurred)


def _merged_holds(spells: Sequence[HoldSpell]) -> tuple[Hold, ...]:
    """The days on hold as non-overlapping spells: a backdated hold may overlap an earlier one."""
    spans: list[tuple[date, date]] = []
    for spell in spells:
        last = spell.last_day if spell.last_day is not None else date.max
        if last >= spell.start:  # a hold resumed the day it began paused no whole day
            spans.append((spell.start, last))
    merged: list[list[date]] = []
    for start, last in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([start, last])
    return tuple(Hold(start, None if last == date.max else last) for start, last in merged)


def _land_charge_applies(case: Mapping[Any, Any]) -> bool:
    approved_on: date | None = case["approval_date"]
    grant: int | None = case["approved_grant_pence"]
    if approved_on is None or grant is None:
        return True  # not known yet: the clock only starts at the certified date anyway
    try:
        terms = land_charge_in(case["district_code"], approved_on)
    except InvalidInput:
        return False  # approved before the 2008 consent: no land charge under it
    return case["tenure"] in terms.tenures and repayable_on_disposal(grant, approved_on, terms=terms) > 0


def history_from_log(case: Mapping[Any, Any], events: Iterable[Mapping[Any, Any]]) -> CaseHistory:
    """Build a case's timeline from its row (:data:`CASE_COLUMNS`) and its events in ``seq`` order.

    ``events`` are rows of the ``events`` table (kinds in :data:`TIMELINE_EVENT_KINDS`; others are
    ignored); ``payload`` may be the stored JSON text or already parsed.
    """
    stage_entries: dict[int, date] = {}
    spells: list[HoldSpell] = []
    extensions: list[CompletionExtension] = []
    definitions: dict[str, Definition] = {}
    # The steps that recorded a decision, by the milestone they recorded: (seq, the letters asked for).
    deciding: dict[str, tuple[int, tuple[str, ...]]] = {}
    # The day each original letter was produced, by (step seq, kind).
    produced: dict[tuple[int, str], date] = {}

    def definition(key: str | None) -> Definition:
        key = key or case["workflow_version"]
        if key not in definitions:
            definitions[key] = definition_for(key)
        return definitions[key]

    for event in events:
        kind = event["kind"]
        if kind not in TIMELINE_EVENT_KINDS:
            continue
        payload = _payload(event["payload"])
        if kind == LETTER_PRODUCED:
            if "copy_of" not in payload and isinstance(payload.get("step"), int):
                day = payload.get("produced_on")
                on_day = date.fromisoformat(day) if isinstance(day, str) else local_day(event["occurred_at"])
                produced.setdefault((payload["step"], str(payload.get("kind"))), on_day)
            continue
        if kind == COMPLETION_EXTENDED:
            new_date = payload.get("new_date")
            extensions.append(
                CompletionExtension(
                    reason=event["reason"] or "",
                    months=payload.get("months"),
                    new_date=date.fromisoformat(new_date) if isinstance(new_date, str) else None,
                )
            )
            continue
        if kind == MIGRATED:  # the stages it passed through elsewhere, on the days that system kept
            stage_entries.update({int(k): date.fromisoformat(v) for k, v in payload["stage_entries"].items()})
            continue
        flow = definition(event["workflow_version"])
        source = flow.states.get(event["from_state"] or "")
        dest = flow.states.get(event["to_state"] or "")
        # The first stage runs from first contact, which may be days before the case was keyed in.
        on = case["first_contact_date"] if kind == "case_opened" else _effective_date(event, payload)
        trigger = flow.triggers.get(event["trigger"] or "")
        if trigger is not None and trigger.records and "decision_due" in trigger.clocks_stop:
            deciding[trigger.records] = (event["seq"], tuple(payload.get("letters", ())))
        if trigger is not None and trigger.hold == "start":
            spells.append(
                HoldSpell(
                    start=on,
                    resumed_on=None,
                    review_date=(
                        date.fromisoformat(payload["hold_review_date"])
                        if payload.get("hold_review_date")
                        else None
                    ),
                    code=event["code"],
                    reason=event["reason"],
                    placed_by=event["actor"],
                )
            )
        elif (
            spells
            and spells[-1].is_open
            and ((trigger is not None and trigger.hold == "end") or (dest is not None and dest.terminal))
        ):
            ended = spells[-1]
            # A resume dated before its hold (both backdated) ends it the day it began.
            spells[-1] = HoldSpell(
                ended.start,
                max(on, ended.start),
                ended.review_date,
                ended.code,
                ended.reason,
                ended.placed_by,
                event["trigger"],
            )
        if dest is not None and dest.stage is not None and (source is None or source.stage != dest.stage):
            stage_entries[dest.stage] = on  # a later entry (after a reopen) replaces an earlier one

    approval: date | None = case["approval_date"]
    refusal: date | None = case["refusal_date"]
    # A refusal overturned on review and then approved is an approval; but the statutory decision was the
    # refusal, made first, so the decision clock and the review window run from it.
    decision: Decision | None = "approved" if approval else "refused" if refusal else None
    step, letters = deciding.get("refusal_date" if refusal else "approval_date", (0, ()))
    notices = sorted(produced[step, k] for k in letters if (step, k) in produced)
    timeline = CaseTimeline(
        priority=cast(Priority, case["priority"]),
        first_contact=case["first_contact_date"],
        assessment_date=case["assessment_date"],
        valid_application_date=case["valid_application_date"],
        decision=decision,
        decision_date=refusal or approval,
        approval_date=approval,
        decision_notice=notices[0] if notices else None,
        notice_outstanding=decision is not None and bool(letters) and not notices,
        completion_extensions=extensions,
        works_completed_date=case["works_completed_date"],
        certified_date=case["certified_date"],
        closed_date=case["closed_date"],
        land_charge_applies=_land_charge_applies(case),
        stage_entries=stage_entries,
        holds=_merged_holds(spells),
    )
    return CaseHistory(timeline, tuple(spells))


_SELECT_EVENTS = (
    select(*_EVENT_COLUMNS)
    .where(
        EVENTS.c.case_id.in_(bindparam("case_ids", expanding=True)),
        EVENTS.c.kind.in_(TIMELINE_EVENT_KINDS),
    )
    .order_by(EVENTS.c.case_id, EVENTS.c.seq)
)


def histories_for(connection: Connection, cases: Sequence[Mapping[Any, Any]]) -> dict[int, CaseHistory]:
    """The history of each case in ``cases`` (rows with :data:`CASE_COLUMNS`), keyed by case id.

    One query for the lot: callers pass batches of a few hundred cases.
    """
    if not cases:
        return {}
    by_case: dict[int, list[Mapping[Any, Any]]] = {int(c["id"]): [] for c in cases}
    events = connection.execute(_SELECT_EVENTS, {"case_ids": list(by_case)}).mappings().all()
    # A hold's or an extension's reason is sealed personal text: fetch only the ones these events name.
    kept = values_of(connection, (d for e in events if (d := reason_digest(e["reason"])) is not None))
    for event in events:
        opened: Mapping[Any, Any] = event
        if reason_digest(event["reason"]) is not None:
            opened = {**event, "reason": kept.reason(event["reason"])}
        by_case[event["case_id"]].append(opened)
    return {int(c["id"]): history_from_log(c, by_case[int(c["id"])]) for c in cases}
