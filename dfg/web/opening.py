"""Opening a case from a referral: the home, the applicant and the disabled person, the priority."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from dfg.errors import GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.rules.clock import local_day, utcnow
from dfg.services.case_opening import NewCase, NewPerson, open_case, opening_problems
from dfg.services.people import CONTACT_WORDS, LARGE_PRINT
from dfg.services.users import list_districts
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.security import actor, database
from dfg.web.templating import sentence

opening = Blueprint("opening", __name__, url_prefix="/cases")

TENURE_WORDS = (
    ("owner", "Owns the home"),
    ("tenant", "Rents the home (council, housing association or private)"),
    ("occupier", "Lives in a caravan or houseboat (an occupier)"),
    ("landlord", "The landlord, applying for a tenant"),
)
#: Where each of the service's problems is shown (its input's field on the form), and, for a problem
#: whose words name a command-line option or a field's internal name, the words the page uses instead.
_FIELD_IDS = {
    "priority": "priority",
    "priority_reason": "priority_reason",
    "tenure": "tenure",
    "first_contact_date": "first_contact-day",
    "people": "given_name",
    "applicant.date_of_birth": "dob-day",
    "occupant.date_of_birth": "occupant_dob-day",
    "applicant.title": "title",
    "applicant.given_name": "given_name",
    "applicant.family_name": "family_name",
    "applicant.phone": "phone",
    "applicant.email": "email",
    "applicant.preferred_contact": "preferred_contact",
    "applicant.advocate": "advocate",
    "applicant.format_note": "format_note",
    "occupant.given_name": "occupant_given_name",
    "occupant.family_name": "occupant_family_name",
    "occupant.relationship_to_applicant": "relationship",
    "address_line_1": "address_line_1",
    "address_line_2": "address_line_2",
    "referral_source": "referral_source",
    "town": "town",
    "postcode": "postcode",
    "district": "district",
    "allow_duplicate": "duplicate",
}
_PAGE_WORDS = {
    "priority": "Choose the priority",
    "priority_reason": "Say why the case is urgent",
    "tenure": "Choose the applicant's tenure",
    "address_line_1": "Enter the first line of the address",
    "town": "Enter the town",
    "applicant.given_name": "Enter the applicant's first name",
    "applicant.family_name": "Enter the applicant's last name",
    "occupant.given_name": "Enter the disabled person's first name",
    "occupant.family_name": "Enter the disabled person's last name",
    "applicant.email": "Enter an e-mail address in the right form, like name@example.com",
    "applicant.phone": "Enter a phone number, like 01543 462621",
    "applicant.preferred_contact": "Choose how the applicant would like to be contacted",
}


def _page_words(field: str, message: str) -> str:
    """The page's own words for a choice not made, a field left empty or a form not followed; the
    service's for the rest (a name too long says so, not 'Enter the name')."""
    words = _PAGE_WORDS.get(field)
    asked = (
        field in ("priority", "priority_reason", "tenure", "applicant.preferred_contact")
        or "required" in message
        or "is not a" in message
    )
    return words if words and asked else message


def _text(name: str) -> str | None:
    return request.form.get(name, "").strip() or None


@opening.route("/new", methods=["GET", "POST"])
def open_form() -> str | WerkzeugResponse | tuple[str, int]:
    me = actor()
    errors: list[dict[str, str]] = []
    duplicate_of = None
    form = request.form
    if request.method == "POST":
        dates = {}
        for name, label in (("first_contact", "the date of first contact"), ("dob", "the date of birth"),
                            ("occupant_dob", "the disabled person's date of birth")):  # fmt: skip
            try:
                dates[name] = date_from_form(form, name, label, required=False)
            except DateProblem as problem:
                errors.append({"text": str(problem), "href": f"#{name}-day"})
                dates[name] = None
        someone_else = form.get("occupant_is_applicant") == "no"
        people = [
            NewPerson(
                given_name=_text("given_name") or "",
                family_name=_text("family_name") or "",
                title=_text("title"),
                date_of_birth=dates["dob"],
                is_applicant=True,
                is_disabled_occupant=not someone_else,
                phone=_text("phone"),
                email=_text("email"),
                communication_needs=LARGE_PRINT if form.get("large_print") else None,
                preferred_contact=_text("preferred_contact"),
                advocate=_text("advocate"),
                format_note=_text("format_note"),
            )
        ]
        if someone_else:
            people.append(
                NewPerson(
                    given_name=_text("occupant_given_name") or "",
                    family_name=_text("occupant_family_name") or "",
                    date_of_birth=dates["occupant_dob"],
                    is_disabled_occupant=True,
                    relationship_to_applicant=_text("relationship"),
                )
            )
        new = NewCase(
            district=me.district or form.get("district", ""),
            priority=form.get("priority", ""),
            priority_reason=_text("priority_reason"),
            tenure=form.get("tenure", ""),
            first_contact_date=dates["first_contact"] or local_day(utcnow()),
            address_line_1=form.get("address_line_1", ""),
            address_line_2=_text("address_line_2"),
            town=form.get("town", ""),
            postcode=form.get("postcode", ""),
            referral_source=_text("referral_source"),
            people=tuple(people),
            allow_duplicate=form.get("duplicate") == "yes",
        )
        for field, message in opening_problems(database(), me, new):
            if field == "allow_duplicate":
                duplicate_of = message.split(" ", 1)[0]
                message = (
                    f"{duplicate_of} is already open for this applicant or home. Add to that case, or say below "
                    "that this is a separate need"
                )
            if field.endswith("date_of_birth"):
                message = message.split(": ", 1)[-1]  # the person is the field's own
            errors.append(
                {
                    "text": sentence(_page_words(field, message)),
                    "href": f"#{_FIELD_IDS.get(field, 'main-form')}",
                }
            )
        if not errors:
            try:
                reference = open_case(database(), me, new)
            except (InvalidInput, GuardFailed, PermissionDenied, NotFound) as problem:  # someone was quicker
                errors.append({"text": sentence(problem.message), "href": "#main-form"})
            else:
                flash(f"{reference} opened, and on your list.", "done")
                return redirect(url_for("case.show", reference=reference))
    return render_template(
        "opening/new.html",
        title="Open a case",
        tenures=TENURE_WORDS,
        contacts=CONTACT_WORDS,
        districts=list_districts(database()) if me.district is None else [],
        duplicate_of=duplicate_of,
        errors=errors,
        values=form,
    ), 422 if errors else 200
