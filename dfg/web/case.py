"""The case page: everything recorded on a case, what the user can do next (and why not the rest), its
history and its letters; and firing a step of the workflow from a form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from dfg.errors import Conflict, DfgError, GuardFailed, InvalidInput, InvalidTransition, OutsideDistrict
from dfg.services.case_changes import Change, changes_open
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.cases import Action, advance, available_actions
from dfg.services.clocks import case_clock_sheet
from dfg.services.letter_register import letter_pdf, letter_record, list_letters
from dfg.services.people import CONTACT_WORDS, letter_arrangements
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import seen_version
from dfg.web.security import actor, database
from dfg.web.templating import sentence
from dfg.workflow.guards import TriggerInput

case = Blueprint("case", __name__, url_prefix="/cases")

#: The pages that write a step's own record (a trigger with ``needs``), by the record's name.
RECORD_PAGES: dict[str, str] = {
    "appointment": "assessment.book_visit",
    "visit_cancellation": "assessment.cancel_booked_visit",
    "assessment": "assessment.record",
    "approval": "money.approve",
    "payment": "payments.pay",
    "land_charge": "payments.land_charge",
    "repayment_decision": "payments.repayment_decision",
}

#: The pages that record a change beside the workflow's steps, by the change's name.
CHANGE_PAGES: dict[str, str] = {
    "contribution": "payments.contribution",
    "entitlement_ceased": "payments.cease",
    "ceased_entitlement_decision": "payments.decide",
    "budget_override": "money.budget_override",
}

#: The case's own pages, linked from its page where they exist (endpoint, words).
CASE_PAGES: tuple[tuple[str, str], ...] = (
    ("records.notes", "Notes and contact log"),
    ("records.documents", "Documents"),
    ("assessment.show", "Visits and assessments"),
    ("means_test.show", "Test of resources"),
    ("money.estimates", "Estimates"),
    ("money.calculate", "Grant calculation"),
    ("payments.money", "Money: invoices and payments"),
    ("payments.land_charge", "Land charge"),
    ("corrections.home", "Correct the address"),
)

REASON_LONGEST = 2000


@case.route("/<reference>")
def show(reference: str) -> str:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    # one entry on the access record for the page: the history read says it was the case page
    events = history(db, me, view.reference, view="case")
    actions = available_actions(db, me, view.reference)
    return render_template(
        "case.html",
        title=view.reference,
        case=view,
        events=list(reversed(events)),
        actions=actions,
        action_page=_action_page,
        changes=_change_pages(changes_open(db, me, view.reference), view.reference),
        clocks=case_clock_sheet(db, me, view.reference),
        letters=list_letters(db, me, view.reference),
        contact_words=CONTACT_WORDS,
        arrangements=[
            note for p in view.people if "applicant" in p["roles"] for note in letter_arrangements(p)
        ],
        case_pages=[(e, words) for e, words in CASE_PAGES if e in current_app.view_functions],
    )


def _action_page(action: Action, reference: str) -> str | None:
    """Where an open action is done: its own record's page, or the step form."""
    if action.through is not None:
        endpoint = RECORD_PAGES.get(action.through)
        if endpoint is None or endpoint not in current_app.view_functions:
            return None
        return url_for(endpoint, reference=reference)
    return url_for("case.act", reference=reference, trigger=action.trigger)


def _change_pages(changes: list[Change], reference: str) -> list[tuple[Change, str]]:
    """The changes open to the user, each with the page that records it (those with one)."""
    return [
        (change, url_for(endpoint, reference=reference))
        for change in changes
        if (endpoint := CHANGE_PAGES.get(change.name)) in current_app.view_functions
    ]


@case.route("/<reference>/act/<trigger>", methods=["GET", "POST"])
def act(reference: str, trigger: str) -> str | WerkzeugResponse | tuple[str, int]:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    action = next((a for a in available_actions(db, me, view.reference) if a.trigger == trigger), None)
    if action is None or action.through is not None:
        abort(404)
    errors: list[dict[str, str]] = []
    values = request.form
    if request.method == "POST":
        given, errors = _trigger_input(action, values)
        if not errors:
            try:
                done = advance(db, me, view.reference, trigger, given, expected_version=seen_version(values))
            except (Conflict, GuardFailed, InvalidTransition, InvalidInput) as refusal:
                errors.append({"text": sentence(refusal.message), "href": "#main-form"})
            else:
                letters = f" Letters queued: {', '.join(done.letters)}." if done.letters else ""
                flash(f"{action.label}: done, on {done.effective_date:%-d %B %Y}.{letters}", "done")
                return redirect(url_for("case.show", reference=view.reference))
    status = 422 if errors else 200
    return render_template(
        "act.html",
        title=f"{action.label} – {view.reference}",
        case=view,
        action=action,
        errors=errors,
        values=values,
    ), status


def _trigger_input(action: Action, values: Mapping[str, str]) -> tuple[TriggerInput, list[dict[str, str]]]:
    """The step's inputs from the form, and every mistake in them at once."""
    get = values.get
    errors = []
    reason = (get("reason") or "").strip() or None
    if action.reason == "required" and reason is None:
        errors.append({"text": "Enter the reason", "href": "#reason"})
    if reason is not None and len(reason) > REASON_LONGEST:
        errors.append({"text": f"The reason must be {REASON_LONGEST} characters or fewer", "href": "#reason"})
    code = get("code") or None
    if action.codes and code not in dict(action.codes):
        errors.append({"text": "Choose why", "href": "#code"})
    dates: dict[str, date | None] = {}
    for name, asked, label in (
        ("on", action.records is not None, "the date it happened"),
        ("review_date", action.asks_review_date, "the review date"),
        ("reply_by", action.asks_reply_by, "the date to reply by"),
    ):
        if not asked:
            continue
        try:
            dates[name] = date_from_form(values, name, label, required=name != "on")
        except DateProblem as problem:
            errors.append({"text": str(problem), "href": f"#{name}-day"})
    given = TriggerInput(
        reason=reason,
        code=code,
        on=dates.get("on"),
        review_date=dates.get("review_date"),
        reply_by=dates.get("reply_by"),
    )
    return given, errors


@case.route("/<reference>/letters/<int:letter_id>.pdf")
def letter(reference: str, letter_id: int) -> Response:
    db, me = database(), actor()
    try:
        record = letter_record(db, me, letter_id)
    except OutsideDistrict:  # the id was typed: the page does not name another district's case
        abort(404)
    if record.reference != show_case(db, me, reference).reference:
        abort(404)
    try:
        pdf = letter_pdf(db, me, letter_id)
    except DfgError as problem:
        abort(409, sentence(problem.message))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{record.file_name}"'
    return response
