"""The managers' pages: each report's figures as the report gives them, its charts in words, the PDF and
CSV the command writes, bad options refused in words, who may see them; and the audit check's verdict."""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import text

from cli import main
from dfg.reports.budget import budget_report
from dfg.reports.closures import closures
from dfg.reports.data_return import data_return
from dfg.reports.document import ReportDocument, Section
from dfg.reports.performance import performance
from dfg.reports.pipeline import pipeline
from dfg.reports.repayments import repayments
from dfg.rules.budget import financial_year_label, financial_year_of
from dfg.rules.clock import local_day, utcnow
from dfg.services.audit import verify_audit
from dfg.services.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import prepare_works, walk_to

SignedIn = Callable[[str], FlaskClient]

TODAY = local_day(utcnow())  # the walks date their steps today
YEAR = financial_year_label(financial_year_of(TODAY))

#: Each page: its path, the CLI's report name, and the report as the page's defaults run it.
REPORTS: dict[str, tuple[str, str, Callable[[Database, Actor], Any]]] = {
    "pipeline": ("/reports/pipeline", "pipeline", lambda db, me: pipeline(db, me)),
    "performance": ("/reports/performance", "performance", lambda db, me: performance(db, me)),
    "budget": ("/reports/budget", "budget", lambda db, me: budget_report(db, me)),
    "closures": ("/reports/closures", "closures", lambda db, me: closures(db, me)),
    "data_return": ("/reports/data-return", "data-return", lambda db, me: data_return(db, me)),
    "repayments": ("/reports/repayments", "repayments", lambda db, me: repayments(db, me)),
}
TITLES = {
    "pipeline": "Pipeline of open cases",
    "performance": "Performance: time between stages",
    "budget": "Budget position",
    "closures": "Closures by reason",
    "data_return": "Government data return",
    "repayments": "Land charges",
}


