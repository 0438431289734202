"""dfg budget: allocations, overrides, budget positions and the ledger."""

from __future__ import annotations

from collections.abc import Callable

import click

from dfg.cli.command import CommandT, Context, emit_json, json_option, pass_context, table
from dfg.rules.money import format_pounds, parse_pounds


@click.group()
def budget() -> None:
    """Each district's budget per financial year and funding line: the allocation, what approvals have
    committed, what payments have spent, and the forecast.

    Approving a grant commits its assistance to the budget of the year of the approval; a variation
    adjusts it; payments move it from committed to spent; cancelling, withdrawing or closing with money
    unpaid releases the rest. An approval the budget cannot cover is refused unless a manager records
    an override ('dfg budget override').
    """


def _year_option(required: bool) -> Callable[[CommandT], CommandT]:
    return click.option(
        "--year",
        required=required,
        help="The financial year: 2026-27, 2026/27 or 2026 (April 2026 to March 2027)"
        + ("." if required else "; default: this one."),
    )


@budget.command("allocate")
@click.argument("district")
@_year_option(required=True)
@click.option("--line", "funding_line", required=True,
              help="The funding line: mandatory, or a discretionary line of the district's policy, e.g. top_up.")  # fmt: skip
@click.option(
    "--amount", required=True, help="The allocation in pounds, e.g. 850000.00: it replaces the one before."
)
@click.option("--reason", help="Why, for the audit trail, e.g. 'Better Care Fund grant letter'.")
@json_option
@pass_context
def budget_allocate(
    context: Context,
    district: str,
    year: str,
    funding_line: str,
    amount: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Set the allocation for a line and year.

    Sets a district's allocation for one funding line and financial year to the amount given (role:
    manager or administrator); the ledger records the change. Setting it lower than is already committed
    and spent is allowed, with a warning.

    \b
    Example:
      dfg --as mjones budget allocate CAN --year 2026-27 --line mandatory --amount 850000.00 \\
          --reason "Better Care Fund grant letter"
    """
    from dfg.rules.budget import financial_year_label, parse_financial_year
    from dfg.services.budget import allocate

    result = allocate(
        context.database(), context.actor(), district=district, financial_year=parse_financial_year(year),
        funding_line=funding_line, amount_pence=parse_pounds(amount, field="--amount"), reason=reason,
    )  # fmt: skip
    if as_json:
        emit_json(result.as_dict())
    else:
        position = result.position
        was = f"was {format_pounds(result.previous_pence)}" if result.changed else "unchanged"
        click.echo(f"{result.district} {financial_year_label(result.financial_year)} {result.funding_line}: "
                   f"allocation {format_pounds(position.allocation_pence)} ({was}); "
                   f"{format_pounds(position.remaining_pence)} remaining")  # fmt: skip
    if result.warning:
        click.echo(f"warning: {result.warning}", err=True)


@budget.command("override")
@click.argument("reference")
@click.option(
    "--reason", required=True, help="Why the case may be approved although the budget cannot cover it."
)
@pass_context
def budget_override(context: Context, reference: str, reason: str) -> None:
    """Let a case be approved, or its next variation approved, over its budget.

    A manager's decision, recorded with the reason in the case's audit trail and, when the approval
    commits the money, on the budget's ledger (role: manager). Before approval it covers the case's
    latest grant calculation: if the grant is calculated again, the override is needed again. After
    approval it covers the next variation of the approval in force.

    \b
    Example:
      dfg --as mjones budget override CAN-2026-0001 --reason "Hospital discharge: funded from reserves"
    """
    from dfg.services.approval import override

    recorded = override(context.database(), context.actor(), reference, reason=reason)
    if "variation_of" in recorded.payload:
        click.echo(f"{recorded.reference}: budget override recorded for the next variation of approval version "
                   f"{recorded.payload['variation_of']}")  # fmt: skip
    else:
        click.echo(f"{recorded.reference}: budget override recorded for grant calculation "
                   f"{recorded.payload['grant_calculation']}; it may now be approved over the budget")  # fmt: skip


@budget.command("show")
@click.option("--district", help="Only this district (a district's user sees only their own).")
@_year_option(required=False)
@json_option
@pass_context
def budget_show_command(context: Context, district: str | None, year: str | None, as_json: bool) -> None:
    """Budgets, spending and the forecast.

    Each district's budget lines for a financial year: allocation, committed, spent and remaining; and,
    for this year, the pipeline (assistance calculated on valid applications awaiting a decision), the
    forecast outturn (spent + committed + pipeline) and what the forecast leaves ("forecast left").

    \b
    Example:
      dfg budget show --district CAN --year 2026-27
    """
    from dfg.reports.budget_lines import budget_show, budget_totals
    from dfg.rules.budget import BudgetPosition, financial_year_label, financial_year_of, parse_financial_year
    from dfg.rules.clock import local_day, utcnow

    today = local_day(utcnow())
    chosen = parse_financial_year(year) if year else financial_year_of(today)
    lines = budget_show(
        context.database(), context.actor(), district=district, financial_year=chosen, today=today
    )
    total = budget_totals(lines)
    if as_json:
        emit_json({"financial_year": chosen, "financial_year_label": financial_year_label(chosen),
                   "lines": [line.as_dict() for line in lines], "total": total.as_dict()})  # fmt: skip
        return
    if not lines:
        click.echo(f"no budgets for {financial_year_label(chosen)}: 'dfg budget allocate' sets one", err=True)
        return

    def money(position: BudgetPosition) -> list[str]:
        return [format_pounds(pence) for pence in (
            position.allocation_pence, position.committed_pence, position.spent_pence, position.remaining_pence,
            position.pipeline_pence, position.forecast_outturn_pence, position.forecast_remaining_pence,
        )]  # fmt: skip

    rows = [[line.district, line.funding_line, *money(line.position)] for line in lines]
    rows.append(["total", "", *money(total)])
    headers = ["district", "line", "allocation", "committed", "spent", "remaining", "pipeline", "forecast",
               "forecast left"]  # fmt: skip
    click.echo(table(headers, rows))
    click.echo(f"financial year {financial_year_label(chosen)}", err=True)


@budget.command("entries")
@click.argument("district")
@_year_option(required=True)
@click.option("--line", "funding_line", help="Only this funding line, e.g. mandatory.")
@json_option
@pass_context
def budget_entries_command(
    context: Context, district: str, year: str, funding_line: str | None, as_json: bool
) -> None:
    """The ledger of a district's budgets.

    Every allocation, commitment, adjustment, payment and release of a district's budgets for a
    financial year, oldest first, with its case and any override reason.

    \b
    Example:
      dfg budget entries CAN --year 2026-27 --line mandatory
    """
    from dfg.reports.budget_lines import budget_entries
    from dfg.rules.budget import parse_financial_year

    found = budget_entries(context.database(), context.actor(), district=district,
                           financial_year=parse_financial_year(year), funding_line=funding_line)  # fmt: skip
    if as_json:
        emit_json([entry.as_dict() for entry in found])
        return
    rows = [
        [e.id, f"{e.recorded_at:%Y-%m-%d %H:%M}", e.funding_line, e.kind, format_pounds(e.amount_pence),
         e.reference or "", e.recorded_by, e.override_reason or ""]
        for e in found
    ]  # fmt: skip
    click.echo(table(["#", "when (UTC)", "line", "kind", "amount", "case", "by", "override reason"], rows))
    click.echo(f"{len(found)} entr{'y' if len(found) == 1 else 'ies'}", err=True)
