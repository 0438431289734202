"""The managers' pages: each report with the options ``dfg report`` takes as a GET form, its figures as
tables beside its charts, the same PDF and CSV the command writes as downloads; and the audit check's
verdict (``dfg audit verify``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for

from dfg.errors import InvalidInput, NotFound
from dfg.reports.budget import budget_report
from dfg.reports.closures import closures
from dfg.reports.data_return import data_return
from dfg.reports.document import ReportDocument
from dfg.reports.performance import performance
from dfg.reports.pipeline import pipeline
from dfg.reports.repayments import repayments
from dfg.reports.scope import REPORT_ROLES, ReportScope, parse_financial_year, require_report_reader
from dfg.rules.budget import funding_lines_of
from dfg.rules.clocks import PRIORITIES
from dfg.services.audit import verify_audit
from dfg.services.database import Database
from dfg.services.users import list_districts
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.security import actor, database
from dfg.web.templating import sentence
from dfg.workflow.actor import Actor

reports = Blueprint("reports", __name__, url_prefix="/reports")

#: "2026/2027" is the longest way to write a financial year; anything longer is not one.
YEAR_LONGEST = 9
REFERENCE_LONGEST = 20


class Report(Protocol):
    """What every report's result offers the page: what it covers, its document, its CSV and PDF."""

    @property
    def scope(self) -> ReportScope: ...

    @property
    def today(self) -> date: ...

    def document(self) -> ReportDocument: ...

    def as_csv(self) -> str: ...

    def as_pdf(self) -> bytes: ...


@dataclass(frozen=True)
class Options:
    """The options of ``dfg report`` as read from the page's form (None: the report's default)."""

    district: str | None = None
    priority: str | None = None
    financial_year: str | None = None
    start: date | None = None
    end: date | None = None
    funding_line: str | None = None


@dataclass(frozen=True)
class ReportPage:
    endpoint: str
    title: str
    #: What the report answers, for the list of reports.
    answers: str
    #: Which options its form offers: district, priority, year, period, funding_line.
    options: frozenset[str]
    #: What an empty financial year means.
    year_hint: str
    run: Callable[[Database, Actor, Options], Report]


_PERIOD = frozenset({"district", "priority", "year", "period"})
_THIS_YEAR = "For example, 2026-27. Leave empty for this financial year, or give the first and last days."

PAGES: tuple[ReportPage, ...] = (
    ReportPage(
        "pipeline",
        "Pipeline of open cases",
        "Where the open cases are today: by stage, district and priority; how long they have been open; "
        "which are past their decision or completion date; the longest open.",
        frozenset({"district", "priority"}),
        "",
        lambda db, me, o: pipeline(db, me, district=o.district, priority=o.priority),
    ),
    ReportPage(
        "performance",
        "Performance against targets",
        "How long each stage took, against the targets, and how many referrals, approvals and "
        "completions each month.",
        _PERIOD,
        _THIS_YEAR,
        lambda db, me, o: performance(db, me, **_period(o)),
    ),
    ReportPage(
        "budget",
        "Budget position",
        "Where each district's budget stands for a financial year: allocated, committed, spent, "
        "remaining, and the forecast outturn.",
        frozenset({"district", "year", "funding_line"}),
        "For example, 2026-27. Leave empty for this financial year.",
        lambda db, me, o: budget_report(
            db, me, district=o.district, financial_year=o.financial_year, funding_line=o.funding_line
        ),
    ),
    ReportPage(
        "closures",
        "Cases closed",
        "Why cases ended: completed, not eligible, withdrawn, cancelled (with the reason).",
        _PERIOD,
        _THIS_YEAR,
        lambda db, me, o: closures(db, me, **_period(o)),
    ),
    ReportPage(
        "data_return",
        "Annual data return",
        "The figures for the annual government data return: counts, values, tenure, age bands and the "
        "time to complete.",
        frozenset({"district", "priority", "year"}),
        "For example, 2026-27. Leave empty for the last complete financial year (or, if no grant was "
        "completed in it, the latest year with completions).",
        lambda db, me, o: data_return(
            db, me, financial_year=o.financial_year, district=o.district, priority=o.priority
        ),
    ),
    ReportPage(
        "repayments",
        "Land charges and repayments",
        "Land charges registered, and what was demanded or waived when a charged home was sold.",
        _PERIOD,
        _THIS_YEAR,
        lambda db, me, o: repayments(db, me, **_period(o)),
    ),
)


