"""Letters on cases: the queue the workflow fills, producing its letters, and the letter register.

**The event log is the queue.** Every transition event names the letters its step produces
(``payload.letters``, from the trigger's ``letters`` in the workflow definition), written in the same
transaction as the step. A letter is *pending* while an event names its kind and the register (the
``letters`` table) holds no original for that (event, kind). A step therefore never waits for a PDF and
can never be left half done by one. :func:`render_pending` builds each pending letter's context from the
case's own data, renders the batch on every core (:func:`dfg.letters.render.render_many`), and records each
letter — the PDF, its SHA-256, the template version — together with a ``letter_produced`` event carrying
the hash in the case's audit chain, in one transaction per letter. A letter is either recorded with its
event, or still pending:

- when its context cannot be built, because the case does not hold something the letter must show (the
  contractor of a works order), it stays pending with a reason naming what is missing;
- when its rendering fails, it stays pending with the error, and the other letters are still produced.

Every run tries the pending letters again. Nothing is invented: a context holds what the case records,
what the rules derive from it (the decision due date, the land charge, the review window) and fixed
wording about what happens next.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

import jinja2
from jinja2 import meta
from sqlalchemy import ColumnElement, Connection, and_, insert, select, true
from sqlalchemy.exc import IntegrityError

from dfg.errors import ConfigurationError, Conflict, DfgError, InvalidInput, NotFound
from dfg.letters import context as c
from dfg.letters.contracts import contract_for
from dfg.letters.render import LetterJob, longdate, merge_pdfs, render_many, render_pdf
from dfg.paths import letter_templates_dir
from dfg.rules.calendar import default_calendar_policy
from dfg.rules.catalogue import catalogue
from dfg.rules.clocks import Priority, completion_due, decision_due, default_clock_policy
from dfg.rules.means_test import TraceLine, format_factor
from dfg.rules.rates import land_charge_for, long_date, rates_for, repayable_on_disposal
from dfg.services.assessment import assessments_of, determination, determinations
from dfg.services.cases import check_district, normalise_reference, record_change, show_case
from dfg.services.clock import ENGLAND, local_day, utcnow
from dfg.services.grant import grant_calculation
from dfg.services.users import require_role
from dfg.store.database import Database
from dfg.store.models import CASES, EVENTS, LETTERS, PEOPLE, USERS, Property
from dfg.workflow.actor import Actor
from dfg.workflow.definition import Definition, definition_for

#: Why letters to (or naming) a contractor wait: the case records no contractor until the works issue.
NO_CONTRACTOR = "no contractor is recorded on the case (contractors arrive with the works issue)"

#: The event recorded in the case's audit chain for every letter in the register, with its SHA-256.
LETTER_PRODUCED = "letter_produced"

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
    """A transition event that names letters: the queue's entries."""

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
        assert day is not None, "every transition records its effective date"
        return day

    def pending(self, kind: str, reason: str | None = None) -> Pending:
        return Pending(self.case.reference, self.event_id, kind, self.trigger, self.effective_date, reason)


