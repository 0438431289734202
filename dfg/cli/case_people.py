"""dfg case person: add a person to a case or remove one, with the reason."""

from __future__ import annotations

from typing import Any

import click

from dfg.cli.command import (
    RECORD_ID,
    Context,
    emit_json,
    json_option,
    optional_date,
    pass_context,
    split_person_name,
)

#: The parts a person added plays (dfg.services.household.HOUSEHOLD_ROLES), as the command line says them.
ROLES = ("disabled-occupant", "relevant-person", "household-member")


@click.group("person")
def case_person() -> None:
    """Add a person to a case or remove one (role: grant officer)."""


@case_person.command("add")
@click.argument("reference")
@click.option("--name", required=True, help="Their name, e.g. 'Peter Holt'.")
@click.option("--title", help="Their title, e.g. Mr.")
@click.option("--dob", help="Their date of birth (2026-03-31 or 31/03/2026).")
@click.option(
    "--role", "part", required=True, type=click.Choice(ROLES),
    help="Their part in the case: a disabled occupant, a relevant person (their means are tested) "
    "or another member of the household.",
)  # fmt: skip
@click.option("--relationship", help="Their relationship to the applicant, e.g. husband.")
@click.option("--nhs-number", help="Their NHS number (943 476 5919).")
@click.option("--phone", help="Their phone number.")
@click.option("--email", help="Their e-mail address.")
@click.option("--reason", required=True, help="Why, for the history: e.g. 'left off the referral'.")
@json_option
@pass_context
def person_add(
    context: Context, /, reference: str, name: str, part: str, dob: str | None, reason: str, as_json: bool,
    **details: str | None,
) -> None:  # fmt: skip
    """Add a person to the case, with the reason; they are listed last.

    The case's history records who was added, by whom and why. Adding or removing a relevant person
    changes the household whose means are tested: check whether a new test of resources is needed.

    \b
    Example:
      dfg case person add CAN-2026-0001 --name "Peter Holt" --role relevant-person \\
          --relationship husband --reason "left off the referral"
    """
    from dfg.services.case_opening import NewPerson
    from dfg.services.household import add_person

    given, family = split_person_name(name, "--name")
    person = NewPerson(
        given_name=given,
        family_name=family,
        date_of_birth=optional_date(dob, "--dob"),
        relationship_to_applicant=details["relationship"],
        title=details["title"],
        nhs_number=details["nhs_number"],
        phone=details["phone"],
        email=details["email"],
    )
    recorded = add_person(
        context.database(), context.actor(), reference, person, part.replace("-", "_"), reason
    )
    _report(recorded.reference, "added", recorded.payload, as_json)


@case_person.command("remove")
@click.argument("reference")
@click.argument("number", type=RECORD_ID)
@click.option("--reason", required=True, help="Why, for the history: e.g. 'moved out in March'.")
@json_option
@pass_context
def person_remove(context: Context, /, reference: str, number: int, reason: str, as_json: bool) -> None:
    """Remove person NUMBER (1 = the first listed in 'case show') from the case, with the reason.

    The applicant cannot be removed, nor the case's only disabled occupant. The history keeps who was
    removed, by whom and why.

    \b
    Example:
      dfg case person remove CAN-2026-0001 3 --reason "moved out in March"
    """
    from dfg.services.household import remove_person

    recorded = remove_person(context.database(), context.actor(), reference, number, reason)
    _report(recorded.reference, "removed", recorded.payload, as_json)


def _report(reference: str, done: str, said: Any, as_json: bool) -> None:
    if as_json:
        emit_json({
            "reference": reference, done: said["person"], "name": said["name"], "roles": said["roles"],
            "test_of_resources_may_change": said["test_of_resources_may_change"],
        })  # fmt: skip
        return
    roles = ", ".join(r.replace("_", " ") for r in said["roles"]) or "household member"
    click.echo(f"{reference}: {done} {said['name']} ({roles}) as person {said['person']}")
    if said["test_of_resources_may_change"]:
        click.echo(
            "The household whose means are tested has changed: check whether a new test of resources is needed."
        )
