"""Data protection in the browser: files due for disposal (a manager's authority, an administrator's
disposal, ``dfg retention``), a person's subject access export (``dfg person export``) and who has read a
case (``dfg audit access``). Each page calls one service, whose role and district checks decide."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from dfg.errors import GuardFailed, InvalidInput, NotFound, OutsideDistrict, PermissionDenied
from dfg.services.access import access_record
from dfg.services.case_reading import CaseView, show_case, view_case
from dfg.services.database import Database
from dfg.services.retention import FileDue, authorise_disposal, dispose, files_due
from dfg.services.subject_access import ANSWERERS, export_person
from dfg.web.forms import Errors, Page, refusal_errors
from dfg.web.reports import REFERENCE_LONGEST
from dfg.web.security import actor, database
from dfg.web.templating import sentence
from dfg.workflow.actor import Actor
from dfg.workflow.roles import require_role

data_protection = Blueprint("data_protection", __name__, url_prefix="/admin")

#: Who may use each page (the services' own checks), for the page that lists them.
RETENTION_ROLES = frozenset({"manager", "admin"})
ACCESS_RECORD_ROLES = frozenset({"manager", "admin"})
DATA_PROTECTION_ROLES = RETENTION_ROLES | ACCESS_RECORD_ROLES | frozenset(ANSWERERS)

#: How each view recorded on the access record reads to a person.
VIEW_WORDS = {
    "case": "The case's details (its page)",
    "history": "The case's history",
    "notes": "The notes and contact log",
    "document": "A document kept on the case",
    "letter": "A letter's PDF",
    "search": "Search results",
    "subject_access": "A subject access export",
}


@data_protection.route("/data-protection")
def index() -> str:
    me = actor()
    require_role(me, *DATA_PROTECTION_ROLES)
    return render_template(
        "data_protection/index.html",
        title="Data protection",
        retention=bool(RETENTION_ROLES & me.roles),
        subject_access=bool(set(ANSWERERS) & me.roles),
        access=bool(ACCESS_RECORD_ROLES & me.roles),
    )


# ---------------------------------------------------------------------- retention and disposal


def _waiting(due: list[FileDue]) -> list[FileDue]:
    """The files an administrator's disposal would take: authorised, and not held by a land charge."""
    return [f for f in due if f.authorised_by and f.due]


@data_protection.route("/retention", methods=["GET", "POST"])
def retention() -> Page:
    """The closed files due for disposal; a manager authorises some of them here."""
    db, me = database(), actor()
    errors: Errors = []
    chosen = request.form.getlist("references")
    if request.method == "POST":
        if not chosen:
            errors.append({"text": "Choose the files to authorise for disposal", "href": "#references"})
        else:
            try:
                done = authorise_disposal(db, me, chosen)
            except (InvalidInput, GuardFailed) as problem:
                errors = refusal_errors(problem, default="#references")
            else:
                flash(
                    f"Disposal authorised: {', '.join(done)}. An administrator can now dispose of them.",
                    "done",
                )
                return redirect(url_for("data_protection.retention"))
    due = files_due(db, me)
    return render_template(
        "data_protection/retention.html",
        title="Files due for disposal",
        due=due,
        waiting=_waiting(due),
        chosen=chosen,
        errors=errors,
    ), 422 if errors else 200