def _scope(actor: Actor, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Letter-bearing transitions of cases ``actor`` may see, narrowed by ``conditions``."""
    district = CASES.c.district_code == actor.district if actor.district else true()
    return and_(
        EVENTS.c.kind == "transition",
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
                r.trigger,
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

    def applicant(self) -> c.Recipient:
        """The applicant at the home to be adapted, in large print if their communication needs say so."""
        applicant = next((p for p in self.case.people if p.is_applicant), None)
        if applicant is None:
            raise _Missing("no applicant is recorded on the case")
        if self.case.tenure == "landlord":
            # The case holds only the address of the home to be adapted, where the landlord does not live.
            raise _Missing("the applicant is the landlord, whose postal address is not recorded on the case")
        return c.Recipient(
            name=applicant.full_name,
            address_lines=self.case.address_lines,
            postcode=self.case.postcode,
            salutation=f"{applicant.title} {applicant.family_name}" if applicant.title else None,
            large_print="large_print" in (applicant.communication_needs or ""),
        )

    def disabled_occupant(self) -> _Person:
        occupant = next((p for p in self.case.people if p.is_disabled_occupant), None)
        if occupant is None:
            raise _Missing("no disabled occupant is recorded on the case")
        return occupant

    def common(self) -> dict[str, Any]:
        """The fields every letter to the applicant has."""
        name = self.officers.get(self.step.actor)
        if name is None:
            raise _Missing(f"the user {self.step.actor!r} who took the step is not recorded")
        role = self.step.role or ""
        return {
            "recipient": self.applicant(),
            "branding": c.load_branding(self.case.district),
            "case_reference": self.case.reference,
            "letter_date": self.letter_date,
            "officer": c.Officer(name=name, job_title=self.definition.roles.get(role, role)),
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


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _contractor_for(case: _Case) -> tuple[str, Literal["will", "may"]]:
    """The contractor the grant is paid to, and whether the council will or may pay them directly.

    The case records no contractor until the works issue (issue 4) adds them, so this always says so.
    """
    raise _Missing(
        f"{NO_CONTRACTOR}: the approval notice must name the contractor (contractor_name, direct_payment)"
    )


def _acknowledgement(src: _Source) -> c.LetterContext:
    case = src.case
    if not case.referral_source:
        raise _Missing("who made the referral is not recorded on the case (referral_source)")
    referred_by = "you" if case.referral_source.lower() in ("self", "self-referral") else case.referral_source
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


def _approval_notice(src: _Source) -> c.LetterContext:
    approved_on = src.step.day("approval_date") or src.step.effective_date
    record = grant_calculation(
        src.db, src.actor, src.case.reference, src.step.payload.get("grant_calculation")
    )
    figures = record.calculation
    how = {w["item"]: w["how_calculated"] for w in figures["workings"]}
    tested_on = determination(src.db, src.actor, src.case.reference, record.determination_id).determined_on
    funded = [f"{f['label']}: {f['how_calculated']}" for f in figures["funding"] if f["applies"]]
    grant_basis = "; ".join([how["Mandatory grant"], *funded])
    calculation = c.GrantCalculation(
        works=(
            c.PricedItem(
                description=_works_description(src, approved_on),
                amount=figures["works_pence"],
                how_calculated=how["Eligible works"],
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
        # The amount the step approved, as recorded with it (the calculation's, never typed in).
        grant=src.step.payload.get("approved_grant_pence", figures["total_assistance_pence"]),
        grant_basis=_sentence(grant_basis[:1].upper() + grant_basis[1:]),
    )
    # The land charge secures the mandatory grant (2008 general consent); funding lines carry their own terms.
    terms = land_charge_for(approved_on)
    charged = src.case.tenure in terms.tenures and figures["grant_pence"] > terms.floor_pence
    common, occupant = src.common(), src.disabled_occupant()
    # Last, so that any other gap in the case is the one reported: this one waits for the works issue.
    contractor, direct_payment = _contractor_for(src.case)
    return c.ApprovalNotice(
        **common,
        approval_date=approved_on,
        disabled_occupant_name=occupant.plain_name,
        calculation=calculation,
        contractor_name=contractor,
        direct_payment=direct_payment,
        completion_due=completion_due(approved_on),
        grant_condition_years=_grant_condition_years(approved_on),
        land_charge_amount=repayable_on_disposal(figures["grant_pence"], approved_on, terms=terms)
        if charged
        else None,
        land_charge_years=terms.years,
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


def _waits_for(reason: str) -> Callable[[_Source], c.LetterContext]:
    """A builder for a letter whose data no step records yet: it always waits, saying what is missing."""

    def build(src: _Source) -> c.LetterContext:
        raise _Missing(reason)

    return build


_BUILDERS: Mapping[str, Callable[[_Source], c.LetterContext]] = {
    "acknowledgement": _acknowledgement,
    "assessment_appointment": _waits_for(
        "no assessment appointment is recorded on the case (appointment_at, assessor_name)"
    ),
    "test_of_resources_result": _test_of_resources_result,
    # The step records what is missing (its reason) but not by when: the trigger asks for no date.
    "request_for_information": _waits_for(
        "the date to reply by is not recorded: the request_information step asks for none (reply_by)"
    ),
    "valid_application_received": _valid_application_received,
    "approval_notice": _approval_notice,
    "refusal_notice": _refusal_notice,
    "reapproval_variation": _waits_for(
        "no variation of the approved works is recorded on the case (changes)"
    ),
    "works_order": _waits_for(NO_CONTRACTOR),
    "variation_order": _waits_for(NO_CONTRACTOR),
    "interim_payment": _waits_for(NO_CONTRACTOR),
    "completion_certified": _waits_for(f"{NO_CONTRACTOR}, nor the grant paid to them (paid_to, grant_paid)"),
    "land_charge_notice": _waits_for("no land charge registration is recorded on the case (registered_on)"),
    "hold_notice": _hold_notice,
    "withdrawal_notice": _withdrawal_notice,
    "closure_notice": _closure_notice,
    "repayment_demand": _waits_for("no repayment event is recorded on the case (event, amount, basis)"),
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
    recipient_role = contract_for(kind).recipient
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
