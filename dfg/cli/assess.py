"""dfg assess: the OT's assessment, the appointment (booked, rearranged, cancelled), the feasibility finding
and batch import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dfg.cli.command import (
    PRIORITY,
    Context,
    emit_json,
    json_option,
    one_line,
    optional_date,
    pass_context,
    progress_bar,
    report_step,
)
from dfg.errors import InvalidInput


@click.group()
def assess() -> None:
    """The OT's assessment and the technical officer's feasibility finding."""


@assess.command("record")
@click.argument("reference")
@click.option(
    "--file", "path", type=click.Path(dir_okay=False, path_type=Path), help="Read the assessment from JSON."
)
@click.option("--date", "assessed_on", help="The date of the assessment visit.")
@click.option("--assessor", help="The assessor's name.")
@click.option("--organisation", help="The assessor's organisation, e.g. 'Staffordshire County Council'.")
@click.option("--purpose", "purposes", multiple=True, help="An s.23 purpose met: a to k, or garden (repeat).")
@click.option("--work", "works", multiple=True, help="A recommended work from the catalogue, e.g. stairlift_straight, "
              "or other:'grab rails' (repeat). 'dfg assess catalogue' lists them.")  # fmt: skip
@click.option("--priority", type=PRIORITY, default="non_urgent", show_default=True)
@click.option("--priority-reason", help="Why the case is urgent.")
@click.option(
    "--finding",
    type=click.Choice(["necessary", "not-necessary"]),
    help="Are the works necessary and appropriate?",
)
@click.option("--reasons", help="The reasons for the finding (required).")
@click.option(
    "--nhs-number", help="The disabled occupant's NHS number, if known (checked by its check digit)."
)
@click.option("--before-visit", "before_visit_confirmed", is_flag=True,
              help="Confirm the date although it is before the visit still booked (assessed another way).")  # fmt: skip
@json_option
@pass_context
def assess_record(
    context: Context, /, reference: str, path: Path | None, as_json: bool, **fields: Any
) -> None:
    """Record the OT's assessment of a case awaiting assessment (role: OT or trusted assessor).

    Works that are necessary and appropriate move the case to the test of resources; otherwise the case
    is closed as not eligible with the reasons. A date before the visit still booked is refused: cancel
    the visit ('dfg assess cancel-visit'), or confirm the date with --before-visit.

    \b
    Example:
      dfg --as ot.county assess record CAN-2026-0001 --date 2026-02-10 --assessor "Ruth Ashley" \\
          --organisation "Staffordshire County Council" --purpose d --purpose f \\
          --work stairlift_straight --work level_access_shower --finding necessary \\
          --reasons "Cannot climb the stairs or step into the bath safely"
    """
    from dfg.services.assessment import parse_assessment, read_json_object, record_assessment

    if path is not None:
        data = read_json_object(path)
    else:
        data = {
            "assessed_on": fields["assessed_on"], "assessor": fields["assessor"],
            "organisation": fields["organisation"], "purposes": list(fields["purposes"]),
            "works": list(fields["works"]), "priority": fields["priority"],
            "priority_reason": fields["priority_reason"], "reasons": fields["reasons"],
            "necessary_and_appropriate": None if fields["finding"] is None else fields["finding"] == "necessary",
            "nhs_number": fields["nhs_number"],
            "before_visit_confirmed": fields["before_visit_confirmed"],
        }  # fmt: skip
    result = record_assessment(context.database(), context.actor(), reference, parse_assessment(data))
    report_step(result, as_json)


@assess.command("appoint")
@click.argument("reference")
@click.option(
    "--at", "at", required=True, help="When, as a time in England: '2027-03-09 10:30' or '09/03/2027 10:30'."
)
@click.option("--assessor", required=True, help="Who will visit, e.g. 'Ruth Ashley'.")
@click.option(
    "--organisation", required=True, help="Their organisation, e.g. 'Staffordshire County Council'."
)
@click.option(
    "--role", help="What the letter calls them, if not 'occupational therapist': e.g. 'trusted assessor'."
)
@click.option("--where", "location", help="Where the visit happens, if not 'At your home'.")
@json_option
@pass_context
def assess_appoint(
    context: Context, /, reference: str, at: str, assessor: str, organisation: str, role: str | None,
    location: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Book the assessment visit of a case awaiting assessment, and queue the appointment letter.

    Book again to rearrange: each booking is kept, and the applicant gets a letter with the new time.
    Role: OT or trusted assessor, or grant officer.

    \b
    Example:
      dfg --as ot.county assess appoint CAN-2026-0001 --at "2027-02-10 10:30" \\
          --assessor "Ruth Ashley" --organisation "Staffordshire County Council"
    """
    from dfg.rules.clock import ENGLAND
    from dfg.rules.dates import parse_date_time
    from dfg.services.appointments import Appointment, book_appointment

    when = parse_date_time(at, field="--at").replace(tzinfo=ENGLAND)
    given = {"assessor_role": role, "location": location}  # unless given, the booking's own defaults
    booking = Appointment(
        at=when,
        assessor_name=assessor,
        assessor_organisation=organisation,
        **{name: value for name, value in given.items() if value is not None},
    )
    report_step(book_appointment(context.database(), context.actor(), reference, booking), as_json)


