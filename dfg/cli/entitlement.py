"""dfg entitlement: ceased entitlement between approval and the certified date."""

from __future__ import annotations

import click

from dfg.cli.command import Context, pass_context
from dfg.rules.dates import parse_date
from dfg.rules.money import format_pounds, parse_pounds


@click.group()
def entitlement() -> None:
    """Ceased entitlement between approval and the certified date (s.40, s.41): payments stop until an
    approver decides to pay all, part or none of what is due."""


@entitlement.command("cease")
@click.argument("reference")
@click.option("--code", required=True, type=click.Choice(["died", "moved_out", "ceased_to_qualify"]),
              help="What happened.")  # fmt: skip
@click.option("--date", "on", required=True, help="When it happened.")
@click.option("--note", help="Anything else to record.")
@pass_context
def entitlement_cease(context: Context, reference: str, code: str, on: str, note: str | None) -> None:
    """Record that entitlement ceased (role: grant officer). Every payment stops until a decision.

    \b
    Example:
      dfg entitlement cease CAN-2026-0001 --code died --date 2026-09-14
    """
    from dfg.services.payments import cease_entitlement

    day = parse_date(on, field="--date")
    recorded = cease_entitlement(context.database(), context.actor(), reference, code=code, on=day, note=note)
    click.echo(
        f"{recorded.reference}: entitlement ceased ({code}); payments stopped until 'dfg entitlement decide'"
    )


@entitlement.command("decide")
@click.argument("reference")
@click.option("--pay", "decision", required=True, type=click.Choice(["all", "part", "none"]),
              help="Pay all, part or none of what is due.")  # fmt: skip
@click.option("--amount", help="For part: the total to pay, in pounds (including anything already paid).")
@click.option("--reason", required=True, help="The reasons for the decision.")
@pass_context
def entitlement_decide(
    context: Context, reference: str, decision: str, amount: str | None, reason: str
) -> None:
    """Decide what to pay after entitlement ceased (role: approver).

    \b
    Example:
      dfg entitlement decide CAN-2026-0001 --pay part --amount 2400.00 --reason "Work done before the death"
    """
    from dfg.services.payments import decide_ceased_entitlement

    recorded = decide_ceased_entitlement(
        context.database(), context.actor(), reference, decision=decision, reason=reason,
        amount_pence=None if amount is None else parse_pounds(amount, field="--amount"),
    )  # fmt: skip
    click.echo(f"{recorded.reference}: decided to pay {decision}: up to "
               f"{format_pounds(recorded.payload['payable_pence'])} in all")  # fmt: skip