@pytest.fixture
def cases(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> dict[str, str]:
    """A closed case (completed, with its land charge), one approved, one just opened, one in Lichfield."""
    prepare_works(db, cast)
    made = {"closed": open_sample(), "approved": open_sample(), "new": open_sample()}
    walk_to(db, cast, made["closed"], "closed")
    walk_to(db, cast, made["approved"], "approved")
    made["lichfield"] = open_sample("LIC", by="lichfield")
    return made


class _Tables(HTMLParser):
    """Every table's body rows as the text of their cells; every figure caption's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.captions: list[str] = []
        self._in_body = False
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
            self.tables.append([])
        elif tag == "tr" and self._in_body:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = []
        elif tag == "figcaption":
            self._caption = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "figcaption" and self._caption is not None:
            self.captions.append(" ".join("".join(self._caption).split()))
            self._caption = None

    def handle_data(self, data: str) -> None:
        for found in (self._cell, self._caption):
            if found is not None:
                found.append(data)


def read_page(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def run_cli(db_url: str, *args: str, user: str = "manager") -> str:
    result = CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes.decode()  # as written: ``stdout`` folds the CSV's CRLF line ends


def test_the_list_of_reports(signed_in: SignedIn) -> None:
    response = signed_in("manager").get("/reports")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for path in (*(p for p, _, _ in REPORTS.values()), "/reports/audit"):
        assert f'href="{path}"' in page
    assert "Why cases ended: completed, not eligible, withdrawn, cancelled (with the reason)." in page
    assert 'href="/reports" aria-current="page"' in page  # the menu's Reports link


@pytest.mark.parametrize("name", list(REPORTS))
def test_a_report_page_shows_the_reports_own_figures(
    name: str, signed_in: SignedIn, db: Database, cast: dict[str, Actor], cases: dict[str, str]
) -> None:
    path, _, run = REPORTS[name]
    response = signed_in("manager").get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    document: ReportDocument = run(db, cast["manager"]).document()
    read = read_page(page)
    assert read.tables == [[list(row) for row in s.rows] for s in document.sections if s.rows]
    charts = [s for s in document.sections if s.chart]
    assert read.captions == [
        f"In figures: {' '.join(s.in_words().split())} The table below has every figure." for s in charts
    ]
    assert page.count("<svg ") == page.count('role="img"') == len(charts)
    assert " style=" not in page  # nothing the page's Content-Security-Policy would refuse
    assert html.escape(document.title) in page and html.escape(document.scope) in page


def test_the_pipeline_counts_the_open_cases(signed_in: SignedIn, cases: dict[str, str]) -> None:
    read = read_page(signed_in("manager").get("/reports/pipeline").get_data(as_text=True))
    by_district = {row[0]: row for row in read.tables[0]}
    # stages 0-4, open, urgent, on hold, approved and open: the approved case's grant, to the pound
    assert by_district["Cannock Chase"][1:7] == ["1", "0", "0", "0", "1", "2"]
    assert by_district["Lichfield"][6] == "1" and by_district["All districts"][6] == "3"
    assert by_district["Cannock Chase"][-1] == "£8,450"


@pytest.mark.parametrize("name", list(REPORTS))
def test_the_downloads_are_the_commands_pdf_and_csv(
    name: str, signed_in: SignedIn, db_url: str, cases: dict[str, str]
) -> None:
    path, command, _ = REPORTS[name]
    client = signed_in("manager")
    csv_file = client.get(f"{path}?format=csv")
    assert csv_file.status_code == 200 and csv_file.mimetype == "text/csv"
    assert csv_file.get_data(as_text=True) == run_cli(db_url, "report", command, "--csv")
    stem = command if name != "pipeline" else f"pipeline-all-districts-{TODAY.isoformat()}"
    if name == "data_return":
        # No grant was completed in the last complete year, so the return is for this year's, to date.
        stem = f"data-return-all-districts-{financial_year_label(financial_year_of(TODAY))}"
    elif name != "pipeline":
        stem = f"{command}-all-districts-{YEAR}"
    assert csv_file.headers["Content-Disposition"] == f'attachment; filename="{stem}.csv"'
    pdf = client.get(f"{path}?format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{stem}.pdf"'
    body = pdf.get_data()
    assert body.startswith(b"%PDF")
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert TITLES[name] in words and "All districts" in words


def test_the_options_reach_the_report_and_its_downloads(
    signed_in: SignedIn, db_url: str, cases: dict[str, str]
) -> None:
    client = signed_in("manager")
    query = "district=LIC&priority=non_urgent&from-day=1&from-month=1&from-year=2026&to-day=31&to-month=12&to-year=2026"
    page = client.get(f"/reports/performance?{query}").get_data(as_text=True)
    assert "Lichfield · 1 January 2026 to 31 December 2026 · non-urgent cases only" in page
    assert '<option value="LIC" selected>Lichfield</option>' in page
    assert 'value="31"' in page  # the dates entered are kept in their boxes
    csv_link = next(
        html.unescape(part.split('"', 1)[0])
        for part in page.split('href="')[1:]
        if "format=csv" in part.split('"', 1)[0]
    )
    assert "district=LIC" in csv_link and "from-year=2026" in csv_link
    csv_file = client.get(csv_link)
    expected = run_cli(db_url, "report", "performance", "--district", "LIC", "--priority", "non_urgent",
                       "--from", "2026-01-01", "--to", "2026-12-31", "--csv")  # fmt: skip
    assert csv_file.get_data(as_text=True) == expected
    assert (
        'filename="performance-LIC-2026-01-01-to-2026-12-31-non-urgent.csv"'
        in csv_file.headers["Content-Disposition"]
    )
    budget = client.get(f"/reports/budget?funding_line=top_up&year={YEAR}").get_data(as_text=True)
    assert '<option value="top_up" selected>Top up</option>' in budget and "top_up funding line" in budget


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("year=<script>alert(1)</script>", "Enter the financial year like 2026-27."),
        ("year=<b>x", "Financial year &#39;&lt;b&gt;x&#39; is not like 2026-27."),
        ("year=" + "9" * 10_000, "Enter the financial year like 2026-27."),
        ("year=2026–27", "Financial year &#39;2026–27&#39; is not like 2026-27."),
        ("year=2026-29", "2026-29&#39;: 29 does not follow 2026."),
        ("from-day=31&from-month=2&from-year=2026", "The first day of the period must be a real date, for example 27 3 2026"),
        ("to-day=1&to-year=2026", "The last day of the period must include a month"),
        ("priority=lots", "Choose urgent, non-urgent or all priorities"),
        ("district=ZZZ", "No district &#39;ZZZ&#39; (known: CAN, LIC)."),
        ("year=2026-27&from-day=1&from-month=4&from-year=2026", "Give a financial year or a date range, not both."),
        ("from-day=2&from-month=4&from-year=2026&to-day=1&to-month=4&to-year=2026", "The period ends (01/04/2026) before it starts (02/04/2026)."),
    ],
)  # fmt: skip
def test_bad_options_are_refused_in_words(signed_in: SignedIn, query: str, shown: str) -> None:
    client = signed_in("manager")
    response = client.get(f"/reports/closures?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "There is a problem" in page and shown in page
    assert (
        "<script>alert" not in page
        and "<b>x" not in page
        and "<svg " not in page
        and "Download the" not in page
    )
    assert "--" not in page.split("There is a problem", 1)[1].split("</ul>", 1)[0]  # no option names
    download = client.get(f"/reports/closures?{query}&format=csv")
    assert download.status_code == 422 and download.mimetype == "text/html"


def test_every_mistake_is_shown_at_once(signed_in: SignedIn) -> None:
    response = signed_in("manager").get(
        "/reports/repayments?year=soon&priority=x&from-day=40&from-month=1&from-year=2026&to-day=1"
    )
    page = response.get_data(as_text=True)
    summary = page.split("There is a problem", 1)[1].split("</ul>", 1)[0]
    for href in ("#year", "#priority", "#from-day", "#to-day"):
        assert f'href="{href}"' in summary
    assert 'value="soon"' in page and 'value="40"' in page


def test_a_budget_funding_line_unknown_says_so_without_the_option_name(signed_in: SignedIn) -> None:
    page = signed_in("manager").get("/reports/budget?funding_line=gold").get_data(as_text=True)
    assert "No funding line &#39;gold&#39; (known: mandatory" in page and "--funding-line" not in page


def test_an_unknown_format_is_not_found(signed_in: SignedIn) -> None:
    assert signed_in("manager").get("/reports/pipeline?format=xlsx").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/reports", "/reports/performance", "/reports/budget", "/reports/closures", "/reports/data-return",
     "/reports/repayments", "/reports/audit", "/reports/budget?format=csv", "/reports/closures?format=pdf"],
)  # fmt: skip
def test_a_grant_officer_cannot_see_the_managers_reports(signed_in: SignedIn, path: str) -> None:
    response = signed_in("officer").get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "You cannot do this" in page
    assert "Officer needs the role manager or admin to do this." in page


def test_the_pipeline_is_open_to_an_officer_for_their_district(
    signed_in: SignedIn, cases: dict[str, str]
) -> None:
    client = signed_in("officer")
    page = client.get("/reports/pipeline").get_data(as_text=True)
    assert "Cannock Chase · run on" not in page and "Cannock Chase. Run on" in page
    assert "All districts</option>" not in page and "Lichfield" not in page
    assert 'href="/reports"' not in page  # the menu offers reports to managers only
    assert client.get("/reports/pipeline?district=LIC").status_code == 403


def test_the_audit_check_is_intact(
    signed_in: SignedIn, db: Database, cast: dict[str, Actor], cases: dict[str, str]
) -> None:
    page = signed_in("manager").get("/reports/audit").get_data(as_text=True)
    checked = verify_audit(db, cast["manager"])
    assert "Intact" in page and "Nothing is wrong with the whole audit trail." in page
    for key, figure in (("Streams checked", checked.streams), ("Events checked", checked.events)):
        assert f'{key}</dt><dd class="govuk-summary-list__value">{figure:,}</dd>' in page
    assert f"{checked.streams} stream(s), {checked.events} event(s) checked: intact." in page


def test_the_audit_check_reports_a_row_changed_behind_its_back(
    signed_in: SignedIn, db: Database, cases: dict[str, str]
) -> None:
    with db.write_engine.begin() as connection:  # as someone with the database's password could
        connection.execute(
            text("UPDATE cases SET approved_grant_pence = 100 WHERE reference = :ref"),
            {"ref": cases["approved"]},
        )
    client = signed_in("manager")
    page = client.get("/reports/audit").get_data(as_text=True)
    assert "The audit trail is broken: 1 problem found in the whole audit trail." in page
    assert cases["approved"] in page and "approved_grant_pence" in page and "held 100" in page
    one = client.get(f"/reports/audit?reference={cases['new'].lower()}").get_data(as_text=True)
    assert f"Nothing is wrong with {cases['new']}." in one


@pytest.mark.parametrize(
    ("reference", "shown"),
    [("CAN-2026-9999", "No case CAN-2026-9999."), ("<b>x</b>", "&#39;&lt;b&gt;x&lt;/b&gt;&#39; is not a case reference"),
     ("C" * 10_000, "Enter a case reference like CAN-2026-0001")],
)  # fmt: skip
def test_the_audit_check_of_a_bad_reference_says_so(
    signed_in: SignedIn, cases: dict[str, str], reference: str, shown: str
) -> None:
    response = signed_in("manager").get("/reports/audit", query_string={"reference": reference})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and shown in page and "Streams checked" not in page


def test_a_charts_figures_in_words() -> None:
    totals = Section("t", ["district", "open", "", "value"], [["A", "1", "x", "£5"], ["All", "3", "y", ""]],
                     total_rows=1)  # fmt: skip
    assert totals.in_words() == "All – open: 3."
    rows = Section("t", ["stage", "cases"], [[f"s{i}", str(i)] for i in range(8)])
    assert rows.in_words(most=2) == "s0 – cases: 0. s1 – cases: 1. And 6 more rows."
    assert Section("t", ["a"], []).in_words() == "No figures."


def test_a_date_in_the_future_is_still_a_period(signed_in: SignedIn) -> None:
    end = date(TODAY.year + 1, 12, 31)
    page = (
        signed_in("manager")
        .get(f"/reports/closures?to-day={end.day}&to-month={end.month}&to-year={end.year}")
        .get_data(as_text=True)
    )
    assert "the start to 31 December" in page
