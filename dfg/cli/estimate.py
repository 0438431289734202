"""dfg estimate: contractors' estimates on a case, the waiver and the selection."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dfg.cli.command import (
    RECORD_ID,
    Context,
    emit_json,
    json_option,
    optional_date,
    pass_context,
    show_date,
    table,
)
from dfg.rules.money import format_pounds, parse_pounds

if TYPE_CHECKING:
    from dfg.services.estimates import EstimatesView


@click.group()
def estimate() -> None:
    """Contractors' estimates on a case, the waiver of the two-estimates rule, and the one selected."""


@estimate.command("add")
@click.argument("reference")
@click.option("--contractor", "contractor_name", required=True, help="The contractor, as on the register.")
@click.option("--price", required=True, help="The estimate's price in pounds, e.g. 4500.00.")
@click.option("--received", help="When the estimate was received (default: today).")
@click.option("--contractor-ref", help="The contractor's own reference for the estimate, e.g. Q-2026-17.")
@click.option("--notes", help="Anything to note, e.g. what the price leaves out.")
@click.option("--confirm-price", is_flag=True,
              help="The price is right although it is above the works policy's largest expected (£100,000).")  # fmt: skip
@json_option
@pass_context
def estimate_add(
    context: Context, reference: str, contractor_name: str, price: str, received: str | None,
    contractor_ref: str | None, notes: str | None, confirm_price: bool, as_json: bool,
) -> None:  # fmt: skip
    """Record a contractor's estimate for the works (role: grant officer or technical officer). A revised
    price is a new estimate; the old one stays on the record.

    \b
    Example:
      dfg estimate add CAN-2026-0001 --contractor "Able Lifts Ltd" --price 4500.00 --received 2026-03-02
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.estimates import case_estimates, record_estimate

    database, actor = context.database(), context.actor()
    made = record_estimate(
        database, actor, reference, contractor=contractor_name, price_pence=parse_pounds(price, field="--price"),
        received_on=optional_date(received, "--received") or local_day(utcnow()),
        contractor_reference=contractor_ref, notes=notes, price_confirmed=confirm_price,
    )  # fmt: skip
    if as_json:
        emit_json(made.as_dict())
        return
    click.echo(f"{made.reference}: estimate {made.id} from {made.contractor_name}, "
               f"{format_pounds(made.price_pence)}, received {show_date(made.received_on)}")  # fmt: skip
    still = case_estimates(database, actor, made.reference).requirement
    if still:
        click.echo(f"still needed: {still}", err=True)


@estimate.command("list")
@click.argument("reference")
@json_option
@pass_context
def estimate_list(context: Context, reference: str, as_json: bool) -> None:
    """A case's estimates, oldest first, with the waiver and the selection in force and whether the
    two-estimates rule is met.

    \b
    Example:
      dfg estimate list CAN-2026-0001
    """
    from dfg.services.estimates import case_estimates

    view = case_estimates(context.database(), context.actor(), reference)
    if as_json:
        emit_json(view.as_dict())
        return
    _print_estimates(view)


def _print_estimates(view: EstimatesView) -> None:
    """The estimates as a table, then the waiver, the selection and what is still needed."""
    from dfg.rules.clock import local_day

    rows = [
        [e.id, e.contractor_name, format_pounds(e.price_pence), show_date(e.received_on), e.contractor_reference,
         e.recorded_by, e.notes]
        for e in view.estimates
    ]  # fmt: skip
    lines = [f"{view.reference}: {len(view.estimates)} estimate(s)"]
    if rows:
        lines.append(
            table(["id", "contractor", "price", "received", "their ref", "recorded by", "notes"], rows)
        )
    lines.extend(f"estimate {i} cannot be chosen: {why}" for i, why in view.not_selectable.items())
    if view.waiver:
        lines.append(f"Waived: {view.waiver.reason} ({view.waiver.recorded_by}, "
                     f"{show_date(local_day(view.waiver.recorded_at))})")  # fmt: skip
    if view.selection:
        chosen = view.selection
        lines.append(f"Selected: estimate {chosen.estimate_id} ({chosen.contractor_name}, "
                     f"{format_pounds(chosen.price_pence)}) by {chosen.recorded_by}")  # fmt: skip
        lines.append(f"  {chosen.how_decided}")
    lines.append(f"Estimates needed: {'met' if view.requirement is None else view.requirement}")
    click.echo("\n".join(lines))


@estimate.command("waive")
@click.argument("reference")
@click.option("--reason", required=True, help="Why fewer than two estimates will do.")
@pass_context
def estimate_waive(context: Context, reference: str, reason: str) -> None:
    """Record a direction that fewer than two estimates (from different contractors) will do on a case,
    and why (role: grant officer).

    \b
    Example:
      dfg estimate waive CAN-2026-0001 --reason "The only specialist fitter of through-floor lifts in the area"
    """
    from dfg.services.cases import normalise_reference
    from dfg.services.estimates import waive_estimates

    waive_estimates(context.database(), context.actor(), reference, reason=reason)
    click.echo(f"{normalise_reference(reference)}: two estimates waived: {reason.strip()}")


@estimate.command("select")
@click.argument("reference")
@click.argument("estimate_id", metavar="ESTIMATE_ID", type=RECORD_ID)
@click.option(
    "--reason", help="Why a dearer estimate is chosen (required then: the applicant pays the difference)."
)
@click.option("--unacceptable", "unacceptable", multiple=True, metavar="ID=REASON",
              help="An estimate that is not acceptable, and why, e.g. 4='no building regulations cover' (repeat).")  # fmt: skip
@click.option(
    "--date", "on", help="The date of the selection, on which accreditations are checked (default: today)."
)
@json_option
@pass_context
def estimate_select(
    context: Context, reference: str, estimate_id: int, reason: str | None, unacceptable: tuple[str, ...],
    on: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Select the estimate the works will be done on (role: grant officer). The eligible works are the
    lowest acceptable estimate; choosing a dearer one needs --reason, and the applicant pays the
    difference. A contractor suspended, removed, or (under the works policy) without a current
    accreditation cannot be chosen. 'dfg estimate list REF' shows the estimates' numbers.

    \b
    Examples:
      dfg estimate select CAN-2026-0001 3
      dfg estimate select CAN-2026-0001 5 --reason "The applicant's own builder" --unacceptable 4="leaves out making good"
    """
    from dfg.services.estimates import parse_unacceptable, select_estimate

    selection = select_estimate(
        context.database(), context.actor(), reference, estimate_id, reason=reason,
        unacceptable=parse_unacceptable(unacceptable), on=optional_date(on, "--date"),
    )  # fmt: skip
    if as_json:
        emit_json(selection.as_dict())
        return
    choice = selection.choice
    click.echo(f"{selection.reference}: estimate {choice.estimate_id} selected ({choice.contractor}, "
               f"{format_pounds(choice.price_pence)}) on {show_date(selection.on)}")  # fmt: skip
    click.echo(choice.how_decided)
    for number, why in choice.not_acceptable:
        click.echo(f"not acceptable: estimate {number}: {why}")