def _period(o: Options) -> dict[str, Any]:
    """The options of the reports that cover a period: ``dfg report performance`` and the like."""
    return {
        "district": o.district,
        "priority": o.priority,
        "financial_year": o.financial_year,
        "start": o.start,
        "end": o.end,
    }


_BY_ENDPOINT = {page.endpoint: page for page in PAGES}

#: Where an engine refusal about one option belongs on the form, by the words it uses.
_FIELD_OF = (
    ("funding line", "#funding_line"),
    ("district", "#district"),
    ("priority", "#priority"),
    ("date range", "#from-day"),
    ("period", "#from-day"),
    ("financial year", "#year"),
)
#: The form's fields, all a download link carries over.
_FORM_FIELDS = frozenset(
    {
        "district",
        "priority",
        "year",
        "funding_line",
        *(f"{d}-{p}" for d in ("from", "to") for p in ("day", "month", "year")),
    }
)
_OPTION_NAME = re.compile(r"^--[a-z-]+:\s*")


@reports.route("")
def index() -> str:
    require_report_reader(actor())
    return render_template("reports/index.html", title="Reports", pages=PAGES)


@reports.route("/pipeline", endpoint="pipeline")
def pipeline_page() -> Response | tuple[str, int]:
    return _report("pipeline")


@reports.route("/performance", endpoint="performance")
def performance_page() -> Response | tuple[str, int]:
    return _report("performance")


@reports.route("/budget", endpoint="budget")
def budget_page() -> Response | tuple[str, int]:
    return _report("budget")


@reports.route("/closures", endpoint="closures")
def closures_page() -> Response | tuple[str, int]:
    return _report("closures")


@reports.route("/data-return", endpoint="data_return")
def data_return_page() -> Response | tuple[str, int]:
    return _report("data_return")


@reports.route("/repayments", endpoint="repayments")
def repayments_page() -> Response | tuple[str, int]:
    return _report("repayments")


def _report(endpoint: str) -> Response | tuple[str, int]:
    """The report's page, or with ``?format=pdf`` or ``?format=csv`` the file the command writes."""
    page, db, me = _BY_ENDPOINT[endpoint], database(), actor()
    wanted = request.args.get("format", "")
    if wanted not in ("", "pdf", "csv"):
        abort(404)
    options, errors = _options(page, request.args)
    result: Report | None = None
    if not errors:
        try:
            result = page.run(db, me, options)
        except InvalidInput as refusal:
            errors.append(_refusal(refusal.message))
    if result is not None and wanted:
        return _download(page, result, wanted)
    kept = {name: value for name, value in request.args.items() if name in _FORM_FIELDS}
    return render_template(
        "reports/report.html",
        title=page.title,
        page=page,
        errors=errors,
        values=request.args,
        districts=_districts(db, me),
        priorities=PRIORITIES,
        funding_lines=_funding_lines(db, me) if "funding_line" in page.options else [],
        report=result.document() if result is not None else None,
        listed=_may_list(me),
        pdf_url=f"{url_for(f'reports.{endpoint}')}?{urlencode({**kept, 'format': 'pdf'})}",
        csv_url=f"{url_for(f'reports.{endpoint}')}?{urlencode({**kept, 'format': 'csv'})}",
    ), 422 if errors else 200


