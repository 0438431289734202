"""Who is signed in, on every request, and the headers every response carries.

The session cookie (signed with the application's secret, HTTP-only, SameSite=Lax, Secure behind TLS)
holds the user's id, their credential's session epoch, and when they signed in and were last seen. Each
request checks all of it against the database (:func:`dfg.services.sign_in.session_actor`), so signing
out, a password reset or a deactivation takes effect at once on every worker.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from dfg.errors import PermissionDenied
from dfg.services.database import Database
from dfg.services.sign_in import PasswordChecked, session_actor
from dfg.web.settings import WebSettings
from dfg.workflow.actor import Actor

#: Pages anyone may reach: signing in (by password or single sign-on), setting a password from an
#: invitation, and the assets.
PUBLIC = frozenset(
    {
        "static",
        "font",
        "auth.sign_in",
        "auth.second_factor",
        "auth.invitation",
        "auth.signed_out",
        "sso.start",
        "sso.callback",
    }
)

_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def install(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_headers)
    app.context_processor(_template_values)


def database() -> Database:
    db: Database = current_app.extensions["dfg.database"]
    return db


def settings() -> WebSettings:
    found: WebSettings = current_app.extensions["dfg.settings"]
    return found


def actor() -> Actor:
    """The signed-in user (every page but the public ones has one)."""
    signed_in: Actor | None = g.get("actor")
    if signed_in is None:
        raise PermissionDenied("sign in first")
    return signed_in


def begin_session(checked: PasswordChecked) -> None:
    """The user has proven who they are: a new session (a new cookie, so nothing from before carries)."""
    session.clear()
    session.permanent = True
    now = int(time.time())
    session.update({"uid": checked.user_id, "epoch": checked.session_epoch, "since": now, "seen": now})


def _before() -> WerkzeugResponse | None:
    g.csp_nonce = secrets.token_urlsafe(16)
    g.actor = None
    if "uid" in session:
        g.actor = _session_user()
    if request.endpoint in PUBLIC or g.actor is not None:
        return None
    return redirect(url_for("auth.sign_in", next=_local_path(request.full_path)))


def _session_user() -> Actor | None:
    now = int(time.time())
    limits = settings()
    seen, since = session.get("seen", 0), session.get("since", 0)
    if (
        now - seen > limits.idle_timeout.total_seconds()
        or now - since > limits.longest_session.total_seconds()
    ):
        session.clear()
        flash("You were signed out because you had not used the service for a while. Sign in again.")
        return None
    try:
        user = session_actor(database(), int(session["uid"]), int(session["epoch"]))
    except (PermissionDenied, KeyError, ValueError, TypeError):
        session.clear()
        flash("Your session has ended. Sign in again.")
        return None
    session["seen"] = now
    return user


def _local_path(path: str) -> str | None:
    """``next`` only ever names a page of this application (no open redirect)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return None
    return path.rstrip("?") or None


def safe_next(target: str | None) -> str:
    local = _local_path(target or "")
    return local if local else url_for("work.my_work")


def _headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = _CSP.format(nonce=g.get("csp_nonce", "none"))
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if settings().secure_cookies:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"  # pages hold personal data: never kept by a browser or proxy
    return response


def _template_values() -> dict[str, Any]:
    return {"cspNonce": g.get("csp_nonce"), "signed_in": g.get("actor")}
