"""The OT's pages: booking the assessment visit (and rearranging or cancelling it), the assessment form, the technical officer's
feasibility finding, and the assessments recorded on a case.

Each form is parsed here into the service's own input, with every mistake at once in the words of the
person filling it in; the services decide and record (and refuse what slips through, shown as one more
error)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from dfg.errors import Conflict, GuardFailed, InvalidInput, InvalidTransition, PermissionDenied
from dfg.rules.catalogue import catalogue
from dfg.rules.clock import ENGLAND, local_day, utcnow
from dfg.rules.nhs_number import parse_nhs_number
from dfg.services.appointments import (
    AT_HOME,
    DEFAULT_ROLE,
    LONGEST,
    REASON_LONGEST,
    Appointment,
    book_appointment,
    cancel_visit,
)
from dfg.services.assessment import (
    NAME_LONGEST,
    REASONS_LONGEST,
    WORK_NOTES_LONGEST,
    AssessmentInput,
    AssessmentRecords,
    assessment_records,
    record_assessment,
    record_feasibility,
)
from dfg.services.cases import Action, Advanced, available_actions
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import Errors, Page, refusal_errors, seen_version
from dfg.web.security import actor, database
from dfg.web.templating import day_in_words, label, sentence

assessment = Blueprint("assessment", __name__, url_prefix="/cases")

#: The engine's refusals a form shows as an error and keeps its input for.
REFUSALS = (Conflict, GuardFailed, InvalidInput, InvalidTransition, PermissionDenied)


_TIME = re.compile(r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?\s*(?P<half>am|pm)?", re.IGNORECASE)


@assessment.app_template_filter("england_time")
def england_time(at: datetime) -> str:
    """An instant as the time on a clock in England, as GOV.UK writes it: ``10:30am``."""
    local = at.astimezone(ENGLAND)
    return f"{local:%-I:%M}{'am' if local.hour < 12 else 'pm'}"


def _text(values: Mapping[str, str], name: str) -> str:
    return (values.get(name) or "").strip()


def _required_text(
    values: Mapping[str, str], name: str, missing: str, what: str, longest: int, errors: Errors
) -> str:
    """A text field that must be given, no longer than the store keeps."""
    text = _text(values, name)
    if not text:
        errors.append({"text": missing, "href": f"#{name}"})
    elif len(text) > longest:
        errors.append({"text": f"{what} must be {longest:,} characters or fewer", "href": f"#{name}"})
    return text


def _optional_text(
    values: Mapping[str, str], name: str, what: str, longest: int, errors: Errors
) -> str | None:
    text = _text(values, name)
    if len(text) > longest:
        errors.append({"text": f"{what} must be {longest:,} characters or fewer", "href": f"#{name}"})
    return text or None


def _date(values: Mapping[str, str], name: str, words: str, errors: Errors, *, required: bool) -> date | None:
    try:
        return date_from_form(values, name, words, required=required)
    except DateProblem as problem:
        errors.append({"text": str(problem), "href": f"#{name}-day"})
        return None


def _open_action(records: AssessmentRecords, trigger: str) -> Action | None:
    """The step as the signed-in user may take it now, or None if the case's state has no such step."""
    found = available_actions(database(), actor(), records.case.reference)
    return next((a for a in found if a.trigger == trigger), None)


def _refused(records: AssessmentRecords, trigger: str, heading: str) -> tuple[str, int] | None:
    """The page saying why the step is not open to the signed-in user now, or None if it is (a 404 if the
    case's state has no such step)."""
    action = _open_action(records, trigger)
    if action is None:
        abort(404)
    return None if action.allowed else _not_open(records, heading, action.reasons)


def _not_open(records: AssessmentRecords, heading: str, reasons: tuple[str, ...]) -> tuple[str, int]:
    return render_template(
        "assessment/not_open.html",
        title=f"{heading} – {records.case.reference}",
        case=records.case,
        heading=heading,
        reasons=reasons,
    ), 403


def _done(step: Advanced, what: str) -> WerkzeugResponse:
    letters = f" Letters queued: {', '.join(label(name) for name in step.letters)}." if step.letters else ""
    now = f" The case is now: {label(step.to_state)}." if step.to_state != step.from_state else ""
    flash(f"{what}.{now}{letters}", "done")
    return redirect(url_for("case.show", reference=step.reference))


# ---------------------------------------------------------------------- booking the visit


