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
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file saying how another system's spreadsheet is read: which of its columns is which, "
    "its values for ours, and its columns to pass over (see docs/samples/import/legacy-mapping.toml).",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; open nothing.")
@click.option(
    "--unassigned", is_flag=True, help="Leave the cases on no one's list (by default they are on yours)."
)
@json_option
@pass_context
def import_cases(
    context: Context, path: Path, mapping: Path | None, dry_run: bool, unassigned: bool, as_json: bool
) -> None:
    """Open a case for each row of a spreadsheet (.csv or .xlsx, its first sheet), and print the
    references: new referrals, or open cases brought in from another system at the state they stand
    in there. Role: grant officer.

    The first row names the columns, in any order and any case ('First contact' is first_contact), or
    as another system names them, through --mapping. Every row is checked first, as 'dfg case new'
    checks one case: if any is wrong, every problem is listed by its row number (as the spreadsheet
    shows it: the names are row 1) and column, and nothing is opened (exit code 8). Otherwise every
    case is opened in one transaction, all or none. A case with a state past the referral is moved to
    it by one 'migrated' event carrying the dates the other system kept, so its clocks count from
    them; no letters are made for the steps it took there.

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
      contact            how the applicant would like to be contacted: post, phone, email or
                         advocate; advocate, who speaks for them and how to reach them;
                         format_note, a format letters must reach them in (Braille, audio...)
      occupant           the disabled occupant's whole name, if not the applicant; with
                         occupant_date_of_birth and relationship
      postal_address, postal_address2, postal_town, postal_postcode
                         the applicant's own address, if letters should not go to the home
      duplicate          yes to open it although an open case has the same applicant or home
      state              where the case stands (default referral): awaiting_assessment,
                         test_of_resources, scheme_design, application_incomplete or
                         application_valid, or its label ('Awaiting OT assessment')
      legacy_reference   the other system's reference, kept on the case's history
      referral_accepted  the day the referral was accepted for an assessment (default: first
                         contact)
      assessment_date, test_of_resources_date, application_received_date, valid_application_date
                         the dates of the steps to its state: each is needed once the case is
                         past that step (valid_application_date starts the six months of s.34)
    The other columns 'dfg case list --csv' writes (reference, stage, on hold, assigned to, approved
    grant) are passed over; any other column is refused, so a misspelt one is not lost (a mapping may
    name the other system's columns to pass over).

    \b
    Examples:
      dfg --as jsmith import cases referrals.xlsx --dry-run
      dfg --as jsmith import cases referrals.csv --json
      dfg --as jsmith import cases open-cases.xlsx --mapping legacy.toml --dry-run
    """
    from dfg.errors import InvalidInput
    from dfg.services.case_import import OWN_COLUMNS, read_case_rows, read_mapping
    from dfg.services.case_import import import_cases as open_cases

    columns = read_mapping(mapping) if mapping else OWN_COLUMNS
    rows = read_case_rows(path)  # the files read before the database is opened
    database, actor = context.database(), context.actor()
    with progress_bar("Opening cases") as progress:
        report = open_cases(
            database, actor, rows, mapping=columns, source=path.name, dry_run=dry_run,
            unassigned=unassigned, progress=progress,
        )  # fmt: skip
    for problem in report.problems:
        click.echo(f"dfg: {one_line(problem)}", err=True)
    if as_json:
        emit_json({"rows": report.rows, "opened": report.opened, "problems": report.problems,
                   "dry_run": dry_run})  # fmt: skip
    else:
        for reference in report.opened:
            click.echo(reference)
    if report.problems:
        raise InvalidInput(f"{len(report.problems)} problem(s) in {report.rows} row(s): nothing was opened")
    verb = "would open" if dry_run else "opened"
    click.echo(f"{verb} {report.rows if dry_run else len(report.opened)} case(s)", err=True)
