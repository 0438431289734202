"""My work: what is overdue and coming due, for me, my role and my district (the data of ``dfg due``)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from dfg.errors import InvalidInput
from dfg.services.worklist import DEFAULT_WITHIN_DAYS, due
from dfg.web.security import actor, database

work = Blueprint("work", __name__)

_WITHIN = (7, 14, 28, 56, 91)


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
    try:
        items = due(database(), me, mine=mine, role=role, within_days=within)
    except InvalidInput as problem:
        errors.append({"text": problem.message, "href": "#filters"})
        items = []
    return render_template(
        "my_work.html",
        title="My work",
        items=items,
        overdue=sum(1 for i in items if i.overdue),
        mine=mine,
        role=role,
        within=within,
        within_choices=sorted({*_WITHIN, within}),
        errors=errors,
    )
