"""The test of resources on a page: the household built on a form from the case's people, its workings
shown before anything is saved ("Check"), saved through the same service as ``dfg means-test run``
("Save"), and a recorded one with its workings.

The form only gathers what was typed into the household's own shape; the rules judge it, and each
problem they find is put back beside the field it names, in words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from dfg.errors import Conflict, GuardFailed, InvalidInput, PermissionDenied
from dfg.rules.household import (
    BENEFIT_LABELS,
    CHILD_AGES,
    INCOME_LABELS,
    MEANS_TESTED_TENURES,
    PREMIUM_LABELS,
    RELEVANT_PERSON_AGES,
    TENURE_LABELS,
    HouseholdProblems,
)
from dfg.rules.means_test import OUTCOME_WORDS, Determination
from dfg.services.assessment import check_means_test, determinations, run_means_test
from dfg.services.means_test import HouseholdSkeleton, household_skeleton
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import seen_version
from dfg.web.security import actor, database
from dfg.web.templating import pounds, sentence

means_test = Blueprint("means_test", __name__, url_prefix="/cases")

PERSON_ROWS = 2  # the rules know a single person (one relevant person) or a couple (two)
CHILD_ROWS = 6
EARLIER_ROWS = 3
REASON_LONGEST = 2000
# A whole number as typed (ASCII digits); anything else goes to the rules as typed, for them to refuse.
_WHOLE = re.compile(r"[0-9]{1,6}")
_ROW = re.compile(r"^(relevant_persons|children|weekly_income|earlier_contributions)\[(\d+)\](?:\.(\w+))?$")
_ORDINAL = ("first", "second", "third", "fourth", "fifth", "sixth")


@dataclass
class _Entered:
    """What the form says: the household in its JSON shape, and where each part of it was typed."""

    household: dict[str, Any]
    # a household path (``relevant_persons[1].age``) -> the field's id and what it is, in words
    where: dict[str, tuple[str, str]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    on: date | None = None

    def refuse(self, href: str, text: str) -> None:
        if not any(e["href"] == href for e in self.errors):  # one message beside each field
            self.errors.append({"href": href, "text": text})


@means_test.route("/<reference>/means-test", methods=["GET", "POST"])
def form(reference: str) -> str | WerkzeugResponse | tuple[str, int]:
    db, me = database(), actor()
    skeleton = household_skeleton(db, me, reference)  # the grant officer's: anyone else is refused here
    values: MultiDict[str, str] = request.form if request.method == "POST" else _starting_values(skeleton)
    workings: Determination | None = None
    entered = _Entered(household={})
    if request.method == "POST":
        entered = _read(values, skeleton)
        saving = values.get("action") == "save"
        if saving:
            _check_redetermination(values, skeleton, entered)
        # the form's own mistakes are shown with everything the rules find: nothing is saved then
        checking = not saving or bool(entered.errors)
        try:
            if checking:
                found = check_means_test(db, me, skeleton.reference, entered.household, on=entered.on)
                workings = None if entered.errors else found
            else:
                # a reason is asked for only once the grant is approved (the service says so too)
                redone = bool(skeleton.redetermination_codes)
                record = run_means_test(
                    db, me, skeleton.reference, entered.household, on=entered.on,
                    code=values.get("code") if redone else None,
                    reason=(values.get("reason") or "").strip() if redone else None,
                    expected_version=seen_version(values),
                )  # fmt: skip
                flash(
                    f"Test of resources saved: {OUTCOME_WORDS[record.determination.outcome]}, "
                    f"contribution {pounds(record.determination.contribution_pence)}.",
                    "done",
                )
                return redirect(url_for("means_test.show", reference=skeleton.reference))
        except HouseholdProblems as problems:
            for message in problems.problems:
                entered.refuse(*_in_words(message, entered, values))
        except (Conflict, GuardFailed, PermissionDenied, InvalidInput) as refusal:
            entered.refuse(*_in_words(refusal.message, entered, values))
    return render_template(
        "means_test/form.html",
        title=f"Test of resources – {skeleton.reference}",
        case=skeleton,
        values=values,
        errors=entered.errors,
        problems={e["href"].lstrip("#"): e["text"] for e in entered.errors},
        workings=workings,
        rows=_rows(skeleton),
        tenures=TENURE_LABELS,
        benefits=BENEFIT_LABELS,
        premiums=PREMIUM_LABELS,
        incomes=INCOME_LABELS,
        earlier_tenures=MEANS_TESTED_TENURES,
        outcome_words=OUTCOME_WORDS,
    ), 422 if entered.errors else 200


@means_test.route("/<reference>/means-test/result")
def show(reference: str) -> str:
    db, me = database(), actor()
    recorded = determinations(db, me, reference)
    number = request.args.get("number", "")
    shown = next((r for r in recorded if str(r.id) == number), recorded[-1] if recorded else None)
    return render_template(
        "means_test/show.html",
        title=f"Test of resources – {reference.upper()}",
        reference=reference.upper(),
        record=shown,
        recorded=recorded,
        may_run="grant_officer" in me.roles,
        outcome_words=OUTCOME_WORDS,
    )


def _rows(skeleton: HouseholdSkeleton) -> dict[str, int]:
    return {
        "persons": max(PERSON_ROWS, len(skeleton.relevant_persons)),
        "children": max(CHILD_ROWS, len(skeleton.children)),
        "earlier": EARLIER_ROWS,
    }


def _starting_values(skeleton: HouseholdSkeleton) -> MultiDict[str, str]:
    """The form as the case's people start it."""
    values: MultiDict[str, str] = MultiDict(
        {
            "version": str(skeleton.version),
            "tenure": skeleton.tenure,
            "application_for_child": "yes" if skeleton.application_for_child else "no",
            "couple": "couple" if skeleton.couple else "single",
        }
    )
    for i, person in enumerate(skeleton.relevant_persons):
        values[f"person-{i}-age"] = "" if person.age is None else str(person.age)
    for i, child in enumerate(skeleton.children):
        values[f"child-{i}-age"] = "" if child.age is None else str(child.age)
        if child.disabled_occupant:
            values[f"child-{i}-disabled"] = "yes"
    return values


