"""Search: a case by reference, name, postcode, address line or NHS number, among those the user may see
(the search service of ``dfg case find``)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from dfg.errors import InvalidInput
from dfg.services.case_reading import CaseFilter
from dfg.services.case_search import find_cases
from dfg.web.security import actor, database
from dfg.web.templating import sentence

search = Blueprint("search", __name__)

_LONGEST = 100


@search.route("/search")
def find() -> str | Response | tuple[str, int]:
    text = request.args.get("q", "").strip()
    closed = {"open": False, "closed": True}.get(request.args.get("status", ""))
    errors, found = [], None
    if "q" in request.args:
        if len(text) > _LONGEST:
            errors.append({"text": f"Search for {_LONGEST} characters or fewer", "href": "#q"})
        else:
            try:
                found = find_cases(database(), actor(), text, CaseFilter(closed=closed, limit=100))
            except InvalidInput as problem:
                errors.append({"text": sentence(problem.message), "href": "#q"})
        if found is not None and len(found) == 1 and found[0].matched_on in ("reference", "NHS number"):
            return redirect(url_for("case.show", reference=found[0].case.reference))
    status = 422 if errors else 200
    return render_template(
        "search.html",
        title="Search" if found is None else f"Search: {text}",
        text=text,
        status=request.args.get("status", ""),
        found=found,
        errors=errors,
    ), status
