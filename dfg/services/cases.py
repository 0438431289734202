"""Cases: a case's facts as the workflow decides on them; moving a case through the workflow; recording a
change that is not a step, with its event; and what may be done next.

Opening a case is in :mod:`dfg.services.case_opening`, reading and listing cases in
:mod:`dfg.services.case_reading`, and a case's history in :mod:`dfg.services.case_history`; they all
use :func:`normalise_reference`, :func:`read_case` and :func:`record_change` from here.

Advancing a case is the hot path (an officer's most common action, and every import and batch job), so
it runs on SQLAlchemy Core rather than the ORM: read the case in a short read transaction, decide with
the workflow engine, then write the change and its event in one version-checked write transaction.
Reading outside the write lock is what makes two officers racing on one case see a clear conflict
rather than the second silently acting on a state they never saw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy.orm import Session

from dfg.errors import Conflict, GuardFailed, InvalidInput, NotFound, OutsideDistrict
from dfg.rules.clock import local_day, utcnow
from dfg.rules.grant import land_charged_lines_pence
from dfg.rules.payments import CEASED_EVENT_KINDS, entitlement_from
from dfg.services.people import full_name
from dfg.store.audit import NewEvent, append_to_case, claim_case
from dfg.store.database import Database
from dfg.store.personal import reason_digest, values_of
from dfg.store.prepared import DriverConnection, Prepared
from dfg.store.tables import (
    APPOINTMENTS,
    APPROVALS,
    ASSESSMENTS,
    CASES,
    DETERMINATIONS,
    ESTIMATE_DECISIONS,
    ESTIMATES,
    EVENTS,
    FEASIBILITY_FINDINGS,
    GRANT_CALCULATIONS,
    INVOICES,
    LAND_CHARGES,
    LANDLORD_DECISIONS,
    PAYMENTS,
    PEOPLE,
    REPAYMENT_DECISIONS,
    VISIT_CANCELLATIONS,
)
from dfg.workflow import engine
from dfg.workflow.actor import Actor
from dfg.workflow.definition import (
    AMOUNTS,
    MILESTONES,
    NEEDS,
    PREVIOUS,
    Definition,
    Trigger,
    definition_for,
)
from dfg.workflow.facts import CaseFacts, PersonFacts
from dfg.workflow.guards import TriggerInput

_cases = CASES
_people = PEOPLE

_FACT_COLUMNS = (
    _cases.c.id, _cases.c.reference, _cases.c.district_code, _cases.c.state, _cases.c.workflow_version,
    _cases.c.tenure,
    _cases.c.version, _cases.c.priority, _cases.c.hold_since, _cases.c.assigned_to, _cases.c.audit_seq,
    _cases.c.audit_head, *(_cases.c[m] for m in MILESTONES), *(_cases.c[f"{a}_pence"] for a in AMOUNTS),
)  # fmt: skip


# ---------------------------------------------------------------------- reading a case's facts


# One query for the case and its people (guards often ask about the applicant): a round trip saved on
# the hot path.
_SELECT_FACTS = (
    select(
        *_FACT_COLUMNS,
        _people.c.id.label("person_id"),
        _people.c.title,
        _people.c.given_name,
        _people.c.family_name,
        _people.c.date_of_birth,
        _people.c.is_applicant,
        _people.c.is_disabled_occupant,
        _people.c.is_relevant_person,
    )
    .outerjoin(_people, _people.c.case_id == _cases.c.id)
    .where(_cases.c.reference == bindparam("reference"))
    .order_by(_people.c.id)
)
# run on the driver's cursor: SQLAlchemy's execution costs several times the query itself here
_PREPARED_FACTS = Prepared(_SELECT_FACTS)


def _person(r: Any) -> PersonFacts:
    return PersonFacts(
        person_id=r.person_id,
        full_name=full_name(r),
        date_of_birth=r.date_of_birth,
        is_applicant=r.is_applicant,
        is_disabled_occupant=r.is_disabled_occupant,
        is_relevant_person=r.is_relevant_person,
    )


_COUNT_RECORDS = select(
    *(
        select(func.count())
        .select_from(table)
        .where(table.c.case_id == bindparam("case_id"))
        .scalar_subquery()
        .label(name)
        for name, table in (
            ("appointments", APPOINTMENTS),
            ("visit_cancellations", VISIT_CANCELLATIONS),
            ("assessments", ASSESSMENTS),
            ("feasibility_findings", FEASIBILITY_FINDINGS),
            ("determinations", DETERMINATIONS),
            ("approvals", APPROVALS),
            ("payments", PAYMENTS),
            ("invoices", INVOICES),
            ("land_charges", LAND_CHARGES),
            ("repayment_decisions", REPAYMENT_DECISIONS),
        )
    )
)


_LATEST_CALCULATION = (
    select(
        GRANT_CALCULATIONS.c.id,
        GRANT_CALCULATIONS.c.determination_id,
        GRANT_CALCULATIONS.c.grant_pence,
        GRANT_CALCULATIONS.c.total_assistance_pence,
        GRANT_CALCULATIONS.c.works_pence,
        GRANT_CALCULATIONS.c.result,
    )
    .where(GRANT_CALCULATIONS.c.case_id == bindparam("case_id"))
    .order_by(GRANT_CALCULATIONS.c.id.desc())
    .limit(1)
)
_LATEST_DETERMINATION = (
    select(DETERMINATIONS.c.id, DETERMINATIONS.c.rates_version)
    .where(DETERMINATIONS.c.case_id == bindparam("case_id"))
    .order_by(DETERMINATIONS.c.id.desc())
    .limit(1)
)

_LATEST_LANDLORD_DECISION = (
    select(LANDLORD_DECISIONS.c.id)
    .where(LANDLORD_DECISIONS.c.case_id == bindparam("case_id"))
    .order_by(LANDLORD_DECISIONS.c.id.desc())
    .limit(1)
)


_ESTIMATE_CONTRACTORS = select(ESTIMATES.c.contractor_id).where(ESTIMATES.c.case_id == bindparam("case_id"))
_ESTIMATE_DECISIONS = (
    select(ESTIMATE_DECISIONS.c.kind, ESTIMATE_DECISIONS.c.eligible_works_pence)
    .where(ESTIMATE_DECISIONS.c.case_id == bindparam("case_id"))
    .order_by(ESTIMATE_DECISIONS.c.id)
)
_LATEST_APPROVAL = (
    select(
        APPROVALS.c.id,
        APPROVALS.c.version,
        APPROVALS.c.decided_on,
        APPROVALS.c.grant_pence,
        APPROVALS.c.contribution_pence,
        APPROVALS.c.total_assistance_pence,
        APPROVALS.c.deferred_payment_date,
        GRANT_CALCULATIONS.c.result.label("calculation_result"),
    )
    .join(GRANT_CALCULATIONS, GRANT_CALCULATIONS.c.id == APPROVALS.c.grant_calculation_id)
    .where(APPROVALS.c.case_id == bindparam("case_id"))
    .order_by(APPROVALS.c.version.desc())
    .limit(1)
)
#: Events that record facts guards ask about (not workflow steps).
CASE_FACT_EVENTS = ("completion_checked", "contribution_collected", *CEASED_EVENT_KINDS)
_FACT_EVENTS = (
    select(EVENTS.c.kind, EVENTS.c.payload)
    # equalities, not IN: an IN list is expanded per execution, and this statement is prepared once
    .where(EVENTS.c.case_id == bindparam("case_id"), or_(*(EVENTS.c.kind == k for k in CASE_FACT_EVENTS)))
    .order_by(EVENTS.c.seq)
)


# the guards' records are read on the driver's cursor too, so a step can decide inside a driver transaction
_PREPARED_RECORDS = {
    name: Prepared(statement)
    for name, statement in (
        ("counts", _COUNT_RECORDS),
        ("determination", _LATEST_DETERMINATION),
        ("calculation", _LATEST_CALCULATION),
        ("landlord_decision", _LATEST_LANDLORD_DECISION),
        ("contractors", _ESTIMATE_CONTRACTORS),
        ("decisions", _ESTIMATE_DECISIONS),
        ("approval", _LATEST_APPROVAL),
        ("events", _FACT_EVENTS),
    )
}


def _records_loader(connection: DriverConnection, case_id: int, tenure: str) -> Any:
    """The case's decision records, as far as guards need them: counts, the determination in force, the
    latest grant calculation, the estimates, the approval in force, completion checks and the
    contribution collected."""

    def load() -> dict[str, Any]:
        params = {"case_id": case_id}

        def rows(name: str) -> list[Any]:
            return _PREPARED_RECORDS[name].rows(connection, params)

        found: dict[str, Any] = rows("counts")[0]._asdict()
        found["tenure"] = tenure
        determination = rows("determination")
        found["latest_determination"] = determination[0].id if determination else None
        found["determination_rates_version"] = determination[0].rates_version if determination else None
        landlord = rows("landlord_decision")
        found["landlord_decision"] = landlord[0].id if landlord else None
        calculations = rows("calculation")
        row = calculations[0] if calculations else None
        figures = json.loads(row.result) if row is not None else {}
        found["calculation"] = (
            None
            if row is None
            else {
                "id": row.id,
                "determination_id": row.determination_id,
                "grant_pence": row.grant_pence,
                "total_assistance_pence": row.total_assistance_pence,
                "works_pence": row.works_pence,
                "maximum_grant_version": figures["maximum_grant_version"],
                "landlord_decision": figures.get("landlord_decision"),
            }
        )
        found["estimate_contractors"] = [r.contractor_id for r in rows("contractors")]
        decisions = rows("decisions")
        found["estimates_waived"] = any(d.kind == "waiver" for d in decisions)
        selections = [d for d in decisions if d.kind == "selection"]
        found["eligible_works_pence"] = selections[-1].eligible_works_pence if selections else None
        approvals = rows("approval")
        found["approval"] = None
        if approvals:
            approval = approvals[0]._asdict()
            figures = json.loads(approval.pop("calculation_result"))
            found["approval"] = {**approval, "charged_lines_pence": land_charged_lines_pence(figures)}
        checks: dict[str, bool] = {}
        collected = 0
        ceasing: list[tuple[str, dict[str, Any]]] = []
        for event in rows("events"):
            said = json.loads(event.payload)
            if event.kind == "completion_checked":
                checks[said["check"]] = bool(said["passed"])  # the latest of each check counts
            elif event.kind == "contribution_collected":
                collected += int(said["amount_pence"])
            else:
                ceasing.append((event.kind, said))
        ceased, limit = entitlement_from(ceasing)
        found["completion_checks"] = checks
        found["contribution_collected_pence"] = collected
        found["entitlement_stopped"] = ceased and limit is None  # no decision yet on what to pay
        return found

    return load


def _facts(connection: DriverConnection, read: tuple[Any, list[PersonFacts]]) -> CaseFacts:
    row, people = read
    return CaseFacts(
        case_id=row.id,
        reference=row.reference,
        district=row.district_code,
        state=row.state,
        workflow_version=row.workflow_version,
        version=row.version,
        priority=row.priority,
        hold_since=row.hold_since,
        milestones={m: getattr(row, m) for m in MILESTONES},
        amounts={a: getattr(row, f"{a}_pence") for a in AMOUNTS},
        assigned_to=row.assigned_to,
        load_people=lambda: people,
        load_records=_records_loader(connection, row.id, row.tenure),
    )


def check_version(reference: str, version: int, expected: int | None) -> None:
    """Conflict if the case is no longer the version the person acting saw (None: not asked)."""
    if expected is not None and version != expected:
        raise Conflict(
            f"someone else changed {reference} after you opened it: look at the case again "
            "(what you entered is kept below)"
        )


def check_district(actor: Actor, reference: str, district: str) -> None:
    if not actor.may_act_in(district):
        raise OutsideDistrict(
            f"{actor.username} works for district {actor.district}; {reference} is in {district}",
            reference=reference,
        )


def read_case(
    connection: DriverConnection | Session, reference: str, actor: Actor
) -> tuple[Any, list[PersonFacts]]:
    """The case's row (its facts columns, as a named tuple) and its people; NotFound, or PermissionDenied
    for another district."""
    if isinstance(connection, Session):
        connection = connection.connection()
    rows = _PREPARED_FACTS.rows(connection, {"reference": reference})
    if not rows:
        raise NotFound(f"no case {reference}")
    check_district(actor, reference, rows[0].district_code)
    return rows[0], [_person(r) for r in rows if r.person_id is not None]


def read_facts(connection: DriverConnection, reference: str, actor: Actor) -> CaseFacts:
    """The case's facts as the engine decides on them, its records read when first asked for; NotFound,
    or PermissionDenied for another district."""
    return _facts(connection, read_case(connection, reference, actor))


_REFERENCE = re.compile(r"(?P<district>[A-Z]{2,8})-(?P<year>[0-9]{4})-(?P<number>[0-9]{1,6})", re.ASCII)


def case_id_of(connection: Connection, reference: str) -> int:
    """The id of the case with ``reference`` (already normalised); NotFound if there is none."""
    case_id = connection.scalar(select(_cases.c.id).where(_cases.c.reference == reference))
    if case_id is None:
        raise NotFound(f"no case {reference}")
    return int(case_id)


def normalise_reference(reference: str) -> str:
    """Officers type references in any case and with spaces: ``can-2026-42`` is ``CAN-2026-0042``."""
    found = _REFERENCE.fullmatch(reference.strip().upper())
    if found is None:
        raise InvalidInput(f"'{reference}' is not a case reference (like CAN-2026-0042)")
    return f"{found['district']}-{found['year']}-{int(found['number']):04d}"


# ---------------------------------------------------------------------- advancing


@dataclass(frozen=True)
class Advanced:
    reference: str
    trigger: str
    from_state: str
    to_state: str
    effective_date: date
    letters: tuple[str, ...]
    event_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "trigger": self.trigger,
            "from": self.from_state,
            "to": self.to_state,
            "effective_date": self.effective_date.isoformat(),
            "letters": list(self.letters),
            "event_hash": self.event_hash,
        }


_STATE_BEFORE_CLOSURE = Prepared(
    select(EVENTS.c.from_state)
    .where(
        EVENTS.c.stream == bindparam("reference"),
        EVENTS.c.to_state == bindparam("state"),
        EVENTS.c.kind == "transition",
    )
    .order_by(EVENTS.c.seq.desc())
    .limit(1)
)


def _state_before_closure(connection: DriverConnection, reference: str, state: str) -> str | None:
    found = _STATE_BEFORE_CLOSURE.rows(connection, {"reference": reference, "state": state})
    return found[0].from_state if found else None


_LAST_STEP = (
    select(EVENTS.c.trigger, EVENTS.c.reason, EVENTS.c.code, EVENTS.c.payload, EVENTS.c.occurred_at)
    .where(EVENTS.c.case_id == bindparam("case_id"), EVENTS.c.kind == "transition")
    .order_by(EVENTS.c.seq.desc())
    .limit(1)
)


def _same_words(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


def _refuse_repeated_request(
    connection: Connection, case_id: int, trigger: Trigger, given: TriggerInput
) -> None:
    """A request to the applicant (a trigger with ``reply_by``) made again, word for word and to reply by
    the same day, straight after itself is refused: its letter is queued or sent already, and a second
    would only confuse (a double-click, a command run twice). A chaser with a new date is a new request."""
    last = connection.execute(_LAST_STEP, {"case_id": case_id}).first()
    if last is None or last.trigger != trigger.name or given.reply_by is None:
        return
    if json.loads(last.payload).get("reply_by") != given.reply_by.isoformat() or last.code != given.code:
        return
    said = values_of(connection, [d for d in (reason_digest(last.reason),) if d is not None]).reason(
        last.reason
    )
    if _same_words(said, given.reason):
        raise GuardFailed(
            f"cannot {trigger.name}: the same request, to reply by {given.reply_by:%d/%m/%Y}, was made on "
            f"{local_day(last.occurred_at):%d/%m/%Y} and its letter is queued or sent already "
            "('dfg letters list' shows it; 'dfg letters reprint' makes a copy)"
        )


DetailsWriter = Callable[[Connection, int], Mapping[str, Any]]
"""Writes the records that go with a step (an assessment, a determination) inside the step's own
transaction, given the connection and the case id; returns what the event should say about them."""


def advance(
    db: Database,
    actor: Actor,
    reference: str,
    trigger_name: str,
    given: TriggerInput | None = None,
    *,
    now: datetime | None = None,
    write_details: DetailsWriter | None = None,
    also_change: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Fire ``trigger_name`` on the case as ``actor``; write the change and its event together.

    ``write_details`` and ``also_change`` let a service record the data that belongs to the step (and
    columns of the case it changes) in the same transaction. Raises :class:`NotFound`,
    :class:`InvalidTransition`, :class:`PermissionDenied`, :class:`GuardFailed`, :class:`InvalidInput`
    or :class:`Conflict`; on any of them nothing is written. ``expected_version``: the version of the
    case the person saw when they chose the step (a form's); Conflict if someone has changed it since.
    """
    now = now or utcnow()
    given = given or TriggerInput()
    reference = normalise_reference(reference)
    with db.driver_transaction() as connection:
        read = read_case(connection, reference, actor)
        row, facts = read[0], _facts(connection, read)
        check_version(reference, facts.version, expected_version)
        definition = definition_for(facts.workflow_version)
        trigger = engine.trigger_named(definition, trigger_name)
        restore_to = (
            _state_before_closure(connection, reference, facts.state) if trigger.dest == PREVIOUS else None
        )
        outcome = engine.fire(
            definition,
            facts,
            actor,
            trigger_name,
            given,
            now=now,
            today=local_day(now),
            restore_to=restore_to,
        )
        # what the write phase checks against, read now while the read connection is open
        needed_before = facts.records[f"{trigger.needs}s"] if trigger.needs else 0
        calculation_id = facts.records["calculation"]["id"] if trigger.amount else None
    if trigger.needs and write_details is None:
        raise GuardFailed(f"cannot {trigger.name}: record the {trigger.needs} with '{NEEDS[trigger.needs]}'")
    changes = {**outcome.changes, **(also_change or {})}
    # the effective date is when the step happened (it may be earlier than the event: --date)
    payload: dict[str, Any] = {"effective_date": outcome.effective_date}
    payload.update((k, v) for k, v in changes.items() if k not in ("state", "hold_since"))
    if trigger.amount:
        payload["grant_calculation"] = calculation_id
    if trigger.reply_by:
        payload["reply_by"] = given.reply_by
    if trigger.letters:
        payload["letters"] = list(trigger.letters)
    if trigger.clocks_start or trigger.clocks_stop:
        payload["clocks"] = {"start": list(trigger.clocks_start), "stop": list(trigger.clocks_stop)}
    closing = definition.states[outcome.dest].terminal and not definition.states[outcome.source].terminal
    reopening = definition.states[outcome.source].terminal and not definition.states[outcome.dest].terminal
    # a plain step (most of them) writes on the driver's connection; details, the budget, the check of
    # what was recorded with the step and of a request repeated need SQLAlchemy
    plain = write_details is None and not (closing or reopening or trigger.needs or trigger.reply_by)
    with db.driver_transaction(write=True) if plain else db.write_connection() as connection:
        if not plain:  # the records the step writes first must not race another officer's
            assert isinstance(connection, Connection)
            claim_case(connection, case_id=facts.case_id, reference=reference, version=facts.version)
        if trigger.reply_by:  # checked on the claimed case: two identical requests at once record one
            assert isinstance(connection, Connection)
            _refuse_repeated_request(connection, facts.case_id, trigger, given)
        if write_details is not None:
            assert isinstance(connection, Connection)
            payload.update(write_details(connection, facts.case_id))
        if closing or reopening:
            assert isinstance(connection, Connection)
            # money committed to a case that ends is released, and committed again if it is reopened
            from dfg.services import budget  # budget records overrides through this module

            moved = (
                budget.release(connection, case_id=facts.case_id, recorded_by=actor.username, now=now)
                if closing
                else budget.recommit(
                    connection,
                    case_id=facts.case_id,
                    recorded_by=actor.username,
                    now=now,
                    reason=given.reason,
                )
            )
            if moved:  # the ledger's release entries are negative; the event says how much, by line
                payload["budget"] = {
                    "released" if closing else "recommitted": {
                        line: abs(pence) for line, pence in moved.items()
                    }
                }
        if trigger.needs:  # the record the step stands on must really have been written with it
            assert isinstance(connection, Connection)
            now_counted = connection.execute(_COUNT_RECORDS, {"case_id": facts.case_id}).one()._mapping
            if now_counted[f"{trigger.needs}s"] <= needed_before:
                raise GuardFailed(f"cannot {trigger.name}: no {trigger.needs} was recorded with it")
        event_hash = append_to_case(
            connection,
            case_id=facts.case_id,
            reference=reference,
            version=facts.version,
            audit_seq=row.audit_seq,
            audit_head=row.audit_head,
            changes=changes,
            new=NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=outcome.role,
                kind="transition",
                trigger=trigger.name,
                from_state=outcome.source,
                to_state=outcome.dest,
                reason=given.reason,
                code=given.code,
                payload=payload,
                workflow_version=definition.key,
            ),
        )
    return Advanced(
        reference,
        trigger.name,
        outcome.source,
        outcome.dest,
        outcome.effective_date,
        trigger.letters,
        event_hash,
    )


