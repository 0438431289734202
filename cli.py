"""The ``dfg`` command: a thin face over the library in ``dfg/``.

Each command parses its options, calls one function in ``dfg.services`` (or ``dfg.workflow``), and prints
the result as text or, with ``--json``, as JSON on stdout. Messages go to stderr. Every error of the
engine becomes one line on stderr and its stable exit code (see ``docs/exit-codes.md``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy.exc import OperationalError

from dfg import __version__
from dfg.errors import Conflict, DatabaseProblem, DfgError, InvalidInput
from dfg.rules.dates import parse_date
from dfg.rules.money import format_pounds, parse_pounds
from dfg.store.database import Database, database_url
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput

F = TypeVar("F", bound=Callable[..., Any])


class DfgGroup(click.Group):
    """Turns every error into one line on stderr and a stable exit code; never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except DfgError as error:
            _fail(error.message, error.exit_code)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            _fail(error.format_message() + hint, error.exit_code)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except OperationalError as error:  # the database itself said no: busy, unreachable, read-only
            if "locked" in str(error.orig):
                _fail(
                    "the database is busy (another officer is saving): try again in a moment",
                    Conflict.exit_code,
                )
            _fail(f"database error: {str(error.orig).strip()}", DatabaseProblem.exit_code)
        except Exception as error:  # a bug: one line, and the traceback only when asked for
            if os.environ.get("DFG_DEBUG"):
                raise
            _fail(f"unexpected error ({type(error).__name__}: {error}); set DFG_DEBUG=1 to see where", 70)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"dfg: {message}", err=True)
    sys.exit(code)


class Context:
    """What every command shares: the database and the acting user, both opened only when asked for."""

    def __init__(self, db: str | None, username: str | None) -> None:
        self.db_option = db
        self.username = username
        self._database: Database | None = None

    def database(self, *, check: bool = True) -> Database:
        if self._database is None:
            self._database = Database.open(self.db_option, check=check)
            click.get_current_context().call_on_close(self._database.dispose)
        return self._database

    def actor(self) -> Actor:
        from dfg.services.users import resolve_actor

        return resolve_actor(self.database(), self.username)


pass_context = click.make_pass_decorator(Context)


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of text.")(
        function
    )


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain aligned columns: reads in a terminal and pastes into an email."""
    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells)
    return "\n".join(lines)


def optional_date(text: str | None, field: str) -> date | None:
    return None if text is None else parse_date(text, field=field)


def show_date(value: date | None) -> str:
    return "" if value is None else f"{value:%d/%m/%Y}"


# ---------------------------------------------------------------------------------------------- root


@click.group(cls=DfgGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    envvar="DFG_DB",
    metavar="PATH|URL",
    help="The database: a SQLite file (default ./dfg.sqlite) or a URL such as "
    "postgresql+psycopg://user@host/dfg. Environment: DFG_DB.",
)
@click.option(
    "--as", "as_user", envvar="DFG_USER", metavar="USER", help="Act as this user. Environment: DFG_USER."
)
@click.version_option(__version__, prog_name="dfg")
@click.pass_context
def main(ctx: click.Context, db: str | None, as_user: str | None) -> None:
    """Disabled Facilities Grant case workflow.

    Move adaptation cases from referral through OT assessment, test of resources, approval, works,
    completion and payment, with every step checked against the workflow and recorded in an
    audit trail.

    \b
    Start here:
      dfg demo                          a demonstration database with cases in every stage
      dfg db upgrade                    create or upgrade the database
      dfg --as jsmith case list         the cases you can see (or set DFG_USER=jsmith)
      dfg case actions CAN-2026-0001    what you may do next on a case, and why not
    """
    ctx.obj = Context(db, as_user)


# ---------------------------------------------------------------------------------------------- db


@main.group()
def db() -> None:
    """Create, upgrade and inspect the database."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Create the database, or bring its schema up to date (safe to run again).

    \b
    Example:
      dfg --db /srv/dfg/dfg.sqlite db upgrade
    """
    from dfg.store.migrate import upgrade

    before, after = upgrade(context.database(check=False))
    if before == after:
        click.echo(f"already up to date (schema {after})", err=True)
    else:
        click.echo(f"schema {before or 'none'} -> {after}", err=True)


@db.command("status")
@json_option
@pass_context
def db_status(context: Context, as_json: bool) -> None:
    """Say which database is in use and whether its schema is current."""
    from dfg.store.database import SCHEMA_HEAD

    url = database_url(context.db_option)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise DatabaseProblem(
            f"no database at {url.removeprefix('sqlite:///')}: run 'dfg db upgrade' to create it"
        )
    database = context.database(check=False)
    revision = database.schema_revision()
    status = {"database": database.display_name, "schema": revision, "expected": SCHEMA_HEAD}
    if as_json:
        emit_json(status)
    else:
        state = "up to date" if revision == SCHEMA_HEAD else "needs 'dfg db upgrade'"
        click.echo(f"{database.display_name}: schema {revision or 'none'} ({state})")


# ---------------------------------------------------------------------------------------------- districts


@main.group()
def district() -> None:
    """The district councils (housing authorities) whose cases this database holds."""


@district.command("add")
@click.argument("code")
@click.argument("name")
@pass_context
def district_add(context: Context, code: str, name: str) -> None:
    """Add a district (administrators only).

    \b
    Example:
      dfg --as admin district add CAN "Cannock Chase"
    """
    from dfg.services.users import add_district

    view = add_district(context.database(), context.actor(), code, name)
    click.echo(f"added district {view.code} ({view.name})", err=True)


@district.command("list")
@json_option
@pass_context
def district_list(context: Context, as_json: bool) -> None:
    """List the districts."""
    from dfg.services.users import list_districts

    districts = list_districts(context.database())
    if as_json:
        emit_json([d.as_dict() for d in districts])
    else:
        click.echo(table(["code", "name"], [[d.code, d.name] for d in districts]))


# ---------------------------------------------------------------------------------------------- users


@main.group()
def user() -> None:
    """People who use the system, their roles and their districts."""


@user.command("add")
@click.argument("username")
@click.option(
    "--name", "full_name", required=True, help="Full name, as shown on letters and the audit trail."
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="grant_officer, ot, technical_officer, approver, manager or admin (repeat for several).",
)
@click.option("--district", help="Limit the user to one district (code); default: every district.")
@click.option("--limit", "limit", help="An approver's delegated limit in pounds, e.g. 30000.")
@pass_context
def user_add(
    context: Context,
    username: str,
    full_name: str,
    roles: tuple[str, ...],
    district: str | None,
    limit: str | None,
) -> None:
    """Add a user (administrators only; the first user of a new database must be an admin).

    \b
    Examples:
      dfg user add admin --name "System administrator" --role admin
      dfg --as admin user add jsmith --name "Jo Smith" --role grant_officer --district CAN
      dfg --as admin user add pkhan --name "Priya Khan" --role approver --limit 15000
    """
    from dfg.services.users import add_user

    view = add_user(
        context.database(),
        context.username,
        username=username,
        full_name=full_name,
        roles=list(roles),
        district=district,
        approval_limit_pence=None if limit is None else parse_pounds(limit, field="--limit"),
    )
    click.echo(f"added user {view.username} ({', '.join(view.roles)})", err=True)


@user.command("list")
@json_option
@pass_context
def user_list(context: Context, as_json: bool) -> None:
    """List users with their roles, districts and delegated limits."""
    from dfg.services.users import list_users

    users = list_users(context.database())
    if as_json:
        emit_json([u.as_dict() for u in users])
    else:
        click.echo(table(["user", "name", "roles", "district", "limit"], [u.as_row() for u in users]))


# ---------------------------------------------------------------------------------------------- cases


@main.group()
def case() -> None:
    """Open, read and advance cases."""


def _split_name(name: str, option: str) -> tuple[str, str]:
    parts = name.split()
    if len(parts) < 2:
        raise InvalidInput(f"{option}: give a first name and a family name, e.g. 'Margaret Holt'")
    return " ".join(parts[:-1]), parts[-1]


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
@click.option("--priority", default="non_urgent", show_default=True, type=click.Choice(["urgent", "non_urgent"]),
              help="Urgent cases need --priority-reason.")  # fmt: skip
@click.option("--priority-reason", help="Why the case is urgent (required for urgent cases).")
@click.option(
    "--source", help="Where the referral came from, e.g. 'county OT', 'self', 'hospital discharge'."
)
@click.option("--first-contact", help="Date of first contact (default: today).")
@click.option("--large-print", is_flag=True, help="The applicant asks for large-print letters.")
@click.option("--postal-address", help="First line of the applicant's own address, if letters should not go to "
              "the home (a landlord's must not); with --postal-town and --postal-postcode.")  # fmt: skip
@click.option("--postal-address2", help="Second line of the applicant's own address.")
@click.option("--postal-town", help="Town of the applicant's own address.")
@click.option("--postal-postcode", help="Postcode of the applicant's own address.")
@pass_context
def case_new(context: Context, /, **options: Any) -> None:
    """Open a case at 'Referral received' and print its reference.

    \b
    Example:
      dfg --as jsmith case new --district CAN --applicant "Margaret Holt" --title Mrs \\
          --dob 1946-05-12 --address "12 Mill Lane" --town Cannock --postcode "WS11 1AA" \\
          --tenure owner --priority urgent --priority-reason "hospital discharge"
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.case_opening import NewCase, NewPerson, open_case

    given, family = _split_name(options["applicant"], "--applicant")
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
            communication_needs="large_print" if options["large_print"] else None,
            postal_address=_postal_address(*postal) if any(postal) else None,
        )
    ]
    if not occupant_is_applicant:
        o_given, o_family = _split_name(options["occupant"], "--occupant")
        people.append(
            NewPerson(
                given_name=o_given,
                family_name=o_family,
                date_of_birth=optional_date(options["occupant_dob"], "--occupant-dob"),
                is_disabled_occupant=True,
                relationship_to_applicant=options["relationship"],
            )
        )
    new = NewCase(
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
    )
    reference = open_case(context.database(), context.actor(), new)
    click.echo(reference)