def _read(values: MultiDict[str, str], skeleton: HouseholdSkeleton) -> _Entered:
    """The household as typed: empty rows left out, nothing judged here but the dates' boxes."""
    rows = _rows(skeleton)
    text = {key: (values.get(key) or "").strip() for key in values}
    household: dict[str, Any] = {"tenure": text.get("tenure", "")}
    entered = _Entered(household)
    entered.where["tenure"] = ("tenure", "the kind of application")
    household["application_for_child"] = _yes_no(text.get("application_for_child", "no"))
    entered.where["application_for_child"] = ("application_for_child", "whether it is for a disabled child")
    couple = text.get("couple", "")
    if couple:
        household["couple"] = {"couple": True, "single": False}.get(couple, couple)
    entered.where["couple"] = ("couple", "whether the relevant persons are a couple")

    persons: list[dict[str, Any]] = []
    for i in range(rows["persons"]):
        prefix, path = f"person-{i}", f"relevant_persons[{len(persons)}]"
        benefits, premiums = values.getlist(f"{prefix}-benefits"), values.getlist(f"{prefix}-premiums")
        age, tax_credit = text.get(f"{prefix}-age", ""), text.get(f"{prefix}-tax-credit-income", "")
        pension = text.get(f"{prefix}-pension-age", "")
        if not (age or benefits or premiums or tax_credit or pension):
            continue
        person: dict[str, Any] = {"benefits": benefits, "premiums": premiums}
        if age:
            person["age"] = _whole(age)
        if tax_credit:
            person["tax_credit_annual_income"] = tax_credit
        if pension:
            person["pension_credit_age"] = _yes_no(pension)
        who = f"relevant person {i + 1}"
        entered.where.update(
            {
                path: (f"{prefix}-age", who),
                f"{path}.age": (f"{prefix}-age", f"the age of {who}"),
                f"{path}.benefits": (f"{prefix}-benefits", f"the benefits of {who}"),
                f"{path}.premiums": (f"{prefix}-premiums", f"the premiums of {who}"),
                f"{path}.pension_credit_age": (
                    f"{prefix}-pension-age",
                    f"whether {who} has reached pension age",
                ),
                f"{path}.tax_credit_annual_income": (
                    f"{prefix}-tax-credit-income",
                    f"the annual income {who}'s tax credit award was based on",
                ),
            }
        )
        persons.append(person)
    household["relevant_persons"] = persons

    children: list[dict[str, Any]] = []
    for i in range(rows["children"]):
        prefix, path = f"child-{i}", f"children[{len(children)}]"
        age = text.get(f"{prefix}-age", "")
        disabled, enhanced = bool(text.get(f"{prefix}-disabled")), bool(text.get(f"{prefix}-enhanced"))
        if not (age or disabled or enhanced):
            continue
        child: dict[str, Any] = {"disabled": disabled, "enhanced_disability": enhanced}
        if age:
            child["age"] = _whole(age)
        who = f"child {i + 1}"
        entered.where.update(
            {
                f"{path}.age": (f"{prefix}-age", f"the age of {who}"),
                f"{path}.enhanced_disability": (f"{prefix}-disabled", who),
            }
        )
        children.append(child)
    household["children"] = children

    income: list[dict[str, str]] = []
    for kind, words in INCOME_LABELS.items():
        amount = text.get(f"income-{kind}", "")
        if amount:
            entered.where[f"weekly_income[{len(income)}].amount"] = (f"income-{kind}", f"the weekly {words}")
            income.append({"kind": kind, "amount": amount})
    household["weekly_income"] = income
    if text.get("capital"):
        household["capital"] = text["capital"]
    entered.where["capital"] = ("capital", "the household's capital")

    earlier: list[dict[str, Any]] = []
    for i in range(rows["earlier"]):
        prefix, path = f"earlier-{i}", f"earlier_contributions[{len(earlier)}]"
        amount = text.get(f"{prefix}-amount", "")
        dated = any(text.get(f"{prefix}-approved-{part}") for part in ("day", "month", "year"))
        if not (amount or dated):
            continue
        which = f"the {_ORDINAL[i]} earlier grant" if i < len(_ORDINAL) else f"earlier grant {i + 1}"
        try:
            approved = date_from_form(
                values, f"{prefix}-approved", f"the date {which} was approved", required=True
            )
        except DateProblem as problem:
            entered.refuse(f"#{prefix}-approved-day", str(problem))
            approved = None
        previous: dict[str, Any] = {
            "amount": amount,
            "approved_on": approved.isoformat() if approved else "",
            "same_dwelling": bool(text.get(f"{prefix}-same-dwelling")),
            "same_person": bool(text.get(f"{prefix}-same-person")),
        }
        if not amount:
            del previous["amount"]
        if text.get(f"{prefix}-tenure"):
            previous["tenure"] = text[f"{prefix}-tenure"]
        entered.where.update(
            {
                f"{path}.amount": (f"{prefix}-amount", f"the contribution on {which}"),
                f"{path}.approved_on": (f"{prefix}-approved-day", f"the date {which} was approved"),
                f"{path}.tenure": (f"{prefix}-tenure", f"the kind of application {which} was"),
            }
        )
        earlier.append(previous)
    household["earlier_contributions"] = earlier

    try:
        entered.on = date_from_form(values, "on", "the date of the rates", required=False)
    except DateProblem as problem:
        entered.refuse("#on-day", str(problem))
    return entered


