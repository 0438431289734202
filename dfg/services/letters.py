"""Letters on cases: the queue the workflow fills, producing its letters, and the letter register.

**The event log is the queue.** Every transition event names the letters its step produces
(``payload.letters``, from the trigger's ``letters`` in the workflow definition), written in the same
transaction as the step; so does every ``reminder`` event the daily tick records where the reminder
policy calls for a letter before a clock falls due (:func:`dfg.services.worklist.tick`,
``workflows/policy/reminders.toml``). A letter is *pending* while an event names its kind and the
register (the ``letters`` table) holds no original for that (event, kind). A step therefore never waits
for a PDF and can never be left half done by one. :func:`render_pending` builds each pending letter's context from the
case's own data, renders the batch on every core (:func:`dfg.letters.render.render_many`), and records each
letter — the PDF, its SHA-256, the template version — together with a ``letter_produced`` event carrying
the hash in the case's audit chain, in one transaction per letter. A letter is either recorded with its
event, or still pending:

- when its context cannot be built, because the case does not hold something the letter must show (the
  address of the contractor a works order goes to), it stays pending with a reason naming what is missing;
- when its rendering fails, it stays pending with the error, and the other letters are still produced.

Every run tries the pending letters again. Nothing is invented: a context holds what the case records,
what the rules derive from it (the decision due date, the land charge, the review window) and fixed
wording about what happens next.

**A letter shows what was true at its step.** It reads the records its own event names (the approval
version of ``approve`` or ``vary_works``, the payment of ``pay_interim`` or ``pay_final``, the land charge,
the repayment decision), and otherwise the case's history up to its step (the approval in force when the
works were ordered, the completion extensions granted by then), never simply the latest: a letter
produced late, or reprinted, says what it said, or would have said, on the day.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal, cast

import jinja2
from jinja2 import meta
from sqlalchemy import ColumnElement, Connection, Row, and_, func, insert, select, true
from sqlalchemy.exc import IntegrityError

from dfg.errors import ConfigurationError, Conflict, DfgError, InvalidInput, NotFound
from dfg.letters import context as c
from dfg.letters.contracts import contract_for
from dfg.letters.render import LetterJob, longdate, merge_pdfs, pounds, render_many, render_pdf
from dfg.paths import letter_templates_dir
from dfg.rules.calendar import default_calendar_policy
from dfg.rules.catalogue import catalogue
from dfg.rules.clock import ENGLAND, local_day, utcnow
from dfg.rules.clocks import (
    CompletionExtension,
    Priority,
    completion_due,
    decision_due,
    default_clock_policy,
)
from dfg.rules.estimates import explain_selection
from dfg.rules.means_test import TraceLine, format_factor
from dfg.rules.payments import entitlement_from
from dfg.rules.policy import load_works_policy
from dfg.rules.rates import (
    REPAYMENT_FACTORS,
    LandChargeTerms,
    add_years,
    charge_expiry,
    land_charge_for,
    load_land_charge_terms,
    long_date,
    rates_for,
)
from dfg.services.assessment import assessments_of, determination, determinations
from dfg.services.case_opening import postal_lines
from dfg.services.case_reading import show_case
from dfg.services.cases import check_district, normalise_reference, record_change
from dfg.services.grant import grant_calculation
from dfg.store.database import Database
from dfg.store.models import (
    APPOINTMENTS,
    APPROVALS,
    CASES,
    CONTRACTORS,
    ESTIMATE_DECISIONS,
    ESTIMATES,
    EVENTS,
    INVOICES,
    LAND_CHARGES,
    LETTERS,
    PAYMENTS,
    PEOPLE,
    REPAYMENT_DECISIONS,
    USERS,
    Property,
)
from dfg.workflow.actor import Actor
from dfg.workflow.definition import Definition, definition_for
from dfg.workflow.guards import land_charge_due_pence
from dfg.workflow.reminders import REMINDER_EVENT
from dfg.workflow.roles import require_role
from dfg.workflow.timeline import COMPLETION_EXTENDED

#: The event recorded in the case's audit chain for every letter in the register, with its SHA-256.
LETTER_PRODUCED = "letter_produced"

#: The kinds of event that name letters (``payload.letters``): the queue's entries.
QUEUE_EVENT_KINDS = ("transition", REMINDER_EVENT)

#: Who may produce letters (render the queue, reprint, print the post-room batch).
_PRODUCERS = ("grant_officer", "manager", "admin")

#: Fewer letters than this render sooner in this process than in a pool of every core: each worker first
#: spends about a second importing WeasyPrint and loading the fonts (see render_many).
_POOL_FROM = 24

#: Template sources that shape every letter besides the templates themselves (layout and window).
_SHARED_SOURCES = ("letter.css", "layout.toml")

ProgressCallback = Callable[[int, int], None]
"""Told ``(letters just finished, letters to render)``; called once with ``(0, total)`` before the first."""


class _Missing(Exception):
    """The case does not hold something the letter must show: the letter waits, with this reason."""


# ---------------------------------------------------------------------- what the register and queue say


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "event": self.event_id,
            "kind": self.kind,
            "trigger": self.trigger,
            "step_date": self.step_date.isoformat(),
            "reason": self.reason,
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
class RenderReport:
    """What a run of :func:`render_pending` did: the letters produced, those waiting for data the case
    does not hold yet, and those that failed (an error while building or rendering them)."""

    produced: tuple[LetterRecord, ...]
    waiting: tuple[Pending, ...]
    failed: tuple[Pending, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "produced": [letter.as_dict() for letter in self.produced],
            "waiting": [p.as_dict() for p in self.waiting],
            "failed": [p.as_dict() for p in self.failed],
        }

    def raise_if_failed(self) -> None:
        """:class:`ConfigurationError` if any letter failed: an error in a template or in this code, which
        someone must look at (letters waiting for data are expected, and are not an error)."""
        if self.failed:
            first = self.failed[0]
            raise ConfigurationError(
                f"{len(self.failed)} letter(s) failed and stay pending; the first, {first.reference} "
                f"{first.kind}: {first.reason}"
            )


# ---------------------------------------------------------------------- reading the queue


@dataclass(frozen=True)
class _Person:
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
class _Case:
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
    people: tuple[_Person, ...] = ()


@dataclass(frozen=True)
class _Step:
    """An event that names letters, the queue's entries: a transition, or a reminder of the daily tick
    (whose ``trigger`` is ``reminder``, the kind of the event, as it records no trigger)."""

    event_id: int
    seq: int
    case: _Case
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


def _scope(actor: Actor, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Letter-bearing transitions and reminders of cases ``actor`` may see, narrowed by ``conditions``."""
    district = CASES.c.district_code == actor.district if actor.district else true()
    return and_(
        EVENTS.c.kind.in_(QUEUE_EVENT_KINDS),
        # Canonical JSON has no spaces, so this finds exactly the events that name letters.
        EVENTS.c.payload.contains('"letters":['),
        district,
        *conditions,
    )


