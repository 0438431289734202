"""The OT's assessment, the technical officer's feasibility finding, and the test of resources on a case.

Each decision is recorded in its own append-only table, in the same transaction as the workflow step
or event that goes with it, and with its reasons (R (B) v Calderdale: s.23 purpose, then "necessary and
appropriate" (s.24(3)(a)), then "reasonable and practicable" (s.24(3)(b)), each explicit).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dfg.errors import DfgError, InvalidInput, NotFound
from dfg.rules.catalogue import catalogue
from dfg.rules.clock import local_day, utcnow
from dfg.rules.dates import parse_date
from dfg.rules.files import read_json, read_text
from dfg.rules.household import Household, check_case_tenure, household_to_dict, parse_household
from dfg.rules.jurisdiction import means_test_rates_in
from dfg.rules.means_test import (
    Determination,
    assess,
    determination_from_dict,
    determination_to_dict,
    explain,
)
from dfg.rules.nhs_number import parse_nhs_number
from dfg.services.appointments import BookedVisit, booked_visits, in_force, visit_in_force
from dfg.services.case_reading import CaseView, show_case
from dfg.services.cases import (
    Advanced,
    advance,
    case_id_of,
    check_step,
    check_version,
    normalise_reference,
    record_change,
)
from dfg.services.progress import Progress, unwatched
from dfg.services.search_index import index_case
from dfg.store.audit import canonical_json
from dfg.store.database import Database
from dfg.store.models import (
    ASSESSMENTS,
    CASES,
    DETERMINATIONS,
    FEASIBILITY_FINDINGS,
    PEOPLE,
    PRIORITIES,
    RECOMMENDED_WORKS,
    USERS,
    Case,
)
from dfg.workflow.actor import Actor
from dfg.workflow.definition import current_definition, definition_for
from dfg.workflow.facts import CaseFacts
from dfg.workflow.guards import TriggerInput
from dfg.workflow.roles import require_role

# ---------------------------------------------------------------------- the OT's assessment


@dataclass(frozen=True)
class AssessmentInput:
    """An assessment as the OT gives it (from the command line, a file, or a batch)."""

    assessed_on: date
    assessor: str
    organisation: str
    purposes: tuple[str, ...]
    works: tuple[tuple[str, str | None], ...]  # (catalogue code, description)
    priority: str
    necessary_and_appropriate: bool
    reasons: str
    priority_reason: str | None = None
    nhs_number: str | None = None
    #: The assessor confirms the date although it is before the visit booked (assessed another way).
    before_visit_confirmed: bool = False


#: The longest an assessor's name or organisation may be (the store's columns), the reasons for a finding
#: and the notes on one recommended work.
NAME_LONGEST = 120
REASONS_LONGEST = 4000
WORK_NOTES_LONGEST = 500

_FIELDS = (
    "assessed_on", "assessor", "organisation", "purposes", "works", "priority", "priority_reason",
    "necessary_and_appropriate", "reasons", "nhs_number", "before_visit_confirmed",
)  # fmt: skip


def _words(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise InvalidInput(f"{name}: expected a list of codes")


def _finding(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "y", "1", "necessary", "practicable"):
        return True
    if text in ("no", "false", "n", "0", "not-necessary", "not-practicable"):
        return False
    raise InvalidInput(f"{name}: expected yes or no, got {value!r}")


def parse_assessment(data: Mapping[str, Any], *, where: str = "") -> AssessmentInput:
    """Check an assessment given as a mapping (a JSON object, a CSV row); errors name the field."""
    at = f"{where}." if where else ""
    unknown = sorted(set(data) - set(_FIELDS) - {"reference"})
    if unknown:
        raise InvalidInput(f"{at}{unknown[0]}: unknown field (known: {', '.join(_FIELDS)})")
    for name in (
        "assessed_on",
        "assessor",
        "organisation",
        "purposes",
        "works",
        "necessary_and_appropriate",
        "reasons",
    ):
        if data.get(name) in (None, "", []):
            raise InvalidInput(f"{at}{name}: required")
    items = catalogue()
    purposes = tuple(
        items.purpose(code, field=f"{at}purposes") for code in _words(data["purposes"], f"{at}purposes")
    )
    works: list[tuple[str, str | None]] = []
    for entry in _words(data["works"], f"{at}works"):
        code, _, description = entry.partition(":")
        items.work(code.strip(), description.strip() or None, field=f"{at}works")
        works.append((code.strip(), description.strip() or None))
    priority = str(data.get("priority") or "non_urgent").replace("-", "_")
    if priority not in PRIORITIES:
        raise InvalidInput(f"{at}priority: '{priority}' is not one of: {', '.join(PRIORITIES)}")
    if priority == "urgent" and not data.get("priority_reason"):
        raise InvalidInput(f"{at}priority_reason: an urgent assessment needs a reason")
    nhs = data.get("nhs_number")
    parsed = AssessmentInput(
        assessed_on=parse_date(str(data["assessed_on"]), field=f"{at}assessed_on"),
        assessor=str(data["assessor"]).strip(),
        organisation=str(data["organisation"]).strip(),
        purposes=purposes,
        works=tuple(works),
        priority=priority,
        priority_reason=data.get("priority_reason") or None,
        necessary_and_appropriate=_finding(
            data["necessary_and_appropriate"], f"{at}necessary_and_appropriate"
        ),
        reasons=str(data["reasons"]).strip(),
        nhs_number=parse_nhs_number(str(nhs), field=f"{at}nhs_number") if nhs else None,
        before_visit_confirmed=data.get("before_visit_confirmed") not in (None, "")
        and _finding(data["before_visit_confirmed"], f"{at}before_visit_confirmed"),
    )
    check_assessment(parsed, where=where)
    return parsed


def check_assessment(assessment: AssessmentInput, *, where: str = "") -> None:
    """What the store and the law ask of an assessment however it was given (a form builds one
    directly): codes from the catalogue, the finding's reasons, an urgent priority's reason, a real NHS
    number, and lengths the store keeps. Every problem at once, naming the field."""
    at = f"{where}." if where else ""
    items = catalogue()
    problems = []
    for name, text in (("assessor", assessment.assessor), ("organisation", assessment.organisation)):
        if not text.strip():
            problems.append(f"{at}{name}: required")
        elif len(text.strip()) > NAME_LONGEST:
            problems.append(f"{at}{name}: at most {NAME_LONGEST} characters")
    if not assessment.purposes:
        problems.append(f"{at}purposes: required")
    if not assessment.works:
        problems.append(f"{at}works: required")

    def refusal(check: Callable[..., object], *given: str | None, field: str) -> None:
        try:
            check(*given, field=field)
        except InvalidInput as problem:
            problems.append(problem.message)

    for code in assessment.purposes:
        refusal(items.purpose, code, field=f"{at}purposes")
    for code, notes in assessment.works:
        refusal(items.work, code, notes, field=f"{at}works")
    if assessment.nhs_number:
        refusal(parse_nhs_number, assessment.nhs_number, field=f"{at}nhs_number")
    if any(notes and len(notes) > WORK_NOTES_LONGEST for _, notes in assessment.works):
        problems.append(f"{at}works: the notes on a work are at most {WORK_NOTES_LONGEST} characters")
    if assessment.priority not in PRIORITIES:
        problems.append(f"{at}priority: '{assessment.priority}' is not one of: {', '.join(PRIORITIES)}")
    if assessment.priority == "urgent" and not (assessment.priority_reason or "").strip():
        problems.append(f"{at}priority_reason: an urgent assessment needs a reason")
    if not assessment.reasons.strip():
        problems.append(f"{at}reasons: required")
    for name, said in (("reasons", assessment.reasons), ("priority_reason", assessment.priority_reason)):
        if said and len(said) > REASONS_LONGEST:
            problems.append(f"{at}{name}: at most {REASONS_LONGEST:,} characters")
    if problems:
        raise InvalidInput("; ".join(problems))


def check_against_visit(connection: Connection, case_id: int, assessment: AssessmentInput) -> None:
    """Refuse an assessment dated before the visit still booked, unless the assessor confirms the date
    (the visit was then not needed): cancel the visit, or confirm the date."""
    visit = visit_in_force(connection, case_id)
    if visit is None or assessment.before_visit_confirmed or assessment.assessed_on >= local_day(visit.at):
        return
    booked = local_day(visit.at)
    raise InvalidInput(
        f"assessed_on: {assessment.assessed_on:%d/%m/%Y} is before the visit booked for {booked:%d/%m/%Y}: "
        "cancel the visit, or confirm the date (--before-visit; before_visit_confirmed in a file)",
        fields={
            "before_visit_confirmed": f"The date of the assessment is before the visit booked for "
            f"{booked.day} {booked:%B %Y}: cancel the visit, or confirm the date"
        },
    )


def _assessment_writer(assessment: AssessmentInput, actor: Actor, now: datetime) -> Any:
    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        check_against_visit(connection, case_id, assessment)
        assessment_id = connection.execute(
            insert(ASSESSMENTS).returning(ASSESSMENTS.c.id),
            {
                "case_id": case_id,
                "assessed_on": assessment.assessed_on,
                "assessor": assessment.assessor,
                "organisation": assessment.organisation,
                "purposes": ",".join(assessment.purposes),
                "priority": assessment.priority,
                "priority_reason": assessment.priority_reason,
                "necessary_and_appropriate": assessment.necessary_and_appropriate,
                "reasons": assessment.reasons,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        ).scalar_one()
        connection.execute(
            insert(RECOMMENDED_WORKS),
            [
                {"assessment_id": assessment_id, "work": code, "description": text}
                for code, text in assessment.works
            ],
        )
        if assessment.nhs_number:
            occupants = connection.scalars(
                select(PEOPLE.c.id).where(
                    PEOPLE.c.case_id == case_id, PEOPLE.c.is_disabled_occupant.is_(True)
                )
            ).all()
            if len(occupants) != 1:  # never link health data to the wrong person
                raise InvalidInput(
                    f"nhs_number: the case has {len(occupants)} disabled occupants; record the NHS number on the "
                    "person instead"
                )
            connection.execute(
                update(PEOPLE).where(PEOPLE.c.id == occupants[0]).values(nhs_number=assessment.nhs_number)
            )
            index_case(connection, case_id)  # found by the NHS number from now on
        return {
            "assessment": {
                "id": assessment_id,
                "assessor": assessment.assessor,
                "organisation": assessment.organisation,
                "purposes": list(assessment.purposes),
                "works": [code if not text else f"{code}: {text}" for code, text in assessment.works],
                "priority": assessment.priority,
                "necessary_and_appropriate": assessment.necessary_and_appropriate,
                "nhs_number_recorded": bool(assessment.nhs_number),
                **({"before_visit_confirmed": True} if assessment.before_visit_confirmed else {}),
            }
        }

    return write


def _assessment_step(assessment: AssessmentInput) -> TriggerInput:
    eligible = assessment.necessary_and_appropriate
    return TriggerInput(
        on=assessment.assessed_on,
        reason=None if eligible else assessment.reasons,
        code=None if eligible else "not_necessary_appropriate",
    )


def record_assessment(
    db: Database,
    actor: Actor,
    reference: str,
    assessment: AssessmentInput,
    *,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Advanced:
    """Record the OT's assessment and move the case on: to the test of resources when the works are
    necessary and appropriate, otherwise closed as not eligible. The case takes the OT's priority.
    ``expected_version``: the version of the case the OT saw (a form's); Conflict if it has changed."""
    now = now or utcnow()
    check_assessment(assessment)
    if assessment.assessed_on > local_day(now):
        raise InvalidInput(f"assessed_on: {assessment.assessed_on:%d/%m/%Y} is in the future")
    eligible = assessment.necessary_and_appropriate
    return advance(
        db,
        actor,
        reference,
        "record_assessment" if eligible else "assess_not_eligible",
        _assessment_step(assessment),
        now=now,
        write_details=_assessment_writer(assessment, actor, now),
        also_change={"priority": assessment.priority, "priority_reason": assessment.priority_reason},
        expected_version=expected_version,
    )


@dataclass
class ImportReport:
    rows: int
    imported: list[Advanced] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_batch(path: Path) -> list[dict[str, Any]]:
    """Rows of a batch file: a JSON list of objects, or CSV with a header (lists separated by ';')."""
    if path.suffix.lower() == ".json":
        rows = read_json(path)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput(f"{path.name}: expected a list of objects")
    else:
        reader = csv.DictReader(io.StringIO(read_text(path)))
        try:
            rows = [dict(row) for row in reader]
        except csv.Error as exc:
            # the line being read when it failed (line_num counts the lines read before it)
            raise InvalidInput(f"{path.name}: line {reader.line_num + 1}: {exc}") from None
        if "reference" not in (reader.fieldnames or ()):
            raise InvalidInput(f"{path.name}: the first line must name the columns, 'reference' among them")
        # csv files a row's values beyond the header's columns under None: say which row, not a crash
        extra = next((number for number, row in enumerate(rows, start=1) if None in row), None)
        if extra is not None:
            raise InvalidInput(f"{path.name}: row {extra} has more values than the first line has columns")
    if not rows:
        raise InvalidInput(f"{path.name}: no rows to record")
    return rows


def import_assessments(
    db: Database,
    actor: Actor,
    rows: list[dict[str, Any]],
    *,
    dry_run: bool = False,
    progress: Progress = unwatched,
    now: datetime | None = None,
) -> ImportReport:
    """Record a batch of assessments. Every row is checked first (fields, case, role, state); if any row
    is wrong nothing is recorded and every problem is reported with its row number."""
    report = ImportReport(rows=len(rows))
    checked: list[tuple[str, AssessmentInput]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        try:
            reference = normalise_reference(str(row.get("reference") or ""))
            if reference in seen:
                raise InvalidInput(f"{reference} is also in row {seen[reference]}")
            seen[reference] = number
            assessment = parse_assessment(row, where=f"row {number}")
            trigger = "record_assessment" if assessment.necessary_and_appropriate else "assess_not_eligible"
            reasons = check_step(db, actor, reference, trigger, _assessment_step(assessment), now=now)
            if reasons:
                raise InvalidInput(f"{reference}: {reasons[0]}")
            with db.read_connection() as connection:
                check_against_visit(connection, case_id_of(connection, reference), assessment)
            checked.append((reference, assessment))
        except DfgError as error:
            message = error.message if error.message.startswith("row ") else f"row {number}: {error.message}"
            report.problems.append(message)
    if report.problems or dry_run:
        return report
    progress(0, len(checked))
    for reference, assessment in checked:
        report.imported.append(record_assessment(db, actor, reference, assessment, now=now))
        progress(1, len(checked))
    return report


# ---------------------------------------------------------------------- the technical officer's finding


def record_feasibility(
    db: Database,
    actor: Actor,
    reference: str,
    *,
    decided_on: date,
    reasonable_and_practicable: bool,
    reasons: str,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> None:
    """Record whether the works are reasonable and practicable (s.24(3)(b)), with reasons. General
    unsuitability of the home is not a lawful reason (R (McKeown) v Islington), so reasons are required.
    ``expected_version``: the version of the case the officer saw (a form's); Conflict if it has changed."""
    now = now or utcnow()
    role = require_role(actor, "technical_officer")
    if not reasons.strip():
        raise InvalidInput("--reasons: required")
    if len(reasons) > REASONS_LONGEST:
        raise InvalidInput(f"--reasons: at most {REASONS_LONGEST:,} characters")
    if decided_on > local_day(now):
        raise InvalidInput(f"--date: {decided_on:%d/%m/%Y} is in the future")

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        if definition_for(case.workflow_version).states[case.state].terminal:
            raise InvalidInput(f"{case.reference} is closed")

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        connection.execute(
            insert(FEASIBILITY_FINDINGS),
            {
                "case_id": case_id,
                "decided_on": decided_on,
                "reasonable_and_practicable": reasonable_and_practicable,
                "reasons": reasons,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        )
        return {"decided_on": decided_on, "reasonable_and_practicable": reasonable_and_practicable}

    record_change(
        db, actor, reference, role=role, kind="feasibility_recorded", check=check, write_details=write,
        reason=reasons, now=now,
    )  # fmt: skip


# ---------------------------------------------------------------------- the test of resources


@dataclass(frozen=True)
class DeterminationRecord:
    id: int
    reference: str
    determined_on: date
    provisional: bool
    code: str | None
    reason: str | None
    recorded_by: str
    recorded_at: datetime
    determination: Determination

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "determined_on": self.determined_on.isoformat(),
            "provisional": self.provisional,
            "code": self.code,
            "reason": self.reason,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
            **determination_to_dict(self.determination),
        }

    def explain(self) -> str:
        status = "provisional (before approval)" if self.provisional else "as approved"
        head = f"{self.reference}: determination {self.id} of {self.determined_on:%d/%m/%Y}, {status}"
        redone = f"\nRedone after approval [{self.code}]: {self.reason}" if self.code else ""
        return f"{head}{redone}\n{explain(self.determination)}"


def run_means_test(
    db: Database,
    actor: Actor,
    reference: str,
    household: Mapping[str, Any],
    *,
    on: date | None = None,
    code: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> DeterminationRecord:
    """Determine the test of resources for the case and store it with its household and workings.

    Before approval the determination is provisional (rates in force on ``on``, default today; the
    approval refuses it if the table in force on the approval date is another). Once the grant is
    approved the determinations are locked: a new one needs a reason ``code`` (from the workflow's
    ``redetermination`` list) and a ``reason``, is worked out on the table in force on the approval
    date, and is recorded beside the old, never over it.
    """
    now = now or utcnow()
    role, day, parsed, determination = _determine(db, actor, reference, household, on, now)
    codes = current_definition().reason_codes["redetermination"]

    def check(case: CaseFacts) -> None:
        check_version(case.reference, case.version, expected_version)
        if definition_for(case.workflow_version).states[case.state].terminal:
            raise InvalidInput(f"{case.reference} is closed")
        approved = case.milestones.get("approval_date") is not None
        if approved and (code is None or not (reason and reason.strip())):
            raise InvalidInput(
                f"{case.reference} is approved: its determination is locked; a new one needs --code "
                f"({'|'.join(codes)}) and --reason"
            )
        if code is not None and not approved:
            raise InvalidInput("--code is only for a determination redone after approval")
        if code is not None and code not in codes:
            raise InvalidInput(f"unknown --code '{code}' (one of: {', '.join(codes)})")

    created: dict[str, Any] = {}

    def write(connection: Connection, case_id: int) -> Mapping[str, Any]:
        approved = connection.scalar(select(Case.approval_date).where(Case.id == case_id)) is not None
        created["id"] = connection.execute(
            insert(DETERMINATIONS).returning(DETERMINATIONS.c.id),
            {
                "case_id": case_id,
                "determined_on": day,
                "provisional": not approved,
                "rates_version": determination.rates_version,
                "outcome": determination.outcome,
                "contribution_pence": determination.contribution_pence,
                "household": canonical_json(household_to_dict(parsed)),
                "result": canonical_json(determination_to_dict(determination)),
                "code": code,
                "reason": reason,
                "recorded_by": actor.username,
                "recorded_at": now,
            },
        ).scalar_one()
        created["provisional"] = not approved
        return {
            "determination": created["id"],
            "outcome": determination.outcome,
            "contribution_pence": determination.contribution_pence,
            "rates_version": determination.rates_version,
        }

    recorded = record_change(
        db, actor, reference, role=role, kind="means_test_determined", check=check, write_details=write,
        reason=reason, code=code, now=now,
    )  # fmt: skip
    return DeterminationRecord(
        created["id"],
        recorded.reference,
        day,
        created["provisional"],
        code,
        reason,
        actor.username,
        now,
        determination,
    )


def check_means_test(
    db: Database,
    actor: Actor,
    reference: str,
    household: Mapping[str, Any],
    *,
    on: date | None = None,
    now: datetime | None = None,
) -> Determination:
    """The determination :func:`run_means_test` would record for this household, with its workings,
    recording nothing (a form shows it before it is saved)."""
    return _determine(db, actor, reference, household, on, now or utcnow())[3]


def _determine(
    db: Database, actor: Actor, reference: str, household: Mapping[str, Any], on: date | None, now: datetime
) -> tuple[str, date, Household, Determination]:
    """The role acting, the day it is run on, the household and its determination."""
    role = require_role(actor, "grant_officer")
    day = on or local_day(now)
    if day > local_day(now):
        raise InvalidInput(f"--on: {day:%d/%m/%Y} is in the future")
    parsed = parse_household(household)
    case = show_case(db, actor, reference)
    check_case_tenure(parsed, case.tenure)
    # The rules are those in force when the grant falls to be approved: once it is approved, a
    # redetermination uses the approval date's table, never the table of the day it is run.
    approved_on: date | None = case.milestones.get("approval_date")
    basis_day = approved_on or day
    return role, day, parsed, assess(parsed, means_test_rates_in(case.district, basis_day), on=basis_day)


def determinations(db: Database, actor: Actor, reference: str) -> list[DeterminationRecord]:
    """The case's determinations, oldest first (the last is the one in force)."""
    reference = normalise_reference(reference)
    show_case(db, actor, reference)  # the district check, and NotFound
    with db.read_connection() as connection:
        rows = connection.execute(
            select(DETERMINATIONS)
            .join(CASES, CASES.c.id == DETERMINATIONS.c.case_id)
            .where(CASES.c.reference == reference)
            .order_by(DETERMINATIONS.c.id)
        )
        return [
            DeterminationRecord(
                r.id,
                reference,
                r.determined_on,
                r.provisional,
                r.code,
                r.reason,
                r.recorded_by,
                r.recorded_at,
                determination_from_dict(json.loads(r.result)),
            )
            for r in rows
        ]


def determination(
    db: Database, actor: Actor, reference: str, number: int | None = None
) -> DeterminationRecord:
    """One determination of the case: the one in force, or the one with id ``number``."""
    found = determinations(db, actor, reference)
    if not found:
        raise NotFound(
            f"{normalise_reference(reference)} has no test of resources yet (run 'dfg means-test run')"
        )
    if number is None:
        return found[-1]
    for record in found:
        if record.id == number:
            return record
    raise NotFound(f"{normalise_reference(reference)} has no determination {number}")


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file holding one object (a household, an assessment), as given."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise InvalidInput(f"{path.name}: expected a JSON object")
    return data


@dataclass(frozen=True)
class RecommendedWork:
    code: str
    label: str  # the catalogue's words (the code itself if the catalogue no longer has it)
    notes: str | None


@dataclass(frozen=True)
class RecordedAssessment:
    assessed_on: date
    assessor: str
    organisation: str
    purposes: tuple[tuple[str, str], ...]  # (code, the s.23 purpose in words)
    works: tuple[RecommendedWork, ...]
    priority: str
    priority_reason: str | None
    necessary_and_appropriate: bool
    reasons: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class FeasibilityFinding:
    decided_on: date
    reasonable_and_practicable: bool
    reasons: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class AssessmentDefaults:
    """What the assessment form starts with: the booked visit's day (once it has come) and assessor,
    else the signed-in user."""

    assessed_on: date | None
    assessor: str
    organisation: str


@dataclass(frozen=True)
class AssessmentRecords:
    """A case's assessment records, oldest first, for the pages that show or record them."""

    case: CaseView
    visits: tuple[BookedVisit, ...]
    assessments: tuple[RecordedAssessment, ...]
    findings: tuple[FeasibilityFinding, ...]
    defaults: AssessmentDefaults

    @property
    def visit(self) -> BookedVisit | None:
        """The visit in force: the latest booking, unless it was cancelled."""
        return in_force(self.visits)


def assessment_records(
    db: Database, actor: Actor, reference: str, *, now: datetime | None = None
) -> AssessmentRecords:
    """The case with its booked visits, assessments and feasibility findings, in words, and what a new
    assessment by ``actor`` starts from."""
    today = local_day(now or utcnow())
    case = show_case(db, actor, reference)  # the district check, and NotFound
    items = catalogue()
    with db.read_connection() as connection:
        case_id = case_id_of(connection, case.reference)
        visits = tuple(booked_visits(connection, case_id))
        assessments = []
        for row in connection.execute(
            select(ASSESSMENTS).where(ASSESSMENTS.c.case_id == case_id).order_by(ASSESSMENTS.c.id)
        ):
            works = connection.execute(
                select(RECOMMENDED_WORKS.c.work, RECOMMENDED_WORKS.c.description)
                .where(RECOMMENDED_WORKS.c.assessment_id == row.id)
                .order_by(RECOMMENDED_WORKS.c.id)
            )
            assessments.append(
                RecordedAssessment(
                    assessed_on=row.assessed_on,
                    assessor=row.assessor,
                    organisation=row.organisation,
                    purposes=tuple(
                        (code, items.purposes.get(code, code)) for code in row.purposes.split(",")
                    ),
                    works=tuple(
                        RecommendedWork(
                            w.work,
                            items.works[w.work].label if w.work in items.works else w.work,
                            w.description,
                        )
                        for w in works
                    ),
                    priority=row.priority,
                    priority_reason=row.priority_reason,
                    necessary_and_appropriate=row.necessary_and_appropriate,
                    reasons=row.reasons,
                    recorded_by=row.recorded_by,
                    recorded_at=row.recorded_at,
                )
            )
        findings = tuple(
            FeasibilityFinding(
                r.decided_on, r.reasonable_and_practicable, r.reasons, r.recorded_by, r.recorded_at
            )
            for r in connection.execute(
                select(FEASIBILITY_FINDINGS)
                .where(FEASIBILITY_FINDINGS.c.case_id == case_id)
                .order_by(FEASIBILITY_FINDINGS.c.id)
            )
        )
        own_name = connection.scalar(select(USERS.c.full_name).where(USERS.c.id == actor.user_id))
    visit = in_force(visits)
    visit_day = local_day(visit.at) if visit else None
    defaults = AssessmentDefaults(
        assessed_on=visit_day if visit_day is not None and visit_day <= today else None,
        assessor=visit.assessor_name if visit else (own_name or ""),
        organisation=visit.assessor_organisation if visit else "",
    )
    return AssessmentRecords(case, visits, tuple(assessments), findings, defaults)


def assessments_of(db: Database, actor: Actor, reference: str) -> list[dict[str, Any]]:
    """The case's assessments and feasibility findings, oldest first, as plain data."""
    records = assessment_records(db, actor, reference)
    found: list[dict[str, Any]] = [
        {
            "kind": "assessment",
            "date": a.assessed_on.isoformat(),
            "by": f"{a.assessor} ({a.organisation})",
            "purposes": [code for code, _ in a.purposes],
            "works": [w.code if not w.notes else f"{w.code}: {w.notes}" for w in a.works],
            "priority": a.priority,
            "finding": "necessary and appropriate"
            if a.necessary_and_appropriate
            else "not necessary and appropriate",
            "reasons": a.reasons,
        }
        for a in records.assessments
    ]
    found += [
        {
            "kind": "feasibility",
            "date": f.decided_on.isoformat(),
            "by": f.recorded_by,
            "finding": "reasonable and practicable"
            if f.reasonable_and_practicable
            else "not reasonable and practicable",
            "reasons": f.reasons,
        }
        for f in records.findings
    ]
    return found