def _check_redetermination(values: Mapping[str, str], skeleton: HouseholdSkeleton, entered: _Entered) -> None:
    """Once approved, a new determination says why (the form's own required fields)."""
    if not skeleton.redetermination_codes:
        return
    if values.get("code") not in dict(skeleton.redetermination_codes):
        entered.refuse("#code", "Choose why the test of resources is done again")
    reason = (values.get("reason") or "").strip()
    if not reason:
        entered.refuse("#reason", "Enter the reason it is done again")
    elif len(reason) > REASON_LONGEST:
        entered.refuse("#reason", f"The reason must be {REASON_LONGEST} characters or fewer")


def _in_words(message: str, entered: _Entered, values: Mapping[str, str]) -> tuple[str, str]:
    """A problem the rules or the service found (``relevant_persons[1].age: 200 is not ...``), as the
    field it is about and what to do, in the words of the form."""
    path, _, said = message.partition(": ")
    if path == "--on":
        return "#on-day", "The date of the rates must be today or in the past"
    if path == "relevant_persons":
        if values.get("couple") == "couple":
            return "#person-1-age", "Enter the age of relevant person 2: a couple has two relevant persons"
        if entered.household.get("relevant_persons"):
            return "#couple", "Choose ‘A couple’, or leave relevant person 2 empty: a single person has one"
        return "#person-0-age", "Enter the age of relevant person 1"
    found = entered.where.get(path)
    if found is None:
        return "#main-form", sentence(message)
    field_id, what = found
    what_up = what[0].upper() + what[1:]
    row = _ROW.match(path)
    key = row.group(3) if row else path
    if path == "tenure" and "but the case is" in said:  # the household is not the case's application
        return f"#{field_id}", sentence(said)
    if key in {"tenure", "couple", "application_for_child", "pension_credit_age"}:
        return f"#{field_id}", f"Choose {what}"
    if key == "age":
        low, high = CHILD_AGES if path.startswith("children") else RELEVANT_PERSON_AGES
        if said.startswith("required"):
            return f"#{field_id}", f"Enter {what}"
        return f"#{field_id}", f"Enter {what} as a whole number of years from {low} to {high}"
    if key in {"benefits", "premiums"}:
        return f"#{field_id}", f"Choose {what} from the list"
    if key == "enhanced_disability":
        return f"#{field_id}", f"Tick disabled for {what} too: only a disabled child has the enhanced premium"
    if key == "approved_on":
        return f"#{field_id}", f"Enter {what}"
    if key == "tax_credit_annual_income" and said.startswith("required"):
        return f"#{field_id}", f"Enter {what}: it is needed with working tax credit or child tax credit"
    if said.startswith("required"):
        return f"#{field_id}", f"Enter {what}, or 0"
    if "negative" in said:
        return f"#{field_id}", f"{what_up} must not be negative"
    return f"#{field_id}", f"Enter {what} as an amount in pounds, like 250.00"


def _whole(text: str) -> int | str:
    return int(text) if _WHOLE.fullmatch(text) else text


def _yes_no(text: str) -> bool | str:
    return {"yes": True, "no": False}.get(text, text)
