"""dfg grant: calculate, show and approve the grant; the versions of an approval."""

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
    report_step,
    show_date,
    table,
)
from dfg.errors import InvalidInput
from dfg.rules.money import format_pounds, parse_pounds

if TYPE_CHECKING:
    from dfg.services.approval import ApprovalVersion


@click.group()
def grant() -> None:
    """The grant: calculated from the works, the charges and the test of resources, then approved."""


@grant.command("calculate")
@click.argument("reference")
@click.option(
    "--works",
    help="The cost of the works in pounds; default: the eligible works of the selected estimate (the "
    "lowest acceptable one), which is what an approval needs.",
)
@click.option("--charge", "charges", multiple=True,
              help="A preliminary or ancillary charge: agency_fee (calculated from policy) or survey=450 (repeat).")  # fmt: skip
@click.option("--funding-line", "funding_lines", multiple=True,
              help="A discretionary funding line of the district's policy to apply, e.g. top_up (repeat).")  # fmt: skip
@click.option(
    "--reason", "reasons", multiple=True, help="A reason a funding line asks for, e.g. hospital_discharge."
)
@click.option(
    "--on", "on", help="The intended approval date: the maximum grant in force then (default: today)."
)
@json_option
@pass_context
def grant_calculate(
    context: Context, reference: str, works: str | None, charges: tuple[str, ...], funding_lines: tuple[str, ...],
    reasons: tuple[str, ...], on: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Calculate the grant for a case and store it with the workings (role: grant officer).

    \b
    Examples:
      dfg grant calculate CAN-2026-0001 --charge agency_fee --charge survey=350
      dfg grant calculate CAN-2026-0001 --works 6200    (a first figure, before estimates are in)
    """
    from dfg.services.grant import calculate_case_grant, parse_charge

    record = calculate_case_grant(
        context.database(), context.actor(), reference,
        works_pence=None if works is None else parse_pounds(works, field="--works"),
        charges=[parse_charge(c) for c in charges], funding_lines=funding_lines, reasons=reasons,
        on=optional_date(on, "--on"),
    )  # fmt: skip
    if as_json:
        emit_json(record.as_dict())
    else:
        click.echo(f"{record.reference}: grant calculation {record.id}")
        click.echo(record.explanation)


@grant.command("show")
@click.argument("reference")
@click.option("--id", "number", type=RECORD_ID, help="A calculation's number (default: the latest).")
@json_option
@pass_context
def grant_show(context: Context, reference: str, number: int | None, as_json: bool) -> None:
    """Show a case's grant calculation with the workings of every figure."""
    from dfg.services.grant import grant_calculation

    record = grant_calculation(context.database(), context.actor(), reference, number)
    if as_json:
        emit_json(record.as_dict())
    else:
        click.echo(f"{record.reference}: grant calculation {record.id} of {record.calculated_on:%d/%m/%Y}")
        click.echo(record.explanation)


@grant.command("landlord-decision")
@click.argument("reference")
@click.option("--amount", required=True, help="The amount of the grant the council decided, in pounds.")
@click.option("--factor", "factors", multiple=True, required=True,
              help="What the council had regard to: rent (required), landlord_position, policy, other (repeat).")  # fmt: skip
@click.option("--reason", required=True, help="The reasons for the amount, as the decision states them.")
@click.option("--on", "on", help="The date of the decision (default: today).")
@json_option
@pass_context
def grant_landlord_decision(
    context: Context, reference: str, amount: str, factors: tuple[str, ...], reason: str, on: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Record the council's decision on the amount of a landlord's grant (s.31 HGCRA 1996; role:
    approver), with what it weighed and its reasons. The grant is then calculated with that amount.

    \b
    Example:
      dfg grant landlord-decision LIC-2026-0004 --amount 9000 --factor rent --factor policy \\
          --reason "The works let the landlord raise the rent by £15 a week; policy 4.3 caps the grant"
    """
    from dfg.services.landlord_grant import decide_landlord_grant

    record = decide_landlord_grant(
        context.database(), context.actor(), reference, amount_pence=parse_pounds(amount, field="--amount"),
        factors=factors, reason=reason, on=optional_date(on, "--on"),
    )  # fmt: skip
    if as_json:
        emit_json(record.as_dict())
    else:
        click.echo(record.as_text())


@grant.command("landlord-decisions")
@click.argument("reference")
@json_option
@pass_context
def grant_landlord_decisions(context: Context, reference: str, as_json: bool) -> None:
    """List the decisions on the amount of a landlord's grant, oldest first (the last is in force)."""
    from dfg.services.landlord_grant import landlord_decisions

    records = landlord_decisions(context.database(), context.actor(), reference)
    if as_json:
        emit_json([r.as_dict() for r in records])
    elif not records:
        click.echo(f"{reference.upper()}: no decision on the amount of a landlord's grant is recorded")
    else:
        click.echo("\n\n".join(r.as_text() for r in records))


@grant.command("approve")
@click.argument("reference")
@click.option("--date", "on", help="The date of the approval (default: today).")
@click.option("--deferred-payment", help="Pay on this date instead (no later than 12 months after the valid "
              "application, s.36).")  # fmt: skip
@click.option("--pay-applicant", is_flag=True,
              help="Pay the applicant, not the contractor directly (default: the contractor, as the "
              "applicant was told before approval).")  # fmt: skip
@click.option("--condition", "conditions", multiple=True,
              help="A condition for this case, added to the district's standard conditions (repeat).")  # fmt: skip
@click.option("--works-begun", is_flag=True, help="The works began before approval (needs --good-reason).")
@click.option("--good-reason", help="Why approving works already begun is justified (s.29).")
@click.option("--works-completed", is_flag=True,
              help="The works were completed before approval: the approval is refused (s.29).")  # fmt: skip
@click.option("--second-approver", help="Above your delegated limit: the approver who countersigns.")
@json_option
@pass_context
def grant_approve(
    context: Context, reference: str, on: str | None, deferred_payment: str | None, pay_applicant: bool,
    conditions: tuple[str, ...], works_begun: bool, good_reason: str | None, works_completed: bool,
    second_approver: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Approve the case's grant exactly as last calculated (role: approver, within your delegated limit
    or countersigned). Commits the district's budget; an over-commitment needs a manager's override.

    \b
    Examples:
      dfg grant approve CAN-2026-0001
      dfg grant approve CAN-2026-0001 --deferred-payment 2027-03-01 --pay-applicant
      dfg grant approve CAN-2026-0001 --second-approver hgreen      (above your limit)
      dfg grant approve CAN-2026-0001 --works-begun --good-reason "Urgent hospital discharge"
    """
    from dfg.services.approval import ApprovalTerms, approve_grant

    if works_begun and works_completed:
        raise InvalidInput("--works-begun and --works-completed cannot both be given")
    terms = ApprovalTerms(
        deferred_payment_date=optional_date(deferred_payment, "--deferred-payment"),
        pay_contractor_directly=not pay_applicant,
        conditions=conditions,
        works_status="completed" if works_completed else "begun" if works_begun else "not_started",
        works_begun_reason=good_reason,
        second_approver=second_approver,
    )
    report_step(
        approve_grant(context.database(), context.actor(), reference, terms, on=optional_date(on, "--date")),
        as_json,
    )


@grant.command("versions")
@click.argument("reference")
@json_option
@pass_context
def grant_versions(context: Context, reference: str, as_json: bool) -> None:
    """Every version of a case's approval: the approval, then each approved variation (the last is in force)."""
    from dfg.services.approval import approval_versions

    versions = approval_versions(context.database(), context.actor(), reference)
    if as_json:
        emit_json([v.as_dict() for v in versions])
        return
    _print_versions(versions)


def _print_versions(versions: list[ApprovalVersion]) -> None:
    """The versions as a table, then the terms of the one in force."""
    if not versions:
        click.echo("not approved yet")
        return
    click.echo(
        table(
            ["Version", "Kind", "Decided", "Works", "Charges", "Contribution", "Assistance", "Approved by", "Change"],
            [
                [
                    v.version, v.kind, show_date(v.decided_on), format_pounds(v.works_pence),
                    format_pounds(v.charges_pence), format_pounds(v.contribution_pence),
                    format_pounds(v.total_assistance_pence),
                    v.approved_by + (f" + {v.second_approver}" if v.second_approver else ""),
                    (f"{format_pounds(v.variation_price_pence or 0)}: {v.variation}" if v.variation else ""),
                ]
                for v in versions
            ],
        )
    )  # fmt: skip
    last = versions[-1]
    click.echo(f"\nin force: version {last.version}; contractor: {last.contractor or 'none selected'}; "
               f"paid to: {'the contractor' if last.pay_contractor_directly else 'the applicant'}"
               + (f"; deferred payment: {show_date(last.deferred_payment_date)}" if last.deferred_payment_date else ""))  # fmt: skip
    for condition in last.conditions:
        click.echo(f"- {condition}")
