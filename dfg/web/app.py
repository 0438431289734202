"""Assembling the application: settings, templates, CSRF, the security layer, the error pages and one
blueprint per area."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, request, send_from_directory
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from dfg.paths import letter_templates_dir
from dfg.services.database import open_database
from dfg.web import errors, security
from dfg.web.areas import BLUEPRINTS
from dfg.web.settings import WebSettings
from dfg.web.templating import register_filters

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # above the documents' default limit, so that service says why


def make_app(settings: WebSettings) -> Flask:
    app = Flask("dfg.web", static_folder="static", static_url_path="/assets")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="dfg_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.longest_session,
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which has its own limits
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("dfg.web"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.extensions["dfg.settings"] = settings
    app.extensions["dfg.database"] = open_database(settings.database)
    CSRFProtect(app)
    WTFormsHelpers(app)
    register_filters(app)
    security.install(app)
    errors.install(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.add_url_rule("/assets/fonts/<name>", "font", _font)
    app.view_functions["static"] = _asset
    return app


@cache
def _packed(path: Path, modified: float) -> bytes:
    """An asset gzipped once per process (and again if the file changes): 136 KB of CSS travels as 21 KB."""
    return gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)


def _asset(filename: str) -> Response:
    """The static files, gzipped for browsers that accept it (waitress compresses nothing itself)."""
    folder = Path(current_app.static_folder or "")
    response = send_from_directory(folder, filename, max_age=3600)
    path = (folder / filename).resolve()
    if (
        path.suffix in _COMPRESSIBLE
        and "gzip" in request.headers.get("Accept-Encoding", "")
        and response.status_code == 200
    ):
        body = _packed(path, path.stat().st_mtime)
        response.close()  # the file it would have streamed
        response.direct_passthrough = False
        response.response = [body]
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(body))
    response.vary.add("Accept-Encoding")
    return response


_COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".ttf"})


def _font(name: str) -> Response:
    """The letters' typeface, served from the letter templates (one copy for letters and pages)."""
    return send_from_directory(letter_templates_dir() / "fonts", name, max_age=86400)