def _options(page: ReportPage, values: Mapping[str, str]) -> tuple[Options, list[dict[str, str]]]:
    """The form's options, and every mistake in them at once (the report checks the rest)."""
    errors: list[dict[str, str]] = []

    def text(name: str) -> str | None:
        if name not in page.options:
            return None
        return (values.get(name) or "").strip() or None

    district = text("district")
    priority = text("priority")
    if priority is not None and priority not in PRIORITIES:
        errors.append({"text": "Choose urgent, non-urgent or all priorities", "href": "#priority"})
    year = text("year")
    if year is not None:
        try:  # the report's own reading, so a bad year is shown with the other mistakes
            if len(year) > YEAR_LONGEST:
                raise InvalidInput("enter the financial year like 2026-27")
            parse_financial_year(year)
        except InvalidInput as problem:
            errors.append({"text": sentence(problem.message), "href": "#year"})
    dates: dict[str, date | None] = {}
    if "period" in page.options:
        for name, label in (("from", "the first day of the period"), ("to", "the last day of the period")):
            try:
                dates[name] = date_from_form(values, name, label, required=False)
            except DateProblem as problem:
                errors.append({"text": str(problem), "href": f"#{name}-day"})
    found = Options(
        district=district.upper() if district else None,
        priority=priority,
        financial_year=year,
        start=dates.get("from"),
        end=dates.get("to"),
        funding_line=text("funding_line"),
    )
    return found, errors


def _refusal(message: str) -> dict[str, str]:
    """The report's refusal in the summary, linked to the option it is about."""
    message = _OPTION_NAME.sub("", message)
    href = next((field for words, field in _FIELD_OF if words in message), "#filters")
    return {"text": sentence(message), "href": href}


def _may_list(me: Actor) -> bool:
    """Whether the list of reports is open to the user (the pipeline alone is open to everyone)."""
    return me.role_for(REPORT_ROLES) is not None


def _districts(db: Database, me: Actor) -> list[tuple[str, str]]:
    """The districts to choose from: a district's own user has only their own."""
    return [(d.code, d.name) for d in list_districts(db) if me.district in (None, d.code)]


def _funding_lines(db: Database, me: Actor) -> list[str]:
    lines: dict[str, None] = {}
    for code, _ in _districts(db, me):
        lines.update(dict.fromkeys(funding_lines_of(code)))
    return list(lines)


def _download(page: ReportPage, result: Report, wanted: str) -> Response:
    if wanted == "pdf":
        response = Response(result.as_pdf(), mimetype="application/pdf")
    else:
        response = Response(result.as_csv(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{file_name(page, result.scope, result.today)}.{wanted}"'
    )
    return response


def file_name(page: ReportPage, scope: ReportScope, run_on: date) -> str:
    """``performance-CAN-2026-27``: the report, the district and the period, safe in any file system."""
    if scope.financial_year:
        period = scope.financial_year
    elif scope.start or scope.end:
        period = f"{scope.start or 'start'}-to-{scope.end or 'date'}"
    else:
        period = run_on.isoformat()  # a report of today (the pipeline): the day it was run
    parts = [page.endpoint.replace("_", "-"), scope.district or "all-districts", period]
    if scope.priority:
        parts.append(scope.priority.replace("_", "-"))
    return re.sub(r"[^A-Za-z0-9-]", "", "-".join(parts))


@reports.route("/audit")
def audit() -> tuple[str, int]:
    """The audit check (``dfg audit verify``): every stream's chain and the tables against the events,
    or one case's; managers and administrators only."""
    db, me = database(), actor()
    reference = (request.args.get("reference") or "").strip() or None
    errors = []
    if reference is not None and len(reference) > REFERENCE_LONGEST:
        errors.append({"text": "Enter a case reference like CAN-2026-0001", "href": "#reference"})
        reference = None
    checked = None
    if not errors:
        try:
            checked = verify_audit(db, me, reference)
        except (InvalidInput, NotFound) as refusal:
            errors.append({"text": sentence(refusal.message), "href": "#reference"})
    return render_template(
        "reports/audit.html",
        title="Check the audit trail",
        checked=checked,
        reference=request.args.get("reference", ""),
        errors=errors,
    ), 422 if errors else 200