def _visit_time(values: Mapping[str, str], errors: Errors) -> time | None:
    """``10:30``, ``14.00``, ``2pm`` or ``2:15 pm``: a time on the applicant's clock."""
    text = _text(values, "visit_time")
    if not text:
        errors.append({"text": "Enter the time of the visit", "href": "#visit_time"})
        return None
    found = _TIME.fullmatch(text)
    hour, minute = (int(found["hour"]), int(found["minute"] or 0)) if found else (-1, -1)
    if found and found["half"]:
        twelve = 1 <= hour <= 12
        hour = hour % 12 + (12 if found["half"].lower() == "pm" else 0) if twelve else -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        errors.append({"text": "Enter the time of the visit like 10:30 or 2:15pm", "href": "#visit_time"})
        return None
    return time(hour, minute)


def _booking(values: Mapping[str, str], now: datetime) -> tuple[Appointment | None, Errors]:
    errors: Errors = []
    day = _date(values, "visit", "the date of the visit", errors, required=True)
    at = _visit_time(values, errors)
    name = _required_text(
        values, "assessor_name", "Enter the name of the person visiting", "Their name",
        LONGEST["assessor_name"], errors,
    )  # fmt: skip
    organisation = _required_text(
        values, "assessor_organisation", "Enter their organisation", "Their organisation",
        LONGEST["assessor_organisation"], errors,
    )  # fmt: skip
    role = _optional_text(
        values, "assessor_role", "What the letter calls them", LONGEST["assessor_role"], errors
    )
    where = _optional_text(values, "location", "Where the visit happens", LONGEST["location"], errors)
    if errors or day is None or at is None:
        return None, errors
    when = datetime.combine(day, at, tzinfo=ENGLAND)
    if when <= now:
        errors.append({"text": "The visit must be at a time still to come", "href": "#visit-day"})
        return None, errors
    return Appointment(
        at=when,
        assessor_name=name,
        assessor_organisation=organisation,
        assessor_role=role or DEFAULT_ROLE,
        location=where or AT_HOME,
    ), errors


@assessment.route("/<reference>/visit", methods=["GET", "POST"])
def book_visit(reference: str) -> Page:
    db, me = database(), actor()
    records = assessment_records(db, me, reference)
    refused = _refused(records, "book_assessment", "Book the assessment visit")
    if refused is not None:
        return refused
    errors: Errors = []
    values: Mapping[str, str] = request.form
    if request.method == "POST":
        now = utcnow()
        booking, errors = _booking(values, now)
        if booking is not None:
            try:
                done = book_appointment(
                    db, me, records.case.reference, booking, now=now, expected_version=seen_version(values)
                )
            except REFUSALS as refusal:
                errors.append({"text": sentence(refusal.message), "href": "#main-form"})
            else:
                when = booking.at.astimezone(ENGLAND)
                return _done(done, f"Visit booked for {day_in_words(when)} at {england_time(when)}")
    else:
        values = _visit_defaults(records)
    return render_template(
        "assessment/visit.html",
        title=f"Book the assessment visit – {records.case.reference}",
        case=records.case,
        records=records,
        errors=errors,
        values=values,
    ), 422 if errors else 200


def _visit_defaults(records: AssessmentRecords) -> Mapping[str, str]:
    """A new booking starts from the one in force (rearranging keeps who and where), else from the
    signed-in user."""
    visit = records.visit
    return MultiDict(
        {
            "version": str(records.case.version),
            "assessor_name": records.defaults.assessor,
            "assessor_organisation": records.defaults.organisation,
            "assessor_role": visit.assessor_role if visit and visit.assessor_role != DEFAULT_ROLE else "",
            "location": visit.location if visit and visit.location != AT_HOME else "",
        }
    )


@assessment.route("/<reference>/visit/cancel", methods=["GET", "POST"])
def cancel_booked_visit(reference: str) -> Page:
    db, me = database(), actor()
    records = assessment_records(db, me, reference)
    refused = _refused(records, "cancel_assessment_visit", "Cancel the assessment visit")
    if refused is not None:
        return refused
    visit = records.visit
    if visit is None:  # has_booked_visit refuses first; this covers a cancellation read in between
        return _not_open(records, "Cancel the assessment visit", ("no visit is booked",))
    errors: Errors = []
    values: Mapping[str, str] = request.form
    if request.method == "POST":
        try:
            done = cancel_visit(
                db,
                me,
                records.case.reference,
                values.get("reason", ""),
                expected_version=seen_version(values),
            )
        except REFUSALS as refusal:
            errors = refusal_errors(refusal)
        else:
            when = visit.at.astimezone(ENGLAND)
            return _done(done, f"Visit of {day_in_words(when)} at {england_time(when)} cancelled")
    return render_template(
        "assessment/cancel_visit.html",
        title=f"Cancel the assessment visit – {records.case.reference}",
        case=records.case,
        visit=visit,
        reason_longest=REASON_LONGEST,
        errors=errors,
        values=values,
    ), 422 if errors else 200


