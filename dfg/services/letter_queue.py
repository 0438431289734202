"""The letter queue: the letters the workflow asked for that the register does not hold yet.

**The event log is the queue.** Every transition event names the letters its step produces
(``payload.letters``, from the trigger's ``letters`` in the workflow definition), written in the same
transaction as the step; so does every ``reminder`` event the daily tick records where the reminder
policy calls for a letter before a clock falls due (:func:`dfg.services.worklist.tick`,
``workflows/policy/reminders.toml``). A letter is *pending* while an event names its kind and the
register (the ``letters`` table) holds no original for that (event, kind). A step therefore never waits
for a PDF and can never be left half done by one.

The letters are built by :mod:`dfg.services.letter_contexts`, rendered and recorded by
:mod:`dfg.services.letter_batch`, kept in the register of :mod:`dfg.services.letter_register` and printed
for the post room by :mod:`dfg.services.post_room`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select, true

from dfg.letters.contracts import contract_for
from dfg.services.cases import normalise_reference
from dfg.services.people import postal_lines
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS, LETTERS, PEOPLE, USERS, Property
from dfg.store.personal import personal_values
from dfg.workflow.actor import Actor
from dfg.workflow.reminders import REMINDER_EVENT
from dfg.workflow.roles import require_role
from dfg.workflow.timeline import LETTER_PRODUCED as LETTER_PRODUCED  # the letters' event, re-exported

#: The kinds of event that name letters (``payload.letters``): the queue's entries.
QUEUE_EVENT_KINDS = ("transition", REMINDER_EVENT)

#: Who may produce letters (render the queue, reprint, print the post-room batch).
PRODUCERS = ("grant_officer", "manager", "admin")


def may_produce(actor: Actor) -> bool:
    """Whether ``actor`` may produce letters: what a page asks before it offers to."""
    return actor.role_for(PRODUCERS) is not None


def require_producer(actor: Actor) -> str:
    """The role ``actor`` produces letters in; PermissionDenied if they may not (a page's form for
    producing letters is refused before it is filled in, as its service would refuse it after)."""
    return require_role(actor, *PRODUCERS)


@dataclass(frozen=True)
class Pending:
    """A letter a step of the workflow asked for that is not in the register.

    ``reason`` says why it was not produced (data missing from the case, or an error); it is None for a
    letter that can be produced now.
    """

    reference: str
    event_id: int
    kind: str
    trigger: str
    step_date: date
    reason: str | None = None
    #: Whom it is to, once its context is built (None while it waits for the case's data).
    recipient_name: str | None = None

    @property
    def title(self) -> str:
        return contract_for(self.kind).title

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "event": self.event_id,
            "kind": self.kind,
            "title": self.title,
            "trigger": self.trigger,
            "step_date": self.step_date.isoformat(),
            "reason": self.reason,
            "recipient": self.recipient_name,
        }


@dataclass(frozen=True)
class LetterRecord:
    """A letter in the register (without its PDF: :func:`letter_pdf` reads that)."""

    id: int
    reference: str
    event_id: int
    kind: str
    recipient_name: str
    recipient_role: str
    template_version: str
    created_by: str
    created_at: datetime
    sha256: str
    copy_of: int | None

    @property
    def title(self) -> str:
        return contract_for(self.kind).title

    @property
    def file_name(self) -> str:
        """The name ``dfg letters show`` saves it under: ``CAN-2026-0001-17-approval_notice.pdf``."""
        return f"{self.reference}-{self.id}-{self.kind}.pdf"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "event": self.event_id,
            "kind": self.kind,
            "title": self.title,
            "recipient": self.recipient_name,
            "recipient_role": self.recipient_role,
            "template_version": self.template_version,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "sha256": self.sha256,
            "copy_of": self.copy_of,
            "file_name": self.file_name,
        }


@dataclass(frozen=True)
class LetterPerson:
    title: str | None
    given_name: str
    family_name: str
    is_applicant: bool
    is_disabled_occupant: bool
    communication_needs: str | None
    phone: str | None = None
    #: Where their letters go when not to the home (lines, postcode last); empty for the home.
    postal_address: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        """As on an envelope: "Mrs Margaret Holt"."""
        return " ".join(p for p in (self.title, self.given_name, self.family_name) if p)

    @property
    def plain_name(self) -> str:
        """As in a sentence about them: "Margaret Holt"."""
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True)
class LetterCase:
    """What the letters need of a case, read with its steps."""

    id: int
    reference: str
    district: str
    workflow_version: str
    tenure: str
    priority: str
    referral_source: str | None
    first_contact_date: date
    valid_application_date: date | None
    refusal_date: date | None
    address_lines: tuple[str, ...]
    postcode: str
    people: tuple[LetterPerson, ...] = ()


@dataclass(frozen=True)
class LetterStep:
    """An event that names letters, the queue's entries: a transition, or a reminder of the daily tick
    (whose ``trigger`` is ``reminder``, the kind of the event, as it records no trigger)."""

    event_id: int
    seq: int
    case: LetterCase
    trigger: str
    actor: str
    role: str | None
    code: str | None
    reason: str | None
    payload: Mapping[str, Any]
    workflow_version: str
    occurred_at: datetime

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(self.payload.get("letters", ()))

    def day(self, name: str) -> date | None:
        """A date the step recorded (``approval_date``, ``hold_review_date``), if it did."""
        value = self.payload.get(name)
        return date.fromisoformat(value) if isinstance(value, str) else None

    @property
    def effective_date(self) -> date:
        """When the step happened (an officer may date it before it was recorded)."""
        day = self.day("effective_date")
        assert day is not None, "every transition and reminder records its effective date"
        return day

    def pending(self, kind: str, reason: str | None = None) -> Pending:
        return Pending(self.case.reference, self.event_id, kind, self.trigger, self.effective_date, reason)


def queue_scope(actor: Actor, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Letter-bearing transitions and reminders of cases ``actor`` may see, narrowed by ``conditions``."""
    district = CASES.c.district_code == actor.district if actor.district else true()
    return and_(
        EVENTS.c.kind.in_(QUEUE_EVENT_KINDS),
        # Canonical JSON has no spaces, so this finds exactly the events that name letters.
        EVENTS.c.payload.contains('"letters":['),
        district,
        *conditions,
    )