@dataclass(frozen=True)
class Recorded:
    reference: str
    kind: str
    payload: Mapping[str, Any]
    event_hash: str


def record_change(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    role: str,
    kind: str,
    check: Callable[[CaseFacts], None] | None = None,
    write_details: DetailsWriter | None = None,
    changes: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
    reason: str | None = None,
    code: str | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Record a change to a case that is not a workflow step (an assignment, a finding, a determination).

    ``check`` may refuse it, given the case's facts; the details, the case's columns and the event are
    then written in one version-checked transaction."""
    now = now or utcnow()
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        read = read_case(connection, reference, actor)
        row, facts = read[0], _facts(connection, read)
        if check is not None:
            check(facts)
    said: dict[str, Any] = dict(payload or {})
    with db.write_connection() as connection:
        if write_details is not None:
            claim_case(connection, case_id=facts.case_id, reference=reference, version=facts.version)
            said.update(write_details(connection, facts.case_id))
        event_hash = append_to_case(
            connection,
            case_id=facts.case_id,
            reference=reference,
            version=facts.version,
            audit_seq=row.audit_seq,
            audit_head=row.audit_head,
            changes=dict(changes or {}),
            new=NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=role,
                kind=kind,
                reason=reason,
                code=code,
                payload=said,
                workflow_version=facts.workflow_version,
            ),
        )
    return Recorded(reference, kind, said, event_hash)


# ---------------------------------------------------------------------- what may be done now


@dataclass(frozen=True)
class Action:
    trigger: str
    label: str
    allowed: bool
    needs: tuple[str, ...]  # inputs the trigger asks for, as the command line takes them
    reasons: tuple[str, ...]  # why not, when not allowed
    # The same inputs for a form: whether a reason is "required" or "optional", the reason codes to
    # choose from (code, words), the dates asked for, and the record written through its own service.
    reason: str | None = None
    codes: tuple[tuple[str, str], ...] = ()
    asks_review_date: bool = False
    asks_reply_by: bool = False
    records: str | None = None
    through: str | None = None
    #: ``reasons`` without the names of the workflow's guards, for a page
    plain_reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "label": self.label,
            "allowed": self.allowed,
            "needs": list(self.needs),
            "why_not": list(self.reasons),
        }


def _needs(definition: Definition, trigger: Trigger) -> tuple[str, ...]:
    needs = []
    if trigger.reason == "required":
        needs.append("--reason")
    if trigger.reason_codes:
        needs.append(f"--code ({'|'.join(definition.reason_codes.get(trigger.reason_codes, {}))})")
    if trigger.review_date:
        needs.append("--review-date")
    if trigger.reply_by:
        needs.append("--reply-by")
    if trigger.needs:
        needs.append(f"(through '{NEEDS[trigger.needs]}')")
    if trigger.records:
        needs.append(f"[--date for {trigger.records}]")
    return tuple(needs)


def available_actions(
    db: Database, actor: Actor, reference: str, *, now: datetime | None = None
) -> list[Action]:
    """Every trigger possible from the case's state, whether this user may fire it now, and why not."""
    now = now or utcnow()
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        facts = read_facts(connection, reference, actor)
        definition = definition_for(facts.workflow_version)
        actions = []
        for trigger in definition.triggers_from(facts.state):
            found = engine.obstacles(
                definition,
                facts,
                actor,
                trigger,
                None,
                today=local_day(now),
            )
            codes = definition.reason_codes.get(trigger.reason_codes, {}) if trigger.reason_codes else {}
            actions.append(
                Action(
                    trigger.name,
                    trigger.label,
                    not found,
                    _needs(definition, trigger),
                    tuple(o.reason for o in found),
                    reason=trigger.reason,
                    codes=tuple(codes.items()),
                    asks_review_date=trigger.review_date,
                    asks_reply_by=trigger.reply_by,
                    records=trigger.records,
                    through=trigger.needs,
                    plain_reasons=tuple(
                        o.reason.split(": ", 1)[-1] if o.kind == "guard" else o.reason for o in found
                    ),
                )
            )
        return actions


def check_step(
    db: Database,
    actor: Actor,
    reference: str,
    trigger_name: str,
    given: TriggerInput,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Why ``trigger_name`` with ``given`` could not fire now (empty: it could), without firing it."""
    now = now or utcnow()
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        facts = read_facts(connection, reference, actor)
        definition = definition_for(facts.workflow_version)
        trigger = engine.trigger_named(definition, trigger_name)
        found = engine.obstacles(definition, facts, actor, trigger, given, today=local_day(now))
        return [o.reason for o in found]
