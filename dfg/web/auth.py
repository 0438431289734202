"""Signing in and out, setting a password from an invitation, and the second factor."""

from __future__ import annotations

import time
from dataclasses import asdict

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from dfg.errors import InvalidInput, PermissionDenied
from dfg.services.sign_in import (
    PasswordChecked,
    accept_invitation,
    begin_second_factor,
    check_password,
    check_second_factor,
    end_sessions,
    has_second_factor,
    turn_on_second_factor,
)
from dfg.web.forms import error_list, refuse
from dfg.web.security import actor, begin_session, database, safe_next, settings

auth = Blueprint("auth", __name__)

Page = str | Response | tuple[str, int]
SECOND_STEP_SECONDS = 300  # the code must follow the password within five minutes


class SignInForm(FlaskForm):
    username = StringField(
        "Username", widget=GovTextInput(), validators=[DataRequired("Enter your username"), Length(max=60)]
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=200)],
    )


class CodeForm(FlaskForm):
    code = StringField(
        "Security code",
        description="The six-digit code your authenticator app shows now",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the six-digit code from your app"), Length(max=12)],
    )


class InvitationForm(FlaskForm):
    code = StringField(
        "Invitation code",
        description="The one-time code your administrator gave you, for example ABCDE-FGHJK-LMNPQ-RSTUV",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the invitation code your administrator gave you"), Length(max=40)],
    )
    password = PasswordField(
        "Choose a password",
        description="At least 12 characters. A few unrelated words make a good one.",
        widget=GovPasswordInput(),
        validators=[
            InputRequired("Choose a password"),
            Length(max=200, message="Your password must be 200 characters or fewer"),
        ],
    )
    confirm = PasswordField(
        "Type the password again",
        widget=GovPasswordInput(),
        validators=[
            InputRequired("Type your password again"),
            EqualTo("password", "The two passwords are not the same"),
        ],
    )


@auth.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Page:
    if g.get("actor") is not None:
        return redirect(safe_next(request.args.get("next")))
    form = SignInForm()
    status = 200
    if settings().oidc_only and request.method == "POST":
        abort(404)  # passwords are off: only the identity provider signs people in
    if form.validate_on_submit():
        try:
            checked = check_password(database(), form.username.data or "", form.password.data or "")
        except PermissionDenied as refusal:
            refuse(form.password, refusal.message)
            status = 401
        else:
            if checked.second_factor:
                session.clear()
                session["pending"] = asdict(checked)
                session["pending_at"] = int(time.time())
                return redirect(url_for("auth.second_factor", next=request.args.get("next")))
            begin_session(checked)
            return redirect(safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 422
    configured = settings()
    return render_template(
        "sign_in.html",
        title="Sign in",
        form=form,
        errors=error_list(form),
        single_sign_on=configured.oidc_name if configured.single_sign_on else None,
        passwords=not configured.oidc_only,
        next_page=request.args.get("next"),
    ), status


def _passwords_on() -> None:
    if settings().oidc_only:
        abort(404)  # no password to set or to follow with a code


@auth.route("/sign-in/code", methods=["GET", "POST"])
def second_factor() -> Page:
    _passwords_on()
    pending = session.get("pending")
    if not pending or time.time() - session.get("pending_at", 0) > SECOND_STEP_SECONDS:
        session.clear()
        return redirect(url_for("auth.sign_in"))
    checked = PasswordChecked(**pending)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            check_second_factor(database(), checked, form.code.data or "")
        except PermissionDenied as refusal:
            refuse(form.code, refusal.message)
            status = 401
        else:
            begin_session(checked)
            return redirect(safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 422
    return render_template(
        "second_factor.html", title="Enter your security code", form=form, errors=error_list(form)
    ), status


@auth.route("/invitation", methods=["GET", "POST"])
def invitation() -> Page:
    _passwords_on()
    form = InvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            username = accept_invitation(database(), form.code.data or "", form.password.data or "")
        except InvalidInput as refusal:
            refuse(form.password if "password" in refusal.message else form.code, refusal.message)
            status = 422
        else:
            session.clear()
            flash(f"Your password is set, {username}. Sign in with it now.", "done")
            return redirect(url_for("auth.sign_in"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "invitation.html", title="Set your password", form=form, errors=error_list(form)
    ), status


@auth.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    end_sessions(database(), actor().user_id)
    session.clear()
    return redirect(url_for("auth.signed_out"))


@auth.route("/signed-out")
def signed_out() -> str:
    return render_template("signed_out.html", title="You have signed out")


@auth.route("/account", methods=["GET", "POST"])
def account() -> Page:
    """The signed-in user's own account: turning on the second factor (with single sign-on only, the
    council's identity provider asks for that instead)."""
    if settings().oidc_only:
        return render_template("account.html", title="Your account", sign_on_only=True)
    form = CodeForm()
    status = 200
    secret = session.get("new_secret") or begin_second_factor()
    session["new_secret"] = secret
    if form.validate_on_submit():
        try:
            turn_on_second_factor(database(), actor(), secret, form.code.data or "")
        except InvalidInput as refusal:
            refuse(form.code, refusal.message)
            status = 422
        else:
            session.clear()
            flash(
                "Your second factor is on. Sign in again with your password and a code from your app.", "done"
            )
            return redirect(url_for("auth.sign_in"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "account.html",
        second_factor_on=has_second_factor(database(), actor()),
        title="Your account",
        form=form,
        errors=error_list(form),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    ), status
