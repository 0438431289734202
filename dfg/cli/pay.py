"""dfg pay: interim and final payments, invoices and the contribution on a case."""

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
from dfg.rules.money import format_pounds, parse_pounds

if TYPE_CHECKING:
    from dfg.services.payments import MoneyView


@click.group()
def pay() -> None:
    """Money on a case: interim and final payments, invoices, the applicant's contribution."""


@pay.command("interim")
@click.argument("reference")
@click.option("--amount", required=True, help="The payment in pounds.")
@click.option("--work-done", required=True, help="The valuation of the work done so far, in pounds.")
@click.option("--date", "on", help="The date paid (default: today).")
@json_option
@pass_context
def pay_interim_command(
    context: Context, reference: str, amount: str, work_done: str, on: str | None, as_json: bool
) -> None:
    """Record an interim payment: only for work done, and within the policy's cap before the
    certified date (default 90% of the approved assistance).

    \b
    Example:
      dfg pay interim CAN-2026-0001 --amount 3000.00 --work-done 4000.00
    """
    from dfg.services.payments import pay_interim

    report_step(
        pay_interim(
            context.database(), context.actor(), reference, amount_pence=parse_pounds(amount, field="--amount"),
            work_done_pence=parse_pounds(work_done, field="--work-done"), on=optional_date(on, "--date"),
        ),
        as_json,
    )  # fmt: skip


@pay.command("final")
@click.argument("reference")
@click.option("--date", "on", help="The date paid (default: today).")
@json_option
@pass_context
def pay_final_command(context: Context, reference: str, on: str | None, as_json: bool) -> None:
    """Record the final payment after the certified date: the rest of the approved assistance.

    \b
    Example:
      dfg pay final CAN-2026-0001
    """
    from dfg.services.payments import pay_final

    report_step(
        pay_final(context.database(), context.actor(), reference, on=optional_date(on, "--date")), as_json
    )


@pay.command("invoice")
@click.argument("reference")
@click.option("--supplier", required=True, help="Who invoiced (a contractor on the register, usually).")
@click.option("--ref", "invoice_reference", required=True, help="The invoice's own number.")
@click.option("--amount", required=True, help="The invoice total in pounds.")
@click.option("--received", help="When it was received (default: today).")
@click.option("--labour", type=click.Choice(["contractor", "applicant", "relative"]), default="contractor",
              show_default=True, help="Whose labour it charges for: the applicant's or a relative's is refused.")  # fmt: skip
@pass_context
def pay_invoice(
    context: Context, reference: str, supplier: str, invoice_reference: str, amount: str, received: str | None,
    labour: str,
) -> None:  # fmt: skip
    """Record an invoice for the works.

    \b
    Example:
      dfg pay invoice CAN-2026-0001 --supplier "Able Lifts Ltd" --ref INV-2231 --amount 6450.00
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.payments import record_invoice

    recorded = record_invoice(
        context.database(), context.actor(), reference, supplier=supplier, invoice_reference=invoice_reference,
        amount_pence=parse_pounds(amount, field="--amount"),
        received_on=optional_date(received, "--received") or local_day(utcnow()), labour=labour,
    )  # fmt: skip
    click.echo(f"{recorded.reference}: invoice {invoice_reference} recorded")


@pay.command("contribution")
@click.argument("reference")
@click.option("--amount", required=True, help="The amount collected in pounds.")
@click.option("--date", "on", help="When it was collected (default: today).")
@pass_context
def pay_contribution(context: Context, reference: str, amount: str, on: str | None) -> None:
    """Record the applicant's contribution (or part of it) as collected.

    \b
    Example:
      dfg pay contribution CAN-2026-0001 --amount 1250.00
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.payments import record_contribution

    recorded = record_contribution(
        context.database(), context.actor(), reference, amount_pence=parse_pounds(amount, field="--amount"),
        on=optional_date(on, "--date") or local_day(utcnow()),
    )  # fmt: skip
    click.echo(
        f"{recorded.reference}: contribution of {format_pounds(recorded.payload['amount_pence'])} collected"
    )


@pay.command("show")
@click.argument("reference")
@json_option
@pass_context
def pay_show(context: Context, reference: str, as_json: bool) -> None:
    """The money on a case: approved, paid, outstanding, payments, invoices, contribution, budget."""
    from dfg.services.payments import money_view

    view = money_view(context.database(), context.actor(), reference)
    if as_json:
        emit_json(view.as_dict())
        return
    _print_money(view)


def _print_money(view: MoneyView) -> None:
    """The money on a case as an officer reads it: totals, then the payments and invoices."""
    click.echo(f"{view.reference}")
    click.echo(f"  approved assistance  {format_pounds(view.approved_pence)}")
    click.echo(f"  paid                 {format_pounds(view.paid_pence)}")
    click.echo(f"  still to pay         {format_pounds(view.outstanding_pence)}")
    click.echo(f"  contribution         {format_pounds(view.contribution_collected_pence)} collected of "
               f"{format_pounds(view.contribution_pence)}")  # fmt: skip
    if view.entitlement_ceased:
        limit = view.payable_limit_pence
        click.echo(
            "  entitlement ceased: "
            + ("awaiting a decision" if limit is None else f"pay up to {format_pounds(limit)}")
        )
    if view.payments:
        click.echo("")
        click.echo(table(["Paid", "Kind", "Amount", "Work done", "To"], [
            [show_iso_date(p["paid_on"]), p["kind"], format_pounds(p["amount_pence"]),
             format_pounds(p["work_done_pence"]) if p["work_done_pence"] is not None else "", p["payee"]]
            for p in view.payments]))  # fmt: skip
    if view.invoices:
        click.echo("")
        click.echo(table(["Received", "Supplier", "Invoice", "Amount"], [
            [show_iso_date(i["received_on"]), i["supplier"], i["invoice_reference"],
             format_pounds(i["amount_pence"])]
            for i in view.invoices]))  # fmt: skip
