"""Cases: open one, read it, list them, and move them through the workflow.

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

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dfg.errors import GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.rules.money import format_pounds
from dfg.rules.payments import CEASED_EVENT_KINDS, entitlement_from
from dfg.services.clock import local_day, utcnow
from dfg.services.users import require_role
from dfg.store.audit import NewEvent, append_to_case
from dfg.store.database import Database
from dfg.store.models import (
    APPOINTMENTS,
    APPROVALS,
    ASSESSMENTS,
    CASES,
    DETERMINATIONS,
    DISTRICTS,
    ESTIMATE_DECISIONS,
    ESTIMATES,
    EVENTS,
    FEASIBILITY_FINDINGS,
    GRANT_CALCULATIONS,
    INVOICES,
    LAND_CHARGES,
    PAYMENTS,
    PEOPLE,
    PRIORITIES,
    PROPERTIES,
    REPAYMENT_DECISIONS,
    TENURES,
    USERS,
    Case,
    District,
    Event,
    Person,
    Property,
    ReferenceCounter,
    User,
)
from dfg.store.prepared import DriverConnection, Prepared
from dfg.workflow import engine
from dfg.workflow.actor import Actor
from dfg.workflow.definition import (
    AMOUNTS,
    MILESTONES,
    NEEDS,
    PREVIOUS,
    Definition,
    Trigger,
    current_definition,
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


def _full_name(r: Any) -> str:
    """A person's name as written on letters and shown, from a row with their name's columns."""
    return " ".join(p for p in (r.title, r.given_name, r.family_name) if p)


def _person(r: Any) -> PersonFacts:
    return PersonFacts(
        person_id=r.person_id,
        full_name=_full_name(r),
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
    select(DETERMINATIONS.c.id)
    .where(DETERMINATIONS.c.case_id == bindparam("case_id"))
    .order_by(DETERMINATIONS.c.id.desc())
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
    )
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
        calculations = rows("calculation")
        row = calculations[0] if calculations else None
        found["calculation"] = (
            None
            if row is None
            else {
                "id": row.id,
                "determination_id": row.determination_id,
                "grant_pence": row.grant_pence,
                "total_assistance_pence": row.total_assistance_pence,
                "works_pence": row.works_pence,
                "maximum_grant_version": json.loads(row.result)["maximum_grant_version"],
            }
        )
        found["estimate_contractors"] = [r.contractor_id for r in rows("contractors")]
        decisions = rows("decisions")
        found["estimates_waived"] = any(d.kind == "waiver" for d in decisions)
        selections = [d for d in decisions if d.kind == "selection"]
        found["eligible_works_pence"] = selections[-1].eligible_works_pence if selections else None
        approvals = rows("approval")
        found["approval"] = approvals[0]._asdict() if approvals else None
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


def check_district(actor: Actor, reference: str, district: str) -> None:
    if not actor.may_act_in(district):
        raise PermissionDenied(
            f"{actor.username} works for district {actor.district}; {reference} is in {district}"
        )


def _read_case(
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
) -> Advanced:
    """Fire ``trigger_name`` on the case as ``actor``; write the change and its event together.

    ``write_details`` and ``also_change`` let a service record the data that belongs to the step (and
    columns of the case it changes) in the same transaction. Raises :class:`NotFound`,
    :class:`InvalidTransition`, :class:`PermissionDenied`, :class:`GuardFailed`, :class:`InvalidInput`
    or :class:`Conflict`; on any of them nothing is written.
    """
    now = now or utcnow()
    given = given or TriggerInput()
    reference = normalise_reference(reference)
    with db.driver_transaction() as connection:
        read = _read_case(connection, reference, actor)
        row, facts = read[0], _facts(connection, read)
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
    # a plain step (most of them) writes on the driver's connection; details, the budget and the check of
    # what was recorded with the step need SQLAlchemy
    plain = write_details is None and not (closing or reopening or trigger.needs)
    with db.driver_transaction(write=True) if plain else db.write_connection() as connection:
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
        read = _read_case(connection, reference, actor)
        row, facts = read[0], _facts(connection, read)
        if check is not None:
            check(facts)
    said: dict[str, Any] = dict(payload or {})
    with db.write_connection() as connection:
        if write_details is not None:
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
    needs: tuple[str, ...]  # inputs the trigger asks for: reason, code, date, review_date, amount
    reasons: tuple[str, ...]  # why not, when not allowed

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
        facts = _facts(connection, _read_case(connection, reference, actor))
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
            actions.append(
                Action(
                    trigger.name,
                    trigger.label,
                    not found,
                    _needs(definition, trigger),
                    tuple(o.reason for o in found),
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
        facts = _facts(connection, _read_case(connection, reference, actor))
        definition = definition_for(facts.workflow_version)
        trigger = engine.trigger_named(definition, trigger_name)
        found = engine.obstacles(definition, facts, actor, trigger, given, today=local_day(now))
        return [o.reason for o in found]


# ---------------------------------------------------------------------- opening a case


#: The ``people`` columns of a postal address, in the order it is printed (postcode last).
POSTAL_COLUMNS = ("postal_address_line_1", "postal_address_line_2", "postal_town", "postal_postcode")


@dataclass(frozen=True)
class PostalAddress:
    """Where letters to a person go when they do not live at the home to be adapted (a landlord)."""

    line_1: str
    town: str
    postcode: str
    line_2: str | None = None

    def checked(self) -> PostalAddress:
        """Trimmed, the postcode in capitals; :class:`InvalidInput` if a required part is blank."""
        for text, what in ((self.line_1, "address"), (self.town, "town"), (self.postcode, "postcode")):
            if not text.strip():
                raise InvalidInput(f"the postal {what} is required")
        return PostalAddress(
            line_1=self.line_1.strip(),
            town=self.town.strip(),
            postcode=self.postcode.strip().upper(),
            line_2=(self.line_2 or "").strip() or None,
        )

    @property
    def lines(self) -> tuple[str, ...]:
        """The address as it is printed, postcode last."""
        return tuple(x for x in (self.line_1, self.line_2, self.town, self.postcode) if x)

    def columns(self) -> dict[str, str | None]:
        """The ``people`` row's columns for this address."""
        return dict(zip(POSTAL_COLUMNS, (self.line_1, self.line_2, self.town, self.postcode), strict=True))


