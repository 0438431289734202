"""dfg works: variations, extensions of the completion period, completion checks."""

from __future__ import annotations

import click

from dfg.cli.command import Context, json_option, optional_date, pass_context, report_step, show_date
from dfg.rules.money import parse_pounds


@click.group()
def works() -> None:
    """The works: variations, extensions of the completion period, completion checks.

    Ordering, starting and finishing the works are workflow steps: 'dfg case advance REF order_works',
    'start_on_site', 'complete_works', then 'certify' once the completion checks have passed.
    """


@works.command("vary")
@click.argument("reference")
@click.option("--change", required=True, help="What changes in the works.")
@click.option(
    "--price", required=True, help="The change in the price in pounds: 850.00, or -120.00 for a saving."
)
@click.option("--second-approver", help="Above your delegated limit: the approver who countersigns.")
@click.option("--date", "on", help="The date of the decision (default: today).")
@json_option
@pass_context
def works_vary(
    context: Context, reference: str, change: str, price: str, second_approver: str | None, on: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Approve a priced variation before the work is done (role: approver): a new approval version,
    the grant calculated again, the budget adjusted, a re-approval letter and a variation order.

    \b
    Example:
      dfg works vary CAN-2026-0001 --change "Extra grab rails by the WC" --price 240.00
    """
    from dfg.services.approval import vary_works

    report_step(
        vary_works(
            context.database(), context.actor(), reference, change=change,
            price_change_pence=parse_pounds(price, field="--price", allow_negative=True),
            second_approver=second_approver, on=optional_date(on, "--date"),
        ),
        as_json,
    )  # fmt: skip


@works.command("extend")
@click.argument("reference")
@click.option("--months", type=click.IntRange(1, 24), help="Extend by this many whole months.")
@click.option("--to", "to_date", help="Or: the new completion date.")
@click.option("--reason", required=True, help="Why the works need longer.")
@pass_context
def works_extend(
    context: Context, reference: str, months: int | None, to_date: str | None, reason: str
) -> None:
    """Extend the 12-month completion period, with the reason (role: grant or technical officer).

    \b
    Example:
      dfg works extend CAN-2026-0001 --months 3 --reason "Planning consent delayed"
    """
    from dfg.services.works import extend_completion

    recorded = extend_completion(
        context.database(), context.actor(), reference, reason=reason, months=months,
        new_date=optional_date(to_date, "--to"),
    )  # fmt: skip
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.clocks import case_clocks_for

    due = next(c.due for c in case_clocks_for(context.database(), context.actor(), reference, local_day(utcnow()))
               if c.name == "completion_due")  # fmt: skip
    click.echo(f"{recorded.reference}: completion period extended; the works are now due by {show_date(due)}")


@works.command("check")
@click.argument("reference")
@click.argument("check", type=click.Choice(["inspection", "ot_sign_off", "applicant_satisfaction"]))
@click.option("--passed/--failed", required=True, help="Whether the check passed.")
@click.option("--notes", help="What was found (required when it failed).")
@click.option("--date", "on", help="When the check was made (default: today).")
@pass_context
def works_check(
    context: Context, reference: str, check: str, passed: bool, notes: str | None, on: str | None
) -> None:
    """Record a completion check: the inspection (technical officer), the OT's sign-off (OT), the
    applicant's satisfaction (grant officer). 'certify' needs each to have passed.

    \b
    Example:
      dfg works check CAN-2026-0001 inspection --passed
      dfg works check CAN-2026-0001 inspection --failed --notes "Shower tray leaks"
    """
    from dfg.services.works import record_completion_check

    recorded = record_completion_check(
        context.database(), context.actor(), reference, check, passed=passed, notes=notes,
        on=optional_date(on, "--date"),
    )  # fmt: skip
    click.echo(f"{recorded.reference}: {check.replace('_', ' ')} {'passed' if passed else 'failed'}")
