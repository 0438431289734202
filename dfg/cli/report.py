"""dfg report: managers' reports as text, CSV, JSON or PDF."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import click

from dfg.cli.command import PRIORITY, CommandT, Context, emit_json, pass_context, writable_file, write_output


@click.group()
def report() -> None:
    """Reports for managers: as text, --csv, --json, --xlsx FILE, or a printable PDF (--pdf FILE)."""


def report_options(function: CommandT, *, period: bool = True, priority: bool = True) -> CommandT:
    """The filters and outputs reports share (``period``: the report covers a period, not today;
    ``priority``: it counts cases, so it can keep one priority)."""
    periods = [
        click.option("--year", "financial_year", help="A financial year, e.g. 2026-27 (April to March)."),
        click.option("--from", "start", help="The first day of the period (instead of --year)."),
        click.option("--to", "end", help="The last day of the period."),
    ]
    priorities = [
        click.option("--priority", type=PRIORITY, help="Only this priority."),
    ]
    options = [
        click.option("--district", help="Only this district."),
        *(priorities if priority else []),
        *(periods if period else []),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV for a spreadsheet."),
        click.option(
            "--xlsx",
            "xlsx_file",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            callback=writable_file,
            help="Write the table as an Excel workbook to this file.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option(
            "--pdf",
            "pdf",
            type=click.Path(dir_okay=False, path_type=Path),
            callback=writable_file,  # checked before the report is made, as --xlsx is
            help="Write a printable PDF with charts to this file.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def emit_report(
    result: Any, *, as_csv: bool, as_json: bool, pdf: Path | None, xlsx: Path | None = None
) -> None:
    """The report written to the files asked for (--xlsx: the same table as --csv; --pdf), or else
    printed as CSV, JSON or text."""
    title = click.get_current_context().info_name or "report"
    files = [
        (path, make) for path, make in ((xlsx, lambda: result.as_xlsx(title)), (pdf, result.as_pdf)) if path
    ]
    for path, make in files:
        write_output(path, make())
        click.echo(f"wrote {path}", err=True)
    if files:
        return
    if as_csv:
        click.echo(result.as_csv(), nl=False)
    elif as_json:
        emit_json(result.as_dict())
    else:
        click.echo(result.as_text())


def _period(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "district": options["district"].upper() if options["district"] else None,
        "priority": options.get("priority"),
        "financial_year": options.get("financial_year"),
        "start": options.get("start"),
        "end": options.get("end"),
    }


@report.command("pipeline")
@partial(report_options, period=False)
@pass_context
def report_pipeline(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Open cases today by stage, district and priority: values, ageing, statutory breaches, longest open."""
    from dfg.reports.pipeline import pipeline

    period = _period(options)
    result = pipeline(
        context.database(), context.actor(), district=period["district"], priority=period["priority"]
    )
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf, xlsx=options["xlsx_file"])


@report.command("performance")
@report_options
@pass_context
def report_performance(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Time between stage boundaries (mean, median, 90th percentile), urgent and non-urgent, end to end
    against target, and monthly throughput. Default period: this financial year."""
    from dfg.reports.performance import performance

    result = performance(context.database(), context.actor(), **_period(options))
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf, xlsx=options["xlsx_file"])


@report.command("closures")
@report_options
@pass_context
def report_closures(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Cases closed, withdrawn or cancelled in the period, by district, step and reason."""
    from dfg.reports.closures import closures

    result = closures(context.database(), context.actor(), **_period(options))
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf, xlsx=options["xlsx_file"])


@report.command("data-return")
@report_options
@pass_context
def report_data_return(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """The annual government data return for a financial year (default: the last complete one, or, if
    no grant was completed in it, the latest year in which one was): counts, values, tenure, age bands
    and time to complete. Use --csv for the return itself."""
    from dfg.reports.data_return import data_return

    period = _period(options)
    result = data_return(context.database(), context.actor(), financial_year=period["financial_year"],
                         district=period["district"], priority=period["priority"])  # fmt: skip
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf, xlsx=options["xlsx_file"])


@report.command("budget")
@partial(report_options, period=False, priority=False)
@click.option("--year", "financial_year",
              help="The financial year: 2026-27, 2026/27 or 2026 (April 2026 to March 2027); default: this one.")  # fmt: skip
@click.option("--funding-line", "funding_line", help="Only this funding line, e.g. mandatory or top_up.")
@pass_context
def report_budget(
    context: Context,
    /,
    as_csv: bool,
    as_json: bool,
    pdf: Path | None,
    funding_line: str | None,
    **options: Any,
) -> None:
    """Budget position: allocated, committed, spent, remaining, and the forecast.

    Each district's budget for each funding line in a financial year (default: this one): the
    allocation, what approvals have committed and not yet paid, what has been spent, what remains (the
    three always add up to the allocation), the share of the allocation spent and committed, the
    pipeline (assistance calculated on valid applications awaiting a decision; this year only), the
    forecast outturn (spent + committed + pipeline) and what it leaves. Totals for each line and for all.
    The PDF has a bar per district: spent, committed and pipeline against the allocation.

    \b
    Examples:
      dfg --as mjones report budget
      dfg --as mjones report budget --district CAN --year 2025-26
      dfg --as mjones report budget --funding-line top_up --csv > top-up.csv
      dfg --as mjones report budget --pdf budget-2026-27.pdf
    """
    from dfg.reports.budget import budget_report

    period = _period(options)
    result = budget_report(context.database(), context.actor(), district=period["district"],
                           financial_year=period["financial_year"], funding_line=funding_line)  # fmt: skip
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf, xlsx=options["xlsx_file"])


@report.command("repayments")
@report_options
@pass_context
def report_repayments(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Land charges registered, and repayments demanded or waived after a disposal.

    For the period (default: this financial year), by district: the land charges registered and what
    they secure; the decisions made on disposals within a charge's period, in full, in part or waived,
    with what was repayable and what was demanded; how often each factor was weighed (hardship, health,
    care, employment, none); and each decision. Charges count by the day they were registered,
    decisions by the day they were made. --csv gives one row per district.

    \b
    Examples:
      dfg --as mjones report repayments
      dfg --as mjones report repayments --year 2025-26 --district LIC
      dfg --as mjones report repayments --from 01/04/2024 --to 31/03/2027 --pdf repayments.pdf
    """
    from dfg.reports.repayments import repayments

    result = repayments(context.database(), context.actor(), **_period(options))
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf, xlsx=options["xlsx_file"])
