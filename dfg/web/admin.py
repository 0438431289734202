"""Administration: users (add, invite, change roles, district and limit, deactivate), the sign-on
mapped to each (``dfg user map``) and districts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from dfg.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dfg.rules.money import parse_pounds
from dfg.services.identity import identities_of, map_identity, principal_for, unmap_identity
from dfg.services.sign_in import invite
from dfg.services.users import (
    USER_ROLES,
    add_district,
    add_user,
    change_user,
    deactivate_user,
    list_districts,
    reactivate_user,
    users_administered,
)
from dfg.web.forms import Errors, Page, refusal_errors
from dfg.web.security import actor, database
from dfg.web.templating import sentence

admin = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_WORDS = {
    "grant_officer": "Grant officer",
    "ot": "Occupational therapist",
    "technical_officer": "Technical officer",
    "approver": "Approver",
    "manager": "Manager",
    "admin": "Administrator",
}
_REFUSALS = (InvalidInput, PermissionDenied, NotFound, Conflict)


def _limit(text: str, errors: list[dict[str, str]]) -> int | None:
    text = text.strip().replace(",", "").lstrip("£")
    if not text:
        return None
    try:
        return parse_pounds(text, field="the delegated limit")
    except InvalidInput:
        errors.append(
            {"text": "Enter the delegated limit in pounds, like 30000, or leave it empty", "href": "#limit"}
        )
        return None


@admin.route("/users")
def users() -> str:
    return render_template(
        "admin/users.html",
        title="Users",
        users=users_administered(database(), actor()),
        role_words=ROLE_WORDS,
    )


@admin.route("/users/new", methods=["GET", "POST"])
def new_user() -> Page:
    me, errors = actor(), []
    form = request.form
    if request.method == "POST":
        roles = form.getlist("roles")
        if not roles:
            errors.append({"text": "Choose at least one role", "href": "#roles"})
        if not form.get("username", "").strip():
            errors.append({"text": "Enter a username, like can.officer", "href": "#username"})
        if not form.get("full_name", "").strip():
            errors.append({"text": "Enter the person's name", "href": "#full_name"})
        limit = _limit(form.get("limit", ""), errors)
        if not errors:
            try:
                made = add_user(
                    database(),
                    me,
                    username=form["username"].strip(),
                    full_name=form["full_name"].strip(),
                    roles=roles,
                    district=form.get("district") or None,
                    approval_limit_pence=limit,
                )
            except _REFUSALS as problem:
                errors = refusal_errors(problem)
            else:
                flash(f"{made.username} added. Invite them so that they can set their password.", "done")
                return redirect(url_for("admin.user", username=made.username))
    return render_template(
        "admin/new_user.html",
        title="Add a user",
        roles=[(r, ROLE_WORDS.get(r, r)) for r in USER_ROLES],
        districts=list_districts(database()),
        errors=errors,
        values=form,
    ), 422 if errors else 200


@admin.route("/users/<username>", methods=["GET", "POST"])
def user(username: str) -> Page:
    db, me = database(), actor()
    found = next((u for u in users_administered(db, me) if u.username == username), None)
    if found is None:
        return render_template(
            "error.html", status=404, title="Page not found", message=f"no user '{username}'"
        ), 404
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        roles = form.getlist("roles")
        if not roles:
            errors.append({"text": "Choose at least one role", "href": "#roles"})
        limit = _limit(form.get("limit", ""), errors)
        if not errors:
            try:
                done = change_user(
                    db,
                    me,
                    username,
                    roles=roles,
                    district=form.get("district") or None,
                    approval_limit_pence=limit,
                    full_name=form.get("full_name", "").strip() or None,
                )
            except _REFUSALS as problem:
                errors = refusal_errors(problem)
            else:
                flash(f"{username}: {done.summary()}.", "done")
                return redirect(url_for("admin.user", username=username))
    return render_template(
        "admin/user.html",
        title=f"User {username}",
        user=found,
        roles=[(r, ROLE_WORDS.get(r, r)) for r in USER_ROLES],
        districts=list_districts(db),
        errors=errors,
        values=form if request.method == "POST" else None,
    ), 422 if errors else 200


@admin.route("/users/<username>/invite", methods=["POST"])
def invite_user(username: str) -> Page:
    try:
        invitation = invite(database(), actor(), username)
    except _REFUSALS as problem:
        flash(sentence(str(problem)))
        return redirect(url_for("admin.user", username=username))
    return render_template("admin/invitation.html", title=f"Invitation for {username}", invitation=invitation)


@admin.route("/users/<username>/active", methods=["POST"])
def set_active(username: str) -> Page:
    db, me = database(), actor()
    reason = request.form.get("reason", "")
    change = reactivate_user if request.form.get("active") == "1" else deactivate_user
    try:
        view = change(db, me, username, reason=reason)
    except _REFUSALS as problem:
        for error in refusal_errors(problem, default="#reason"):
            flash(error["text"])
    else:
        flash(
            f"{username} {'can act again' if view.active else 'is deactivated: their sessions have ended'}.",
            "done",
        )
    return redirect(url_for("admin.user", username=username))


@admin.route("/districts", methods=["GET", "POST"])
def districts() -> Page:
    db, errors = database(), []
    form = request.form
    if request.method == "POST":
        try:
            made = add_district(
                db, actor(), form.get("code", "").strip().upper(), form.get("name", "").strip()
            )
        except _REFUSALS as problem:
            errors = refusal_errors(problem, default="#code")
        else:
            flash(f"{made.code}, {made.name}, added.", "done")
            return redirect(url_for("admin.districts"))
    return render_template(
        "admin/districts.html", title="Districts", districts=list_districts(db), errors=errors, values=form
    ), 422 if errors else 200


#: The kinds of principal a mapping names, as an administrator reads them, with the hint for each name.
IDENTITY_KINDS = (
    ("os", "An operating-system account", "For the command line on a SQLite database file, like jsmith"),
    ("db", "A PostgreSQL login", "For the command line on a shared database, like pkhan"),
    ("oidc", "A single sign-on subject",
     "The issuer and subject shown to them when single sign-on did not let them in, as ISSUER|SUBJECT"),
)  # fmt: skip


@admin.route("/users/<username>/identities", methods=["GET", "POST"])
def identities(username: str) -> Page:
    """The accounts, logins and single sign-on subjects that may act as the user; add one."""
    db, me = database(), actor()
    found = next((u for u in users_administered(db, me) if u.username == username), None)
    if found is None:
        abort(404)
    errors: Errors = []
    form = request.form
    if request.method == "POST":
        kind, name = form.get("kind", ""), form.get("principal", "").strip()
        if kind not in {k for k, *_ in IDENTITY_KINDS}:
            errors.append({"text": "Choose what kind of sign-on it is", "href": "#kind"})
        if not name:
            errors.append({"text": "Enter the account, login or subject", "href": "#principal"})
        if not errors:
            try:
                map_identity(db, me, username, principal_for(kind, name))
            except _REFUSALS as problem:
                errors = refusal_errors(problem, default="#principal")
            else:
                flash(f"{name} may now act as {username}.", "done")
                return redirect(url_for("admin.identities", username=username))
    return render_template(
        "admin/identities.html",
        title=f"Sign-on for {username}",
        user=found,
        mapped=identities_of(db, me, username),
        kinds=IDENTITY_KINDS,
        errors=errors,
        values=form,
    ), 422 if errors else 200


@admin.route("/users/<username>/identities/remove", methods=["POST"])
def remove_identity(username: str) -> Page:
    db, me = database(), actor()
    if not any(u.username == username for u in users_administered(db, me)):
        abort(404)
    kind, name = request.form.get("kind", ""), request.form.get("principal", "")
    try:
        unmap_identity(db, me, username, principal_for(kind, name))
    except _REFUSALS as problem:
        flash(sentence(problem.message))
    else:
        flash(f"{name} may no longer act as {username}.", "done")
    return redirect(url_for("admin.identities", username=username))
