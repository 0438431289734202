"""Adding a person to a case and removing one, each with the reason (``dfg case person add/remove``):
the engine checks the details as it checks them on opening a case, and records the change on the
case's history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from dfg.errors import Conflict, GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.services.case_opening import NewPerson
from dfg.services.case_reading import show_case
from dfg.services.household import HOUSEHOLD_ROLES, add_person, addition_problems, remove_person
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import Errors, Page, refusal_errors, seen_version
from dfg.web.security import actor, database

household = Blueprint("household", __name__, url_prefix="/cases")

#: The new person's text boxes in the form's order: name, label, hint, autocomplete, width.
NEW_PERSON_INPUTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("title", "Title (optional)", "For example, Mrs, Mr, Dr or Mx", "off", "govuk-input--width-5"),
    ("given_name", "First name", "", "off", "govuk-!-width-two-thirds"),
    ("family_name", "Last name", "", "off", "govuk-!-width-two-thirds"),
    ("relationship_to_applicant", "Relationship to the applicant (optional)", "For example, husband or son",
     "off", "govuk-!-width-one-half"),
)  # fmt: skip
DATE_OF_BIRTH = "date_of_birth"
#: Where each of the engine's problems belongs on the page, in the page's order.
_IDS = {"role": "role", DATE_OF_BIRTH: f"{DATE_OF_BIRTH}-day"}
_PAGE_ORDER = ("role", "title", "given_name", "family_name", DATE_OF_BIRTH, "relationship_to_applicant",
               "reason")  # fmt: skip


@household.route("/<reference>/people/new", methods=["GET", "POST"])
def add(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    values: Mapping[str, Any] = request.form if request.method == "POST" else {}
    errors: Errors = []
    if request.method == "POST":
        own: dict[str, str] = {}
        try:
            born = date_from_form(values, DATE_OF_BIRTH, "the date of birth", required=False)
        except DateProblem as problem:
            born, own[DATE_OF_BIRTH] = None, str(problem)
        text = {name: str(values.get(name, "")).strip() or None for name, *_ in NEW_PERSON_INPUTS}
        person = NewPerson(
            given_name=text["given_name"] or "",
            family_name=text["family_name"] or "",
            title=text["title"],
            relationship_to_applicant=text["relationship_to_applicant"],
            date_of_birth=born,
        )
        role, reason = str(values.get("role", "")), str(values.get("reason", ""))
        found = addition_problems(person, role, reason)
        if found is not None or own:
            errors = _in_page_order({**(found.fields if found else {}), **own})
        else:
            try:
                recorded = add_person(db, me, view.reference, person, role, reason,
                                      expected_version=seen_version(values))  # fmt: skip
            except InvalidInput as refusal:
                errors = _in_page_order(refusal.fields) if refusal.fields else refusal_errors(refusal)
            except (Conflict, GuardFailed, PermissionDenied) as refusal:
                errors = refusal_errors(refusal)
            else:
                flash(f"{recorded.payload['name']} added to the case.{_means_note(recorded.payload)}", "done")
                return redirect(url_for("case.show", reference=view.reference, _anchor="people"))
    return render_template(
        "household/add.html",
        title=f"Add a person – {view.reference}",
        case=view,
        inputs=NEW_PERSON_INPUTS,
        roles=HOUSEHOLD_ROLES,
        errors=errors,
        values=values,
    ), 422 if errors else 200


@household.route("/<reference>/people/<int:number>/remove", methods=["GET", "POST"])
def remove(reference: str, number: int) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    if not 1 <= number <= len(view.people):
        abort(404)
    person = view.people[number - 1]
    values: Mapping[str, Any] = request.form if request.method == "POST" else {}
    errors: Errors = []
    if request.method == "POST":
        try:
            recorded = remove_person(db, me, view.reference, number, str(values.get("reason", "")),
                                     expected_version=seen_version(values))  # fmt: skip
        except (InvalidInput, Conflict, GuardFailed, NotFound, PermissionDenied) as refusal:
            errors = refusal_errors(refusal)
        else:
            flash(f"{recorded.payload['name']} removed from the case.{_means_note(recorded.payload)}", "done")
            return redirect(url_for("case.show", reference=view.reference, _anchor="people"))
    return render_template(
        "household/remove.html",
        title=f"Remove {person['name']} – {view.reference}",
        case=view,
        person=person,
        number=number,
        errors=errors,
        values=values,
    ), 422 if errors else 200


def _means_note(said: Mapping[str, Any]) -> str:
    if not said["test_of_resources_may_change"]:
        return ""
    return (
        " The household whose means are tested has changed: check whether a new test of resources is needed."
    )


def _in_page_order(fields: Mapping[str, str]) -> Errors:
    """Each problem beside its box, in the order of the page."""
    ordered = sorted(
        fields.items(), key=lambda item: _PAGE_ORDER.index(item[0]) if item[0] in _PAGE_ORDER else 0
    )
    return refusal_errors(InvalidInput("", fields=dict(ordered)), _IDS)