#: The ``people`` row's columns when no postal address is recorded: letters go to the home.
NO_POSTAL_ADDRESS: dict[str, str | None] = dict.fromkeys(POSTAL_COLUMNS)


@dataclass(frozen=True)
class NewPerson:
    given_name: str
    family_name: str
    title: str | None = None
    date_of_birth: date | None = None
    is_applicant: bool = False
    is_disabled_occupant: bool = False
    is_relevant_person: bool = False
    relationship_to_applicant: str | None = None
    nhs_number: str | None = None
    phone: str | None = None
    email: str | None = None
    communication_needs: str | None = None
    #: Where letters go if not to the home to be adapted (a landlord applicant needs one).
    postal_address: PostalAddress | None = None

    def row(self) -> dict[str, Any]:
        """The ``people`` row's columns (a disabled occupant is always a relevant person: their means are
        tested)."""
        columns = {k: v for k, v in vars(self).items() if k != "postal_address"}
        columns["is_relevant_person"] = self.is_relevant_person or self.is_disabled_occupant
        postal = self.postal_address.checked().columns() if self.postal_address else NO_POSTAL_ADDRESS
        return {**columns, **postal}


@dataclass(frozen=True)
class NewCase:
    district: str
    priority: str
    tenure: str
    first_contact_date: date
    address_line_1: str
    town: str
    postcode: str
    people: tuple[NewPerson, ...]
    address_line_2: str | None = None
    uprn: str | None = None
    priority_reason: str | None = None
    referral_source: str | None = None


