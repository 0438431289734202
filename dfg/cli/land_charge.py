"""dfg land-charge: the local land charge and repayment decisions on disposal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dfg.cli.command import (
    Context,
    emit_json,
    json_option,
    optional_date,
    pass_context,
    report_step,
    show_iso_date,
    table,
)
from dfg.rules.dates import parse_date
from dfg.rules.money import format_pounds, parse_pounds

if TYPE_CHECKING:
    from dfg.services.land_charge import LandChargeView


@click.group("land-charge")
def land_charge() -> None:
    """The local land charge on an owner's home, and the decision when the home is sold within its period.

    For an owner's application with a mandatory grant over £5,000, the council registers a local land
    charge for the part of the grant above £5,000 (at most £10,000). If the home is disposed of within
    10 years of the certified date, an approver decides whether to demand it in full, in part or not at
    all, having weighed the owner's circumstances.

    \b
    Start here:
      dfg land-charge show CAN-2026-0001      whether a charge applies, and for how much
    """


@land_charge.command("show")
@click.argument("reference")
@json_option
@pass_context
def land_charge_show(context: Context, reference: str, as_json: bool) -> None:
    """Whether a land charge applies to a case and for how much, its registration, and the decisions
    on any disposal.

    \b
    Example:
      dfg land-charge show CAN-2026-0001
    """
    from dfg.services.land_charge import land_charge_view

    view = land_charge_view(context.database(), context.actor(), reference)
    if as_json:
        emit_json(view.as_dict())
        return
    _print_land_charge(view)


def _print_land_charge(view: LandChargeView) -> None:
    """The charge, its registration and periods, then each decision with the factors weighed."""
    from dfg.rules.rates import REPAYMENT_FACTORS

    if not view.applies:
        click.echo(view.why_not)
        return
    click.echo(f"{view.reference}: a land charge of {format_pounds(view.due_pence)} applies "
               f"(mandatory grant {format_pounds(view.grant_pence or 0)}; terms {view.terms_version})")  # fmt: skip
    charge = view.registration
    if charge is None:
        click.echo(f"  not registered yet: 'dfg land-charge register {view.reference} --ref REFERENCE'")
        return
    click.echo(
        f"  registered        {show_iso_date(charge['registered_on'])}, register reference {charge['registry_reference']}"
    )
    click.echo(f"  condition period  ends {show_iso_date(charge['condition_end'])}")
    click.echo(f"  charge period     ends {show_iso_date(charge['expires_on'])}")
    if not view.decisions:
        return
    click.echo("")
    click.echo(table(["Decided", "Disposal", "Decision", "Demanded", "Factors weighed", "By"], [
        [show_iso_date(d["decided_on"]), show_iso_date(d["disposal_on"]), d["decision"], format_pounds(d["demanded_pence"]),
         ", ".join(d["factors"]), d["recorded_by"]]
        for d in view.decisions]))  # fmt: skip
    for d in view.decisions:
        click.echo(f"\n{show_iso_date(d['decided_on'])}: {d['reason']}")
        for code in d["factors"]:
            click.echo(f"- {REPAYMENT_FACTORS[code]}")


@land_charge.command("register")
@click.argument("reference")
@click.option("--ref", "registry_reference", required=True,
              help="The Local Land Charges register's reference for the charge.")  # fmt: skip
@click.option("--date", "on", help="The date the charge was registered (default: today; not before the "
              "certified date).")  # fmt: skip
@json_option
@pass_context
def land_charge_register(
    context: Context, reference: str, registry_reference: str, on: str | None, as_json: bool
) -> None:
    """Record that the land charge is registered (role: grant officer, once the works are certified).
    The amount is worked out, never typed in; the charge runs 10 years from the certified date.

    \b
    Example:
      dfg land-charge register CAN-2026-0001 --ref LLC/2026/0417 --date 2026-07-24
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.land_charge import register_land_charge

    report_step(
        register_land_charge(
            context.database(), context.actor(), reference, registry_reference=registry_reference,
            registered_on=optional_date(on, "--date") or local_day(utcnow()),
        ),
        as_json,
    )  # fmt: skip


@land_charge.command("decide")
@click.argument("reference")
@click.option("--disposal-date", required=True, help="When the home was sold or otherwise disposed of.")
@click.option("--demand", "decision", required=True, type=click.Choice(["full", "part", "waive"]),
              help="Demand the repayable amount in full, in part (with --amount), or waive it.")  # fmt: skip
@click.option("--amount", help="For part: the amount to demand in pounds, less than the repayable amount.")
@click.option("--factor", "factors", multiple=True,
              help="A circumstance weighed (repeat): hardship, health (moving for health reasons), care "
              "(moving to give or receive care), employment (moving for work), or none.")  # fmt: skip
@click.option("--reason", required=True, help="The reasons for the decision.")
@click.option("--date", "on", help="The date of the decision (default: today).")
@json_option
@pass_context
def land_charge_decide(
    context: Context, reference: str, disposal_date: str, decision: str, amount: str | None,
    factors: tuple[str, ...], reason: str, on: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Decide on repayment after the home was disposed of within the charge period (role: approver, on a
    closed case): demand the repayable amount in full or in part, or waive it, with the factors weighed
    and the reasons. A demand produces the repayment demand letter.

    \b
    Examples:
      dfg land-charge decide CAN-2026-0001 --disposal-date 2031-06-04 --demand full --factor none \\
          --reason "Sold on the open market; no circumstances to weigh"
      dfg land-charge decide CAN-2026-0001 --disposal-date 2031-06-04 --demand part --amount 1500.00 \\
          --factor care --factor hardship --reason "Moving to live with her daughter, who cares for her"
      dfg land-charge decide CAN-2026-0001 --disposal-date 2031-06-04 --demand waive --factor health \\
          --reason "Moving to a bungalow on her consultant's advice"
    """
    from dfg.services.land_charge import record_repayment_decision

    report_step(
        record_repayment_decision(
            context.database(), context.actor(), reference,
            disposal_on=parse_date(disposal_date, field="--disposal-date"), decision=decision,
            amount_pence=None if amount is None else parse_pounds(amount, field="--amount"), factors=factors,
            reason=reason, on=optional_date(on, "--date"),
        ),
        as_json,
    )  # fmt: skip
