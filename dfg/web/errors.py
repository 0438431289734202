"""Every error as one page in the service's design: the engine's own errors by their ``http_status`` and
message, HTTP errors by their code, and anything unexpected as a plain 500 with nothing internal on it."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from dfg.errors import DfgError, OutsideDistrict

log = logging.getLogger("dfg.web")

_TITLES = {
    400: "Something in the request was not right",
    403: "You cannot do this",
    404: "Page not found",
    405: "That cannot be done here",
    409: "This could not be done",
    413: "The file is too large",
    422: "Something you entered is not right",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def install(app: Flask) -> None:
    app.register_error_handler(DfgError, engine_error)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    title = _TITLES.get(status, _TITLES[400 if status < 500 else 500])
    return render_template("error.html", status=status, title=title, message=message), status


def engine_error(error: DfgError) -> tuple[str, int]:
    if isinstance(error, OutsideDistrict):
        return error_page(404, error.unseen)
    return error_page(error.http_status, error.message)


def _csrf(_: CSRFError) -> tuple[str, int]:
    return error_page(
        400,
        "This form had expired or did not come from this service. Go back, reload the page and try again.",
    )


def _http(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    messages = {
        404: "If you typed the web address, check it is correct. If you pasted it, check you copied all of it.",
        413: "Files must be smaller than the limit shown on the form.",
    }
    return error_page(status, messages.get(status))


def _unexpected(error: Exception) -> tuple[str, int]:
    # the kind only: the message of a database error can hold SQL parameters, so personal data
    log.error("unexpected %s", type(error).__name__)
    return error_page(
        500, "Try again later. If you were saving something, check whether it was saved before you try again."
    )