def _validate_new_case(new: NewCase, today: date) -> None:
    if new.priority not in PRIORITIES:
        raise InvalidInput(f"priority '{new.priority}' is not one of: {', '.join(PRIORITIES)}")
    if new.priority == "urgent" and not new.priority_reason:
        raise InvalidInput("an urgent case needs a --priority-reason")
    if new.tenure not in TENURES:
        raise InvalidInput(f"tenure '{new.tenure}' is not one of: {', '.join(TENURES)}")
    if new.first_contact_date > today:
        raise InvalidInput(f"first contact date {new.first_contact_date:%d/%m/%Y} is in the future")
    if sum(p.is_applicant for p in new.people) != 1:
        raise InvalidInput("a case needs exactly one applicant")
    for person in new.people:
        if person.date_of_birth and person.date_of_birth > today:
            raise InvalidInput(f"{person.given_name} {person.family_name}: date of birth is in the future")
    for text, what in ((new.address_line_1, "address"), (new.town, "town"), (new.postcode, "postcode")):
        if not text.strip():
            raise InvalidInput(f"the {what} is required")
    for person in new.people:
        if person.postal_address is not None:
            person.postal_address.checked()


def _next_reference(session: Session, district: str, year: int) -> str:
    counter = session.get(ReferenceCounter, (district, year), with_for_update=True)
    if counter is None:
        # The first case of a district's year: two officers may both find no counter. Create it in a
        # savepoint; whoever loses the race reads the winner's row, locked.
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(district_code=district, year=year, last_number=0))
        except IntegrityError:
            pass
        counter = session.get(
            ReferenceCounter, (district, year), with_for_update=True, populate_existing=True
        )
        assert counter is not None
    counter.last_number += 1
    return f"{district}-{year}-{counter.last_number:04d}"


def open_case(db: Database, actor: Actor, new: NewCase, *, now: datetime | None = None) -> str:
    """Open a case at the workflow's initial state; return its reference."""
    now = now or utcnow()
    today = local_day(now)
    role = require_role(actor, "grant_officer")
    _validate_new_case(new, today)
    if not actor.may_act_in(new.district):
        raise PermissionDenied(f"{actor.username} works for district {actor.district}, not {new.district}")
    definition = current_definition()
    with db.writing() as session:
        if session.get(District, new.district) is None:
            raise NotFound(f"no district '{new.district}' (see 'dfg district list')")
        reference = _next_reference(session, new.district, today.year)
        home = Property(
            address_line_1=new.address_line_1,
            address_line_2=new.address_line_2,
            town=new.town,
            postcode=new.postcode.upper(),
            uprn=new.uprn,
            district_code=new.district,
        )
        case = Case(
            reference=reference,
            district_code=new.district,
            property=home,
            workflow_version=definition.key,
            state=definition.initial,
            priority=new.priority,
            priority_reason=new.priority_reason,
            referral_source=new.referral_source,
            tenure=new.tenure,
            first_contact_date=new.first_contact_date,
            audit_seq=0,
            audit_head="",
            created_at=now,
            updated_at=now,
            people=[Person(**p.row()) for p in new.people],
        )
        session.add(case)
        session.flush()
        payload = {
            "district": new.district,
            "priority": new.priority,
            "priority_reason": new.priority_reason,
            "tenure": new.tenure,
            "referral_source": new.referral_source,
            "first_contact_date": new.first_contact_date,
            "property": {
                "address": [new.address_line_1, new.address_line_2, new.town],
                "postcode": home.postcode,
            },
            "people": [
                {
                    "name": p.full_name,
                    "date_of_birth": p.date_of_birth,
                    "roles": _person_roles(p),
                    **({"postal_address": list(postal_lines(p))} if p.postal_postcode else {}),
                }
                for p in case.people
            ],
        }
        append_to_case(
            session.connection(),
            case_id=case.id,
            reference=reference,
            version=case.version,
            audit_seq=0,
            audit_head="",
            changes={},
            new=NewEvent(
                occurred_at=now,
                actor=actor.username,
                role=role,
                kind="case_opened",
                to_state=definition.initial,
                payload=payload,
                workflow_version=definition.key,
            ),
        )
        session.expunge(case)  # the row's version moved on underneath the ORM: never flush it again
        return reference