def _postal_address(address: str | None, address2: str | None, town: str | None, postcode: str | None) -> Any:
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
    from dfg.rules.clock import local_day
    from dfg.services.case_reading import show_case

    view = show_case(context.database(), context.actor(), reference)
    if as_json:
        emit_json(view.as_dict())
        return
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
    if view.on_hold_since:
        lines.append(
            f"ON HOLD since {local_day(view.on_hold_since):%d/%m/%Y}, review by {show_date(view.hold_review_date)}"
        )
    lines.append("People:")
    for person in view.people:
        born = f", born {show_date(person['date_of_birth'])}" if person["date_of_birth"] else ""
        lines.append(f"  {person['name']} ({', '.join(person['roles']).replace('_', ' ')}{born})")
        if person["postal_address"]:
            lines.append(f"    letters to: {', '.join(person['postal_address'])}")
    lines.append("Milestones:")
    for name, value in view.milestones.items():
        if value is not None:
            lines.append(f"  {name.removesuffix('_date').replace('_', ' '):<26}{show_date(value)}")
    if view.approved_grant_pence is not None:
        lines.append(f"Approved grant: {format_pounds(view.approved_grant_pence)}")
    lines.append(f"Workflow {view.workflow_version}, record version {view.version}")
    click.echo("\n".join(lines))


@case.command("list")
@click.option("--state", help="Only cases in this state, e.g. application_valid.")
@click.option("--stage", type=int, help="Only cases in this stage (0-4).")
@click.option("--district", help="Only this district (code).")
@click.option("--priority", type=click.Choice(["urgent", "non_urgent"]))
@click.option("--mine", is_flag=True, help="Only cases assigned to me.")
@click.option("--on-hold/--not-on-hold", default=None, help="Only cases on hold, or only those not on hold.")
@click.option("--limit", default=200, show_default=True)
@json_option
@pass_context
def case_list(context: Context, /, as_json: bool, mine: bool, on_hold: bool | None, **filters: Any) -> None:
    """List cases you may see, oldest first contact first.

    \b
    Examples:
      dfg case list --district CAN --stage 3
      dfg case list --mine --priority urgent
    """
    from dfg.services.case_reading import CaseFilter, list_cases

    if filters["district"]:
        filters["district"] = filters["district"].upper()
    cases = list_cases(
        context.database(), context.actor(), CaseFilter(assigned_to_me=mine, on_hold=on_hold, **filters)
    )
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


def _trigger_input(
    reason: str | None, code: str | None, on: str | None, review_date: str | None, reply_by: str | None = None
) -> TriggerInput:
    return TriggerInput(
        reason=reason,
        code=code,
        on=optional_date(on, "--date"),
        review_date=optional_date(review_date, "--review-date"),
        reply_by=optional_date(reply_by, "--reply-by"),
    )


def _report_advance(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.as_dict())
        return
    moved = (
        f"{result.from_state} -> {result.to_state}"
        if result.from_state != result.to_state
        else result.to_state
    )
    click.echo(f"{result.reference}: {result.trigger} ({moved}) on {show_date(result.effective_date)}")
    if result.letters:
        click.echo(f"letters: {', '.join(result.letters)}", err=True)


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
    _report_advance(advance(context.database(), context.actor(), reference, trigger, given), as_json)


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
    _report_advance(advance(context.database(), context.actor(), reference, "hold", given), as_json)


