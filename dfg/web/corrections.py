"""Correcting a case's details: a person's name, date of birth, NHS number and contact details, and the
address of the home, each with the reason. The form starts with what is recorded; only what was changed
goes to the engine, which records it on the case's history (``dfg case correct``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from dfg.errors import Conflict, GuardFailed, InvalidInput, PermissionDenied
from dfg.services.case_reading import CaseView, show_case
from dfg.services.corrections import FIELD_WORDS, Correction, correct_details, correction_problems
from dfg.services.people import CONTACT_WORDS
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import Errors, Page, seen_version
from dfg.web.security import actor, database
from dfg.web.templating import sentence

corrections = Blueprint("corrections", __name__, url_prefix="/cases")


#: A person's text fields in the form's order: name, label, hint, autocomplete, width.
PERSON_INPUTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("title", "Title (optional)", "For example, Mrs, Mr, Dr or Mx", "off", "govuk-input--width-5"),
    ("given_name", "Given name", "", "off", "govuk-!-width-two-thirds"),
    ("family_name", "Family name", "", "off", "govuk-!-width-two-thirds"),
    ("nhs_number", "NHS number (optional)", "10 digits, for example 943 476 5919", "off", "govuk-input--width-10"),
    ("phone", "Phone number (optional)", "", "off", "govuk-input--width-20"),
    ("email", "E-mail address (optional)", "", "off", "govuk-!-width-two-thirds"),
    ("advocate", "Advocate or representative (optional)", "Their name and how to reach them", "off", ""),
    ("format_note", "Another format letters must reach them in (optional)",
     "For example, Braille, audio, or an interpreter and the language", "off", ""),
)  # fmt: skip
#: The choices on a person's form, each kept as the engine keeps it.
PREFERRED_CONTACT = "preferred_contact"
LARGE_PRINT = "large_print"
HOME_INPUTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("address_line_1", "Address line 1", "", "off", ""),
    ("address_line_2", "Address line 2 (optional)", "", "off", ""),
    ("town", "Town or city", "", "off", "govuk-!-width-two-thirds"),
    ("postcode", "Postcode", "", "off", "govuk-input--width-10"),
)  # fmt: skip
DATE_OF_BIRTH = "date_of_birth"
#: Where on the page each of the engine's problems belongs (the date's first box; the rest the form).
_ANCHORS = {DATE_OF_BIRTH: f"{DATE_OF_BIRTH}-day", "details": "main-form", "person": "main-form"}
#: The error summary lists the mistakes in the order of the page.
_PAGE_ORDER = ("details", "person", "title", "given_name", "family_name", DATE_OF_BIRTH, "nhs_number", "phone",
               "email", "preferred_contact", "advocate", "large_print", "communication_needs", "format_note",
               "address_line_1", "address_line_2", "town", "postcode", "reason")  # fmt: skip


@corrections.route("/<reference>/people/<int:number>", methods=["GET", "POST"])
def person(reference: str, number: int) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    # people are numbered as the engine numbers them: 1 is the first listed on the case
    if not 1 <= number <= len(view.people):
        abort(404)
    recorded = view.people[number - 1]
    values: Mapping[str, Any] = request.form if request.method == "POST" else _person_values(recorded)
    errors: Errors = []
    if request.method == "POST":
        changed: dict[str, str | date | None] = {**_changed_text(values, recorded, PERSON_INPUTS)}
        if (contact := str(values.get(PREFERRED_CONTACT, "")).strip()) != (recorded[PREFERRED_CONTACT] or ""):
            changed[PREFERRED_CONTACT] = contact
        if (large := values.get(LARGE_PRINT) == "yes") != recorded[LARGE_PRINT]:
            changed[LARGE_PRINT] = "yes" if large else "no"
        date_problem = None
        try:
            born = date_from_form(values, DATE_OF_BIRTH, "the date of birth", required=False)
        except DateProblem as problem:
            date_problem = str(problem)
            # not a date: the engine says so too, so every other mistake is still said beside it
            changed[DATE_OF_BIRTH] = " ".join(
                values.get(f"{DATE_OF_BIRTH}-{p}", "") for p in ("day", "month", "year")
            )
        else:
            if born != recorded["date_of_birth"]:
                changed[DATE_OF_BIRTH] = born
        correction = Correction(reason=values.get("reason", ""), person=number, person_fields=changed)
        done, errors = _correct(
            view, correction, values, {DATE_OF_BIRTH: date_problem} if date_problem else {}
        )
        if done is not None:
            flash(f"Details of {recorded['name']} corrected: {done}.", "done")
            return redirect(url_for("case.show", reference=view.reference))
    return render_template(
        "corrections/person.html",
        title=f"Correct {recorded['name']}’s details – {view.reference}",
        case=view,
        person=recorded,
        number=number,
        inputs=PERSON_INPUTS,
        contacts=CONTACT_WORDS,
        errors=errors,
        values=values,
    ), 422 if errors else 200


@corrections.route("/<reference>/home", methods=["GET", "POST"])
def home(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    values: Mapping[str, Any] = request.form if request.method == "POST" else _home_values(view)
    errors: Errors = []
    if request.method == "POST":
        changed: dict[str, str | None] = {**_changed_text(values, view.home, HOME_INPUTS)}
        correction = Correction(reason=values.get("reason", ""), home_fields=changed)
        done, errors = _correct(view, correction, values, {})
        if done is not None:
            flash(f"Address corrected: {done}.", "done")
            return redirect(url_for("case.show", reference=view.reference))
    return render_template(
        "corrections/home.html",
        title=f"Correct the address – {view.reference}",
        case=view,
        inputs=HOME_INPUTS,
        errors=errors,
        values=values,
    ), 422 if errors else 200


def _person_values(recorded: Mapping[str, Any]) -> dict[str, str]:
    """The form as it starts: what is recorded."""
    values = {name: recorded.get(name) or "" for name, *_ in PERSON_INPUTS}
    values[PREFERRED_CONTACT] = recorded[PREFERRED_CONTACT] or ""
    values[LARGE_PRINT] = "yes" if recorded[LARGE_PRINT] else ""
    born: date | None = recorded.get(DATE_OF_BIRTH)
    if born is not None:
        values |= {
            f"{DATE_OF_BIRTH}-day": str(born.day),
            f"{DATE_OF_BIRTH}-month": str(born.month),
            f"{DATE_OF_BIRTH}-year": str(born.year),
        }
    return values


def _home_values(view: CaseView) -> dict[str, str]:
    return {name: view.home.get(name) or "" for name, *_ in HOME_INPUTS}


def _changed_text(
    values: Mapping[str, Any], recorded: Mapping[str, Any], inputs: tuple[tuple[str, ...], ...]
) -> dict[str, str]:
    """Only the fields changed from what is recorded (an empty box clears an optional one)."""
    changed: dict[str, str] = {}
    for name, *_ in inputs:
        given = str(values.get(name, "")).strip()
        if given != (recorded.get(name) or ""):
            changed[name] = given
    return changed


def _correct(
    view: CaseView, correction: Correction, values: Mapping[str, Any], own: dict[str, str]
) -> tuple[str | None, Errors]:
    """Make the correction, or every mistake in it beside its field (``own``: the page's own, which say
    more than the engine's about the same field). Returns what changed, in words."""
    found = correction_problems(correction)
    if found is not None or own:
        return None, _errors_from(found, own)
    try:
        recorded = correct_details(
            database(), actor(), view.reference, correction, expected_version=seen_version(values)
        )
    except InvalidInput as refusal:
        return None, _errors_from(refusal, {})
    except (Conflict, GuardFailed, PermissionDenied) as refusal:
        return None, [{"text": sentence(refusal.message), "href": "#main-form"}]
    changed = sorted(recorded.payload["changed"], key=_place_on_page)
    return ", ".join(FIELD_WORDS.get(k, k) for k in changed), []


def _errors_from(problem: InvalidInput | None, own: dict[str, str]) -> Errors:
    words = {**(problem.fields if problem else {}), **own}
    if problem is not None and not problem.fields:
        return [{"text": sentence(problem.message), "href": "#main-form"}]
    in_order = sorted(words.items(), key=lambda item: _place_on_page(item[0]))
    return [{"text": sentence(text), "href": f"#{_ANCHORS.get(name, name)}"} for name, text in in_order]


def _place_on_page(name: str) -> int:
    return _PAGE_ORDER.index(name) if name in _PAGE_ORDER else 0
