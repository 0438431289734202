"""Budgets: each district's allocation per financial year and funding line with what is committed,
spent and forecast (``dfg budget show``), the ledger of a line (``dfg budget entries``), and setting an
allocation (``dfg budget allocate``)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dfg.errors import Conflict, InvalidInput, NotFound
from dfg.reports.budget_lines import budget_entries, budget_show, budget_totals
from dfg.rules.budget import financial_year_label, financial_year_of, parse_financial_year
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import parse_pounds
from dfg.services.budget import ALLOCATE_ROLES, allocate
from dfg.services.users import list_districts
from dfg.web.forms import Page
from dfg.web.security import actor, database
from dfg.web.templating import sentence
from dfg.workflow.roles import require_role

budgets = Blueprint("budgets", __name__, url_prefix="/budgets")


#: The engine names the command's options in its messages: on a page, the field they are.
_OPTION_FIELDS = {"--line:": "funding_line", "--amount:": "amount"}


def _year(text: str, errors: list[dict[str, str]]) -> int | None:
    """The financial year typed (this one when empty); a mistake goes beside the field."""
    if not text.strip():
        return financial_year_of(local_day(utcnow()))
    try:
        return parse_financial_year(text)
    except InvalidInput as problem:
        errors.append({"text": sentence(problem.message), "href": "#year"})
        return None


def _refusal(message: str) -> dict[str, str]:
    for prefix, field in _OPTION_FIELDS.items():
        if message.startswith(prefix):
            return {"text": sentence(message.removeprefix(prefix).strip()), "href": f"#{field}"}
    return {"text": sentence(message), "href": "#main-form"}


@budgets.route("", endpoint="show")
def show() -> Page:
    db, me = database(), actor()
    errors: list[dict[str, str]] = []
    district = request.args.get("district", "").strip() or None
    year = _year(request.args.get("year", ""), errors)
    lines = []
    if year is not None:
        try:
            lines = budget_show(db, me, district=district, financial_year=year, today=local_day(utcnow()))
        except NotFound as problem:
            errors.append({"text": sentence(problem.message), "href": "#district"})
    return render_template(
        "budgets/show.html",
        title="Budgets",
        lines=lines,
        total=budget_totals(lines),
        year=year,
        year_label=financial_year_label(year) if year is not None else "",
        is_this_year=year == financial_year_of(local_day(utcnow())),
        districts=list_districts(db),
        values=request.args,
        errors=errors,
        may_allocate=me.role_for(ALLOCATE_ROLES) is not None,
    ), 422 if errors else 200


@budgets.route("/<district>/<int:year>/ledger", endpoint="ledger")
def ledger(district: str, year: int) -> str:
    line = request.args.get("line") or None
    found = budget_entries(database(), actor(), district=district, financial_year=year, funding_line=line)
    return render_template(
        "budgets/ledger.html",
        title=f"Budget ledger – {district.upper()} {financial_year_label(year)}",
        entries=found,
        district=district.upper(),
        year=year,
        year_label=financial_year_label(year),
        line=line,
    )


def _amount(text: str, errors: list[dict[str, str]]) -> int | None:
    text = text.strip().replace(",", "").lstrip("£")
    if not text:
        errors.append({"text": "Enter the allocation in pounds, like 850000", "href": "#amount"})
        return None
    try:
        return parse_pounds(text, field="the allocation")
    except InvalidInput:
        errors.append({"text": "Enter the allocation in pounds, like 850000 or 850000.00", "href": "#amount"})
        return None


@budgets.route("/allocate", methods=["GET", "POST"], endpoint="allocate")
def allocate_page() -> Page:
    db, me = database(), actor()
    require_role(me, *ALLOCATE_ROLES)  # the service's own check, before a form is shown for nothing
    errors: list[dict[str, str]] = []
    values: Mapping[str, str] = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        district = values.get("district", "").strip()
        if not district:
            errors.append({"text": "Choose the district", "href": "#district"})
        year = _year(values.get("year", ""), errors)
        line = values.get("funding_line", "").strip()
        if not line:
            errors.append({"text": "Enter the funding line, like mandatory", "href": "#funding_line"})
        amount = _amount(values.get("amount", ""), errors)
        if not errors and year is not None and amount is not None:
            try:
                done = allocate(
                    db, me, district=district, financial_year=year, funding_line=line, amount_pence=amount,
                    reason=values.get("reason", "").strip() or None,
                )  # fmt: skip
            except (InvalidInput, Conflict) as problem:
                errors.append(_refusal(problem.message))
            except NotFound as problem:
                errors.append({"text": sentence(problem.message), "href": "#district"})
            else:
                label = financial_year_label(done.financial_year)
                said = "set" if done.changed else "unchanged"
                flash(f"{done.district} {label} {done.funding_line}: allocation {said}.", "done")
                if done.warning:
                    flash(sentence(done.warning), "warning")
                return redirect(url_for("budgets.show", district=done.district, year=label))
    return render_template(
        "budgets/allocate.html",
        title="Set an allocation",
        districts=list_districts(db),
        errors=errors,
        values=values,
        this_year=financial_year_label(financial_year_of(local_day(utcnow()))),
    ), 422 if errors else 200
