"""The records officers keep on a case every day: the notes and contact log, and its documents (attached,
fetched, withdrawn)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from dfg.errors import Conflict, GuardFailed, InvalidInput
from dfg.rules.documents import DOCUMENT_KINDS
from dfg.services.case_reading import show_case
from dfg.services.documents import (
    REASON_LONGEST,
    add_document,
    document_content,
    documents_of,
    size_limit,
    withdraw_document,
)
from dfg.services.notes import CONTACTS, PARTIES, add_note, note_problems, notes_of
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import Page, refusal_errors
from dfg.web.security import actor, database
from dfg.web.templating import sentence

records = Blueprint("records", __name__, url_prefix="/cases")

CONTACT_WORDS = {
    "call": "Phone call",
    "email": "E-mail",
    "visit": "Visit",
    "letter_received": "Letter received",
    "meeting": "Meeting",
    "other": "Other",
}
PARTY_WORDS = {
    "applicant": "The applicant",
    "advocate": "Their advocate or representative",
    "ot": "An occupational therapist",
    "contractor": "A contractor",
    "landlord": "The landlord",
    "other": "Someone else",
}
KIND_WORDS = {
    "ot_report": "OT's report",
    "photo": "Photograph",
    "quote": "Quote or estimate",
    "invoice": "Invoice",
    "plan": "Plan or drawing",
    "correspondence": "Correspondence",
    "other": "Other",
}
_FIELD_IDS = {
    "contact": "contact",
    "party": "party",
    "summary": "summary",
    "on": "on-day",
    "kind": "kind",
    "file": "file",
}


@records.route("/<reference>/notes", methods=["GET", "POST"])
def notes(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    errors: list[dict[str, str]] = []
    values = request.form
    if request.method == "POST":
        contact, party, summary = (values.get(key, "") for key in ("contact", "party", "summary"))
        try:
            on = date_from_form(values, "on", "the date of the contact", required=False)
        except DateProblem as problem:
            errors.append({"text": str(problem), "href": "#on-day"})
            on = None
        found = note_problems(contact=contact, party=party, summary=summary, on=on)
        if found is not None:
            errors = refusal_errors(found, _FIELD_IDS) + errors
        if not errors:
            try:
                add_note(db, me, view.reference, contact=contact, party=party, summary=summary, on=on)
            except (InvalidInput, Conflict) as problem:
                errors.append({"text": sentence(problem.message), "href": "#main-form"})
            else:
                flash("Note added.", "done")
                return redirect(url_for("records.notes", reference=view.reference))
    kept = notes_of(db, me, view.reference)
    return render_template(
        "records/notes.html",
        title=f"Notes – {view.reference}",
        case=view,
        notes=list(reversed(kept)),
        contacts=[(c, CONTACT_WORDS.get(c, c)) for c in CONTACTS],
        parties=[(p, PARTY_WORDS.get(p, p)) for p in PARTIES],
        contact_words=CONTACT_WORDS,
        party_words=PARTY_WORDS,
        errors=errors,
        values=values,
    ), 422 if errors else 200


@records.route("/<reference>/documents", methods=["GET", "POST"])
def documents(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            added = add_document(
                db,
                me,
                view.reference,
                name=upload.filename or "" if upload else "",
                content=upload.read() if upload else b"",
                kind=request.form.get("kind", ""),
            )
        except InvalidInput as problem:
            if upload is None or not upload.filename:
                problem.fields["file"] = "Choose a file to attach"
            errors = refusal_errors(problem, _FIELD_IDS)
        except Conflict as problem:
            errors.append({"text": sentence(problem.message), "href": "#main-form"})
        else:
            flash(f"{added.file_name} attached.", "done")
            return redirect(url_for("records.documents", reference=view.reference))
    every = documents_of(db, me, view.reference, withdrawn=True)
    return render_template(
        "records/documents.html",
        title=f"Documents – {view.reference}",
        case=view,
        documents=[d for d in every if d.withdrawal is None],
        withdrawn=[d for d in every if d.withdrawal is not None],
        kinds=[(k, KIND_WORDS.get(k, k)) for k in DOCUMENT_KINDS],
        kind_words=KIND_WORDS,
        limit_mb=size_limit() // 1024 // 1024,
        errors=errors,
        values=request.form,
    ), 422 if errors else 200


@records.route("/<reference>/documents/<int:document_id>")
def document(reference: str, document_id: int) -> Response:
    record, content = document_content(database(), actor(), reference, document_id)
    response = Response(content, mimetype=record.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{record.file_name}"'
    return response


@records.route("/<reference>/documents/<int:document_id>/withdraw", methods=["GET", "POST"])
def withdraw(reference: str, document_id: int) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    found = next((d for d in documents_of(db, me, view.reference) if d.id == document_id), None)
    if found is None:  # no such document, or withdrawn already: nothing to withdraw
        abort(404)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            withdraw_document(db, me, view.reference, document_id, request.form.get("reason", ""))
        except (InvalidInput, GuardFailed, Conflict) as problem:
            errors = refusal_errors(problem)
        else:
            flash(f"{found.file_name} withdrawn.", "done")
            return redirect(url_for("records.documents", reference=view.reference))
    return render_template(
        "records/withdraw.html",
        title=f"Withdraw a document – {view.reference}",
        case=view,
        document=found,
        kind_words=KIND_WORDS,
        reason_longest=REASON_LONGEST,
        errors=errors,
        values=request.form,
    ), 422 if errors else 200