# ---------------------------------------------------------------------- the OT's assessment


@dataclass(frozen=True)
class Choice:
    """A check box: its value and its words."""

    value: str
    text: str


def _purpose_choices() -> list[Choice]:
    return [Choice(code, words) for code, words in catalogue().purposes.items()]


def _work_choices() -> list[Choice]:
    return [Choice(work.code, work.label) for work in catalogue().works.values()]


def _assessment(values: MultiDict[str, str], today: date) -> tuple[AssessmentInput | None, Errors]:
    errors: Errors = []
    items = catalogue()
    assessed_on = _date(values, "assessed_on", "the date of the assessment", errors, required=True)
    if assessed_on is not None and assessed_on > today:
        errors.append(
            {"text": "The date of the assessment must be today or in the past", "href": "#assessed_on-day"}
        )
    assessor = _required_text(
        values, "assessor", "Enter the assessor's name", "The assessor's name", NAME_LONGEST, errors
    )
    organisation = _required_text(
        values, "organisation", "Enter the assessor's organisation", "The organisation", NAME_LONGEST, errors
    )
    purposes = tuple(dict.fromkeys(values.getlist("purposes")))
    if not purposes:
        errors.append({"text": "Choose at least one purpose", "href": "#purposes"})
    elif any(code not in items.purposes for code in purposes):
        errors.append({"text": "Choose the purposes from the list", "href": "#purposes"})
    works: list[tuple[str, str | None]] = []
    chosen = tuple(dict.fromkeys(values.getlist("works")))
    if not chosen:
        errors.append({"text": "Choose at least one work", "href": "#works"})
    elif any(code not in items.works for code in chosen):
        errors.append({"text": "Choose the works from the list", "href": "#works"})
    else:
        for code in chosen:
            notes = _optional_text(values, f"notes-{code}", "The notes on a work", WORK_NOTES_LONGEST, errors)
            if items.works[code].needs_description and not notes:
                errors.append(
                    {"text": f"Describe the work: {items.works[code].label}", "href": f"#notes-{code}"}
                )
            works.append((code, notes))
    priority = values.get("priority", "")
    if priority not in ("urgent", "non_urgent"):
        errors.append({"text": "Choose whether the case is urgent", "href": "#priority"})
    priority_reason = None
    if priority == "urgent":
        priority_reason = _required_text(
            values, "priority_reason", "Enter why the case is urgent", "Why the case is urgent",
            REASONS_LONGEST, errors,
        )  # fmt: skip
    finding = values.get("finding", "")
    if finding not in ("yes", "no"):
        errors.append({"text": "Choose whether the works are necessary and appropriate", "href": "#finding"})
    reasons = _required_text(
        values, "reasons", "Enter the reasons for your finding", "The reasons", REASONS_LONGEST, errors
    )
    nhs_number = _text(values, "nhs_number") or None
    if nhs_number is not None:
        try:
            nhs_number = parse_nhs_number(nhs_number)
        except InvalidInput:
            errors.append(
                {
                    "text": "Enter an NHS number of 10 digits, like 943 476 5919, or leave it empty",
                    "href": "#nhs_number",
                }
            )
    if errors or assessed_on is None:
        return None, errors
    return AssessmentInput(
        assessed_on=assessed_on,
        assessor=assessor,
        organisation=organisation,
        purposes=purposes,
        works=tuple(works),
        priority=priority,
        priority_reason=priority_reason,
        necessary_and_appropriate=finding == "yes",
        reasons=reasons,
        nhs_number=nhs_number,
        before_visit_confirmed=values.get("before_visit") == "yes",
    ), errors


