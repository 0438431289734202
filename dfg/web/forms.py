"""What every form shares: all its errors at once for the summary, and the engine's refusal shown as one
more error beside the field it is about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import Field

from dfg.errors import DfgError
from dfg.web.templating import sentence

#: The GOV.UK error summary's entries: each a message and the link to its field.
Errors = list[dict[str, str]]
#: What a view answers: a page, a redirect, or a page with its status.
Page = str | WerkzeugResponse | tuple[str, int]


def refusal_errors(
    problem: DfgError, ids: Mapping[str, str] | None = None, *, default: str = "#main-form"
) -> Errors:
    """The engine's refusal for the summary: each problem beside the input it names (``InvalidInput``'s
    ``fields``, whose names ``ids`` maps to the form's field ids), or the whole message at ``default``."""
    fields = getattr(problem, "fields", None)
    if not fields:
        return [{"text": sentence(problem.message), "href": default}]
    return field_errors(fields, ids)


def field_errors(fields: Mapping[str, str], ids: Mapping[str, str] | None = None) -> Errors:
    """Problems by the input they are about, each beside its field (``ids`` maps names to field ids)."""
    ids = ids or {}
    return [{"text": sentence(text), "href": f"#{ids.get(name, name)}"} for name, text in fields.items()]


def error_list(form: FlaskForm, *general: str) -> list[dict[str, str]]:
    """The GOV.UK error summary's list: each field's first error linking to it, then ``general`` ones
    (the engine's refusals that belong to no one field), linking to the form."""
    found = []
    for field in form:
        if field.errors:
            found.append({"text": str(field.errors[0]), "href": f"#{field.id}"})
    found += [{"text": sentence(message), "href": "#main-form"} for message in general]
    return found


def seen_version(values: Mapping[str, Any]) -> int | None:
    """The version of the case the form was read at (its hidden ``version``): the service refuses the
    save as a conflict if someone has changed the case since."""
    text = str(values.get("version", ""))
    return int(text) if text.isascii() and text.isdigit() else None


def refuse(field: Field, message: str) -> None:
    """Put the engine's refusal beside ``field`` (it then leads the summary too)."""
    field.errors = [*field.errors, sentence(message)]
