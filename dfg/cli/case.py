"""dfg case: open, read and advance cases; a case's postal address, history and clocks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from dfg.cli.command import (
    PRIORITY,
    RECORD_ID,
    Context,
    emit_json,
    json_option,
    optional_date,
    pass_context,
    report_step,
    sheet_options,
    show_date,
    split_person_name,
    table,
    write_sheets,
)
from dfg.errors import InvalidInput
from dfg.rules.money import format_pounds

if TYPE_CHECKING:
    from pathlib import Path

    from dfg.presentation import Cell
    from dfg.services.case_opening import NewCase, PostalAddress
    from dfg.services.case_reading import CaseSummary, CaseView
    from dfg.workflow.guards import TriggerInput


@click.group()
def case() -> None:
    """Open, read and advance cases."""


@case.command("new")
@click.option("--district", required=True, help="District code, e.g. CAN.")
@click.option("--applicant", required=True, help="The applicant's name, e.g. 'Margaret Holt'.")
@click.option("--title", help="The applicant's title, e.g. Mrs.")
@click.option("--dob", help="The applicant's date of birth (2026-03-31 or 31/03/2026).")
@click.option(
    "--occupant",
    help="The disabled occupant's name, if not the applicant (the applicant is the occupant otherwise).",
)
@click.option("--occupant-dob", help="The disabled occupant's date of birth.")
@click.option("--relationship", help="The occupant's relationship to the applicant, e.g. son.")
@click.option("--address", required=True, help="First line of the address of the home to be adapted.")
@click.option("--address2", help="Second line of the address.")
@click.option("--town", required=True, help="Town of the home to be adapted.")
@click.option("--postcode", required=True, help="Postcode of the home to be adapted.")
@click.option("--tenure", required=True, type=click.Choice(["owner", "tenant", "occupier", "landlord"]),
              help="The applicant's interest in the home (a landlord's application is not means tested).")  # fmt: skip
@click.option("--priority", default="non_urgent", show_default=True, type=PRIORITY,
              help="Urgent cases need --priority-reason.")  # fmt: skip
@click.option("--priority-reason", help="Why the case is urgent (required for urgent cases).")
@click.option(
    "--source", help="Where the referral came from, e.g. 'county OT', 'self', 'hospital discharge'."
)
@click.option("--first-contact", help="Date of first contact (default: today).")
@click.option("--large-print", is_flag=True, help="The applicant asks for large-print letters.")
@click.option(
    "--contact", help="How the applicant would like to be contacted: post, phone, email or advocate."
)
@click.option(
    "--advocate", help="An advocate or representative for the applicant: name and how to reach them."
)
@click.option(
    "--format-note", help="A format letters must reach the applicant in: Braille, audio, an interpreter."
)
@click.option("--postal-address", help="First line of the applicant's own address, if letters should not go to "
              "the home (a landlord's must not); with --postal-town and --postal-postcode.")  # fmt: skip
@click.option("--postal-address2", help="Second line of the applicant's own address.")
@click.option("--postal-town", help="Town of the applicant's own address.")
@click.option("--postal-postcode", help="Postcode of the applicant's own address.")
@click.option("--duplicate", is_flag=True,
              help="Open it although an open case of the district has the same applicant (a separate need).")  # fmt: skip
@click.option("--unassigned", is_flag=True,
              help="Leave it on no one's list (by default it is assigned to you; 'case assign' later).")  # fmt: skip
@pass_context
def case_new(context: Context, /, **options: Any) -> None:
    """Open a case at 'Referral received', assigned to you unless --unassigned, and print its reference.

    \b
    Example:
      dfg --as jsmith case new --district CAN --applicant "Margaret Holt" --title Mrs \\
          --dob 1946-05-12 --address "12 Mill Lane" --town Cannock --postcode "WS11 1AA" \\
          --tenure owner --priority urgent --priority-reason "hospital discharge"
    """
    from dfg.services.case_opening import open_case

    new = _new_case(options)  # the options checked before the database is opened
    click.echo(open_case(context.database(), context.actor(), new))


def _new_case(options: dict[str, Any]) -> NewCase:
    """The case 'case new' was given: the applicant, the occupant if not the applicant, and the home."""
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.case_opening import NewCase, NewPerson
    from dfg.services.people import LARGE_PRINT

    given, family = split_person_name(options["applicant"], "--applicant")
    postal = [options[f"postal_{part}"] for part in ("address", "address2", "town", "postcode")]
    occupant_is_applicant = not options["occupant"]
    people = [
        NewPerson(
            given_name=given,
            family_name=family,
            title=options["title"],
            date_of_birth=optional_date(options["dob"], "--dob"),
            is_applicant=True,
            is_disabled_occupant=occupant_is_applicant,
            communication_needs=LARGE_PRINT if options["large_print"] else None,
            preferred_contact=options["contact"],
            advocate=options["advocate"],
            format_note=options["format_note"],
            postal_address=_postal_address(*postal) if any(postal) else None,
        )
    ]
    if not occupant_is_applicant:
        o_given, o_family = split_person_name(options["occupant"], "--occupant")
        people.append(
            NewPerson(
                given_name=o_given,
                family_name=o_family,
                date_of_birth=optional_date(options["occupant_dob"], "--occupant-dob"),
                is_disabled_occupant=True,
                relationship_to_applicant=options["relationship"],
            )
        )
    return NewCase(
        district=options["district"].upper(),
        priority=options["priority"],
        priority_reason=options["priority_reason"],
        tenure=options["tenure"],
        first_contact_date=optional_date(options["first_contact"], "--first-contact") or local_day(utcnow()),
        address_line_1=options["address"],
        address_line_2=options["address2"],
        town=options["town"],
        postcode=options["postcode"],
        referral_source=options["source"],
        people=tuple(people),
        allow_duplicate=options["duplicate"],
        unassigned=options["unassigned"],
    )


def _postal_address(
    address: str | None, address2: str | None, town: str | None, postcode: str | None
) -> PostalAddress:
    from dfg.services.case_opening import PostalAddress

    if not (address and town and postcode):
        raise InvalidInput("a postal address needs its first line, town and postcode")
    return PostalAddress(line_1=address, line_2=address2, town=town, postcode=postcode)


@case.command("postal-address")
@click.argument("reference")
@click.option("--address", help="First line of the applicant's own address.")
@click.option("--address2", help="Second line.")
@click.option("--town", help="Town.")
@click.option("--postcode", help="Postcode.")
@click.option("--clear", is_flag=True, help="Send letters to the home to be adapted again.")
@pass_context
def case_postal_address(
    context: Context, /, reference: str, address: str | None, address2: str | None, town: str | None,
    postcode: str | None, clear: bool,
) -> None:  # fmt: skip
    """Record where the applicant's letters go, when not to the home to be adapted.

    A landlord applicant does not live at the home: their letters wait until this is recorded, then
    'dfg letters render --pending' produces them. Letters already sent keep the address they went to.

    \b
    Example:
      dfg --as jsmith case postal-address CAN-2026-0007 --address "4 Market Street" \\
          --town Lichfield --postcode "WS13 6LQ"
    """
    from dfg.services.case_opening import set_postal_address

    if clear == any((address, address2, town, postcode)):
        raise InvalidInput("give either the address (--address, --town, --postcode) or --clear")
    found = None if clear else _postal_address(address, address2, town, postcode)
    recorded = set_postal_address(context.database(), context.actor(), reference, found)
    stored = recorded.payload["postal_address"]  # as recorded: trimmed, postcode in capitals
    where = ", ".join(stored) if stored else "the home to be adapted"
    click.echo(f"{recorded.reference}: letters to the applicant go to {where}")


@case.command("show")
@click.argument("reference")
@json_option
@pass_context
def case_show(context: Context, reference: str, as_json: bool) -> None:
    """Everything recorded on a case.

    \b
    Example:
      dfg case show CAN-2026-0001 --json
    """
    from dfg.services.case_reading import view_case

    view = view_case(context.database(), context.actor(), reference)
    if as_json:
        emit_json(view.as_dict())
        return
    click.echo(_case_text(view))


def _case_text(view: CaseView) -> str:
    """The case as an officer reads it: state, district, people, milestones."""
    from dfg.rules.clock import ENGLAND, local_day
    from dfg.services.people import contact_lines

    stage = "closed" if view.stage is None else f"stage {view.stage}"
    lines = [
        f"{view.reference}  {view.state_label} ({stage})",
        f"District:     {view.district_name} ({view.district})",
        f"Priority:     {view.priority.replace('_', '-')}"
        + (f" - {view.priority_reason}" if view.priority_reason else ""),
        f"Tenure:       {view.tenure}",
        f"Address:      {', '.join(view.address)}",
        f"Assigned to:  {view.assigned_to or '-'}",
    ]
    if view.legacy_reference:
        lines.append(f"Brought in:   from another system, where it was {view.legacy_reference}")
    if view.on_hold_since:
        lines.append(
            f"ON HOLD since {local_day(view.on_hold_since):%d/%m/%Y}, review by {show_date(view.hold_review_date)}"
        )
    if view.booked_visit:
        visit = view.booked_visit
        lines.append(
            f"Visit booked: {visit['at'].astimezone(ENGLAND):%d/%m/%Y %H:%M}, {visit['assessor_name']} "
            f"({visit['assessor_role']}, {visit['assessor_organisation']}), {visit['location']}"
        )
    lines.append("People:")
    for person in view.people:
        born = f", born {show_date(person['date_of_birth'])}" if person["date_of_birth"] else ""
        lines.append(f"  {person['name']} ({', '.join(person['roles']).replace('_', ' ')}{born})")
        if person["postal_address"]:
            lines.append(f"    letters to: {', '.join(person['postal_address'])}")
        lines += [f"    {line}" for line in contact_lines(person)]
    lines.append("Milestones:")
    for name, value in view.milestones.items():
        if value is not None:
            lines.append(f"  {name.removesuffix('_date').replace('_', ' '):<26}{show_date(value)}")
    if view.approved_grant_pence is not None:
        lines.append(f"Approved grant: {format_pounds(view.approved_grant_pence)}")
    lines.append(f"Workflow {view.workflow_version}, record version {view.version}")
    return "\n".join(lines)


@case.command("correct")
@click.argument("reference")
@click.option(
    "--person", "place", type=RECORD_ID, help="Whose details (1 = the first listed in 'case show')."
)
@click.option("--title", help="Their title; '' clears it.")
@click.option("--given-name", help="Their given name(s).")
@click.option("--family-name", help="Their family name.")
@click.option("--dob", help="Their date of birth (2026-03-31 or 31/03/2026).")
@click.option("--nhs-number", help="Their NHS number (943 476 5919).")
@click.option("--phone", help="Their phone number; '' clears it.")
@click.option("--email", help="Their e-mail address; '' clears it.")
@click.option(
    "--contact", help="How they would like to be contacted: post, phone, email or advocate; '' clears it."
)
@click.option("--advocate", help="Their advocate or representative, and how to reach them; '' clears it.")
@click.option("--format-note", help="A format letters must reach them in (Braille, audio...); '' clears it.")
@click.option("--large-print", help="Whether their letters are in large print: yes or no.")
@click.option("--address", help="First line of the home to be adapted.")
@click.option("--address2", help="Second line of its address; '' clears it.")
@click.option("--town", help="Its town.")
@click.option("--postcode", help="Its postcode.")
@click.option("--reason", required=True, help="Why, for the history: e.g. 'spelt wrongly on the referral'.")
@pass_context
def case_correct(
    context: Context, /, reference: str, place: int | None, reason: str, **given: str | None
) -> None:
    """Correct a person's details or the address of the home, with the reason.

    The case's history records what changed, from what to what, by whom and why; letters use the new
    details from now on (letters already sent keep what they said). Role: grant officer.

    \b
    Examples:
      dfg case correct CAN-2026-0001 --person 1 --family-name Holt-Smith --reason "married name"
      dfg case correct CAN-2026-0001 --postcode "WS11 1AB" --reason "typed wrongly at referral"
    """
    from dfg.services.corrections import Correction, correct_details

    people = {"title": "title", "given_name": "given_name", "family_name": "family_name", "dob": "date_of_birth",
              "nhs_number": "nhs_number", "phone": "phone", "email": "email", "contact": "preferred_contact",
              "advocate": "advocate", "format_note": "format_note", "large_print": "large_print"}  # fmt: skip
    homes = {
        "address": "address_line_1",
        "address2": "address_line_2",
        "town": "town",
        "postcode": "postcode",
    }
    person: dict[str, Any] = {
        field: given[option] for option, field in people.items() if given[option] is not None
    }
    if "date_of_birth" in person:
        person["date_of_birth"] = (
            optional_date(person["date_of_birth"], "--dob") if person["date_of_birth"] else None
        )
    home = {field: given[option] for option, field in homes.items() if given[option] is not None}
    recorded = correct_details(
        context.database(), context.actor(), reference,
        Correction(reason=reason, person=place, person_fields=person, home_fields=home),
    )  # fmt: skip
    changed = ", ".join(k.replace("_", " ") for k in recorded.payload["changed"])
    click.echo(f"{recorded.reference}: corrected {changed}")


@case.command("find")
@click.argument("text")
@click.option("--state", help="Only cases in this state, e.g. application_valid.")
@click.option("--stage", type=int, help="Only cases in this stage (0-4).")
@click.option("--district", help="Only this district (code).")
@click.option("--open/--closed", "is_open", default=None, help="Only open cases, or only closed ones.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@sheet_options
@pass_context
def case_find(
    context: Context, /, text: str, as_json: bool, is_open: bool | None, csv_file: Path | None,
    xlsx_file: Path | None, **filters: Any,
) -> None:  # fmt: skip
    """Find cases by reference, name, postcode, address or NHS number.

    Matches ignore case, accents and spacing (a postcode with or without its space); part of a name or
    address is enough. Best matches first: the reference and NHS number, then the postcode, a whole
    name, a whole address, and part of either. Only cases you may see.

    \b
    Examples:
      dfg case find "ws11 1aa"
      dfg case find holt --open
      dfg case find "943 476 5919"
      dfg case find holt --xlsx holt.xlsx
    """
    from dfg.services.case_reading import CaseFilter
    from dfg.services.case_search import find_cases

    if filters["district"]:
        filters["district"] = filters["district"].upper()
    closed = None if is_open is None else not is_open
    found = find_cases(context.database(), context.actor(), text, CaseFilter(closed=closed, **filters))
    sheet = [[*_case_cells(f.case), f.matched_on] for f in found]
    if write_sheets(
        "Cases found", [*CASE_COLUMNS, "matched on"], sheet, csv_file=csv_file, xlsx_file=xlsx_file
    ):
        return
    if as_json:
        emit_json([f.as_dict() for f in found])
        return
    rows = [
        [f.case.reference, f.case.state, f.case.applicant, show_date(f.case.first_contact_date), f.matched_on]
        for f in found
    ]
    if rows:
        click.echo(table(["reference", "state", "applicant", "first contact", "matched on"], rows))
    click.echo(f"{len(found)} case(s) found", err=True)


@case.command("list")
@click.option("--state", help="Only cases in this state, e.g. application_valid.")
@click.option("--stage", type=int, help="Only cases in this stage (0-4).")
@click.option("--district", help="Only this district (code).")
@click.option("--priority", type=PRIORITY)
@click.option("--mine", is_flag=True, help="Only cases assigned to me.")
@click.option("--on-hold/--not-on-hold", default=None, help="Only cases on hold, or only those not on hold.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@sheet_options
@pass_context
def case_list(
    context: Context, /, as_json: bool, mine: bool, on_hold: bool | None, csv_file: Path | None,
    xlsx_file: Path | None, **filters: Any,
) -> None:  # fmt: skip
    """List cases you may see, oldest first contact first.

    --csv and --xlsx write the list for a spreadsheet, with the district, whether each case is on hold
    and its approved grant; 'dfg import cases' reads the same column names.

    \b
    Examples:
      dfg case list --district CAN --stage 3
      dfg case list --mine --priority urgent
      dfg case list --district CAN --xlsx cannock.xlsx
    """
    from dfg.services.case_reading import CaseFilter, list_cases

    if filters["district"]:
        filters["district"] = filters["district"].upper()
    cases = list_cases(
        context.database(), context.actor(), CaseFilter(assigned_to_me=mine, on_hold=on_hold, **filters)
    )
    sheet = [_case_cells(c) for c in cases]
    if write_sheets("Cases", CASE_COLUMNS, sheet, csv_file=csv_file, xlsx_file=xlsx_file):
        return
    if as_json:
        emit_json([c.as_dict() for c in cases])
        return
    rows = [
        [
            c.reference,
            "-" if c.stage is None else c.stage,
            c.state + (" (hold)" if c.on_hold else ""),
            c.priority.replace("_", "-"),
            c.applicant,
            show_date(c.first_contact_date),
            c.assigned_to or "",
        ]
        for c in cases
    ]
    click.echo(
        table(["reference", "stage", "state", "priority", "applicant", "first contact", "assigned"], rows)
    )
    click.echo(f"{len(cases)} case(s)", err=True)


#: A case's columns in a spreadsheet ('dfg import cases' reads district, priority, applicant, first contact).
CASE_COLUMNS = ("reference", "district", "stage", "state", "on hold", "priority", "applicant", "first contact",
                "assigned to", "approved grant")  # fmt: skip


def _case_cells(case: CaseSummary) -> list[Cell]:
    from dfg.presentation import Money

    grant = None if case.approved_grant_pence is None else Money(case.approved_grant_pence)
    return [case.reference, case.district, case.stage, case.state, case.on_hold, case.priority, case.applicant,
            case.first_contact_date, case.assigned_to, grant]  # fmt: skip


def _trigger_input(
    reason: str | None, code: str | None, on: str | None, review_date: str | None, reply_by: str | None = None
) -> TriggerInput:
    from dfg.workflow.guards import TriggerInput

    return TriggerInput(
        reason=reason,
        code=code,
        on=optional_date(on, "--date"),
        review_date=optional_date(review_date, "--review-date"),
        reply_by=optional_date(reply_by, "--reply-by"),
    )


@case.command("advance")
@click.argument("reference")
@click.argument("trigger")
@click.option("--reason", help="Why (required by some triggers; always recorded).")
@click.option("--code", help="A reason code (required by cancel, refuse, hold, reopen, ...).")
@click.option("--date", "on", help="The date the step happened, if not today: 2026-03-31 or 31/03/2026 (not in "
              "the future, not before the case's last recorded step).")  # fmt: skip
@click.option("--review-date", help="When to review a hold (2026-03-31 or 31/03/2026).")
@click.option("--reply-by", help="When the applicant should answer a request for information by.")
@json_option
@pass_context
def case_advance(
    context: Context,
    reference: str,
    trigger: str,
    reason: str | None,
    code: str | None,
    on: str | None,
    review_date: str | None,
    reply_by: str | None,
    as_json: bool,
) -> None:
    """Fire a workflow TRIGGER on a case. 'dfg case actions REF' lists the triggers you may fire.

    \b
    Examples:
      dfg case advance CAN-2026-0001 accept_referral
      dfg case advance CAN-2026-0001 validate_application --date 2026-04-02
      dfg case advance CAN-2026-0001 request_information --reason "Landlord's consent form" \\
          --reply-by 2026-12-14
      dfg case advance CAN-2026-0001 cancel --code no_response --reason "Three letters unanswered"
    """
    from dfg.services.cases import advance

    given = _trigger_input(reason, code, on, review_date, reply_by)
    report_step(advance(context.database(), context.actor(), reference, trigger, given), as_json)


@case.command("hold")
@click.argument("reference")
@click.option("--code", required=True, help="Why: hospital, applicant_request, awaiting_information, ...")
@click.option("--reason", required=True, help="The reason in words.")
@click.option("--review-date", required=True, help="When to look at the case again.")
@json_option
@pass_context
def case_hold(
    context: Context, reference: str, code: str, reason: str, review_date: str, as_json: bool
) -> None:
    """Put a case on hold: service clocks pause, statutory clocks do not, the stage is kept."""
    from dfg.services.cases import advance

    given = _trigger_input(reason, code, None, review_date)
    report_step(advance(context.database(), context.actor(), reference, "hold", given), as_json)


@case.command("resume")
@click.argument("reference")
@click.option("--reason", help="A note for the audit trail.")
@json_option
@pass_context
def case_resume(context: Context, reference: str, reason: str | None, as_json: bool) -> None:
    """Take a case off hold."""
    from dfg.services.cases import advance
    from dfg.workflow.guards import TriggerInput

    given = TriggerInput(reason=reason)
    report_step(advance(context.database(), context.actor(), reference, "resume", given), as_json)


@case.command("assign")
@click.argument("reference")
@click.argument("username")
@pass_context
def case_assign(context: Context, reference: str, username: str) -> None:
    """Put a case on an officer's list ('dfg case list --mine')."""
    from dfg.services.case_opening import assign

    assign(context.database(), context.actor(), reference, username)
    click.echo(f"assigned to {username}", err=True)