@data_protection.route("/retention/dispose", methods=["GET", "POST"])
def dispose_files() -> Page:
    """An administrator's disposal of the authorised files, once they have confirmed the list they saw."""
    db, me = database(), actor()
    require_role(me, "admin")  # the service's own check, before a form is shown for nothing
    errors: Errors = []
    waiting = _waiting(files_due(db, me))
    if request.method == "POST":
        seen = sorted(request.form.getlist("references"))
        if seen != sorted(f.reference for f in waiting):
            errors.append(
                {
                    "text": "The files waiting for disposal have changed since the page was shown: "
                    "check the list below again",
                    "href": "#confirm",
                }
            )
        elif request.form.get("confirm") != "yes":
            errors.append(
                {"text": "Confirm that these files are to be disposed of, for good", "href": "#confirm"}
            )
        else:
            try:
                done = dispose(db, me)
            except (PermissionDenied, GuardFailed) as problem:
                errors = refusal_errors(problem, default="#confirm")
            else:
                flash(
                    f"{len(done)} file{'' if len(done) == 1 else 's'} disposed of"
                    + (f": {', '.join(d.reference for d in done)}." if done else "."),
                    "done",
                )
                return redirect(url_for("data_protection.retention"))
    return render_template(
        "data_protection/dispose.html",
        title="Dispose of the authorised files",
        waiting=waiting,
        errors=errors,
    ), 422 if errors else 200


# ---------------------------------------------------------------------- subject access


def _case_asked_for(
    me: Actor, errors: Errors, read: Callable[[Database, Actor, str], CaseView] = show_case
) -> tuple[str, CaseView | None, int]:
    """The case named by the page's ``reference`` (query or form), read with ``read`` (``view_case`` where
    the page shows its people, so the read is on its access record), or its mistake in ``errors`` and the
    page's status: 404 for a case not there or in another district (told apart by nothing), else 422."""
    values = request.form if request.method == "POST" else request.args
    typed = values.get("reference", "").strip()
    if not typed or len(typed) > REFERENCE_LONGEST:
        if typed or request.method == "POST" or "reference" in values:
            errors.append({"text": "Enter a case reference, like CAN-2026-0001", "href": "#reference"})
        return typed, None, 422
    try:
        return typed, read(database(), me, typed), 200
    except OutsideDistrict as unseen:
        errors.append({"text": sentence(unseen.unseen), "href": "#reference"})
        return typed, None, 404
    except NotFound as problem:
        errors.extend(refusal_errors(problem, default="#reference"))
        return typed, None, 404
    except InvalidInput as problem:
        errors.extend(refusal_errors(problem, default="#reference"))
        return typed, None, 422


@data_protection.route("/subject-access", methods=["GET", "POST"])
def subject_access() -> Page | Response:
    """A person's subject access export: the case first, then whom on it, then the download."""
    me = actor()
    require_role(me, *ANSWERERS)  # the service's own check, before a case's people are shown
    errors: Errors = []
    # the page shows the case's people: a read of the case, as its own page is (the export records itself)
    typed, case, status = _case_asked_for(me, errors, view_case if request.method == "GET" else show_case)
    if request.method == "POST" and case is not None:
        place = request.form.get("person", "")
        if not place.isascii() or not place.isdigit() or not 1 <= int(place) <= len(case.people):
            errors.append({"text": "Choose whose information to export", "href": "#person"})
            status = 422
        else:
            found = export_person(database(), me, case.reference, person=int(place))
            stem = f"{case.reference}-subject-access"
            response = Response(found.as_archive(stem), mimetype="application/zip")
            response.headers["Content-Disposition"] = f'attachment; filename="{stem}.zip"'
            return response
    return render_template(
        "data_protection/subject_access.html",
        title="Subject access request",
        reference=typed,
        case=case,
        chosen=request.form.get("person", ""),
        errors=errors,
    ), status if errors else 200


# ---------------------------------------------------------------------- the access record


@data_protection.route("/access-record")
def access() -> Page:
    """Who has read a case's personal data, when and through which view, newest first."""
    db, me = database(), actor()
    require_role(me, *ACCESS_RECORD_ROLES)
    errors: Errors = []
    typed, case, status = _case_asked_for(me, errors)
    entries = access_record(db, me, case.reference) if case is not None else None
    return render_template(
        "data_protection/access.html",
        title="Who has read a case",
        reference=typed,
        case=case,
        entries=entries,
        view_words=VIEW_WORDS,
        errors=errors,
    ), status if errors else 200
