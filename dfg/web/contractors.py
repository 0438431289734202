"""The contractor register: who may do the works, with their accreditation and status; putting a
contractor on it and changing an entry (``dfg contractor list|add|update``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dfg.errors import Conflict, InvalidInput
from dfg.services.contractors import (
    REGISTER_ROLES,
    ContractorView,
    NewContractor,
    add_contractor,
    check_details,
    find_contractor,
    list_contractors,
    update_contractor,
)
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import Page, refusal_errors
from dfg.web.security import actor, database
from dfg.workflow.roles import require_role

contractors = Blueprint("contractors", __name__, url_prefix="/contractors")


#: The register's typed details, in the order the forms ask for them.
DETAILS = ("contact_name", "address", "phone", "email", "accreditation")
STATUS_WORDS = {"active": "Active", "suspended": "Suspended", "removed": "Removed from the register"}
#: The engine's refusals of a change, shown on the form (PermissionDenied is the 403 page).
_REFUSALS = (InvalidInput, Conflict)


def _may_change() -> bool:
    return actor().role_for(REGISTER_ROLES) is not None


#: The form field each of the register's details is shown beside.
_ANCHORS = {"accreditation_expires": "accreditation_expires-day"}


def _form_checked(
    values: Mapping[str, str], details: Mapping[str, str | None]
) -> tuple[date | None, list[dict[str, str]]]:
    """The expiry date as entered, and every mistake in the form at once (nothing written yet)."""
    errors: list[dict[str, str]] = []
    try:
        check_details(details)
    except InvalidInput as problem:
        errors += refusal_errors(problem, _ANCHORS)
    expires = None
    try:
        expires = date_from_form(
            values, "accreditation_expires", "the accreditation's expiry date", required=False
        )
    except DateProblem as problem:
        errors.append({"text": str(problem), "href": "#accreditation_expires-day"})
    return expires, errors


@contractors.route("", endpoint="register")
def register() -> str:
    include_removed = request.args.get("all") == "1"
    found = list_contractors(database(), actor(), include_removed=include_removed)
    return render_template(
        "contractors/register.html",
        title="Contractors",
        contractors=found,
        include_removed=include_removed,
        may_change=_may_change(),
        status_words=STATUS_WORDS,
    )


@contractors.route("/new", methods=["GET", "POST"], endpoint="add")
def add() -> Page:
    db, me = database(), actor()
    require_role(me, *REGISTER_ROLES)  # the service's own check, before a form is shown for nothing
    errors: list[dict[str, str]] = []
    values = request.form
    if request.method == "POST":
        details = {field: values.get(field, "") for field in ("name", *DETAILS)}
        expires, errors = _form_checked(values, details)
        if not any(e["href"] == "#name" for e in errors) and not details["name"].strip():
            errors.insert(0, {"text": "Enter the contractor's name", "href": "#name"})
        if not errors:
            try:
                made = add_contractor(db, me, NewContractor(
                    name=details["name"], contact_name=details["contact_name"], address=details["address"],
                    phone=details["phone"], email=details["email"], accreditation=details["accreditation"],
                    accreditation_expires=expires,
                ))  # fmt: skip
            except _REFUSALS as problem:
                errors = refusal_errors(problem, _ANCHORS)
            else:
                flash(f"{made.name} is on the register (accreditation: {made.accreditation_text}).", "done")
                return redirect(url_for("contractors.register"))
    return render_template(
        "contractors/add.html", title="Add a contractor", errors=errors, values=values
    ), 422 if errors else 200


def _entry_values(view: ContractorView) -> dict[str, str]:
    """The form as the register has the entry now."""
    values = {field: getattr(view, field) or "" for field in DETAILS}
    if view.accreditation_expires is not None:
        day = view.accreditation_expires
        values |= {
            "accreditation_expires-day": str(day.day),
            "accreditation_expires-month": str(day.month),
            "accreditation_expires-year": str(day.year),
        }
    return values | {"status": view.status}


@contractors.route("/<int:contractor_id>", methods=["GET", "POST"], endpoint="change")
def change(contractor_id: int) -> Page:
    db, me = database(), actor()
    view = find_contractor(db, me, contractor_id)
    errors: list[dict[str, str]] = []
    values: Mapping[str, str] = _entry_values(view)
    if request.method == "POST":
        require_role(me, *REGISTER_ROLES)
        values = request.form
        details: dict[str, str | None] = {field: values.get(field, "") for field in DETAILS}
        expires, errors = _form_checked(values, details)
        status = values.get("status") or None
        if status is not None and status not in STATUS_WORDS:
            errors.append({"text": "Choose the contractor's status", "href": "#status"})
        if not errors:
            try:
                done = update_contractor(
                    db, me, view.id, contact_name=details["contact_name"], address=details["address"],
                    phone=details["phone"], email=details["email"], accreditation=details["accreditation"],
                    # only a changed date is sent: clearing the accreditation then clears its expiry too
                    accreditation_expires=expires if expires != view.accreditation_expires else None,
                    status=status, reason=values.get("reason", ""),
                )  # fmt: skip
            except _REFUSALS as problem:
                errors = refusal_errors(problem, _ANCHORS)
            else:
                flash(f"{done.name} changed: {STATUS_WORDS[done.status].lower()}; accreditation "
                      f"{done.accreditation_text}.", "done")  # fmt: skip
                return redirect(
                    url_for("contractors.register", all="1" if done.status == "removed" else None)
                )
    return render_template(
        "contractors/change.html",
        title=view.name,
        contractor=view,
        may_change=_may_change(),
        status_words=STATUS_WORDS,
        errors=errors,
        values=values,
    ), 422 if errors else 200
