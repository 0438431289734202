"""My work: what is overdue and coming due, for me, my role and my district (the data of ``dfg due``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from dfg.errors import InvalidInput
from dfg.services.worklist import DEFAULT_WITHIN_DAYS, DuePage, due_page
from dfg.web.security import actor, database

work = Blueprint("work", __name__)

_WITHIN = (7, 14, 28, 56, 91)

#: How many items the page shows at first, and how many more each "Show more" adds (up to LONGEST): the
#: most urgent come first, and working out the rest would make an officer wait for what they never read.
PAGE = 50
LONGEST = 1000


@work.route("/")
def home() -> Response:
    return redirect(url_for("work.my_work"))


@work.route("/work")
def my_work() -> tuple[str, int] | str:
    """Filters as a GET form, so a filtered list is a link an officer can keep."""
    me = actor()
    mine = request.args.get("mine", "1" if "grant_officer" in me.roles else "") == "1"
    role = request.args.get("role") or None
    within_text = request.args.get("within", str(DEFAULT_WITHIN_DAYS))
    errors = []
    within = DEFAULT_WITHIN_DAYS
    if within_text.isdigit() and int(within_text) <= 366:
        within = int(within_text)
    else:
        errors.append(
            {"text": "Choose how many days ahead to look: a whole number up to 366", "href": "#within"}
        )
    if role is not None and role not in me.roles:
        role = None
    shown_text = request.args.get("show", str(PAGE))
    shown = int(shown_text) if shown_text.isdigit() and 0 < int(shown_text) <= LONGEST else PAGE
    try:
        page = due_page(database(), me, mine=mine, role=role, within_days=within, limit=shown)
    except InvalidInput as problem:
        errors.append({"text": problem.message, "href": "#filters"})
        page = DuePage([], more=False)
    more: dict[str, Any] = {
        "mine": "1" if mine else "0",
        "role": role or "",
        "within": within,
        "show": min(shown + PAGE, LONGEST),
    }
    return render_template(
        "my_work.html",
        title="My work",
        items=page.items,
        more=url_for("work.my_work", **more) if page.more and shown < LONGEST else None,
        overdue=sum(1 for i in page.items if i.overdue),
        mine=mine,
        role=role,
        within=within,
        within_choices=sorted({*_WITHIN, within}),
        errors=errors,
    )
