"""dfg import: records made in bulk from a spreadsheet (cases opened from one row each)."""

from __future__ import annotations

from pathlib import Path

import click

from dfg.cli.command import Context, emit_json, json_option, one_line, pass_context, progress_bar


@click.group("import")
def import_group() -> None:
    """Open many cases at once from a spreadsheet (CSV or Excel), one row per case."""


@import_group.command("cases")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; open nothing.")
@click.option(
    "--unassigned", is_flag=True, help="Leave the cases on no one's list (by default they are on yours)."
)
@json_option
@pass_context
def import_cases(context: Context, path: Path, dry_run: bool, unassigned: bool, as_json: bool) -> None:
    """Open a case for each row of a spreadsheet (.csv or .xlsx, its first sheet), and print the
    references. Role: grant officer.

    The first row names the columns, in any order and any case ('First contact' is first_contact).
    Every row is checked first, as 'dfg case new' checks one case: if any is wrong, every problem is
    listed by its row number (as the spreadsheet shows it: the names are row 1) and column, and nothing
    is opened (exit code 8). Otherwise each case is opened in turn, at 'Referral received'.

    \b
    Columns (* required):
      district*          district code, e.g. CAN
      tenure*            owner, tenant, occupier or landlord
      address*           first line of the home to be adapted (or address_line_1); address2 the second
      town*, postcode*   of the home
      applicant*         the applicant's whole name ('Mrs Margaret Holt'), or instead title,
                         given_name and family_name
      date_of_birth      the applicant's (2026-03-31, 31/03/2026, or a date cell)
      nhs_number, phone, email
      priority           non_urgent (the default) or urgent; urgent needs priority_reason
      first_contact      the date of first contact (default: today)
      source             where the referral came from (or referral_source)
      large_print        yes if the applicant asks for large-print letters
      occupant           the disabled occupant's whole name, if not the applicant; with
                         occupant_date_of_birth and relationship
      postal_address, postal_address2, postal_town, postal_postcode
                         the applicant's own address, if letters should not go to the home
      duplicate          yes to open it although an open case has the same applicant or home
    The other columns 'dfg case list --csv' writes (reference, stage, state, on hold, assigned to,
    approved grant) are passed over; any other column is refused, so a misspelt one is not lost.

    \b
    Examples:
      dfg --as jsmith import cases referrals.xlsx --dry-run
      dfg --as jsmith import cases referrals.csv --json
    """
    from dfg.errors import InvalidInput
    from dfg.services.case_import import import_cases as open_cases
    from dfg.services.case_import import read_case_rows

    rows = read_case_rows(path)  # the file read before the database is opened
    database, actor = context.database(), context.actor()
    with progress_bar("Opening cases") as progress:
        report = open_cases(database, actor, rows, dry_run=dry_run, unassigned=unassigned, progress=progress)
    for problem in report.problems:
        click.echo(f"dfg: {one_line(problem)}", err=True)
    if as_json:
        emit_json({"rows": report.rows, "opened": report.opened, "problems": report.problems,
                   "dry_run": dry_run})  # fmt: skip
    else:
        for reference in report.opened:
            click.echo(reference)
    if report.problems and report.opened:
        raise InvalidInput(f"opened {len(report.opened)} of {report.rows} case(s), then stopped")
    if report.problems:
        raise InvalidInput(f"{len(report.problems)} problem(s) in {report.rows} row(s): nothing was opened")
    verb = "would open" if dry_run else "opened"
    click.echo(f"{verb} {report.rows if dry_run else len(report.opened)} case(s)", err=True)