@case.command("resume")
@click.argument("reference")
@click.option("--reason", help="A note for the audit trail.")
@json_option
@pass_context
def case_resume(context: Context, reference: str, reason: str | None, as_json: bool) -> None:
    """Take a case off hold."""
    from dfg.services.cases import advance

    given = TriggerInput(reason=reason)
    _report_advance(advance(context.database(), context.actor(), reference, "resume", given), as_json)


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


# ---------------------------------------------------------------------------------------------- audit


@main.group()
def audit() -> None:
    """Check the audit trail."""


@audit.command("verify")
@click.argument("reference", required=False)
@json_option
@pass_context
def audit_verify(context: Context, reference: str | None, as_json: bool) -> None:
    """Check every event's hash chain (or one case's): reports edited, deleted, inserted or reordered
    events. Exits 10 if anything is wrong."""
    from dfg.services.audit import verify_audit

    report = verify_audit(context.database(), context.actor(), reference)
    if as_json:
        emit_json(report.as_dict())
    else:
        for problem in report.problems:
            click.echo(str(problem))
        click.echo(
            f"{report.streams} stream(s), {report.events} event(s) checked: {report.verdict}", err=True
        )
    report.raise_if_broken()


# ---------------------------------------------------------------------------------------------- workflow


@main.group()
def workflow() -> None:
    """The workflow definition: check it and draw it."""


@workflow.command("lint")
@click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Lint this file."
)
def workflow_lint(path: Path | None) -> None:
    """Check workflow definitions: unknown states, guards, roles, clocks, reason codes and letters;
    unreachable states; open states with no way out; and the reminder policy's clocks and letters.
    Exits 11 if there are problems."""
    from dfg.errors import ConfigurationError
    from dfg.workflow.definition import all_definitions, load_definition
    from dfg.workflow.lint import lint

    definitions = [load_definition(path)] if path else list(all_definitions().values())
    failed = 0
    for definition in definitions:
        problems = lint(definition)
        for problem in problems:
            click.echo(f"{definition.path.name}: {problem}")
        failed += len(problems)
        click.echo(f"{definition.key}: {len(problems) or 'no'} problem(s)", err=True)
    if path is None:  # the reminder policy names clocks and letters of the shipped workflow
        from dfg.workflow.lint import reminder_problems

        problems = reminder_problems()
        for problem in problems:
            click.echo(f"reminders: {problem}")
        failed += len(problems)
        click.echo(f"reminders: {len(problems) or 'no'} problem(s)", err=True)
    if failed:
        raise ConfigurationError(f"{failed} problem(s) in the workflow definition")


@workflow.command("diagram")
@click.option("--case", "reference", help="Highlight this case's path and current state.")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file (default: stdout)."
)
@pass_context
def workflow_diagram(context: Context, reference: str | None, output: Path | None) -> None:
    """Draw the workflow as a Mermaid state diagram (paste it into any Markdown that renders Mermaid).

    \b
    Examples:
      dfg workflow diagram --output docs/workflow.md
      dfg workflow diagram --case CAN-2026-0001
    """
    from dfg.workflow.definition import current_definition
    from dfg.workflow.diagram import mermaid

    if reference:
        from dfg.services.case_history import case_path

        definition, path, state = case_path(context.database(), context.actor(), reference)
        text = mermaid(definition, path=path, current=state)
    else:
        text = mermaid(current_definition())
    if output:
        try:
            output.write_text(f"```mermaid\n{text}```\n")
        except OSError as error:
            raise InvalidInput(f"cannot write {output}: {error.strerror}") from None
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


# ---------------------------------------------------------------------------------------------- assessment


@main.group()
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
@click.option(
    "--priority", type=click.Choice(["urgent", "non_urgent"]), default="non_urgent", show_default=True
)
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
@json_option
@pass_context
def assess_record(
    context: Context, /, reference: str, path: Path | None, as_json: bool, **fields: Any
) -> None:
    """Record the OT's assessment of a case awaiting assessment (role: OT or trusted assessor).

    Works that are necessary and appropriate move the case to the test of resources; otherwise the case
    is closed as not eligible with the reasons.

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
        }  # fmt: skip
    result = record_assessment(context.database(), context.actor(), reference, parse_assessment(data))
    _report_advance(result, as_json)


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
    _report_advance(book_appointment(context.database(), context.actor(), reference, booking), as_json)


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
    with click.progressbar(length=len(rows), label="Recording assessments", file=sys.stderr) as bar:
        report = import_assessments(database, actor, rows, dry_run=dry_run, progress=bar.update)
    for problem in report.problems:
        click.echo(f"dfg: {problem}", err=True)
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


# ---------------------------------------------------------------------------------------------- means test


@main.group("means-test")
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
@click.option("--id", "number", type=int, help="A determination's number (default: the one in force).")
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
@json_option
def means_test_quick(household_file: Path, rates_file: Path | None, on: str | None, as_json: bool) -> None:
    """Work out a contribution without a case, as a public calculator would, and show the workings.

    \b
    Example:
      dfg means-test quick --household household.json
      dfg means-test quick --household household.json --json
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.rules.household import load_household
    from dfg.rules.means_test import assess, determination_to_dict, explain
    from dfg.rules.rates import load_rate_table, rates_for

    day = optional_date(on, "--on") or local_day(utcnow())
    household = load_household(household_file)
    rates = load_rate_table(rates_file) if rates_file else rates_for(day)
    determination = assess(household, rates, on=day)
    if as_json:
        emit_json(determination_to_dict(determination))
    else:
        click.echo(explain(determination))


# ---------------------------------------------------------------------------------------------- grant


