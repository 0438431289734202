"""The works and payment pages of a case: the money on it, the completion checks, invoices, interim and
final payments, the land charge and the decision on a disposal, and the works' extensions and
variations. Each form parses what was typed, calls the one service the command line calls, and shows
the engine's refusal in the error summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, ParamSpec

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from dfg.errors import (
    Conflict,
    GuardFailed,
    InvalidInput,
    InvalidTransition,
    OutsideDistrict,
    PermissionDenied,
)
from dfg.rules.clock import local_day, utcnow
from dfg.rules.money import format_pounds, parse_pounds
from dfg.rules.payments import CEASED_REASONS
from dfg.rules.rates import REPAYMENT_FACTORS
from dfg.services.approval import vary_works
from dfg.services.case_changes import change_refusal
from dfg.services.case_reading import CaseView, show_case
from dfg.services.land_charge import land_charge_view, record_repayment_decision, register_land_charge
from dfg.services.payments import (
    cease_entitlement,
    decide_ceased_entitlement,
    money_view,
    pay_final,
    pay_interim,
    payment_due,
    record_contribution,
    record_invoice,
)
from dfg.services.works import (
    COMPLETION_CHECKS,
    MAX_EXTENSION_MONTHS,
    completion_checks,
    extend_completion,
    record_completion_check,
)
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import Errors, Page, seen_version
from dfg.web.security import actor, database
from dfg.web.templating import day_in_words, sentence

payments = Blueprint("payments", __name__, url_prefix="/cases")

P = ParamSpec("P")


#: The engine's refusals a form shows in its error summary (anything else goes to the error pages).
REFUSALS = (Conflict, GuardFailed, InvalidInput, InvalidTransition, PermissionDenied)

#: Longest free text a form takes (a reason, notes, a change): more is a paste gone wrong.
TEXT_LONGEST = 2000

#: Each completion check in the words of the page.
CHECK_WORDS = {
    "inspection": "The technical officer's inspection",
    "ot_sign_off": "The occupational therapist's sign-off",
    "applicant_satisfaction": "The applicant's satisfaction with the works",
}

#: Who records each check, in words.
ROLE_WORDS = {
    "technical_officer": "The technical officer",
    "ot": "The occupational therapist",
    "grant_officer": "The grant officer",
}

#: Whom a payment or a line is paid to, in words.
PAYEE_WORDS = {
    "contractor": "The contractor",
    "applicant": "The applicant",
    "agency": "The home improvement agency",
    "professional": "The professional adviser",
    "authority": "The council",
}

DECISION_WORDS = {
    "full": "Demand the repayable amount in full",
    "part": "Demand part of it",
    "waive": "Waive repayment",
}

#: Which roles each page's form is for, so the money page links only to what the user may do (the
#: services check the role again).
FORM_ROLES = {
    "invoice": frozenset({"grant_officer"}),
    "pay": frozenset({"grant_officer"}),
    "contribution": frozenset({"grant_officer"}),
    "cease": frozenset({"grant_officer"}),
    "decide": frozenset({"approver"}),
    "completion": frozenset(COMPLETION_CHECKS.values()),
    "land_charge": frozenset({"grant_officer"}),
    "repayment_decision": frozenset({"approver"}),
    "extend": frozenset({"grant_officer", "technical_officer"}),
    "vary": frozenset({"approver"}),
    "override": frozenset({"manager"}),
}


# ---------------------------------------------------------------------- reading a form


class _Form:
    """The typed values of a posted form, and every mistake in them, in the user's words."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.errors: Errors = []

    def problem(self, text: str, field: str) -> None:
        self.errors.append({"text": text, "href": f"#{field}"})

    def text(self, name: str, label: str, *, required: bool, longest: int = TEXT_LONGEST) -> str | None:
        typed = (self.values.get(name) or "").strip()
        if not typed:
            if required:
                self.problem(f"Enter {label}", name)
            return None
        if len(typed) > longest:
            self.problem(f"{label[0].upper()}{label[1:]} must be {longest:,} characters or fewer", name)
            return None
        return typed

    def pounds(
        self, name: str, label: str, *, required: bool = True, allow_negative: bool = False
    ) -> int | None:
        typed = (self.values.get(name) or "").strip()
        if not typed:
            if required:
                self.problem(f"Enter {label}", name)
            return None
        try:
            return parse_pounds(typed, field=label, allow_negative=allow_negative)
        except InvalidInput:
            example = "1250.00, or -120.00 for a saving" if allow_negative else "1250.00"
            self.problem(
                f"{label[0].upper()}{label[1:]} must be an amount in pounds and pence, like {example}", name
            )
            return None

    def date(self, name: str, label: str, *, required: bool) -> date | None:
        try:
            return date_from_form(self.values, name, label, required=required)
        except DateProblem as problem:
            self.problem(str(problem), f"{name}-day")
            return None

    def choice(self, name: str, choices: Mapping[str, str] | frozenset[str], missing: str) -> str | None:
        chosen = self.values.get(name) or None
        if chosen not in choices:
            self.problem(missing, name)
            return None
        return chosen