def postal_lines(person: Person | Row[Any]) -> tuple[str, ...]:
    """A ``people`` row's postal address as printed, postcode last; empty when none is recorded."""
    return tuple(part for part in (getattr(person, column) for column in POSTAL_COLUMNS) if part)


def set_postal_address(
    db: Database, actor: Actor, reference: str, address: PostalAddress | None, *, now: datetime | None = None
) -> Recorded:
    """Record where letters to the applicant go (``None``: back to the home to be adapted). Letters already
    produced keep the address they were sent to; letters waiting for one are produced on the next run."""
    role = require_role(actor, "grant_officer")
    address = address.checked() if address else None
    columns = address.columns() if address else NO_POSTAL_ADDRESS

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        connection.execute(
            update(PEOPLE).where(PEOPLE.c.case_id == case_id, PEOPLE.c.is_applicant.is_(True)).values(columns)
        )
        return {}

    return record_change(
        db, actor, reference, role=role, kind="postal_address_changed", write_details=write,
        payload={"postal_address": list(address.lines) if address else None}, now=now,
    )  # fmt: skip


def _person_roles(person: Person | Row[Any]) -> list[str]:
    return [
        name
        for name, flag in (
            ("applicant", person.is_applicant),
            ("disabled_occupant", person.is_disabled_occupant),
            ("relevant_person", person.is_relevant_person),
        )
        if flag
    ]


def assign(db: Database, actor: Actor, reference: str, username: str, *, now: datetime | None = None) -> None:
    """Put the case on a named officer's list."""
    role = require_role(actor, "grant_officer")
    with db.reading() as session:
        user = session.execute(
            select(User.id, User.district_code).where(User.username == username)
        ).one_or_none()
    if user is None:
        raise NotFound(f"no user '{username}'")

    def check(case: CaseFacts) -> None:
        if user.district_code not in (None, case.district):
            raise InvalidInput(
                f"{username} works for district {user.district_code}; {case.reference} is in {case.district}"
            )

    record_change(
        db, actor, reference, role=role, kind="assigned", check=check, changes={"assigned_to": user.id},
        payload={"to": username}, now=now,
    )  # fmt: skip