@case.command("actions")
@click.argument("reference")
@json_option
@pass_context
def case_actions(context: Context, reference: str, as_json: bool) -> None:
    """What you may do next on a case and, for everything you may not, why not."""
    from dfg.services.cases import available_actions

    actions = available_actions(context.database(), context.actor(), reference)
    if as_json:
        emit_json([a.as_dict() for a in actions])
        return
    for action in actions:
        mark = "yes" if action.allowed else "no "
        needs = f"  needs {' '.join(action.needs)}" if action.needs and action.allowed else ""
        click.echo(f"{mark}  {action.trigger:<28}{action.label}{needs}")
        for reason in action.reasons:
            click.echo(f"       - {reason}")


@case.command("history")
@click.argument("reference")
@json_option
@pass_context
def case_history(context: Context, reference: str, as_json: bool) -> None:
    """The case's audit trail: who did what, when, as which role, and why."""
    from dfg.services.case_history import history

    entries = history(context.database(), context.actor(), reference)
    if as_json:
        emit_json([e.as_dict() for e in entries])
        return
    rows = [
        [
            e.seq,
            f"{e.occurred_at:%Y-%m-%d %H:%M}",
            f"{e.actor} ({e.role})" if e.role else e.actor,
            " ".join(x for x in (e.trigger or e.kind, e.detail) if x),
            f"{e.from_state or ''} -> {e.to_state}" if e.to_state and e.to_state != e.from_state else "",
            " ".join(x for x in (f"[{e.code}]" if e.code else "", e.reason or "") if x),
        ]
        for e in entries
    ]
    click.echo(table(["#", "when (UTC)", "who", "what", "state", "reason"], rows))


@case.command("clocks")
@click.argument("reference")
@json_option
@pass_context
def case_clocks(context: Context, reference: str, as_json: bool) -> None:
    """The case's clocks (statutory, conditions, service targets) and its ledger of holds."""
    from dfg.services.clocks import case_clock_sheet

    sheet = case_clock_sheet(context.database(), context.actor(), reference)
    if as_json:
        emit_json(sheet.as_dict())
    else:
        click.echo(sheet.as_text())


def _add_person_commands() -> None:
    # 'dfg case person add/remove' live in their own module; the group is part of 'dfg case'
    from dfg.cli.case_people import case_person

    case.add_command(case_person)


_add_person_commands()