def _attempt(form: _Form, service: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> bool:
    """Call the service; its refusal becomes one more error (the input is kept). True when it was done."""
    try:
        service(*args, **kwargs)
    except REFUSALS as refusal:
        if isinstance(refusal, OutsideDistrict):
            raise  # another district's case stays not found
        form.errors.append({"text": sentence(refusal.message), "href": "#main-form"})
        return False
    return True


def _done(view: CaseView, message: str) -> WerkzeugResponse:
    flash(message, "done")
    return redirect(url_for("case.show", reference=view.reference))


def _page(template: str, title: str, view: CaseView, form: _Form, **values: Any) -> tuple[str, int]:
    return render_template(
        f"payments/{template}",
        title=f"{title} – {view.reference}",
        heading=title,
        case=view,
        errors=form.errors,
        values=form.values,
        may=_may(),
        day=_day,
        **values,
    ), 422 if form.errors else 200


def _day(iso: str | None) -> str:
    """A date the services give as ISO text (their JSON's), as people read it."""
    return day_in_words(date.fromisoformat(iso)) if iso else ""


def _may() -> dict[str, bool]:
    roles = actor().roles
    return {page: bool(roles & wanted) for page, wanted in FORM_ROLES.items()}


# ---------------------------------------------------------------------- the money on a case


@payments.route("/<reference>/money")
def money(reference: str) -> str:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    return render_template(
        "payments/money.html",
        title=f"Money – {view.reference}",
        case=view,
        money=money_view(db, me, view.reference),
        may=_may(),
        day=_day,
        payee_words=PAYEE_WORDS,
    )


# ---------------------------------------------------------------------- the completion checks


@payments.route("/<reference>/completion", methods=["GET", "POST"])
def completion(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    mine = {check: CHECK_WORDS[check] for check, role in COMPLETION_CHECKS.items() if role in me.roles}
    form = _Form(request.form)
    if request.method == "POST":
        check = form.choice("check", mine, "Choose the check you are recording")
        result = form.choice("passed", frozenset({"yes", "no"}), "Say whether the check passed")
        notes = form.text("notes", "what was found", required=result == "no")
        on = form.date("on", "the date of the check", required=False)
        if not form.errors and check is not None:
            passed = result == "yes"
            done = _attempt(
                form, record_completion_check, db, me, view.reference, check, passed=passed, notes=notes,
                on=on, expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                outcome = "passed" if passed else "not passed"
                return _done(view, f"{CHECK_WORDS[check]}: recorded as {outcome}.")
    checks = completion_checks(db, me, view.reference)
    return _page(
        "completion.html",
        "Completion checks",
        view,
        form,
        checks=checks,
        mine=mine,
        check_words=CHECK_WORDS,
        role_words=ROLE_WORDS,
    )


# ---------------------------------------------------------------------- invoices and payments


LABOUR_WORDS = {
    "contractor": "A contractor's or supplier's",
    "applicant": "The applicant's own labour",
    "relative": "A relative's labour",
}


@payments.route("/<reference>/invoice", methods=["GET", "POST"])
def invoice(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    if request.method == "POST":
        supplier = form.text("supplier", "who sent the invoice", required=True, longest=120)
        number = form.text("invoice_reference", "the invoice's reference", required=True, longest=60)
        amount = form.pounds("amount", "the invoice total")
        received = form.date("received", "the date it was received", required=False)
        labour = form.choice("labour", LABOUR_WORDS, "Say whose work the invoice charges for")
        if supplier and number and amount is not None and labour and not form.errors:
            done = _attempt(
                form, record_invoice, db, me, view.reference, supplier=supplier, invoice_reference=number,
                amount_pence=amount, received_on=received or local_day(utcnow()), labour=labour,
                expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(view, f"Invoice {number} from {supplier} for {format_pounds(amount)}: recorded.")
    money = money_view(db, me, view.reference)
    return _page("invoice.html", "Record an invoice", view, form, labour_words=LABOUR_WORDS, money=money)


@payments.route("/<reference>/pay", methods=["GET", "POST"])
def pay(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    due = payment_due(db, me, view.reference)
    form = _Form(request.form)
    if request.method == "POST" and due.kind == "interim":
        work_done = form.pounds("work_done", "the value of the work done so far")
        amount = form.pounds("amount", "the amount to pay")
        on = form.date("on", "the date paid", required=False)
        if amount is not None and work_done is not None and not form.errors:
            done = _attempt(
                form, pay_interim, db, me, view.reference, amount_pence=amount, work_done_pence=work_done,
                on=on, expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(view, f"Interim payment of {format_pounds(amount)}: recorded.")
    elif request.method == "POST" and due.kind == "final":
        on = form.date("on", "the date paid", required=False)
        if not form.errors:
            done = _attempt(
                form, pay_final, db, me, view.reference, on=on, expected_version=seen_version(form.values)
            )
            if done:
                return _done(view, f"Final payment of {format_pounds(due.final_pence)}: recorded.")
    elif request.method == "POST":
        form.errors.append({"text": sentence(due.why_not or "nothing can be paid now"), "href": "#main-form"})
    return _page("pay.html", "Record a payment", view, form, due=due, payee_words=PAYEE_WORDS)


# ---------------------------------------------------------------------- the contribution


@payments.route("/<reference>/contribution", methods=["GET", "POST"])
def contribution(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    if request.method == "POST":
        amount = form.pounds("amount", "the amount collected")
        on = form.date("on", "the date it was collected", required=False)
        if amount is not None and not form.errors:
            done = _attempt(
                form, record_contribution, db, me, view.reference, amount_pence=amount,
                on=on or local_day(utcnow()), expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(view, f"Contribution of {format_pounds(amount)} collected: recorded.")
    return _page(
        "contribution.html", "Record the contribution collected", view, form,
        money=money_view(db, me, view.reference), refusal=change_refusal(db, me, view.reference, "contribution"),
    )  # fmt: skip


# ---------------------------------------------------------------------- ceased entitlement

#: What the approver may decide after entitlement ceased, in words.
PAY_WORDS = {
    "all": "Pay all of the approved assistance",
    "part": "Pay part of it",
    "none": "Pay none of it",
}


@payments.route("/<reference>/entitlement", methods=["GET", "POST"])
def cease(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    if request.method == "POST":
        code = form.choice("code", CEASED_REASONS, "Choose what happened")
        on = form.date("on", "the date it happened", required=True)
        note = form.text("note", "anything else to record", required=False)
        if code is not None and on is not None and not form.errors:
            done = _attempt(
                form, cease_entitlement, db, me, view.reference, code=code, on=on, note=note,
                expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(
                    view, "Entitlement ceased: recorded. No payment is made until an approver decides."
                )
    return _page(
        "cease.html", "Record that entitlement ceased", view, form, money=money_view(db, me, view.reference),
        reasons=CEASED_REASONS, refusal=change_refusal(db, me, view.reference, "entitlement_ceased"),
    )  # fmt: skip


@payments.route("/<reference>/entitlement/decision", methods=["GET", "POST"])
def decide(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    if request.method == "POST":
        decision = form.choice("decision", PAY_WORDS, "Choose whether to pay all, part or none")
        amount = form.pounds("amount", "the total to pay") if decision == "part" else None
        reason = form.text("reason", "the reasons for the decision", required=True)
        if decision is not None and reason is not None and not form.errors:
            done = _attempt(
                form, decide_ceased_entitlement, db, me, view.reference, decision=decision,
                amount_pence=amount, reason=reason, expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(
                    view, f"Decision after entitlement ceased recorded: {PAY_WORDS[decision].lower()}."
                )
    return _page(
        "decide.html", "Decide what to pay after entitlement ceased", view, form,
        money=money_view(db, me, view.reference), pay_words=PAY_WORDS,
        refusal=change_refusal(db, me, view.reference, "ceased_entitlement_decision"),
    )  # fmt: skip


# ---------------------------------------------------------------------- the land charge


@payments.route("/<reference>/land-charge", methods=["GET", "POST"])
def land_charge(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    if request.method == "POST":
        registry = form.text(
            "registry_reference", "the register's reference for the charge", required=True, longest=60
        )
        on = form.date("registered", "the date it was registered", required=False)
        if registry is not None and not form.errors:
            done = _attempt(
                form, register_land_charge, db, me, view.reference, registry_reference=registry,
                registered_on=on or local_day(utcnow()), expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(view, f"Land charge registered, register reference {registry}.")
    charge = land_charge_view(db, me, view.reference)
    return _page(
        "land_charge.html", "Local land charge", view, form, charge=charge, decision_words=DECISION_WORDS,
        factor_words=REPAYMENT_FACTORS,
    )  # fmt: skip


@payments.route("/<reference>/repayment", methods=["GET", "POST"])
def repayment_decision(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    factors = tuple(request.form.getlist("factors"))
    if request.method == "POST":
        disposal = form.date("disposal", "the date the home was disposed of", required=True)
        decision = form.choice("decision", DECISION_WORDS, "Choose whether to demand repayment")
        amount = form.pounds("amount", "the amount to demand") if decision == "part" else None
        if not factors or any(f not in REPAYMENT_FACTORS for f in factors):
            form.problem("Choose the circumstances you weighed, or ‘No special circumstances’", "factors")
        elif "none" in factors and len(factors) > 1:
            form.problem(
                "Choose ‘No special circumstances’ on its own, or the circumstances weighed", "factors"
            )
        reason = form.text("reason", "the reasons for the decision", required=True)
        on = form.date("on", "the date of the decision", required=False)
        if disposal is not None and decision is not None and reason is not None and not form.errors:
            done = _attempt(
                form, record_repayment_decision, db, me, view.reference, disposal_on=disposal,
                decision=decision, amount_pence=amount, factors=factors, reason=reason, on=on,
                expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(view, f"Decision on the disposal recorded: {DECISION_WORDS[decision].lower()}.")
    charge = land_charge_view(db, me, view.reference)
    return _page(
        "repayment.html", "Decide on repayment after a disposal", view, form, charge=charge,
        decision_words=DECISION_WORDS, factor_words=REPAYMENT_FACTORS, chosen=factors,
    )  # fmt: skip


# ---------------------------------------------------------------------- during the works


@payments.route("/<reference>/extend", methods=["GET", "POST"])
def extend(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    if request.method == "POST":
        typed = (form.values.get("months") or "").strip()
        months = int(typed) if typed.isdigit() and 1 <= int(typed) <= MAX_EXTENSION_MONTHS else None
        if typed and months is None:
            form.problem(
                f"The number of months must be a whole number from 1 to {MAX_EXTENSION_MONTHS}", "months"
            )
        new_date = form.date("to", "the new completion date", required=False)
        if not typed and new_date is None and not form.errors:
            form.problem("Enter how many months to extend by, or the new completion date", "months")
        elif months is not None and new_date is not None:
            form.problem("Give either the number of months or the new completion date, not both", "months")
        reason = form.text("reason", "why the works need longer", required=True)
        if reason is not None and not form.errors:
            done = _attempt(
                form, extend_completion, db, me, view.reference, reason=reason, months=months,
                new_date=new_date, expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(view, "Completion period extended: the case's clocks show the new date.")
    return _page("extend.html", "Extend the completion period", view, form, longest=MAX_EXTENSION_MONTHS)


@payments.route("/<reference>/vary", methods=["GET", "POST"])
def vary(reference: str) -> Page:
    db, me = database(), actor()
    view = show_case(db, me, reference)
    form = _Form(request.form)
    if request.method == "POST":
        change = form.text("change", "what changes in the works", required=True)
        price = form.pounds("price", "the change in price", allow_negative=True)
        on = form.date("on", "the date of the decision", required=False)
        if change is not None and price is not None and not form.errors:
            done = _attempt(
                form, vary_works, db, me, view.reference, change=change, price_change_pence=price, on=on,
                expected_version=seen_version(form.values),
            )  # fmt: skip
            if done:
                return _done(view, f"Variation of {format_pounds(price)} approved: a new approval version.")
    money = money_view(db, me, view.reference)
    return _page("vary.html", "Approve a variation of the works", view, form, money=money)