def _read_steps(connection: Connection, where: ColumnElement[bool]) -> list[_Step]:
    """The steps matching ``where`` (see :func:`_scope`), with their cases and people: three queries."""
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
    people: dict[int, list[_Person]] = {}
    case_ids = select(EVENTS.c.case_id).join(CASES, CASES.c.id == EVENTS.c.case_id).where(where)
    for p in connection.execute(
        select(PEOPLE).where(PEOPLE.c.case_id.in_(case_ids.scalar_subquery())).order_by(PEOPLE.c.id)
    ):
        people.setdefault(p.case_id, []).append(
            _Person(
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
    cases: dict[int, _Case] = {}
    steps = []
    for r in rows:
        case = cases.get(r.case_id)
        if case is None:
            case = cases[r.case_id] = _Case(
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
            _Step(
                r.id,
                r.seq,
                case,
                r.trigger or r.kind,
                r.actor,
                r.role,
                r.code,
                r.reason,
                json.loads(r.payload),
                r.workflow_version or case.workflow_version,
                r.occurred_at,
            )
        )
    return steps


def _officer_names(connection: Connection, where: ColumnElement[bool]) -> dict[str, str]:
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
class _Queue:
    steps: list[tuple[_Step, str]]
    officers: dict[str, str]


def _queue(db: Database, actor: Actor, reference: str | None = None) -> _Queue:
    where = _scope(actor, *([CASES.c.reference == normalise_reference(reference)] if reference else []))
    with db.read_connection() as connection:
        steps = _read_steps(connection, where)
        done = _produced(connection, where)
        officers = _officer_names(connection, where)
    return _Queue(
        [(step, kind) for step in steps for kind in step.letters if (step.event_id, kind) not in done],
        officers,
    )


# ---------------------------------------------------------------------- building contexts


@dataclass(frozen=True)
class _Logged:
    """An event of a case, as a letter reads the case's history up to its step."""

    seq: int
    kind: str
    trigger: str | None
    actor: str
    role: str | None
    reason: str | None
    payload: Mapping[str, Any]

    def day(self, name: str) -> date | None:
        value = self.payload.get(name)
        return date.fromisoformat(value) if isinstance(value, str) else None


#: An approval version with its contractor's register entry (the letters to the contractor use it).
_APPROVAL = select(
    APPROVALS,
    CONTRACTORS.c.name.label("contractor_name"),
    CONTRACTORS.c.contact_name.label("contractor_contact"),
    CONTRACTORS.c.address.label("contractor_address"),
).outerjoin(CONTRACTORS, CONTRACTORS.c.id == APPROVALS.c.contractor_id)

#: A UK postcode at the end of an address typed on one line: "Cannock WS11 0BD".
_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$", re.IGNORECASE)


@dataclass(frozen=True)
class _Source:
    """Everything a letter's context is built from: its step, its case, and the letter's own date."""

    db: Database
    actor: Actor
    step: _Step
    letter_date: date
    officers: Mapping[str, str]

    @property
    def case(self) -> _Case:
        return self.step.case

    @property
    def definition(self) -> Definition:
        return definition_for(self.step.workflow_version)

    def person(self, which: Literal["applicant", "disabled occupant"]) -> _Person:
        found = next(
            (
                p
                for p in self.case.people
                if (p.is_applicant if which == "applicant" else p.is_disabled_occupant)
            ),
            None,
        )
        if found is None:
            raise _Missing(f"no {which} is recorded on the case")
        return found

    def applicant(self) -> c.Recipient:
        """The applicant at the home to be adapted, in large print if their communication needs say so."""
        applicant = self.person("applicant")
        if applicant.postal_address:
            *lines, postcode = applicant.postal_address
        elif self.case.tenure == "landlord":
            # A landlord does not live at the home to be adapted: their letters need their own address.
            raise _Missing(
                "the applicant is the landlord, whose postal address is not recorded on the case "
                "(dfg case postal-address)"
            )
        else:
            lines, postcode = list(self.case.address_lines), self.case.postcode
        return c.Recipient(
            name=applicant.full_name,
            address_lines=tuple(lines),
            postcode=postcode,
            salutation=f"{applicant.title} {applicant.family_name}" if applicant.title else None,
            large_print="large_print" in (applicant.communication_needs or ""),
        )

    def disabled_occupant(self) -> _Person:
        return self.person("disabled occupant")

    @property
    def home(self) -> tuple[str, ...]:
        """The address of the home to be adapted, postcode last."""
        return (*self.case.address_lines, self.case.postcode)

    def full_name(self, username: str) -> str:
        """The full name of a user: who took a step, approved, countersigned or certified."""
        name = self.officers.get(username)
        if name is None:
            with self.db.read_connection() as connection:
                name = connection.scalar(select(USERS.c.full_name).where(USERS.c.username == username))
        if name is None:
            raise _Missing(f"the user {username!r} is not recorded")
        return name

    def job_title(self, role: str | None) -> str:
        return self.definition.roles.get(role or "", role or "")

    def common(
        self, recipient: c.Recipient | None = None, signed_by: _Logged | None = None
    ) -> dict[str, Any]:
        """The fields every letter has; to the applicant unless another ``recipient`` is given, signed by
        the officer who took the step unless the letter is signed for an earlier one (``signed_by``)."""
        actor, role = (signed_by.actor, signed_by.role) if signed_by else (self.step.actor, self.step.role)
        return {
            "recipient": recipient or self.applicant(),
            "branding": c.load_branding(self.case.district),
            "case_reference": self.case.reference,
            "letter_date": self.letter_date,
            "officer": c.Officer(name=self.full_name(actor), job_title=self.job_title(role)),
        }

    def site(self) -> dict[str, Any]:
        """The fields every letter to the contractor about the works has."""
        return {
            # One works order per case, so the case reference numbers it: every letter on it quotes it.
            "order_number": f"WO-{self.case.reference}",
            "applicant_name": self.person("applicant").full_name,
            "site_address": self.home,
        }

    def review_by(self) -> date:
        """The last day to ask for a review: the review window runs from the date of the letter."""
        return default_clock_policy().period("review_window", self.letter_date).after(self.letter_date)

    def reason(self, lead: str = "") -> str:
        """Why, in sentences: ``lead``, the label of the step's reason code, and the reason as recorded."""
        trigger = self.definition.triggers.get(self.step.trigger)
        codes = self.definition.reason_codes.get(trigger.reason_codes or "", {}) if trigger else {}
        label = codes.get(self.step.code or "") if self.step.code != "other" else None
        parts = [_sentence(p) for p in (lead, label, self.step.reason) if p and p.strip()]
        if not parts:
            raise _Missing(f"no reason is recorded for the {self.step.trigger} step")
        return " ".join(parts)

    # ------------------------------------------------------------------ the case's records at the step

    @cached_property
    def history(self) -> tuple[_Logged, ...]:
        """The case's events up to and including the step, oldest first: what had happened by then."""
        with self.db.read_connection() as connection:
            rows = connection.execute(
                select(
                    EVENTS.c.seq,
                    EVENTS.c.kind,
                    EVENTS.c.trigger,
                    EVENTS.c.actor,
                    EVENTS.c.role,
                    EVENTS.c.reason,
                    EVENTS.c.payload,
                )
                .where(EVENTS.c.case_id == self.case.id, EVENTS.c.seq <= self.step.seq)
                .order_by(EVENTS.c.seq)
            ).all()
        return tuple(
            _Logged(r.seq, r.kind, r.trigger, r.actor, r.role, r.reason, json.loads(r.payload)) for r in rows
        )

    def row(self, query: Any, missing: str) -> Row[Any]:
        with self.db.read_connection() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise _Missing(missing)
        return row

    def record(self, name: str) -> int:
        """The id of the record (``approval``, ``payment``...) the step's own event names."""
        value = self.step.payload.get(name)
        if not isinstance(value, int):
            raise _Missing(f"the {self.step.trigger} step names no {name.replace('_', ' ')} record")
        return value

    def approval(self) -> Row[Any]:
        """The approval version in force at the step: the one its own event names (``approve``,
        ``vary_works``), or else the one the last of those before it named."""
        named = next(
            (
                e.payload["approval"]
                for e in reversed(self.history)
                if e.kind == "transition" and isinstance(e.payload.get("approval"), int)
            ),
            None,
        )
        if named is None:
            raise _Missing("no approval is recorded on the case before this step")
        return self.row(_APPROVAL.where(APPROVALS.c.id == named), f"approval {named} is not recorded")

    def approval_version(self, version: int) -> Row[Any]:
        """Another version of the case's approval (the one a variation varied)."""
        return self.row(
            _APPROVAL.where(APPROVALS.c.case_id == self.case.id, APPROVALS.c.version == version),
            f"version {version} of the approval is not recorded",
        )

    def first_approval(self, approval: Row[Any]) -> Row[Any]:
        """The approval itself that ``approval`` is, or varies: its date starts the 12 months."""
        if approval.kind == "approval":
            return approval
        return self.row(
            _APPROVAL.where(
                APPROVALS.c.case_id == self.case.id,
                APPROVALS.c.kind == "approval",
                APPROVALS.c.version < approval.version,
            )
            .order_by(APPROVALS.c.version.desc())
            .limit(1),
            f"no approval is recorded before version {approval.version} of it",
        )

    def selection(self, approval: Row[Any]) -> Row[Any] | None:
        """The estimate selected when the approval was given (the latest selection before it), if any."""
        first = self.first_approval(approval)
        approved = next((e.seq for e in self.history if e.payload.get("approval") == first.id), None)
        chosen = [
            e.payload["decision"]
            for e in self.history
            if e.kind == "estimate_selected" and (approved is None or e.seq < approved)
        ]
        if not chosen:
            return None
        return self.row(
            select(
                ESTIMATE_DECISIONS.c.eligible_works_pence,
                ESTIMATE_DECISIONS.c.applicant_pays_pence,
                ESTIMATE_DECISIONS.c.reason,
                ESTIMATES.c.price_pence,
                ESTIMATES.c.received_on,
                ESTIMATES.c.contractor_reference,
                CONTRACTORS.c.name,
            )
            .join(ESTIMATES, ESTIMATES.c.id == ESTIMATE_DECISIONS.c.estimate_id)
            .join(CONTRACTORS, CONTRACTORS.c.id == ESTIMATES.c.contractor_id)
            .where(ESTIMATE_DECISIONS.c.id == chosen[-1]),
            f"estimate selection {chosen[-1]} is not recorded",
        )

    def completion_due(self, approval: Row[Any]) -> date:
        """When the works must be complete by, as it stood at the step: the approval date + 12 months,
        moved by each completion extension recorded before the step."""
        extensions = [
            CompletionExtension(
                reason=e.reason or "", months=e.payload.get("months"), new_date=e.day("new_date")
            )
            for e in self.history
            if e.kind == COMPLETION_EXTENDED and e.seq < self.step.seq
        ]
        return completion_due(self.first_approval(approval).decided_on, extensions)

    def contractor(self, contractor_id: int | None) -> c.Recipient:
        """The contractor as the register has them, to address a letter to; waits if they have no usable
        address there."""
        if contractor_id is None:
            raise _Missing("no contractor is recorded with the approval: the estimate selected names none")
        row = self.row(
            select(CONTRACTORS).where(CONTRACTORS.c.id == contractor_id),
            f"contractor {contractor_id} is not on the register",
        )
        return _contractor_recipient(row.name, row.contact_name, row.address)


def _contractor_recipient(name: str, contact: str | None, address: str | None) -> c.Recipient:
    """A contractor's envelope: the register keeps the address on one line, postcode last."""
    fix = f'record it with \'dfg contractor update "{name}" --address "..."\''
    if not address or not address.strip():
        raise _Missing(f"{name} has no address on the contractor register: {fix}")
    parts = [p.strip() for p in re.split(r"[,\n]", address) if p.strip()]
    found = _POSTCODE.search(parts[-1])
    if found is None:
        raise _Missing(
            f"the address of {name} on the contractor register does not end with a postcode: {fix}"
        )
    last = parts[-1][: found.start()].strip()
    lines = (*parts[:-1], last) if last else tuple(parts[:-1])
    if not lines or len(lines) > c.MAX_ADDRESS_LINES:
        raise _Missing(
            f"the address of {name} on the contractor register needs 1 to {c.MAX_ADDRESS_LINES} lines before "
            f"the postcode, separated by commas: {fix}"
        )
    return c.Recipient(
        name=name,
        address_lines=lines,
        postcode=f"{found[1]} {found[2]}".upper(),
        salutation=contact or None,
    )


def _assessment_appointment(src: _Source) -> c.LetterContext:
    booked = src.row(
        select(APPOINTMENTS).where(APPOINTMENTS.c.id == src.record("appointment")),
        f"appointment {src.step.payload.get('appointment')} is not recorded",
    )
    common = src.common()
    return c.AssessmentAppointment(
        **common,
        appointment_at=booked.appointment_at.astimezone(ENGLAND),  # the time as the applicant's clock shows
        assessor_name=booked.assessor_name,
        assessor_role=booked.assessor_role,
        assessor_organisation=booked.assessor_organisation,
        location=booked.location,
        rearrange_phone=common["branding"].phone,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _acknowledgement(src: _Source) -> c.LetterContext:
    case = src.case
    source = case.referral_source
    # Without a recorded source the letter says only that a referral came (it names nobody).
    referred_by = None if not source else "you" if source.lower() in ("self", "self-referral") else source
    # We promise contact within the stage 1 target (contact to assessment) that started with this step.
    targets = default_clock_policy().service_targets(case.first_contact_date)
    days = targets.by_priority[cast(Priority, case.priority)].stages.get(1)
    if days is None:
        raise _Missing("no stage 1 service target is configured, so the letter cannot say when we will call")
    calendar = default_calendar_policy().for_district(case.district)
    occupant = src.disabled_occupant()
    return c.Acknowledgement(
        **src.common(),
        referral_date=case.first_contact_date,
        referred_by=referred_by,
        disabled_occupant_name=None if occupant.is_applicant else occupant.plain_name,
        next_contact_by=calendar.add_working_days(src.step.effective_date, days),
    )


_OUTCOME_SUMMARY: Mapping[str, tuple[Literal["passported", "child", "landlord", "assessed"], str]] = {
    "passported": (
        "passported",
        "You, or your partner, get a benefit that means you do not need to pay anything towards the work.",
    ),
    "child_exempt": (
        "child",
        "The grant is for a disabled child or young person, so there is no test of your income and savings "
        "and you do not need to pay anything towards the work.",
    ),
    "landlord": ("landlord", "A landlord's application is not means-tested."),
    "nil": (
        "assessed",
        "We assessed your income and savings. You do not need to pay anything towards the work.",
    ),
    "assessed": (
        "assessed",
        "We assessed your income and savings. You need to pay part of the cost of the work.",
    ),
}


def _test_of_resources_result(src: _Source) -> c.LetterContext:
    # The determination in force when the step was taken (a later one would change a reprint).
    found = [
        d
        for d in determinations(src.db, src.actor, src.case.reference)
        if d.recorded_at <= src.step.occurred_at
    ]
    if not found:
        raise _Missing("no test of resources is recorded on the case")
    record = found[-1]
    result = record.determination
    outcome, summary = _OUTCOME_SUMMARY[result.outcome]
    table = rates_for(result.assessed_on)
    rates = (
        f"the {table.jurisdiction.capitalize()} rates in force from {long_date(table.effective_from)}"
        if table.version == result.rates_version
        else f"the rates {result.rates_version}"
    )
    return c.TestOfResourcesResult(
        **src.common(),
        outcome=outcome,
        outcome_summary=summary,
        contribution=result.contribution_pence,
        workings=tuple(_working_line(t, result.loan_factor) for t in result.trace),
        rates_version=rates,
        assessment_date=result.assessed_on,
        provisional=record.provisional,
        query_by=src.review_by(),
    )


def _working_line(line: TraceLine, loan_factor: Fraction | None) -> c.WorkingLine:
    """One line of the workings: the figure in the amount column, its working and rule beneath the label.

    A line without money is the loan factor (its figure) or a finding, such as a premium not applied,
    whose amount column shows a dash: the working beneath says what was found.
    """
    basis = f"{line.working} ({line.rule})"
    if line.pence is not None:
        return c.WorkingLine(label=line.step, amount=line.pence, basis=basis)
    if (line.rate_key or "").startswith("loan_factor.") and loan_factor is not None:
        return c.WorkingLine(label=line.step, figure=format_factor(loan_factor), basis=basis)
    return c.WorkingLine(label=line.step, figure="–", basis=basis)


def _valid_application_received(src: _Source) -> c.LetterContext:
    valid_on = src.step.day("valid_application_date") or src.step.effective_date
    return c.ValidApplicationReceived(
        **src.common(), valid_application_date=valid_on, decision_due=decision_due(valid_on)
    )


def _works_description(src: _Source, on: date) -> str:
    """The eligible works as the latest assessment up to ``on`` recommended them, by catalogue label."""
    works = catalogue().works
    found = [
        a
        for a in assessments_of(src.db, src.actor, src.case.reference)
        if a["kind"] == "assessment" and date.fromisoformat(a["date"]) <= on
    ]
    if not found:
        return "The eligible works"
    labels = []
    for item in found[-1]["works"]:
        code, _, description = str(item).partition(": ")
        labels.append(description or (works[code].label if code in works else code))
    return f"The eligible works: {'; '.join(labels)}"


def _grant_condition_years(on: date) -> int:
    period = default_clock_policy().period("grant_condition_period", on)
    if period.unit != "years":
        raise ConfigurationError(f"the grant condition period must be in years, not {period}")
    return period.amount


def _calculation(src: _Source, approval: Row[Any], works_how: str | None) -> c.GrantCalculation:
    """The figures of an approval version, each with how it was calculated, from the grant calculation
    the version approved (``works_how`` explains the works; by default the calculation's own working)."""
    record = grant_calculation(src.db, src.actor, src.case.reference, approval.grant_calculation_id)
    figures = record.calculation
    how = {w["item"]: w["how_calculated"] for w in figures["workings"]}
    tested_on = determination(src.db, src.actor, src.case.reference, record.determination_id).determined_on
    funded = [f"{f['label']}: {f['how_calculated']}" for f in figures["funding"] if f["applies"]]
    grant_basis = "; ".join([how["Mandatory grant"], *funded])
    return c.GrantCalculation(
        works=(
            c.PricedItem(
                description=_works_description(src, src.first_approval(approval).decided_on),
                amount=figures["works_pence"],
                how_calculated=_sentence(works_how or how["Eligible works"]),
            ),
        ),
        charges=tuple(
            c.PricedItem(
                description=ch["label"], amount=ch["amount_pence"], how_calculated=ch["how_calculated"]
            )
            for ch in figures["charges"]
        ),
        contribution=figures["contribution_pence"],
        contribution_basis=f"From your test of resources of {longdate(tested_on)}.",
        # The amount the version approved, as recorded with it (the calculation's, never typed in).
        grant=approval.grant_pence,
        grant_basis=_sentence(grant_basis[:1].upper() + grant_basis[1:]),
    )


def _land_charge(tenure: str, approval: Row[Any]) -> tuple[int | None, LandChargeTerms | None]:
    """The amount a land charge would secure for this approval, by the terms in force on its date (the
    charge secures the mandatory grant, 2008 general consent; funding lines carry their own terms), and
    the terms; (None, terms) when no charge applies, (None, None) before any terms were in force."""
    try:
        terms = land_charge_for(approval.decided_on)
    except InvalidInput:
        return None, None
    due = land_charge_due_pence(tenure, approval.grant_pence, approval.decided_on)
    return (due or None), terms


def _approval_notice(src: _Source) -> c.LetterContext:
    approval = src.approval()
    selection = src.selection(approval)
    works_how = (
        None
        if selection is None
        else explain_selection(
            selection.name,
            selection.price_pence,
            selection.eligible_works_pence,
            selection.applicant_pays_pence,
            selection.reason,
        )
    )
    charge, terms = _land_charge(src.case.tenure, approval)
    common, occupant = src.common(), src.disabled_occupant()
    if approval.contractor_name is None:
        raise _Missing("the approval records no contractor: no estimate was selected (contractor_name)")
    return c.ApprovalNotice(
        **common,
        approval_date=approval.decided_on,
        disabled_occupant_name=occupant.plain_name,
        calculation=_calculation(src, approval, works_how),
        contractor_name=approval.contractor_name,
        # The approver recorded whether the council pays the contractor directly, as the applicant was told.
        direct_payment="will" if approval.pay_contractor_directly else "will not",
        deferred_payment_date=approval.deferred_payment_date,
        completion_due=src.completion_due(approval),
        conditions=tuple(json.loads(approval.conditions)["conditions"]),
        grant_condition_years=_grant_condition_years(approval.decided_on),
        land_charge_amount=charge,
        # Before any terms were in force no charge applies, and the notice says nothing of one.
        land_charge_years=terms.years if terms else 0,
        review_by=src.review_by(),
    )


def _reapproval_variation(src: _Source) -> c.LetterContext:
    variation = src.approval()
    if variation.kind != "variation":
        raise _Missing(f"the {src.step.trigger} step names no variation of the approval (changes)")
    before = src.approval_version(variation.version - 1)
    change = variation.variation_price_pence
    works_how = (
        f"The works as approved before this change, {pounds(before.works_pence)}, and the change, "
        f"{pounds(change)}: {pounds(variation.works_pence)}"
    )
    return c.ReapprovalVariation(
        **src.common(),
        original_approval_date=src.first_approval(variation).decided_on,
        reapproval_date=variation.decided_on,
        reason=_sentence(variation.variation),
        changes=(
            c.PricedItem(
                description=variation.variation,
                amount=change,
                how_calculated=f"The price of the change, approved on {longdate(variation.decided_on)}",
            ),
        ),
        previous_grant=before.grant_pence,
        calculation=_calculation(src, variation, works_how),
        completion_due=src.completion_due(variation),
        review_by=src.review_by(),
    )


def _refusal_notice(src: _Source) -> c.LetterContext:
    step, case = src.step, src.case
    decided_on = step.day("refusal_date") or step.effective_date
    recorded = [
        a
        for a in assessments_of(src.db, src.actor, case.reference)
        if date.fromisoformat(a["date"]) <= decided_on
    ]
    assessment = next((a for a in reversed(recorded) if a["kind"] == "assessment"), None)
    feasibility = next((a for a in reversed(recorded) if a["kind"] == "feasibility"), None)

    def finding(code: str, what: str, found: tuple[bool, str] | None) -> c.Finding:
        """The finding on one statutory test: the refusal's own reasons if it was refused on this test,
        otherwise what the assessment or the feasibility finding recorded."""
        if step.code == code:
            return c.Finding(met=False, reasons=src.reason())
        if found is None:
            raise _Missing(f"no {what} is recorded on the case, and a refusal notice must state it")
        return c.Finding(met=found[0], reasons=found[1])

    purposes = catalogue().purposes
    by_ot = (
        None
        if assessment is None
        else f"{assessment['by']} assessed the home on {longdate(date.fromisoformat(assessment['date']))}."
    )
    purpose = finding(
        "not_s23_purpose",
        "OT assessment (the s.23 purpose)",
        None
        if assessment is None
        else (
            True,
            f"{by_ot} The work is for: {'; '.join(purposes.get(p, p) for p in assessment['purposes'])}.",
        ),
    )
    needed = finding(
        "not_necessary_appropriate",
        "OT assessment (necessary and appropriate)",
        None
        if assessment is None
        else (
            assessment["finding"] == "necessary and appropriate",
            f"{by_ot} {_sentence(assessment['reasons'])}",
        ),
    )
    practicable = finding(
        "not_reasonable_practicable",
        "feasibility finding (reasonable and practicable)",
        None
        if feasibility is None
        else (feasibility["finding"] == "reasonable and practicable", _sentence(feasibility["reasons"])),
    )
    other = (src.reason(),) if step.code in ("works_begun", "other") else ()
    if case.valid_application_date is None:
        raise _Missing("the date of the valid application is not recorded (valid_application_date)")
    return c.RefusalNotice(
        **src.common(),
        decision_date=decided_on,
        valid_application_date=case.valid_application_date,
        purpose=purpose,
        necessary_and_appropriate=needed,
        reasonable_and_practicable=practicable,
        other_reasons=other,
        review_by=src.review_by(),
    )


# Fixed wording on what happens next, by trigger (hold: by reason code). Why a case closed is the step's
# own reason where it has one; these lead sentences say what the step itself means.
_CLOSED_BECAUSE = {
    "assess_not_eligible": "The assessment found no work that a Disabled Facilities Grant can pay for.",
    "uphold_refusal": "We looked again at our decision to refuse your application, and the refusal stands.",
    "close_refused": "We refused your application, and the time to ask us to review that decision has passed.",
    "close": "Your adaptation work is finished and the grant has been paid.",
}
_AFTER_CLOSURE = {
    "assess_not_eligible": (
        "Your occupational therapist can advise you about other help, such as equipment.",
    ),
    "uphold_refusal": (
        "If you are unhappy with how we dealt with your application, you can complain to us, and then to "
        "the Local Government and Social Care Ombudsman.",
    ),
    "close_refused": (
        "If you are unhappy with how we dealt with your application, you can complain to us, and then to "
        "the Local Government and Social Care Ombudsman.",
    ),
    "close": (
        "You do not need to do anything.",
        "Keep this letter with your other papers about your home: the conditions of the grant still apply.",
    ),
}
_AFTER_HOLD = {
    "hospital": "Please call us, or ask someone to call for you, when you know when you will be home.",
    "applicant_request": "Please call us when you would like us to carry on.",
    "awaiting_information": "Please send us the information we asked for as soon as you can.",
    "awaiting_consent": "We are waiting for the owner's or landlord's consent to the work.",
    "awaiting_planning": "We are waiting for planning permission or building control approval.",
}
_HOLD_OTHERWISE = "We will write to you before we take the next step on your case."


def _request_for_information(src: _Source) -> c.LetterContext:
    """What the step's reason says is missing (one item per line or semicolon), by its reply-by date."""
    reply_by = src.step.day("reply_by")
    if reply_by is None:  # steps recorded before the date was asked for
        raise _Missing("the date to reply by is not recorded on the request_information step (reply_by)")
    wanted = [part.strip() for part in re.split(r"[;\n]", src.step.reason or "") if part.strip()]
    if not wanted:
        raise _Missing("the request_information step records nothing asked for (its reason)")
    return c.RequestForInformation(
        **src.common(),
        items=tuple(c.InformationRequest(what=_sentence(w[0].upper() + w[1:])) for w in wanted),
        reply_by=reply_by,
    )


def _hold_notice(src: _Source) -> c.LetterContext:
    review = src.step.day("hold_review_date")
    if review is None:
        raise _Missing("no review date is recorded for the hold (hold_review_date)")
    return c.HoldNotice(
        **src.common(),
        hold_date=src.step.effective_date,
        reason=src.reason(),
        review_date=review,
        next_steps=(_AFTER_HOLD.get(src.step.code or "", _HOLD_OTHERWISE),),
    )


def _withdrawal_notice(src: _Source) -> c.LetterContext:
    return c.WithdrawalNotice(
        **src.common(),
        withdrawal_date=src.step.effective_date,
        reason=src.reason(),
        next_steps=("We have stopped work on your application and will not contact you again about it.",),
    )


def _closure_notice(src: _Source) -> c.LetterContext:
    trigger = src.step.trigger
    return c.ClosureNotice(
        **src.common(),
        closure_date=src.step.day("closed_date") or src.step.effective_date,
        reason=src.reason(_CLOSED_BECAUSE.get(trigger, "")),
        next_steps=_AFTER_CLOSURE.get(trigger, ("You do not need to do anything.",)),
    )


# ---------------------------------------------------------------------- the works, the money, the charge


def _works_order(src: _Source) -> c.LetterContext:
    approval = src.approval()  # in force when the works were ordered: the approval or its latest variation
    contractor = src.contractor(approval.contractor_id)
    selection = src.selection(approval)
    if selection is None:
        raise _Missing(
            "no estimate was selected before the approval: the order must name it (estimate_reference)"
        )
    quoted = f"{selection.contractor_reference} " if selection.contractor_reference else ""
    how = [f"Your estimate {quoted}of {longdate(selection.received_on)}: {pounds(selection.price_pence)}"]
    if selection.applicant_pays_pence:
        how.append(
            f"the grant is worked out on {pounds(selection.eligible_works_pence)}, and the applicant pays the "
            f"other {pounds(selection.applicant_pays_pence)}"
        )
    if approval.works_pence != selection.eligible_works_pence:
        how.append(
            f"changed by {pounds(approval.works_pence - selection.eligible_works_pence)} by the variations "
            "approved since"
        )
    branding = c.load_branding(src.case.district)
    ordered_on = src.step.day("works_ordered_date") or src.step.effective_date
    return c.WorksOrder(
        **src.common(contractor),
        **src.site(),
        estimate_reference=f"{quoted}of {longdate(selection.received_on)}",
        works=(
            c.PricedItem(
                description=_works_description(src, src.first_approval(approval).decided_on),
                amount=approval.works_pence,
                how_calculated=_sentence("; ".join(how)),
            ),
        ),
        start_from=ordered_on,
        complete_by=src.completion_due(approval),
        invoice_to=f"{branding.email}, or by post to {', '.join(branding.address_lines)}, {branding.postcode}",
        interim_limit_percent=int(load_works_policy(src.case.district).interim_cap * 100),
        paid_directly=bool(approval.pay_contractor_directly),
        site_contact_phone=src.person("applicant").phone,
    )


def _completion_reminder(src: _Source) -> c.LetterContext:
    """The reminder of the completion due date, to the contractor of the works order: from a ``reminder``
    event of the daily tick on the ``completion_due`` clock, which records the due date it reminds of."""
    step = src.step
    if step.trigger != REMINDER_EVENT or step.payload.get("clock") != "completion_due":
        raise _Missing(
            "a completion reminder is made from the daily tick's reminder on the completion_due clock "
            f"(workflows/policy/reminders.toml), not from the {step.trigger} step"
        )
    complete_by = step.day("due")
    if complete_by is None:
        raise _Missing("the reminder records no due date (due)")
    # The step that issued the works order: the latest before the reminder whose letters include it.
    order = next(
        (
            e
            for e in reversed(src.history)
            if e.kind == "transition" and "works_order" in e.payload.get("letters", ())
        ),
        None,
    )
    if order is None:
        raise _Missing("no works order was issued before the reminder: there is no order to remind of")
    ordered_on = order.day("works_ordered_date") or order.day("effective_date")
    if ordered_on is None:
        raise _Missing("the works order step records no date (effective_date)")
    approval = src.approval()  # in force at the reminder: the approval or its latest variation
    return c.CompletionReminder(
        # Signed by the officer who ordered the works: the tick's own user is a scheduler, not an officer.
        **src.common(src.contractor(approval.contractor_id), signed_by=order),
        **src.site(),
        ordered_on=ordered_on,
        complete_by=complete_by,
    )


def _variation_order(src: _Source) -> c.LetterContext:
    variation = src.approval()
    if variation.kind != "variation":
        raise _Missing(f"the {src.step.trigger} step names no variation of the approval (changes)")
    before = src.approval_version(variation.version - 1)
    first = src.first_approval(variation)
    return c.VariationOrder(
        **src.common(src.contractor(variation.contractor_id)),
        **src.site(),
        variation_number=variation.version - first.version,
        changes=(c.PricedItem(description=variation.variation, amount=variation.variation_price_pence),),
        reason=_sentence(variation.variation),
        previous_order_total=before.works_pence,
        authorised_by=src.full_name(variation.approved_by),
        authorised_by_role=src.job_title("approver"),
        authorised_on=variation.decided_on,
        countersigned_by=src.full_name(variation.second_approver) if variation.second_approver else None,
    )


def _payment_advice(src: _Source) -> c.LetterContext:
    """The remittance advice of ``pay_interim`` or ``pay_final``: the payment its own event names."""
    payment = src.row(
        select(PAYMENTS).where(PAYMENTS.c.id == src.record("payment")),
        f"payment {src.step.payload.get('payment')} is not recorded",
    )
    to_applicant = payment.payee != "contractor"  # the approval said the council pays the applicant
    with src.db.read_connection() as connection:
        before = connection.execute(
            select(func.count(), func.coalesce(func.sum(PAYMENTS.c.amount_pence), 0)).where(
                PAYMENTS.c.case_id == src.case.id, PAYMENTS.c.id < payment.id
            )
        ).one()
        invoices = [e.payload["invoice"] for e in src.history if e.kind == "invoice_recorded"]
        # The contractor's latest invoice received by the time of the payment is the one it pays.
        invoice = connection.scalar(
            select(INVOICES.c.invoice_reference)
            .where(
                INVOICES.c.id.in_(invoices),
                *([] if to_applicant else [INVOICES.c.contractor_id == payment.contractor_id]),
            )
            .order_by(INVOICES.c.received_on.desc(), INVOICES.c.id.desc())
            .limit(1)
        )
    number, paid_before = int(before[0]) + 1, int(before[1])
    if payment.kind == "final":
        certified = next(
            (e for e in reversed(src.history) if e.kind == "transition" and e.trigger == "certify"), None
        )
        if certified is None:
            raise _Missing("no certified date is recorded before the final payment")
        valuation, valued_on = paid_before + payment.amount_pence, certified.day("certified_date")
        valued_by = f"{src.full_name(certified.actor)}, {src.job_title(certified.role)}"
    else:
        valuation, valued_on = payment.work_done_pence, payment.paid_on
        valued_by = f"{src.full_name(payment.recorded_by)}, {src.job_title(src.step.role)}"
    return c.InterimPayment(
        **src.common(None if to_applicant else src.contractor(payment.contractor_id)),
        **src.site(),
        payment_number=number,
        invoice_reference=invoice,
        valuation_amount=valuation,
        valuation_date=valued_on or payment.paid_on,
        valued_by=valued_by,
        previous_payments=paid_before,
        amount=payment.amount_pence,
        payment_date=payment.paid_on,
        # The case reference and the payment's number: what the payment carries to the contractor's bank.
        payment_reference=f"{src.case.reference}-P{number}",
        final=payment.kind == "final",
        paid_to_applicant=to_applicant,
    )


def _payable(src: _Source, approval: Row[Any]) -> int:
    """The grant payable for the works at the step: the approved assistance of the version in force, or
    less if the council decided so after entitlement ceased (s.40, s.41)."""
    ceased, limit = entitlement_from((e.kind, e.payload) for e in src.history)
    if ceased and limit is None:
        raise _Missing("entitlement ceased and no decision on what to pay is recorded (grant_paid)")
    total = int(approval.total_assistance_pence)
    return total if limit is None else min(total, limit)


def _completion_certified(src: _Source) -> c.LetterContext:
    approval = src.approval()
    certified_on = src.step.day("certified_date") or src.step.effective_date
    charge, terms = _land_charge(src.case.tenure, approval)
    direct = approval.pay_contractor_directly and approval.contractor_name is not None
    return c.CompletionCertified(
        **src.common(),
        certified_date=certified_on,
        grant_paid=_payable(src, approval),
        # As the payments go: to the contractor when the approval says so, otherwise to the applicant.
        paid_to=approval.contractor_name if direct else "you",
        grant_condition_end=add_years(certified_on, _grant_condition_years(certified_on)),
        disabled_occupant_name=src.disabled_occupant().plain_name,
        land_charge_amount=charge,
        land_charge_expiry=charge_expiry(certified_on, terms) if charge and terms else None,
    )


def _land_charge_notice(src: _Source) -> c.LetterContext:
    charge = src.row(
        select(LAND_CHARGES).where(LAND_CHARGES.c.id == src.record("land_charge")),
        f"land charge {src.step.payload.get('land_charge')} is not recorded",
    )
    certified_on = src.step.day("certified_date")
    grant = src.step.payload.get("grant_pence")
    if certified_on is None or not isinstance(grant, int):
        raise _Missing(
            "the registration does not record the grant and the certified date (grant, certified_date)"
        )
    return c.LandChargeNotice(
        **src.common(),
        property_address=src.home,
        grant=grant,
        land_charge_amount=charge.repayable_pence,
        certified_date=certified_on,
        registered_on=charge.registered_on,
        expiry=charge.expires_on,
    )


def _weighed(factors: Sequence[str]) -> str:
    if list(factors) in ([], ["none"]):
        return (
            "We looked at whether repaying would cause you financial hardship, or whether you moved for your "
            "health, to give or receive care, or for work, and found none of these applies."
        )
    labels = [REPAYMENT_FACTORS.get(f, f) for f in factors]
    said = "; ".join(label[:1].lower() + label[1:] for label in labels)
    return f"We took into account that: {said}."


def _repayment_demand(src: _Source) -> c.LetterContext:
    decision = src.row(
        select(REPAYMENT_DECISIONS).where(REPAYMENT_DECISIONS.c.id == src.record("repayment_decision")),
        f"repayment decision {src.step.payload.get('repayment_decision')} is not recorded",
    )
    charge = src.row(
        select(LAND_CHARGES).where(LAND_CHARGES.c.id == decision.land_charge_id),
        f"land charge {decision.land_charge_id} is not recorded",
    )
    registered = next(
        (
            e
            for e in src.history
            if e.kind == "transition"
            and e.payload.get("land_charge") == charge.id
            and "registry_reference" in e.payload
        ),
        None,
    )
    if registered is None or registered.day("certified_date") is None:
        raise _Missing("the registration of the land charge is not recorded (certified_date, grant)")
    certified_on = registered.day("certified_date")
    assert certified_on is not None
    grant = int(registered.payload["grant_pence"])
    repayable, demanded = int(charge.repayable_pence), int(decision.demanded_pence)
    terms = next((t for t in load_land_charge_terms() if t.version == charge.terms_version), None)
    secures = (
        f"the grant of {pounds(grant)} less {pounds(terms.floor_pence)}, at most {pounds(terms.cap_pence)}"
        if terms
        else f"part of the grant of {pounds(grant)}"
    )
    outcome = (
        f"We have therefore decided to ask you to repay the full {pounds(repayable)}."
        if decision.decision == "full"
        else f"We have therefore decided to ask you to repay {pounds(demanded)} of the {pounds(repayable)}."
    )
    review_by = src.review_by()
    return c.RepaymentDemand(
        **src.common(),
        property_address=src.home,
        certified_date=certified_on,
        grant=grant,
        event="Your home was sold, given away or transferred to someone else",
        event_date=decision.disposal_on,
        basis=(
            f"We registered a local land charge on your home on {longdate(charge.registered_on)} for "
            f"{pounds(repayable)}: {secures}. It lasts until {longdate(charge.expires_on)}, so it applies "
            "to this disposal."
        ),
        discretion_considered=" ".join(
            (
                _weighed(decision.factors.split(",") if decision.factors else []),
                _sentence(decision.reason),
                outcome,
            )
        ),
        amount=demanded,
        # Payment is asked for within the same window as a review: the review window from the letter.
        pay_by=review_by,
        payment_reference=f"{src.case.reference}-LC",
        review_by=review_by,
    )


_BUILDERS: Mapping[str, Callable[[_Source], c.LetterContext]] = {
    "acknowledgement": _acknowledgement,
    "assessment_appointment": _assessment_appointment,
    "test_of_resources_result": _test_of_resources_result,
    "request_for_information": _request_for_information,
    "valid_application_received": _valid_application_received,
    "approval_notice": _approval_notice,
    "refusal_notice": _refusal_notice,
    "reapproval_variation": _reapproval_variation,
    "works_order": _works_order,
    "variation_order": _variation_order,
    "interim_payment": _payment_advice,
    "completion_reminder": _completion_reminder,
    "completion_certified": _completion_certified,
    "land_charge_notice": _land_charge_notice,
    "hold_notice": _hold_notice,
    "withdrawal_notice": _withdrawal_notice,
    "closure_notice": _closure_notice,
    "repayment_demand": _repayment_demand,
}


@dataclass
class _Built:
    """Contexts built for a queue, and the letters that could not be built, with why."""

    ready: list[tuple[_Step, str, c.LetterContext]] = field(default_factory=list)
    waiting: list[Pending] = field(default_factory=list)
    failed: list[Pending] = field(default_factory=list)


def _build(db: Database, actor: Actor, queue: _Queue, letter_date: date) -> _Built:
    built = _Built()
    for step, kind in queue.steps:
        build = _BUILDERS.get(kind)
        try:
            if build is None:
                raise _Missing(f"{kind!r} is not a kind of letter this version of dfg can produce")
            if step.trigger == REMINDER_EVENT and not contract_for(kind).reminder:
                raise _Missing(f"{kind!r} is made by a step of the workflow, not by a reminder")
            context = build(_Source(db, actor, step, letter_date, queue.officers))
        except (_Missing, DfgError) as exc:
            # Data the letter needs is not on the case (or is not what the letter allows): it waits.
            built.waiting.append(step.pending(kind, str(exc)))
        except Exception as exc:  # a fault in this code or an old event: report it, build the others
            built.failed.append(
                step.pending(kind, f"could not build the letter: {type(exc).__name__}: {exc}")
            )
        else:
            built.ready.append((step, kind, context))
    return built


# ---------------------------------------------------------------------- rendering and recording


def template_version(kind: str, templates_dir: Path | None = None) -> str:
    """A digest of the template sources a letter of ``kind`` is made from: its template, every template it
    extends, includes or imports, the stylesheet and the page layout. Recorded with each letter, so the
    register says which version of the wording produced it."""
    return _template_digest(kind, templates_dir or letter_templates_dir())


@cache
def _template_digest(kind: str, root: Path) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(root))
    names: set[str] = set()
    todo = [f"{kind}.html"]
    while todo:
        name = todo.pop()
        if name in names:
            continue
        names.add(name)
        source = (root / name).read_text(encoding="utf-8")
        todo.extend(n for n in meta.find_referenced_templates(env.parse(source)) if n is not None)
    digest = hashlib.sha256()
    for name in (*sorted(names), *_SHARED_SOURCES):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _pdf_identity(event_id: int, kind: str, *, copy: bool = False) -> str:
    """What names a letter inside its PDF (its /ID): the step and kind, so re-rendering an original from
    the same data and creation time gives the same bytes; a copy is a document of its own."""
    return f"dfg-letter/{event_id}/{kind}" + ("/copy" if copy else "")


def _rendered(jobs: Sequence[LetterJob], workers: int | None) -> Iterator[bytes | Exception]:
    """Each job's PDF, or the exception that stopped it, in the order of ``jobs``.

    :func:`render_many` stops at the first failure, and a worker loses the rest of the failing letter's
    chunk; so after a failure the next letters are rendered here, one at a time, until the failing one is
    found, and the pool carries on after it. A configuration error (a resource missing from the templates
    folder) would fail every letter, so it ends the run: the rest stay pending.
    """
    start = 0
    while start < len(jobs):
        done = 0
        try:
            for pdf in render_many(jobs[start:], workers=workers):
                done += 1
                yield pdf
            return
        except Exception:
            start += done
        while start < len(jobs):
            job = jobs[start]
            start += 1
            try:
                yield render_pdf(
                    job.kind, job.context, letter_id=job.letter_id, created_at=job.created_at, copy=job.copy
                )
            except ConfigurationError as exc:
                for _ in range(start - 1, len(jobs)):
                    yield exc
                return
            except Exception as exc:
                yield exc
                break


class _AlreadyProduced(Exception):
    """Another run recorded this original first."""


def _record(
    db: Database,
    actor: Actor,
    role: str,
    step: _Step,
    kind: str,
    context: c.LetterContext,
    pdf: bytes,
    created_at: datetime,
    copy_of: int | None = None,
) -> LetterRecord | None:
    """Store the letter and append its ``letter_produced`` event, in one transaction; None when another
    run produced the same original first. Retries when the case changed in between (an officer acting)."""
    digest = hashlib.sha256(pdf).hexdigest()
    recipient_role = context.recipient_role(contract_for(kind).recipient)
    version = template_version(kind)
    made: dict[str, int] = {}

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        if copy_of is None and connection.scalar(
            select(LETTERS.c.id).where(
                LETTERS.c.event_id == step.event_id, LETTERS.c.kind == kind, LETTERS.c.copy_of.is_(None)
            )
        ):
            raise _AlreadyProduced
        made["id"] = connection.execute(
            insert(LETTERS).returning(LETTERS.c.id),
            {
                "case_id": case_id,
                "event_id": step.event_id,
                "kind": kind,
                "recipient_name": context.recipient.name,
                "recipient_role": recipient_role,
                "template_version": version,
                "created_by": actor.username,
                "created_at": created_at,
                "pdf": pdf,
                "sha256": digest,
                "copy_of": copy_of,
            },
        ).scalar_one()
        return {"letter": made["id"]}

    said: dict[str, Any] = {
        "kind": kind,
        "step": step.seq,
        "recipient": recipient_role,
        "sha256": digest,
        "template_version": version,
    }
    if copy_of is not None:
        said["copy_of"] = copy_of
    for attempt in range(3):
        try:
            record_change(
                db,
                actor,
                step.case.reference,
                role=role,
                kind=LETTER_PRODUCED,
                write_details=write,
                payload=said,
            )
            break
        except _AlreadyProduced:
            return None
        except (Conflict, IntegrityError):
            # Someone changed the case (or recorded this letter) since it was read: read it again.
            if attempt == 2:
                raise Conflict(f"{step.case.reference} kept changing while its letter was recorded") from None
    return LetterRecord(
        made["id"],
        step.case.reference,
        step.event_id,
        kind,
        context.recipient.name,
        recipient_role,
        version,
        actor.username,
        created_at,
        digest,
        copy_of,
    )


def pending_letters(db: Database, actor: Actor, reference: str | None = None) -> list[Pending]:
    """The letters the workflow asked for that are not in the register (of one case, or every case the
    user may see), oldest step first, each with the reason it cannot be produced now if there is one."""
    queue = _queue(db, actor, reference)
    built = _build(db, actor, queue, local_day(utcnow()))
    found = [step.pending(kind) for step, kind, _ in built.ready] + built.waiting + built.failed
    return sorted(found, key=lambda p: (p.event_id, p.kind))


def render_pending(
    db: Database,
    actor: Actor,
    *,
    workers: int | None = None,
    progress: ProgressCallback = lambda done, total: None,
    now: datetime | None = None,
) -> RenderReport:
    """Produce every pending letter the user may see: build, render (``workers`` processes; by default
    every core, or this process for a handful of letters), and record each with its ``letter_produced``
    event (roles: grant officer, manager, admin).

    Letters that cannot be built or rendered stay pending and are reported; the others are produced.
    """
    role = require_role(actor, *_PRODUCERS)
    created_at = now or utcnow()
    built = _build(db, actor, _queue(db, actor), local_day(created_at))
    jobs = [
        LetterJob(kind, context, _pdf_identity(step.event_id, kind), created_at)
        for step, kind, context in built.ready
    ]
    if workers is None and len(jobs) < _POOL_FROM:
        workers = 1
    progress(0, len(jobs))
    produced: list[LetterRecord] = []
    failed = list(built.failed)
    for (step, kind, context), result in zip(built.ready, _rendered(jobs, workers), strict=True):
        try:
            if isinstance(result, Exception):
                raise result
            record = _record(db, actor, role, step, kind, context, result, created_at)
            if record is not None:
                produced.append(record)
        except Exception as exc:
            failed.append(step.pending(kind, f"{type(exc).__name__}: {exc}"))
        progress(1, len(jobs))
    return RenderReport(tuple(produced), tuple(built.waiting), tuple(failed))


# ---------------------------------------------------------------------- the register


def _letter_rows(connection: Connection, *conditions: ColumnElement[bool]) -> list[Any]:
    return list(
        connection.execute(
            select(*(col for col in LETTERS.c if col.name != "pdf"), CASES.c.reference, CASES.c.district_code)
            .join(CASES, CASES.c.id == LETTERS.c.case_id)
            .where(*conditions)
            .order_by(LETTERS.c.id)
        )
    )


def _as_record(row: Any) -> LetterRecord:
    return LetterRecord(
        row.id,
        row.reference,
        row.event_id,
        row.kind,
        row.recipient_name,
        row.recipient_role,
        row.template_version,
        row.created_by,
        row.created_at,
        row.sha256,
        row.copy_of,
    )


def list_letters(db: Database, actor: Actor, reference: str) -> list[LetterRecord]:
    """Every letter in the register for the case, originals and copies, oldest first."""
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # NotFound, and the district check
    with db.read_connection() as connection:
        return [_as_record(row) for row in _letter_rows(connection, CASES.c.reference == reference)]


def letter_record(db: Database, actor: Actor, letter_id: int) -> LetterRecord:
    """One letter of the register; NotFound, or PermissionDenied for another district's."""
    with db.read_connection() as connection:
        rows = _letter_rows(connection, LETTERS.c.id == letter_id)
    if not rows:
        raise NotFound(f"no letter {letter_id}")
    check_district(actor, rows[0].reference, rows[0].district_code)
    return _as_record(rows[0])


def letter_pdf(db: Database, actor: Actor, letter_id: int) -> bytes:
    """The letter's PDF exactly as it was produced (its SHA-256 is in the register and the audit chain)."""
    letter_record(db, actor, letter_id)
    with db.read_connection() as connection:
        return cast(bytes, connection.scalar(select(LETTERS.c.pdf).where(LETTERS.c.id == letter_id)))


def reprint(db: Database, actor: Actor, letter_id: int, *, now: datetime | None = None) -> LetterRecord:
    """A copy of a letter, marked COPY on every page, recorded as a new letter with ``copy_of``.

    The copy is rendered again from the same step's data and dated as the original was; a copy of a copy
    is a copy of its original. Raises :class:`InvalidInput` if the case no longer holds what the letter
    shows.
    """
    role = require_role(actor, *_PRODUCERS)
    original = letter_record(db, actor, letter_id)
    if original.copy_of is not None:
        original = letter_record(db, actor, original.copy_of)
    queue_where = _scope(actor, EVENTS.c.id == original.event_id)
    with db.read_connection() as connection:
        steps = _read_steps(connection, queue_where)
        officers = _officer_names(connection, queue_where)
    built = _build(db, actor, _Queue([(steps[0], original.kind)], officers), local_day(original.created_at))
    if not built.ready:
        problem = (built.waiting + built.failed)[0]
        raise InvalidInput(f"letter {original.id} cannot be reprinted: {problem.reason}")
    step, kind, context = built.ready[0]
    pdf = render_pdf(
        kind,
        context,
        letter_id=_pdf_identity(step.event_id, kind, copy=True),
        created_at=original.created_at,
        copy=True,
    )
    record = _record(db, actor, role, step, kind, context, pdf, now or utcnow(), copy_of=original.id)
    assert record is not None, "a copy is never refused as a duplicate"
    return record


def print_batch(db: Database, actor: Actor, since: date) -> bytes:
    """One PDF of every letter (originals and copies) produced on or after ``since``, oldest first, for the
    post room to print in one go (roles: grant officer, manager, admin)."""
    require_role(actor, *_PRODUCERS)
    start = datetime.combine(since, time(), tzinfo=ENGLAND)
    conditions = [LETTERS.c.created_at >= start]
    if actor.district:
        conditions.append(CASES.c.district_code == actor.district)
    with db.read_connection() as connection:
        pdfs = list(
            connection.scalars(
                select(LETTERS.c.pdf)
                .join(CASES, CASES.c.id == LETTERS.c.case_id)
                .where(*conditions)
                .order_by(LETTERS.c.id)
            )
        )
    if not pdfs:
        raise NotFound(f"no letters were produced on or after {since:%d/%m/%Y}")
    return merge_pdfs(pdfs)