# ---------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CaseView:
    reference: str
    district: str
    district_name: str
    state: str
    state_label: str
    stage: int | None
    owner_role: str | None
    priority: str
    priority_reason: str | None
    tenure: str
    referral_source: str | None
    workflow_version: str
    version: int
    assigned_to: str | None
    on_hold_since: datetime | None
    hold_review_date: date | None
    address: tuple[str, ...]
    milestones: dict[str, date | None]
    approved_grant_pence: int | None
    people: tuple[dict[str, Any], ...]
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        def iso(value: Any) -> Any:
            return value.isoformat() if isinstance(value, date | datetime) else value

        return {
            "reference": self.reference,
            "district": self.district,
            "district_name": self.district_name,
            "state": self.state,
            "state_label": self.state_label,
            "stage": self.stage,
            "owner_role": self.owner_role,
            "priority": self.priority,
            "priority_reason": self.priority_reason,
            "tenure": self.tenure,
            "referral_source": self.referral_source,
            "workflow_version": self.workflow_version,
            "version": self.version,
            "assigned_to": self.assigned_to,
            "on_hold_since": iso(self.on_hold_since),
            "hold_review_date": iso(self.hold_review_date),
            "address": list(self.address),
            "milestones": {k: iso(v) for k, v in self.milestones.items() if v is not None},
            "approved_grant_pence": self.approved_grant_pence,
            "people": [{k: iso(v) for k, v in p.items()} for p in self.people],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


# Core, not the ORM: showing a case is a command of its own, and the ORM's first query sets up every mapper
_CASE_VIEW = (
    select(
        _cases,
        DISTRICTS.c.name.label("district_name"),
        USERS.c.username.label("assignee"),
        PROPERTIES.c.address_line_1,
        PROPERTIES.c.address_line_2,
        PROPERTIES.c.town,
        PROPERTIES.c.postcode,
    )
    .join(DISTRICTS, DISTRICTS.c.code == _cases.c.district_code)
    .join(PROPERTIES, PROPERTIES.c.id == _cases.c.property_id)
    .outerjoin(USERS, USERS.c.id == _cases.c.assigned_to)
    .where(_cases.c.reference == bindparam("reference"))
)
_PEOPLE_VIEW = select(_people).where(_people.c.case_id == bindparam("case_id")).order_by(_people.c.id)


def show_case(db: Database, actor: Actor, reference: str) -> CaseView:
    """Everything recorded on one case."""
    reference = normalise_reference(reference)
    with db.read_connection() as connection:
        case = connection.execute(_CASE_VIEW, {"reference": reference}).one_or_none()
        if case is None:
            raise NotFound(f"no case {reference}")
        check_district(actor, reference, case.district_code)
        people_rows = connection.execute(_PEOPLE_VIEW, {"case_id": case.id}).all()
    definition = definition_for(case.workflow_version)
    state = definition.states.get(case.state)
    people = tuple(
        {
            "name": _full_name(p),
            "date_of_birth": p.date_of_birth,
            "roles": _person_roles(p),
            "relationship_to_applicant": p.relationship_to_applicant,
            "communication_needs": p.communication_needs,
            "postal_address": list(postal_lines(p)) or None,
        }
        for p in people_rows
    )
    return CaseView(
        reference=case.reference,
        district=case.district_code,
        district_name=case.district_name,
        state=case.state,
        state_label=state.label if state else case.state,
        stage=state.stage if state else None,
        owner_role=state.owner if state else None,
        priority=case.priority,
        priority_reason=case.priority_reason,
        tenure=case.tenure,
        referral_source=case.referral_source,
        workflow_version=case.workflow_version,
        version=case.version,
        assigned_to=case.assignee,
        on_hold_since=case.hold_since,
        hold_review_date=case.hold_review_date,
        address=tuple(p for p in (case.address_line_1, case.address_line_2, case.town, case.postcode) if p),
        milestones={m: case._mapping[m] for m in MILESTONES},
        approved_grant_pence=case.approved_grant_pence,
        people=people,
        created_at=case.created_at,
        updated_at=case.updated_at,
    )


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    stage: int | None = None
    district: str | None = None
    priority: str | None = None
    assigned_to_me: bool = False
    on_hold: bool | None = None
    limit: int = 200


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    district: str
    state: str
    stage: int | None
    priority: str
    applicant: str
    first_contact_date: date
    on_hold: bool
    assigned_to: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "district": self.district,
            "state": self.state,
            "stage": self.stage,
            "priority": self.priority,
            "applicant": self.applicant,
            "first_contact_date": self.first_contact_date.isoformat(),
            "on_hold": self.on_hold,
            "assigned_to": self.assigned_to,
        }