@main.group()
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
@click.option("--id", "number", type=int, help="A calculation's number (default: the latest).")
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
    _report_advance(
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


# ---------------------------------------------------------------------------------------------- contractors


@main.group()
def contractor() -> None:
    """The contractor register: who may do the works, with their accreditation and status."""


def contractor_options(function: F) -> F:
    """The register's details, shared by 'contractor add' and 'contractor update'."""
    options = [
        click.option("--contact", help="The person to deal with, e.g. 'Jo Smith'."),
        click.option("--address", help="The contractor's address, on one line."),
        click.option("--phone", help="A phone number."),
        click.option("--email", help="An email address."),
        click.option("--accreditation", help="The accreditation held, e.g. TrustMark or a framework's name."),
        click.option(
            "--accreditation-expires", help="When the accreditation expires (2027-03-31 or 31/03/2027)."
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _contractor_lines(view: Any) -> list[str]:
    current = "current" if view.accreditation_current else "not current"
    return [
        f"{view.name} ({view.status}), register number {view.id}",
        f"Contact:        {view.contact_name or '-'}",
        f"Address:        {view.address or '-'}",
        f"Phone:          {view.phone or '-'}",
        f"Email:          {view.email or '-'}",
        f"Accreditation:  {view.accreditation_text} ({current} on {show_date(view.on)})",
    ]


@contractor.command("add")
@click.argument("name")
@contractor_options
@pass_context
def contractor_add(
    context: Context, name: str, contact: str | None, address: str | None, phone: str | None,
    email: str | None, accreditation: str | None, accreditation_expires: str | None,
) -> None:  # fmt: skip
    """Put a contractor on the register, active (role: grant officer or administrator). Names are unique
    whatever their capitals.

    \b
    Example:
      dfg contractor add "Able Lifts Ltd" --contact "Jo Able" --phone "01543 123456" \\
          --accreditation TrustMark --accreditation-expires 2027-03-31
    """
    from dfg.services.contractors import NewContractor, add_contractor

    new = NewContractor(
        name=name, contact_name=contact, address=address, phone=phone, email=email, accreditation=accreditation,
        accreditation_expires=optional_date(accreditation_expires, "--accreditation-expires"),
    )  # fmt: skip
    view = add_contractor(context.database(), context.actor(), new)
    click.echo(f"added contractor {view.name} (accreditation: {view.accreditation_text})", err=True)


@contractor.command("update")
@click.argument("name")
@contractor_options
@click.option("--status", type=click.Choice(["active", "suspended", "removed"]),
              help="Suspend a contractor, remove it from the register, or make it active again.")  # fmt: skip
@click.option("--reason", help="Why (recorded on the audit trail), e.g. for a suspension.")
@pass_context
def contractor_update(
    context: Context, name: str, contact: str | None, address: str | None, phone: str | None,
    email: str | None, accreditation: str | None, accreditation_expires: str | None, status: str | None,
    reason: str | None,
) -> None:  # fmt: skip
    """Change a contractor's details, renew or clear its accreditation, or change its status (role: grant
    officer or administrator). Only the options given change; give "" to clear a detail (clearing the
    accreditation clears its expiry date too).

    \b
    Examples:
      dfg contractor update "Able Lifts Ltd" --accreditation-expires 2028-03-31
      dfg contractor update "Able Lifts Ltd" --status suspended --reason "complaint under investigation"
    """
    from dfg.services.contractors import update_contractor

    view = update_contractor(
        context.database(), context.actor(), name, contact_name=contact, address=address, phone=phone,
        email=email, accreditation=accreditation,
        accreditation_expires=optional_date(accreditation_expires, "--accreditation-expires"), status=status,
        reason=reason,
    )  # fmt: skip
    click.echo(
        f"updated contractor {view.name} ({view.status}; accreditation: {view.accreditation_text})", err=True
    )


@contractor.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include contractors removed from the register.")
@click.option("--on", "on", help="Say whether each accreditation is current on this date (default: today).")
@json_option
@pass_context
def contractor_list(context: Context, include_removed: bool, on: str | None, as_json: bool) -> None:
    """List the register by name, with each contractor's status and accreditation.

    \b
    Examples:
      dfg contractor list
      dfg contractor list --all --on 2026-04-01 --json
    """
    from dfg.services.contractors import list_contractors

    found = list_contractors(
        context.database(), context.actor(), include_removed=include_removed, on=optional_date(on, "--on")
    )
    if as_json:
        emit_json([c.as_dict() for c in found])
        return
    rows = [[c.name, c.status, c.accreditation_text, c.contact_name, c.phone] for c in found]
    click.echo(table(["name", "status", "accreditation", "contact", "phone"], rows))
    day = found[0].on if found else None
    click.echo(
        f"{len(found)} contractor(s)" + (f"; accreditations as on {show_date(day)}" if day else ""), err=True
    )


@contractor.command("show")
@click.argument("name")
@click.option("--on", "on", help="Say whether the accreditation is current on this date (default: today).")
@json_option
@pass_context
def contractor_show(context: Context, name: str, on: str | None, as_json: bool) -> None:
    """One contractor's register entry, by name (any capitals) or register number.

    \b
    Example:
      dfg contractor show "able lifts ltd"
    """
    from dfg.services.contractors import find_contractor

    view = find_contractor(context.database(), context.actor(), name, on=optional_date(on, "--on"))
    if as_json:
        emit_json(view.as_dict())
    else:
        click.echo("\n".join(_contractor_lines(view)))


# ---------------------------------------------------------------------------------------------- estimates


@main.group()
def estimate() -> None:
    """Contractors' estimates on a case, the waiver of the two-estimates rule, and the one selected."""


@estimate.command("add")
@click.argument("reference")
@click.option("--contractor", "contractor_name", required=True, help="The contractor, as on the register.")
@click.option("--price", required=True, help="The estimate's price in pounds, e.g. 4500.00.")
@click.option("--received", help="When the estimate was received (default: today).")
@click.option("--contractor-ref", help="The contractor's own reference for the estimate, e.g. Q-2026-17.")
@click.option("--notes", help="Anything to note, e.g. what the price leaves out.")
@json_option
@pass_context
def estimate_add(
    context: Context, reference: str, contractor_name: str, price: str, received: str | None,
    contractor_ref: str | None, notes: str | None, as_json: bool,
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
        contractor_reference=contractor_ref, notes=notes,
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
    from dfg.rules.clock import local_day
    from dfg.services.estimates import case_estimates

    view = case_estimates(context.database(), context.actor(), reference)
    if as_json:
        emit_json(view.as_dict())
        return
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
@click.argument("estimate_id", metavar="ESTIMATE_ID", type=int)
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


# ---------------------------------------------------------------------------------------------- works


@main.group()
def works() -> None:
    """The works: variations, extensions of the completion period, completion checks.

    Ordering, starting and finishing the works are workflow steps: 'dfg case advance REF order_works',
    'start_on_site', 'complete_works', then 'certify' once the completion checks have passed.
    """


@works.command("vary")
@click.argument("reference")
@click.option("--change", required=True, help="What changes in the works.")
@click.option(
    "--price", required=True, help="The change in the price in pounds: 850.00, or -120.00 for a saving."
)
@click.option("--second-approver", help="Above your delegated limit: the approver who countersigns.")
@click.option("--date", "on", help="The date of the decision (default: today).")
@json_option
@pass_context
def works_vary(
    context: Context, reference: str, change: str, price: str, second_approver: str | None, on: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Approve a priced variation before the work is done (role: approver): a new approval version,
    the grant calculated again, the budget adjusted, a re-approval letter and a variation order.

    \b
    Example:
      dfg works vary CAN-2026-0001 --change "Extra grab rails by the WC" --price 240.00
    """
    from dfg.services.approval import vary_works

    _report_advance(
        vary_works(
            context.database(), context.actor(), reference, change=change,
            price_change_pence=parse_pounds(price, field="--price", allow_negative=True),
            second_approver=second_approver, on=optional_date(on, "--date"),
        ),
        as_json,
    )  # fmt: skip


@works.command("extend")
@click.argument("reference")
@click.option("--months", type=click.IntRange(1, 24), help="Extend by this many whole months.")
@click.option("--to", "to_date", help="Or: the new completion date.")
@click.option("--reason", required=True, help="Why the works need longer.")
@pass_context
def works_extend(
    context: Context, reference: str, months: int | None, to_date: str | None, reason: str
) -> None:
    """Extend the 12-month completion period, with the reason (role: grant or technical officer).

    \b
    Example:
      dfg works extend CAN-2026-0001 --months 3 --reason "Planning consent delayed"
    """
    from dfg.services.works import extend_completion

    recorded = extend_completion(
        context.database(), context.actor(), reference, reason=reason, months=months,
        new_date=optional_date(to_date, "--to"),
    )  # fmt: skip
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.clocks import case_clocks_for

    due = next(c.due for c in case_clocks_for(context.database(), context.actor(), reference, local_day(utcnow()))
               if c.name == "completion_due")  # fmt: skip
    click.echo(f"{recorded.reference}: completion period extended; the works are now due by {show_date(due)}")


@works.command("check")
@click.argument("reference")
@click.argument("check", type=click.Choice(["inspection", "ot_sign_off", "applicant_satisfaction"]))
@click.option("--passed/--failed", required=True, help="Whether the check passed.")
@click.option("--notes", help="What was found (required when it failed).")
@click.option("--date", "on", help="When the check was made (default: today).")
@pass_context
def works_check(
    context: Context, reference: str, check: str, passed: bool, notes: str | None, on: str | None
) -> None:
    """Record a completion check: the inspection (technical officer), the OT's sign-off (OT), the
    applicant's satisfaction (grant officer). 'certify' needs each to have passed.

    \b
    Example:
      dfg works check CAN-2026-0001 inspection --passed
      dfg works check CAN-2026-0001 inspection --failed --notes "Shower tray leaks"
    """
    from dfg.services.works import record_completion_check

    recorded = record_completion_check(
        context.database(), context.actor(), reference, check, passed=passed, notes=notes,
        on=optional_date(on, "--date"),
    )  # fmt: skip
    click.echo(f"{recorded.reference}: {check.replace('_', ' ')} {'passed' if passed else 'failed'}")


# ---------------------------------------------------------------------------------------------- pay


@main.group()
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

    _report_advance(
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

    _report_advance(
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
            [show_date(date.fromisoformat(p["paid_on"])), p["kind"], format_pounds(p["amount_pence"]),
             format_pounds(p["work_done_pence"]) if p["work_done_pence"] is not None else "", p["payee"]]
            for p in view.payments]))  # fmt: skip
    if view.invoices:
        click.echo("")
        click.echo(table(["Received", "Supplier", "Invoice", "Amount"], [
            [show_date(date.fromisoformat(i["received_on"])), i["supplier"], i["invoice_reference"],
             format_pounds(i["amount_pence"])]
            for i in view.invoices]))  # fmt: skip


# ---------------------------------------------------------------------------------------------- land charge


@main.group("land-charge")
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


def _shown(iso: str) -> str:
    """A date from a view's JSON (2026-07-24) as an officer reads it (24/07/2026)."""
    return show_date(date.fromisoformat(iso))


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
    from dfg.rules.rates import REPAYMENT_FACTORS as FACTORS
    from dfg.services.land_charge import land_charge_view

    view = land_charge_view(context.database(), context.actor(), reference)
    if as_json:
        emit_json(view.as_dict())
        return
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
        f"  registered        {_shown(charge['registered_on'])}, register reference {charge['registry_reference']}"
    )
    click.echo(f"  condition period  ends {_shown(charge['condition_end'])}")
    click.echo(f"  charge period     ends {_shown(charge['expires_on'])}")
    if not view.decisions:
        return
    click.echo("")
    click.echo(table(["Decided", "Disposal", "Decision", "Demanded", "Factors weighed", "By"], [
        [_shown(d["decided_on"]), _shown(d["disposal_on"]), d["decision"], format_pounds(d["demanded_pence"]),
         ", ".join(d["factors"]), d["recorded_by"]]
        for d in view.decisions]))  # fmt: skip
    for d in view.decisions:
        click.echo(f"\n{_shown(d['decided_on'])}: {d['reason']}")
        for code in d["factors"]:
            click.echo(f"- {FACTORS[code]}")


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

    _report_advance(
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

    _report_advance(
        record_repayment_decision(
            context.database(), context.actor(), reference,
            disposal_on=parse_date(disposal_date, field="--disposal-date"), decision=decision,
            amount_pence=None if amount is None else parse_pounds(amount, field="--amount"), factors=factors,
            reason=reason, on=optional_date(on, "--date"),
        ),
        as_json,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- budget


@main.group()
def budget() -> None:
    """Each district's budget per financial year and funding line: the allocation, what approvals have
    committed, what payments have spent, and the forecast.

    Approving a grant commits its assistance to the budget of the year of the approval; a variation
    adjusts it; payments move it from committed to spent; cancelling, withdrawing or closing with money
    unpaid releases the rest. An approval the budget cannot cover is refused unless a manager records
    an override ('dfg budget override').
    """


def _year_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--year",
        required=required,
        help="The financial year: 2026/27, 2026-27 or 2026 (April 2026 to March 2027)"
        + ("." if required else "; default: this one."),
    )


@budget.command("allocate")
@click.argument("district")
@_year_option(required=True)
@click.option("--line", "funding_line", required=True,
              help="The funding line: mandatory, or a discretionary line of the district's policy, e.g. top_up.")  # fmt: skip
@click.option(
    "--amount", required=True, help="The allocation in pounds, e.g. 850000.00: it replaces the one before."
)
@click.option("--reason", help="Why, for the audit trail, e.g. 'Better Care Fund grant letter'.")
@json_option
@pass_context
def budget_allocate(
    context: Context,
    district: str,
    year: str,
    funding_line: str,
    amount: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Set the allocation for a line and year.

    Sets a district's allocation for one funding line and financial year to the amount given (role:
    manager or administrator); the ledger records the change. Setting it lower than is already committed
    and spent is allowed, with a warning.

    \b
    Example:
      dfg --as mjones budget allocate CAN --year 2026/27 --line mandatory --amount 850000.00 \\
          --reason "Better Care Fund grant letter"
    """
    from dfg.rules.budget import financial_year_label, parse_financial_year
    from dfg.services.budget import allocate

    result = allocate(
        context.database(), context.actor(), district=district, financial_year=parse_financial_year(year),
        funding_line=funding_line, amount_pence=parse_pounds(amount, field="--amount"), reason=reason,
    )  # fmt: skip
    if as_json:
        emit_json(result.as_dict())
    else:
        position = result.position
        was = f"was {format_pounds(result.previous_pence)}" if result.changed else "unchanged"
        click.echo(f"{result.district} {financial_year_label(result.financial_year)} {result.funding_line}: "
                   f"allocation {format_pounds(position.allocation_pence)} ({was}); "
                   f"{format_pounds(position.remaining_pence)} remaining")  # fmt: skip
    if result.warning:
        click.echo(f"warning: {result.warning}", err=True)


@budget.command("override")
@click.argument("reference")
@click.option(
    "--reason", required=True, help="Why the case may be approved although the budget cannot cover it."
)
@pass_context
def budget_override(context: Context, reference: str, reason: str) -> None:
    """Let a case be approved, or its next variation approved, over its budget.

    A manager's decision, recorded with the reason in the case's audit trail and, when the approval
    commits the money, on the budget's ledger (role: manager). Before approval it covers the case's
    latest grant calculation: if the grant is calculated again, the override is needed again. After
    approval it covers the next variation of the approval in force.

    \b
    Example:
      dfg --as mjones budget override CAN-2026-0001 --reason "Hospital discharge: funded from reserves"
    """
    from dfg.services.approval import override

    recorded = override(context.database(), context.actor(), reference, reason=reason)
    if "variation_of" in recorded.payload:
        click.echo(f"{recorded.reference}: budget override recorded for the next variation of approval version "
                   f"{recorded.payload['variation_of']}")  # fmt: skip
    else:
        click.echo(f"{recorded.reference}: budget override recorded for grant calculation "
                   f"{recorded.payload['grant_calculation']}; it may now be approved over the budget")  # fmt: skip


@budget.command("show")
@click.option("--district", help="Only this district (a district's user sees only their own).")
@_year_option(required=False)
@json_option
@pass_context
def budget_show_command(context: Context, district: str | None, year: str | None, as_json: bool) -> None:
    """Budgets, spending and the forecast.

    Each district's budget lines for a financial year: allocation, committed, spent and remaining; and,
    for this year, the pipeline (assistance calculated on valid applications awaiting a decision), the
    forecast outturn (spent + committed + pipeline) and what the forecast leaves ("forecast left").

    \b
    Example:
      dfg budget show --district CAN --year 2026/27
    """
    from dfg.reports.budget_lines import budget_show, budget_totals
    from dfg.rules.budget import BudgetPosition, financial_year_label, financial_year_of, parse_financial_year
    from dfg.rules.clock import local_day, utcnow

    today = local_day(utcnow())
    chosen = parse_financial_year(year) if year else financial_year_of(today)
    lines = budget_show(
        context.database(), context.actor(), district=district, financial_year=chosen, today=today
    )
    total = budget_totals(lines)
    if as_json:
        emit_json({"financial_year": chosen, "financial_year_label": financial_year_label(chosen),
                   "lines": [line.as_dict() for line in lines], "total": total.as_dict()})  # fmt: skip
        return
    if not lines:
        click.echo(f"no budgets for {financial_year_label(chosen)}: 'dfg budget allocate' sets one", err=True)
        return

    def money(position: BudgetPosition) -> list[str]:
        return [format_pounds(pence) for pence in (
            position.allocation_pence, position.committed_pence, position.spent_pence, position.remaining_pence,
            position.pipeline_pence, position.forecast_outturn_pence, position.forecast_remaining_pence,
        )]  # fmt: skip

    rows = [[line.district, line.funding_line, *money(line.position)] for line in lines]
    rows.append(["total", "", *money(total)])
    headers = ["district", "line", "allocation", "committed", "spent", "remaining", "pipeline", "forecast",
               "forecast left"]  # fmt: skip
    click.echo(table(headers, rows))
    click.echo(f"financial year {financial_year_label(chosen)}", err=True)


@budget.command("entries")
@click.argument("district")
@_year_option(required=True)
@click.option("--line", "funding_line", help="Only this funding line, e.g. mandatory.")
@json_option
@pass_context
def budget_entries_command(
    context: Context, district: str, year: str, funding_line: str | None, as_json: bool
) -> None:
    """The ledger of a district's budgets.

    Every allocation, commitment, adjustment, payment and release of a district's budgets for a
    financial year, oldest first, with its case and any override reason.

    \b
    Example:
      dfg budget entries CAN --year 2026/27 --line mandatory
    """
    from dfg.reports.budget_lines import budget_entries
    from dfg.rules.budget import parse_financial_year

    found = budget_entries(context.database(), context.actor(), district=district,
                           financial_year=parse_financial_year(year), funding_line=funding_line)  # fmt: skip
    if as_json:
        emit_json([entry.as_dict() for entry in found])
        return
    rows = [
        [e.id, f"{e.recorded_at:%Y-%m-%d %H:%M}", e.funding_line, e.kind, format_pounds(e.amount_pence),
         e.reference or "", e.recorded_by, e.override_reason or ""]
        for e in found
    ]  # fmt: skip
    click.echo(table(["#", "when (UTC)", "line", "kind", "amount", "case", "by", "override reason"], rows))
    click.echo(f"{len(found)} entr{'y' if len(found) == 1 else 'ies'}", err=True)


# ---------------------------------------------------------------------------------------------- entitlement


@main.group()
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


# ---------------------------------------------------------------------------------------------- letters


@main.group()
def letters() -> None:
    """Letters the workflow produces: render the queue, read the register, reprint, print for the post."""


@letters.command("list")
@click.argument("reference")
@json_option
@pass_context
def letters_list(context: Context, reference: str, as_json: bool) -> None:
    """The letters of a case: those produced (the register) and those still pending, with why.

    \b
    Example:
      dfg letters list CAN-2026-0001
    """
    from dfg.services.letter_batch import pending_letters
    from dfg.services.letter_register import list_letters

    database, actor = context.database(), context.actor()
    produced = list_letters(database, actor, reference)
    pending = pending_letters(database, actor, reference)
    if as_json:
        emit_json({"letters": [x.as_dict() for x in produced], "pending": [p.as_dict() for p in pending]})
        return
    rows = [
        [x.id, x.kind, x.recipient_name, f"{x.created_at:%Y-%m-%d %H:%M}", x.created_by,
         x.copy_of or "", x.sha256[:12]]
        for x in produced
    ]  # fmt: skip
    click.echo(table(["id", "kind", "recipient", "created (UTC)", "by", "copy of", "sha256"], rows))
    for p in pending:
        click.echo(
            f"pending: {p.kind} ({p.trigger} on {show_date(p.step_date)}): {p.reason or 'ready to render'}"
        )


@letters.command("show")
@click.argument("letter_id", metavar="ID", type=int)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF (default: <reference>-<id>-<kind>.pdf here).")  # fmt: skip
@json_option
@pass_context
def letters_show(context: Context, letter_id: int, output: Path | None, as_json: bool) -> None:
    """Write a letter's PDF, exactly as it was produced, to a file.

    \b
    Example:
      dfg letters show 17 --output holt-approval.pdf
    """
    from dfg.services.letter_register import letter_pdf, letter_record

    database, actor = context.database(), context.actor()
    record = letter_record(database, actor, letter_id)
    path = output or Path(record.file_name)
    path.write_bytes(letter_pdf(database, actor, letter_id))
    if as_json:
        emit_json({**record.as_dict(), "output": os.fspath(path)})
    else:
        click.echo(f"wrote {path}: {record.title}, to {record.recipient_name}", err=True)


@letters.command("reprint")
@click.argument("letter_id", metavar="ID", type=int)
@json_option
@pass_context
def letters_reprint(context: Context, letter_id: int, as_json: bool) -> None:
    """Reprint a letter: a copy marked COPY on every page, recorded in the register as a new letter."""
    from dfg.services.letter_register import reprint

    record = reprint(context.database(), context.actor(), letter_id)
    if as_json:
        emit_json(record.as_dict())
    else:
        click.echo(
            f"{record.reference}: letter {record.id} is a copy of letter {record.copy_of} ({record.kind})"
        )


@letters.command("render")
@click.option(
    "--pending", is_flag=True, help="Render every letter the workflow asked for and not yet produced."
)
@json_option
@pass_context
def letters_render(context: Context, pending: bool, as_json: bool) -> None:
    """Produce the pending letters, on every core, and record each in the register and the audit trail.

    A letter the case lacks data for (a contractor with no address on the register) stays pending and
    is listed; the others are produced. If any letter fails to render, it stays pending too, and the command exits 11.

    \b
    Example:
      dfg --as can.officer letters render --pending
    """
    from contextlib import ExitStack

    from dfg.services.letter_batch import render_pending

    if not pending:
        raise click.UsageError("say --pending: it renders every letter the workflow has asked for")
    with ExitStack() as stack:
        bars: list[Any] = []

        def show(done: int, total: int) -> None:
            if not bars:  # the bar's length is known once the queue is read
                bar = click.progressbar(length=total, label="Rendering letters", file=sys.stderr)
                bars.append(stack.enter_context(bar))
            bars[0].update(done)

        report = render_pending(context.database(), context.actor(), progress=show)
    if as_json:
        emit_json(report.as_dict())
    else:
        if report.produced:
            rows = [[x.id, x.reference, x.kind, x.recipient_name] for x in report.produced]
            click.echo(table(["id", "reference", "kind", "recipient"], rows))
        for p in (*report.waiting, *report.failed):
            click.echo(f"pending: {p.reference} {p.kind}: {p.reason}", err=True)
        click.echo(f"{len(report.produced)} letter(s) produced, {len(report.waiting)} waiting for case data, "
                   f"{len(report.failed)} failed", err=True)  # fmt: skip
    report.raise_if_failed()


@letters.command("print")
@click.option("--batch", is_flag=True, help="Every letter produced since --since, in one PDF.")
@click.option(
    "--since", required=True, help="The first day whose letters to include (2026-06-01 or 01/06/2026)."
)
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write."
)
@pass_context
def letters_print(context: Context, batch: bool, since: str, output: Path) -> None:
    """Merge the letters produced since a day into one PDF for the post room, oldest first.

    \b
    Example:
      dfg letters print --batch --since 2026-06-01 --output post-2026-06-01.pdf
    """
    from dfg.services.post_room import print_batch

    if not batch:
        raise click.UsageError("say --batch: it prints every letter produced since --since in one PDF")
    day = parse_date(since, field="--since")
    output.write_bytes(print_batch(context.database(), context.actor(), day))
    click.echo(f"wrote {output}: the letters produced since {show_date(day)}", err=True)


# ---------------------------------------------------------------------------------------------- clocks


@main.command("due")
@click.option("--mine", is_flag=True, help="Only cases assigned to me.")
@click.option("--role", help="Only cases whose state is owned by this role, e.g. ot or approver.")
@click.option("--district", help="Only this district.")
@click.option("--within", "within_days", type=int, help="Look this many days ahead (default 14).")
@json_option
@pass_context
def due(context: Context, mine: bool, role: str | None, district: str | None, within_days: int | None,
        as_json: bool) -> None:  # fmt: skip
    """What is overdue or coming due, most urgent first, with the action that clears it.

    \b
    Examples:
      dfg due --mine
      dfg due --role approver --within 30
    """
    from dfg.rules.clock import local_day, utcnow
    from dfg.services.worklist import due as due_items
    from dfg.services.worklist import due_as_text

    items = due_items(context.database(), context.actor(), mine=mine, role=role,
                      district=district.upper() if district else None, within_days=within_days)  # fmt: skip
    if as_json:
        emit_json([item.as_dict() for item in items])
    else:
        click.echo(due_as_text(items, local_day(utcnow())))


@main.command("tick")
@json_option
@pass_context
def tick(context: Context, as_json: bool) -> None:
    """Record every statutory or service deadline missed since the last run, once each, and queue the
    reminder letters workflows/policy/reminders.toml calls for (for a daily scheduler; running it twice
    records nothing new). Role: manager or administrator."""
    from dfg.services.worklist import tick as record_breaches

    result = record_breaches(context.database(), context.actor())
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(result.as_text())


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


# ---------------------------------------------------------------------------------------------- reports


@main.group()
def report() -> None:
    """Reports for managers: as text, --csv, --json, or a printable PDF with charts (--pdf FILE)."""


def report_options(function: F, *, period: bool = True, priority: bool = True) -> F:
    """The filters and outputs reports share (``period``: the report covers a period, not today;
    ``priority``: it counts cases, so it can keep one priority)."""
    periods = [
        click.option("--year", "financial_year", help="A financial year, e.g. 2026-27 (April to March)."),
        click.option("--from", "start", help="The first day of the period (instead of --year)."),
        click.option("--to", "end", help="The last day of the period."),
    ]
    priorities = [
        click.option("--priority", type=click.Choice(["urgent", "non_urgent"]), help="Only this priority."),
    ]
    options = [
        click.option("--district", help="Only this district."),
        *(priorities if priority else []),
        *(periods if period else []),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV for a spreadsheet."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option(
            "--pdf",
            "pdf",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write a printable PDF with charts to this file.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def emit_report(result: Any, *, as_csv: bool, as_json: bool, pdf: Path | None) -> None:
    if pdf is not None:
        try:
            pdf.write_bytes(result.as_pdf())
        except OSError as error:
            raise InvalidInput(f"cannot write {pdf}: {error.strerror}") from None
        click.echo(f"wrote {pdf}", err=True)
    elif as_csv:
        click.echo(result.as_csv(), nl=False)
    elif as_json:
        emit_json(result.as_dict())
    else:
        click.echo(result.as_text())


def _period(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "district": options["district"].upper() if options["district"] else None,
        "priority": options.get("priority"),
        "financial_year": options.get("financial_year"),
        "start": options.get("start"),
        "end": options.get("end"),
    }


@report.command("pipeline")
@partial(report_options, period=False)
@pass_context
def report_pipeline(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Open cases today by stage, district and priority: values, ageing, statutory breaches, longest open."""
    from dfg.reports.pipeline import pipeline

    period = _period(options)
    result = pipeline(
        context.database(), context.actor(), district=period["district"], priority=period["priority"]
    )
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf)


@report.command("performance")
@report_options
@pass_context
def report_performance(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Time between stage boundaries (mean, median, 90th percentile), urgent and non-urgent, end to end
    against target, and monthly throughput. Default period: this financial year."""
    from dfg.reports.performance import performance

    result = performance(context.database(), context.actor(), **_period(options))
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf)


@report.command("closures")
@report_options
@pass_context
def report_closures(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Cases closed, withdrawn or cancelled in the period, by district, step and reason."""
    from dfg.reports.closures import closures

    result = closures(context.database(), context.actor(), **_period(options))
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf)


@report.command("data-return")
@report_options
@pass_context
def report_data_return(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """The annual government data return for a financial year (default: the last complete one): counts,
    values, tenure, age bands and time to complete. Use --csv for the return itself."""
    from dfg.reports.data_return import data_return

    period = _period(options)
    result = data_return(context.database(), context.actor(), financial_year=period["financial_year"],
                         district=period["district"], priority=period["priority"])  # fmt: skip
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf)


@report.command("budget")
@partial(report_options, period=False, priority=False)
@click.option("--year", "financial_year",
              help="The financial year: 2026/27, 2026-27 or 2026 (April 2026 to March 2027); default: this one.")  # fmt: skip
@click.option("--funding-line", "funding_line", help="Only this funding line, e.g. mandatory or top_up.")
@pass_context
def report_budget(
    context: Context,
    /,
    as_csv: bool,
    as_json: bool,
    pdf: Path | None,
    funding_line: str | None,
    **options: Any,
) -> None:
    """Budget position: allocated, committed, spent, remaining, and the forecast.

    Each district's budget for each funding line in a financial year (default: this one): the
    allocation, what approvals have committed and not yet paid, what has been spent, what remains (the
    three always add up to the allocation), the share of the allocation spent and committed, the
    pipeline (assistance calculated on valid applications awaiting a decision; this year only), the
    forecast outturn (spent + committed + pipeline) and what it leaves. Totals for each line and for all.
    The PDF has a bar per district: spent, committed and pipeline against the allocation.

    \b
    Examples:
      dfg --as mjones report budget
      dfg --as mjones report budget --district CAN --year 2025/26
      dfg --as mjones report budget --funding-line top_up --csv > top-up.csv
      dfg --as mjones report budget --pdf budget-2026-27.pdf
    """
    from dfg.reports.budget import budget_report

    period = _period(options)
    result = budget_report(context.database(), context.actor(), district=period["district"],
                           financial_year=period["financial_year"], funding_line=funding_line)  # fmt: skip
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf)


@report.command("repayments")
@report_options
@pass_context
def report_repayments(
    context: Context, /, as_csv: bool, as_json: bool, pdf: Path | None, **options: Any
) -> None:
    """Land charges registered, and repayments demanded or waived after a disposal.

    For the period (default: this financial year), by district: the land charges registered and what
    they secure; the decisions made on disposals within a charge's period, in full, in part or waived,
    with what was repayable and what was demanded; how often each factor was weighed (hardship, health,
    care, employment, none); and each decision. Charges count by the day they were registered,
    decisions by the day they were made. --csv gives one row per district.

    \b
    Examples:
      dfg --as mjones report repayments
      dfg --as mjones report repayments --year 2025-26 --district LIC
      dfg --as mjones report repayments --from 01/04/2024 --to 31/03/2027 --pdf repayments.pdf
    """
    from dfg.reports.repayments import repayments

    result = repayments(context.database(), context.actor(), **_period(options))
    emit_report(result, as_csv=as_csv, as_json=as_json, pdf=pdf)


# ---------------------------------------------------------------------------------------------- demo


@main.command("demo")
@click.option(
    "--db", "demo_db", default="dfg-demo.sqlite", show_default=True, help="Where to create the demo."
)
@click.option("--cases", "per_district", default=6, show_default=True, help="Cases per district.")
@click.option("--seed", default=2026, show_default=True, help="Random seed: the same seed, the same demo.")
@click.option("--pdf", "pdf", default="dfg-demo-pipeline.pdf", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Where to write the pipeline report as PDF.")  # fmt: skip
def demo(demo_db: str, per_district: int, seed: int, pdf: Path) -> None:
    """Create a demonstration database: the eight Staffordshire districts, a user for each role, and
    cases walked through the workflow by those users; then print the pipeline and write it as PDF.

    The demo file (its own --db, never the main --db or DFG_DB, so a real database is never replaced) is
    replaced if it exists. Afterwards, try for example:

    \b
      export DFG_DB=dfg-demo.sqlite DFG_USER=can.officer
      dfg case list
      dfg case actions CAN-2026-0001
    """
    from dfg.services.demo import run_demo

    path = Path(demo_db)
    if "://" not in demo_db:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    database = Database.open(demo_db, check=False)
    try:
        with click.progressbar(length=per_district * 8, label="Walking demo cases", file=sys.stderr) as bar:
            summary = run_demo(database, per_district=per_district, seed=seed, progress=bar.update)
        click.echo(summary.as_text())
        pdf.write_bytes(summary.pipeline.as_pdf())
        click.echo(f"\nThe pipeline report is in {pdf}.", err=True)
    finally:
        database.dispose()
    shown = demo_db if "://" in demo_db else os.fspath(path)
    click.echo(f"\nThe demo database is {shown}. Try: dfg --db {shown} --as can.officer case list", err=True)


if __name__ == "__main__":
    main(prog_name="dfg")