def read_steps(connection: Connection, where: ColumnElement[bool]) -> list[LetterStep]:
    """The steps matching ``where`` (see :func:`queue_scope`), with their cases and people: three queries."""
    rows = connection.execute(
        select(
            EVENTS.c.id,
            EVENTS.c.seq,
            EVENTS.c.kind,
            EVENTS.c.trigger,
            EVENTS.c.actor,
            EVENTS.c.role,
            EVENTS.c.code,
            EVENTS.c.reason,
            EVENTS.c.payload,
            EVENTS.c.workflow_version,
            EVENTS.c.occurred_at,
            CASES.c.id.label("case_id"),
            CASES.c.reference,
            CASES.c.district_code,
            CASES.c.workflow_version.label("case_workflow"),
            CASES.c.tenure,
            CASES.c.priority,
            CASES.c.referral_source,
            CASES.c.first_contact_date,
            CASES.c.valid_application_date,
            CASES.c.refusal_date,
            Property.address_line_1,
            Property.address_line_2,
            Property.town,
            Property.postcode,
        )
        .join(CASES, CASES.c.id == EVENTS.c.case_id)
        .join(Property, Property.id == CASES.c.property_id)
        .where(where)
        .order_by(EVENTS.c.id)
    ).all()
    people: dict[int, list[LetterPerson]] = {}
    case_ids = select(EVENTS.c.case_id).join(CASES, CASES.c.id == EVENTS.c.case_id).where(where)
    for p in connection.execute(
        select(PEOPLE).where(PEOPLE.c.case_id.in_(case_ids.scalar_subquery())).order_by(PEOPLE.c.id)
    ):
        people.setdefault(p.case_id, []).append(
            LetterPerson(
                p.title,
                p.given_name,
                p.family_name,
                p.is_applicant,
                p.is_disabled_occupant,
                p.communication_needs,
                p.phone,
                postal_lines(p),
            )
        )
    kept = personal_values(connection, {r.case_id for r in rows})
    cases: dict[int, LetterCase] = {}
    steps = []
    for r in rows:
        case = cases.get(r.case_id)
        if case is None:
            case = cases[r.case_id] = LetterCase(
                id=r.case_id,
                reference=r.reference,
                district=r.district_code,
                workflow_version=r.case_workflow,
                tenure=r.tenure,
                priority=r.priority,
                referral_source=r.referral_source,
                first_contact_date=r.first_contact_date,
                valid_application_date=r.valid_application_date,
                refusal_date=r.refusal_date,
                address_lines=tuple(x for x in (r.address_line_1, r.address_line_2, r.town) if x),
                postcode=r.postcode,
                people=tuple(people.get(r.case_id, ())),
            )
        steps.append(
            LetterStep(
                r.id,
                r.seq,
                case,
                r.trigger or r.kind,
                r.actor,
                r.role,
                r.code,
                kept.reason(r.reason),
                kept.payload(json.loads(r.payload)),
                r.workflow_version or case.workflow_version,
                r.occurred_at,
            )
        )
    return steps


def officer_names(connection: Connection, where: ColumnElement[bool]) -> dict[str, str]:
    """The full names of the people who took the steps: each signs the letters of their own step."""
    actors = select(EVENTS.c.actor).join(CASES, CASES.c.id == EVENTS.c.case_id).where(where)
    names = select(USERS.c.username, USERS.c.full_name).where(USERS.c.username.in_(actors.scalar_subquery()))
    return {username: full_name for username, full_name in connection.execute(names)}


def _produced(connection: Connection, where: ColumnElement[bool]) -> set[tuple[int, str]]:
    """The (event, kind) pairs among the steps matching ``where`` that the register already holds."""
    events = select(EVENTS.c.id).join(CASES, CASES.c.id == EVENTS.c.case_id).where(where)
    originals = select(LETTERS.c.event_id, LETTERS.c.kind).where(
        LETTERS.c.copy_of.is_(None), LETTERS.c.event_id.in_(events.scalar_subquery())
    )
    return {(row.event_id, row.kind) for row in connection.execute(originals)}


@dataclass(frozen=True)
class LetterQueue:
    steps: list[tuple[LetterStep, str]]
    officers: dict[str, str]


def read_queue(db: Database, actor: Actor, reference: str | None = None) -> LetterQueue:
    where = queue_scope(actor, *([CASES.c.reference == normalise_reference(reference)] if reference else []))
    with db.read_connection() as connection:
        steps = read_steps(connection, where)
        done = _produced(connection, where)
        officers = officer_names(connection, where)
    return LetterQueue(
        [(step, kind) for step in steps for kind in step.letters if (step.event_id, kind) not in done],
        officers,
    )