def list_cases(db: Database, actor: Actor, where: CaseFilter) -> list[CaseSummary]:
    """Cases matching ``where`` that this user may see, oldest first contact first."""
    definition = current_definition()
    stage_of = {s.name: s.stage for s in definition.states.values()}
    if where.state is not None and where.state not in definition.states:
        raise InvalidInput(f"unknown state '{where.state}' (known: {', '.join(definition.states)})")
    if where.priority is not None and where.priority not in PRIORITIES:
        raise InvalidInput(f"priority '{where.priority}' is not one of: {', '.join(PRIORITIES)}")
    if where.stage is not None and where.stage not in range(5):
        raise InvalidInput("stage must be 0 to 4")
    if actor.district and where.district and where.district != actor.district:
        raise PermissionDenied(f"{actor.username} works for district {actor.district}")
    applicant = (
        select(
            func.trim(
                func.coalesce(_people.c.title + " ", "") + _people.c.given_name + " " + _people.c.family_name
            )
        )
        .where(and_(_people.c.case_id == _cases.c.id, _people.c.is_applicant.is_(True)))
        .limit(1)
        .scalar_subquery()
    )
    users = USERS
    query = (
        select(
            _cases.c.reference,
            _cases.c.district_code,
            _cases.c.state,
            _cases.c.priority,
            _cases.c.first_contact_date,
            _cases.c.hold_since,
            applicant.label("applicant"),
            users.c.username,
        )
        .outerjoin(users, users.c.id == _cases.c.assigned_to)
        .order_by(_cases.c.first_contact_date, _cases.c.reference)
        .limit(where.limit)
    )
    district = where.district or actor.district
    if district:
        query = query.where(_cases.c.district_code == district)
    if where.state:
        query = query.where(_cases.c.state == where.state)
    if where.stage is not None:
        query = query.where(_cases.c.state.in_([s for s, stage in stage_of.items() if stage == where.stage]))
    if where.priority:
        query = query.where(_cases.c.priority == where.priority)
    if where.assigned_to_me:
        query = query.where(_cases.c.assigned_to == actor.user_id)
    if where.on_hold is not None:
        query = query.where(
            _cases.c.hold_since.is_not(None) if where.on_hold else _cases.c.hold_since.is_(None)
        )
    with db.reading() as session:
        return [
            CaseSummary(
                r.reference,
                r.district_code,
                r.state,
                stage_of.get(r.state),
                r.priority,
                r.applicant or "",
                r.first_contact_date,
                r.hold_since is not None,
                r.username,
            )
            for r in session.execute(query)
        ]


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    occurred_at: datetime
    actor: str
    role: str | None
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    reason: str | None
    code: str | None
    payload: str
    workflow_version: str | None

    @property
    def detail(self) -> str:
        """What the step recorded, in a few words, for the text of ``dfg case history``: which check and
        whether it passed, the amount paid or collected, the invoice, the estimate, the grant."""
        said: dict[str, Any] = json.loads(self.payload)
        money = {
            k: format_pounds(int(v)) for k, v in said.items() if k.endswith("_pence") and isinstance(v, int)
        }
        if self.kind == "completion_checked":
            return f"{str(said['check']).replace('_', ' ')} {'passed' if said['passed'] else 'failed'}"
        if self.kind == "estimate_recorded":
            return f"{said['contractor']} {money['price_pence']}"
        if self.trigger in ("pay_interim", "pay_final"):
            return f"{money.get('amount_pence', '')} to the {said.get('payee', '')}".strip()
        for key in ("amount_pence", "price_pence", "total_assistance_pence", "price_change_pence"):
            if key in money:
                return money[key]
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "kind": self.kind,
            "trigger": self.trigger,
            "from": self.from_state,
            "to": self.to_state,
            "reason": self.reason,
            "code": self.code,
            "payload": json.loads(self.payload),
            "workflow_version": self.workflow_version,
            "detail": self.detail,
        }


def history(db: Database, actor: Actor, reference: str) -> list[HistoryEntry]:
    """The case's audit trail, oldest first."""
    reference = normalise_reference(reference)
    with db.reading() as session:
        _read_case(session, reference, actor)
        events = session.scalars(select(Event).where(Event.stream == reference).order_by(Event.seq))
        return [
            HistoryEntry(
                e.seq,
                e.occurred_at,
                e.actor,
                e.role,
                e.kind,
                e.trigger,
                e.from_state,
                e.to_state,
                e.reason,
                e.code,
                e.payload,
                e.workflow_version,
            )
            for e in events
        ]


def case_path(db: Database, actor: Actor, reference: str) -> tuple[Definition, list[str], str]:
    """The definition a case runs under, the states it has been in (in order), and its state now."""
    reference = normalise_reference(reference)
    with db.reading() as session:
        row, _ = _read_case(session, reference, actor)
        states = session.scalars(
            select(Event.to_state)
            .where(Event.stream == reference, Event.to_state.is_not(None))
            .order_by(Event.seq)
        )
        return definition_for(row.workflow_version), [s for s in states if s], row.state


def count_cases(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)