@assess.command("cancel-visit")
@click.argument("reference")
@click.option("--reason", required=True, help="Why the visit is cancelled (kept on the case's record).")
@json_option
@pass_context
def assess_cancel_visit(context: Context, /, reference: str, reason: str, as_json: bool) -> None:
    """Cancel the booked assessment visit, and queue the letter telling the applicant.

    The booking stays on the case's record, marked cancelled; the case still awaits its assessment.
    To move the visit to another time instead, book again ('dfg assess appoint').
    Role: OT or trusted assessor, or grant officer.

    \b
    Example:
      dfg --as ot.county assess cancel-visit CAN-2026-0001 --reason "Applicant admitted to hospital"
    """
    from dfg.services.appointments import cancel_visit

    report_step(cancel_visit(context.database(), context.actor(), reference, reason), as_json)


@assess.command("diary")
@click.option("--from", "start", help="The first day (default today): 2027-03-09 or 09/03/2027.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 92), help="How many days.")
@click.option("--assessor", help="Only this assessor's visits (part of the name is enough).")
@json_option
@pass_context
def assess_diary(
    context: Context, /, start: str | None, days: int, assessor: str | None, as_json: bool
) -> None:
    """The assessment visits booked for the days ahead, per assessor and day.

    A case's latest booking counts (booking again rearranges it) while it awaits its assessment. The
    diary shows the case, town and postcode; 'dfg case show REF' shows the people and the address.

    \b
    Examples:
      dfg assess diary
      dfg assess diary --from 2027-03-08 --days 5 --assessor ashley
    """
    from dfg.services.diary import diary

    visits = diary(
        context.database(),
        context.actor(),
        start=optional_date(start, "--from"),
        days=days,
        assessor=assessor,
    )
    if as_json:
        emit_json([v.as_dict() for v in visits])
        return
    if not visits:
        click.echo("No visits booked in those days.", err=True)
        return
    from dfg.rules.clock import ENGLAND

    heading = None
    for visit in sorted(visits, key=lambda v: (v.assessor.casefold(), v.at)):
        if (visit.assessor, visit.day) != heading:
            heading = (visit.assessor, visit.day)
            click.echo(f"\n{visit.assessor} ({visit.organisation}), {visit.day:%A %d/%m/%Y}")
        where = ", ".join(p for p in (visit.town, visit.postcode) if p)
        click.echo(f"  {visit.at.astimezone(ENGLAND):%H:%M}  {visit.reference}  {where}  {visit.location}")


@assess.command("feasibility")
@click.argument("reference")
@click.option("--finding", required=True, type=click.Choice(["practicable", "not-practicable"]),
              help="Are the works reasonable and practicable (age and condition of the dwelling)?")  # fmt: skip
@click.option("--reasons", required=True, help="The reasons (general unsuitability of the home is not one).")
@click.option("--date", "decided_on", help="The date of the decision (default: today).")
@pass_context
def assess_feasibility(
    context: Context, reference: str, finding: str, reasons: str, decided_on: str | None
) -> None:
    """Record the technical officer's 'reasonable and practicable' finding (s.24(3)(b))."""
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.assessment import record_feasibility

    record_feasibility(
        context.database(),
        context.actor(),
        reference,
        decided_on=optional_date(decided_on, "--date") or local_day(utcnow()),
        reasonable_and_practicable=finding == "practicable",
        reasons=reasons,
    )
    click.echo(f"recorded: {finding.replace('-', ' ')}", err=True)


@assess.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; record nothing.")
@pass_context
def assess_import(context: Context, path: Path, dry_run: bool) -> None:
    """Record a batch of OT assessments from CSV or JSON (one row per case, with a 'reference' column and
    the fields of 'assess record'; lists separated by ';'). Every row is checked first: if any is wrong,
    each problem is listed with its row number and nothing is recorded (exit code 8)."""
    from dfg.services.assessment import import_assessments, read_batch

    rows = read_batch(path)
    database, actor = context.database(), context.actor()
    with progress_bar("Recording assessments") as progress:
        report = import_assessments(database, actor, rows, dry_run=dry_run, progress=progress)
    for problem in report.problems:
        click.echo(f"dfg: {one_line(problem)}", err=True)
    if report.problems:
        raise InvalidInput(f"{len(report.problems)} of {report.rows} row(s) are wrong: nothing was recorded")
    for result in report.imported:
        click.echo(f"{result.reference}: {result.trigger} ({result.from_state} -> {result.to_state})")
    verb = "would record" if dry_run else "recorded"
    click.echo(f"{verb} {report.rows if dry_run else len(report.imported)} assessment(s)", err=True)


@assess.command("show")
@click.argument("reference")
@json_option
@pass_context
def assess_show(context: Context, reference: str, as_json: bool) -> None:
    """The case's assessments and feasibility findings, with their reasons."""
    from dfg.services.assessment import assessments_of

    found = assessments_of(context.database(), context.actor(), reference)
    if as_json:
        emit_json(found)
        return
    for item in found:
        click.echo(f"{item['date']}  {item['kind']} by {item['by']}: {item['finding']}")
        if item["kind"] == "assessment":
            click.echo(f"    s.23 purposes: {', '.join(item['purposes'])}; works: {', '.join(item['works'])}")
        click.echo(f"    reasons: {item['reasons']}")


@assess.command("catalogue")
def assess_catalogue() -> None:
    """List the s.23 purposes and the catalogue of works (workflows/catalogue.toml)."""
    from dfg.rules.catalogue import catalogue

    items = catalogue()
    click.echo("Purposes (--purpose):")
    for code, label in items.purposes.items():
        click.echo(f"  {code:<8}{label}")
    click.echo("Works (--work):")
    for work in items.works.values():
        click.echo(f"  {work.code:<22}{work.label}")