def _assessment_defaults(records: AssessmentRecords) -> MultiDict[str, str]:
    """The form as it opens: the booked visit's day and assessor, else the signed-in OT."""
    defaults = records.defaults
    day = defaults.assessed_on
    return MultiDict(
        {
            "version": str(records.case.version),
            "assessor": defaults.assessor,
            "organisation": defaults.organisation,
            "assessed_on-day": str(day.day) if day else "",
            "assessed_on-month": str(day.month) if day else "",
            "assessed_on-year": str(day.year) if day else "",
        }
    )


@assessment.route("/<reference>/assessment", methods=["GET", "POST"])
def record(reference: str) -> Page:
    db, me = database(), actor()
    records = assessment_records(db, me, reference)
    refused = _refused(records, "record_assessment", "Record the OT assessment")
    if refused is not None:
        return refused
    errors: Errors = []
    values: MultiDict[str, str] = request.form
    if request.method == "POST":
        now = utcnow()
        given, errors = _assessment(values, local_day(now))
        if given is not None:
            try:
                done = record_assessment(
                    db, me, records.case.reference, given, now=now, expected_version=seen_version(values)
                )
            except REFUSALS as refusal:
                errors += refusal_errors(refusal, {"before_visit_confirmed": "before_visit"})
            else:
                return _done(done, f"Assessment of {day_in_words(given.assessed_on)} recorded")
    else:
        values = _assessment_defaults(records)
    return render_template(
        "assessment/record.html",
        title=f"Record the OT assessment – {records.case.reference}",
        case=records.case,
        records=records,
        purposes=_purpose_choices(),
        works=_work_choices(),
        errors=errors,
        values=values,
    ), 422 if errors else 200


# ---------------------------------------------------------------------- the technical officer's finding

#: Who records the feasibility finding (the service checks it; the page only offers the form to them).
FEASIBILITY_ROLE = "technical_officer"


@assessment.route("/<reference>/feasibility", methods=["GET", "POST"])
def feasibility(reference: str) -> Page:
    db, me = database(), actor()
    records = assessment_records(db, me, reference)
    if FEASIBILITY_ROLE not in me.roles:
        return _not_open(
            records, "Record the feasibility finding", ("only a technical officer records this finding",)
        )
    errors: Errors = []
    values: Mapping[str, str] = request.form
    if request.method == "POST":
        now = utcnow()
        finding = values.get("finding", "")
        if finding not in ("practicable", "not_practicable"):
            errors.append(
                {"text": "Choose whether the works are reasonable and practicable", "href": "#finding"}
            )
        reasons = _required_text(
            values, "reasons", "Enter the reasons for your finding", "The reasons", REASONS_LONGEST, errors
        )
        decided_on = _date(values, "decided_on", "the date of the decision", errors, required=False)
        if decided_on is not None and decided_on > local_day(now):
            errors.append(
                {"text": "The date of the decision must be today or in the past", "href": "#decided_on-day"}
            )
        if not errors:
            try:
                record_feasibility(
                    db, me, records.case.reference, decided_on=decided_on or local_day(now),
                    reasonable_and_practicable=finding == "practicable", reasons=reasons, now=now,
                    expected_version=seen_version(values),
                )  # fmt: skip
            except REFUSALS as refusal:
                errors.append({"text": sentence(refusal.message), "href": "#main-form"})
            else:
                words = (
                    "reasonable and practicable"
                    if finding == "practicable"
                    else "not reasonable and practicable"
                )
                flash(f"Feasibility finding recorded: the works are {words}.", "done")
                return redirect(url_for("case.show", reference=records.case.reference))
    return render_template(
        "assessment/feasibility.html",
        title=f"Record the feasibility finding – {records.case.reference}",
        case=records.case,
        records=records,
        errors=errors,
        values=values,
    ), 422 if errors else 200


# ---------------------------------------------------------------------- what is recorded


@assessment.route("/<reference>/assessments")
def show(reference: str) -> str:
    db, me = database(), actor()
    records = assessment_records(db, me, reference)
    actions = {a.trigger: a for a in available_actions(db, me, records.case.reference)}
    return render_template(
        "assessment/show.html",
        title=f"Assessments – {records.case.reference}",
        case=records.case,
        records=records,
        may_book=actions.get("book_assessment") is not None and actions["book_assessment"].allowed,
        may_cancel=actions.get("cancel_assessment_visit") is not None
        and actions["cancel_assessment_visit"].allowed,
        may_record=actions.get("record_assessment") is not None and actions["record_assessment"].allowed,
        may_find=FEASIBILITY_ROLE in me.roles and records.case.owner_role is not None,
    )
