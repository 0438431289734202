"""dfg means-test: the test of resources on a case, and the calculator without one."""

from __future__ import annotations

from pathlib import Path

import click

from dfg.cli.command import RECORD_ID, Context, emit_json, json_option, optional_date, pass_context
from dfg.rules.money import format_pounds


@click.group("means-test")
def means_test() -> None:
    """The test of resources (Housing Renewal Grants Regulations 1996 as amended)."""


@means_test.command("run")
@click.argument("reference")
@click.option("--household", "household_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The household as JSON (see docs/means-test.md).")  # fmt: skip
@click.option("--on", "on", help="Use the rates in force on this date (default: today).")
@click.option("--code", help="After approval: why the determination is redone (error_corrected, ...).")
@click.option("--reason", help="After approval: the reason in words.")
@json_option
@pass_context
def means_test_run(
    context: Context, reference: str, household_file: Path, on: str | None, code: str | None, reason: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Determine the test of resources for a case and store it with its workings (role: grant officer).

    Before approval a determination is provisional and may be run again; once the grant is approved it
    is locked, and a new one needs --code and --reason and is kept beside the old.
    """
    from dfg.services.assessment import read_json_object, run_means_test

    record = run_means_test(
        context.database(), context.actor(), reference, read_json_object(household_file),
        on=optional_date(on, "--on"), code=code, reason=reason,
    )  # fmt: skip
    if as_json:
        emit_json(record.as_dict())
    else:
        result = record.determination
        click.echo(f"{record.reference}: determination {record.id}: {result.outcome}, contribution "
                   f"{format_pounds(result.contribution_pence)} (rates {result.rates_version})")  # fmt: skip


@means_test.command("explain")
@click.argument("reference")
@click.option("--id", "number", type=RECORD_ID, help="A determination's number (default: the one in force).")
@json_option
@pass_context
def means_test_explain(context: Context, reference: str, number: int | None, as_json: bool) -> None:
    """Print the workings of a case's test of resources, as an officer would write them."""
    from dfg.services.assessment import determination

    record = determination(context.database(), context.actor(), reference, number)
    if as_json:
        emit_json(record.as_dict())
    else:
        click.echo(record.explain())


@means_test.command("quick")
@click.option(
    "--household",
    "household_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A household as JSON (see docs/means-test.md for the shape).",
)
@click.option(
    "--rates",
    "rates_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use this rate table file instead of the one in force on --on.",
)
@click.option("--on", "on", help="Use the rates in force on this date (default: today).")
@click.option(
    "--district",
    help="Use this district's jurisdiction and means-test settings (default: the installation's).",
)
@json_option
def means_test_quick(
    household_file: Path, rates_file: Path | None, on: str | None, district: str | None, as_json: bool
) -> None:
    """Work out a contribution without a case, as a public calculator would, and show the workings.

    \b
    Example:
      dfg means-test quick --household household.json
      dfg means-test quick --household household.json --json
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.rules.household import load_household
    from dfg.rules.jurisdiction import means_test_rates_in
    from dfg.rules.means_test import assess, determination_to_dict, explain
    from dfg.rules.rates import load_rate_table

    day = optional_date(on, "--on") or local_day(utcnow())
    household = load_household(household_file)
    rates = load_rate_table(rates_file) if rates_file else means_test_rates_in(district, day)
    determination = assess(household, rates, on=day)
    if as_json:
        emit_json(determination_to_dict(determination))
    else:
        click.echo(explain(determination))
