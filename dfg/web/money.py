"""The money pages of a case: its estimates (recorded, waived, one selected), the grant calculation with
its workings, and the approval, countersigned above the approver's limit by a second approver who
proves who they are with their own password."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from dfg.errors import Conflict, DfgError, GuardFailed, InvalidInput, InvalidTransition, PermissionDenied
from dfg.rules.clock import local_day, utcnow
from dfg.rules.grant import LANDLORD_FACTORS, ChargeRequest
from dfg.rules.money import format_pounds, parse_pounds
from dfg.services.approval import WORKS_STATUSES, ApprovalTerms, approval_to_decide, approve_grant, override
from dfg.services.case_changes import change_refusal
from dfg.services.case_reading import show_case
from dfg.services.contractors import list_contractors
from dfg.services.estimates import (
    ESTIMATE_ROLES,
    PriceToConfirm,
    case_estimates,
    record_estimate,
    select_estimate,
    waive_estimates,
)
from dfg.services.grant import GrantOptions, calculate_case_grant, grant_options
from dfg.services.landlord_grant import decide_landlord_grant, landlord_decision_problems, landlord_decisions
from dfg.services.sign_in import check_password, check_second_factor
from dfg.web.case import REASON_LONGEST
from dfg.web.dates import DateProblem, date_from_form
from dfg.web.forms import Errors, Page, field_errors, refusal_errors, seen_version
from dfg.web.security import actor, database
from dfg.web.templating import sentence

money = Blueprint("money", __name__, url_prefix="/cases")

#: What the engine may refuse on these forms: shown as an error, with the input kept.
REFUSALS = (Conflict, GuardFailed, InvalidTransition, InvalidInput, PermissionDenied)


def _error(errors: Errors, text: str, field: str) -> None:
    errors.append({"text": text, "href": f"#{field}"})


def _refused(errors: Errors, refusal: DfgError, form: str) -> None:
    errors.append({"text": sentence(refusal.message), "href": f"#{form}"})


def _amount(values: Mapping[str, str], name: str, what: str, errors: Errors, *, required: bool) -> int | None:
    """An amount in pounds typed into ``name``; a problem with it goes beside the field in ``what``'s words."""
    text = (values.get(name) or "").strip()
    if not text:
        if required:
            _error(errors, f"Enter {what}", name)
        return None
    try:
        return parse_pounds(text, field=what)
    except InvalidInput:
        _error(errors, f"{what[0].upper()}{what[1:]} must be an amount in pounds, for example 4500.00", name)
        return None


def _date(values: Mapping[str, str], name: str, what: str, errors: Errors) -> date | None:
    try:
        return date_from_form(values, name, what, required=False)
    except DateProblem as problem:
        _error(errors, str(problem), f"{name}-day")
        return None


def _text(values: Mapping[str, str], name: str) -> str | None:
    return (values.get(name) or "").strip() or None


# ------------------------------------------------------------------------------------------ estimates


@money.route("/<reference>/estimates")
def estimates(reference: str) -> Page:
    return _estimates_page(reference, [], {})


def _estimates_page(
    reference: str, errors: Errors, values: Mapping[str, str], *, confirm_price: str | None = None
) -> tuple[str, int]:
    db, me = database(), actor()
    case = show_case(db, me, reference)
    view = case_estimates(db, me, case.reference)
    may_add = bool(me.roles & set(ESTIMATE_ROLES)) and view.not_taking is None
    return render_template(
        "money/estimates.html",
        title=f"Estimates – {case.reference}",
        case=case,
        view=view,
        contractors=list_contractors(db, me) if may_add else [],
        may_add=may_add,
        may_decide="grant_officer" in me.roles and view.not_taking is None,
        # the check box stays once shown, so that a second try with another mistake keeps it
        confirm_price=confirm_price
        or (
            "Only if the price is right although it is larger than expected"
            if "confirm_price" in values
            else None
        ),
        errors=errors,
        values=values,
    ), 422 if errors else 200


@money.route("/<reference>/estimates", methods=["POST"])
def add_estimate(reference: str) -> Page:
    db, me = database(), actor()
    values = request.form
    errors: Errors = []
    registered = {c.name for c in list_contractors(db, me)}
    contractor = values.get("contractor", "")
    if contractor not in registered:
        _error(errors, "Choose the contractor from the register", "contractor")
    price = _amount(values, "price", "the price", errors, required=True)
    received = _date(values, "received", "the date the estimate was received", errors)
    if errors:
        return _estimates_page(reference, errors, values)
    assert price is not None
    try:
        made = record_estimate(
            db, me, reference, contractor=contractor, price_pence=price,
            received_on=received or local_day(utcnow()), contractor_reference=_text(values, "contractor_ref"),
            notes=_text(values, "notes"), price_confirmed=values.get("confirm_price") == "yes",
            expected_version=seen_version(values),
        )  # fmt: skip
    except PriceToConfirm as unconfirmed:
        # asked only now the service has refused: most prices need no second look
        words = sentence(f"{unconfirmed.finding}: check it, and confirm it below if it is right")
        errors.append({"text": words, "href": "#confirm_price"})
        return _estimates_page(reference, errors, values, confirm_price=words)
    except REFUSALS as refusal:
        _refused(errors, refusal, "add-form")
        return _estimates_page(reference, errors, values)
    flash(
        f"Estimate {made.id} recorded: {made.contractor_name}, {format_pounds(made.price_pence)}, "
        f"received {made.received_on:%-d %B %Y}.",
        "done",
    )
    return redirect(url_for("money.estimates", reference=made.reference))


@money.route("/<reference>/estimates/waiver", methods=["POST"])
def waive(reference: str) -> Page:
    db, me = database(), actor()
    values = request.form
    errors: Errors = []
    reason = _text(values, "waive_reason")
    if reason is None:
        _error(errors, "Enter why fewer than two estimates will do", "waive_reason")
        return _estimates_page(reference, errors, values)
    try:
        waive_estimates(db, me, reference, reason=reason, expected_version=seen_version(values))
    except REFUSALS as refusal:
        _refused(errors, refusal, "waive-form")
        return _estimates_page(reference, errors, values)
    flash("The two-estimates rule is waived on this case.", "done")
    return redirect(url_for("money.estimates", reference=show_case(db, me, reference).reference))


@money.route("/<reference>/estimates/selection", methods=["POST"])
def select(reference: str) -> Page:
    db, me = database(), actor()
    values = request.form
    errors: Errors = []
    numbers = [e.id for e in case_estimates(db, me, reference).estimates]
    chosen = values.get("estimate", "")
    if not chosen.isdigit() or int(chosen) not in numbers:
        _error(errors, "Choose the estimate the works will be done on", "estimate")
    on = _date(values, "selected_on", "the date of the selection", errors)
    unacceptable = {n: why for n in numbers if (why := _text(values, f"unacceptable-{n}"))}
    if errors:
        return _estimates_page(reference, errors, values)
    try:
        selection = select_estimate(
            db, me, reference, int(chosen), reason=_text(values, "select_reason"), unacceptable=unacceptable,
            on=on, expected_version=seen_version(values),
        )  # fmt: skip
    except REFUSALS as refusal:
        _refused(errors, refusal, "select-form")
        return _estimates_page(reference, errors, values)
    choice = selection.choice
    rejected = "".join(f" Estimate {n} is not acceptable: {why}." for n, why in choice.not_acceptable)
    flash(
        f"Estimate {choice.estimate_id} selected ({choice.contractor}, {format_pounds(choice.price_pence)}). "
        f"{sentence(choice.how_decided)}{rejected}",
        "done",
    )
    return redirect(url_for("money.estimates", reference=selection.reference))


# ---------------------------------------------------------------------------------- the calculation


@money.route("/<reference>/grant", methods=["GET", "POST"])
def calculate(reference: str) -> Page:
    db, me = database(), actor()
    case = show_case(db, me, reference)
    options = grant_options(db, me, case.reference)
    values = request.form
    errors: Errors = []
    if request.method == "POST":
        charges, lines, reasons, works, on = _grant_request(options, values, errors)
        if not errors:
            try:
                record = calculate_case_grant(
                    db, me, case.reference, works_pence=works, charges=charges, funding_lines=lines,
                    reasons=reasons, on=on, expected_version=seen_version(values),
                )  # fmt: skip
            except REFUSALS as refusal:
                _refused(errors, refusal, "main-form")
            else:
                flash(
                    f"Grant calculation {record.id}: total assistance "
                    f"{format_pounds(record.total_assistance_pence)}. The workings are below.",
                    "done",
                )
                return redirect(url_for("money.calculate", reference=case.reference))
    return render_template(
        "money/grant.html",
        title=f"Grant calculation – {case.reference}",
        case=case,
        options=options,
        may_calculate="grant_officer" in me.roles and options.not_calculable is None,
        errors=errors,
        values=values,
        posted=request.method == "POST",
    ), 422 if errors else 200


def _grant_request(
    options: GrantOptions, values: MultiDict[str, str], errors: Errors
) -> tuple[list[ChargeRequest], list[str], list[str], int | None, date | None]:
    """The charges, funding lines and reasons ticked, the works if typed and the date, checked against
    what the district's policy offers."""
    offered = {c.kind: c for c in options.charges}
    ticked = values.getlist("charge")
    if any(kind not in offered for kind in ticked):
        _error(errors, "Choose the charges from the list", "charge")
    charges = []
    for kind, option in offered.items():
        if kind not in ticked:
            continue
        if option.calculated:
            charges.append(ChargeRequest(kind))
            continue
        what = f"the amount for the {option.label[0].lower()}{option.label[1:]}"
        amount = _amount(values, f"amount-{kind}", what, errors, required=True)
        if amount is not None:
            charges.append(ChargeRequest(kind, amount))
    lines = values.getlist("funding_line")
    if any(code not in {f.code for f in options.funding_lines} for code in lines):
        _error(errors, "Choose the funding lines from the list", "funding_line")
    reasons = values.getlist("reason")
    if any(reason not in options.reasons for reason in reasons):
        _error(errors, "Choose the reasons from the list", "reason")
    works = _amount(values, "works", "the cost of the works", errors, required=False)
    on = _date(values, "on", "the intended approval date", errors)
    return charges, lines, reasons, works, on


# ------------------------------------------------------------------------------------------- approval


@money.route("/<reference>/approve", methods=["GET", "POST"])
def approve(reference: str) -> Page:
    db, me = database(), actor()
    case = show_case(db, me, reference)
    decision = approval_to_decide(db, me, case.reference)
    values = request.form
    errors: Errors = []
    if request.method == "POST":
        terms, on = _terms(values, errors)
        second = _second_approver(values, errors) if not errors else None
        if not errors:
            try:
                done = approve_grant(
                    db, me, case.reference, replace(terms, second_approver=second), on=on,
                    expected_version=seen_version(values),
                )  # fmt: skip
            except REFUSALS as refusal:
                _refused(errors, refusal, "main-form")
            else:
                letters = f" Letters queued: {', '.join(done.letters)}." if done.letters else ""
                countersigned = f", countersigned by {second}" if second else ""
                flash(f"Grant approved on {done.effective_date:%-d %B %Y}{countersigned}.{letters}", "done")
                return redirect(url_for("case.show", reference=case.reference))
    return render_template(
        "money/approve.html",
        title=f"Approve the grant – {case.reference}",
        case=case,
        decision=decision,
        may_approve="approver" in me.roles and decision.calculation is not None,
        ask_second=decision.needs_second_approver or bool(values.get("second_username")),
        errors=errors,
        values=values,
    ), 422 if errors else 200


# ------------------------------------------------------------------- a landlord's grant (s.31)

#: The inputs of a landlord decision by the service's names, for the error summary's links.
_LANDLORD_FIELDS = {"amount": "amount", "factors": "factor", "reason": "reason", "on": "on-day"}


@money.route("/<reference>/landlord-decision", methods=["GET", "POST"])
def landlord_decision(reference: str) -> Page:
    db, me = database(), actor()
    case = show_case(db, me, reference)
    values = request.form
    errors: Errors = []
    if request.method == "POST" and case.tenure == "landlord":
        amount = _amount(values, "amount", "the amount of the grant", errors, required=True)
        on = _date(values, "on", "the date of the decision", errors)
        if errors:  # what the form could not read, with everything else the service finds wrong
            found = landlord_decision_problems(
                case.district, amount, values.getlist("factor"), values.get("reason", ""),
                None if "#on-day" in {e["href"] for e in errors} else on or local_day(utcnow()),
                local_day(utcnow()),
            )  # fmt: skip
            errors.extend(field_errors(found, _LANDLORD_FIELDS))
        if amount is not None and not errors:
            try:
                record = decide_landlord_grant(
                    db, me, case.reference, amount_pence=amount, factors=values.getlist("factor"),
                    reason=values.get("reason", ""), on=on, expected_version=seen_version(values),
                )  # fmt: skip
            except REFUSALS as refusal:
                errors.extend(refusal_errors(refusal, _LANDLORD_FIELDS))
            else:
                flash(
                    f"The landlord's grant is decided at {format_pounds(record.amount_pence)}. Calculate the "
                    "grant again: the calculation uses the amount decided.",
                    "done",
                )
                return redirect(url_for("money.calculate", reference=case.reference))
    return render_template(
        "money/landlord.html",
        title=f"A landlord's grant – {case.reference}",
        case=case,
        decisions=landlord_decisions(db, me, case.reference),
        factors=LANDLORD_FACTORS,
        may_decide="approver" in me.roles and case.milestones.get("approval_date") is None,
        errors=errors,
        values=values,
        posted=request.method == "POST",
    ), 422 if errors else 200


# ------------------------------------------------------------------------------ the budget override


@money.route("/<reference>/budget-override", methods=["GET", "POST"])
def budget_override(reference: str) -> Page:
    db, me = database(), actor()
    case = show_case(db, me, reference)
    values = request.form
    errors: Errors = []
    if request.method == "POST":
        reason = _text(values, "reason")
        if reason is None:
            _error(errors, "Enter why the case may be approved over its budget", "reason")
        elif len(reason) > REASON_LONGEST:
            _error(errors, f"The reason must be {REASON_LONGEST:,} characters or fewer", "reason")
        if reason is not None and not errors:
            try:
                override(db, me, case.reference, reason=reason, expected_version=seen_version(values))
            except REFUSALS as refusal:
                _refused(errors, refusal, "main-form")
            else:
                flash(
                    "Budget override recorded: the approval or variation may now go over the budget.", "done"
                )
                return redirect(url_for("case.show", reference=case.reference))
    return render_template(
        "money/override.html",
        title=f"Override the budget – {case.reference}",
        case=case,
        approved=case.milestones.get("approval_date") is not None,
        decision=approval_to_decide(db, me, case.reference),
        may_override="manager" in me.roles,
        refusal=change_refusal(db, me, case.reference, "budget_override"),
        errors=errors,
        values=values,
    ), 422 if errors else 200


def _terms(values: Mapping[str, str], errors: Errors) -> tuple[ApprovalTerms, date | None]:
    """The approver's terms from the form, every mistake in them at once."""
    status = next((s for s in WORKS_STATUSES if s == (values.get("works_status") or "not_started")), None)
    if status is None:
        _error(errors, "Choose whether the works have started", "works_status")
        status = "not_started"
    good_reason = _text(values, "good_reason") if status == "begun" else None
    if status == "begun" and good_reason is None:
        _error(errors, "Enter why approving works already begun is justified", "good_reason")
    paid_to = values.get("pay_to") or "contractor"
    if paid_to not in ("contractor", "applicant"):
        _error(errors, "Choose who the grant is paid to", "pay_to")
    on = _date(values, "on", "the date of the approval", errors)
    deferred = _date(values, "deferred", "the deferred payment date", errors)
    conditions = tuple(line.strip() for line in (values.get("conditions") or "").splitlines() if line.strip())
    terms = ApprovalTerms(
        deferred_payment_date=deferred,
        pay_contractor_directly=paid_to != "applicant",
        conditions=conditions,
        works_status=status,
        works_begun_reason=good_reason,
    )
    return terms, on


def _second_approver(values: Mapping[str, str], errors: Errors) -> str | None:
    """The second approver, proven by their own password (and code, if they have a second factor); no
    session is started for them. None if no one was named."""
    username = _text(values, "second_username")
    password = values.get("second_password") or ""
    if username is None:
        if password:
            _error(errors, "Enter the second approver's username", "second_username")
        return None
    if not password:
        _error(errors, "Enter the second approver's password", "second_password")
        return None
    try:
        checked = check_password(database(), username, password)
        if checked.second_factor:
            code = _text(values, "second_code")
            if code is None:
                _error(errors, "Enter the code the second approver's app shows now", "second_code")
                return None
            check_second_factor(database(), checked, code)
    except PermissionDenied as refusal:
        _error(errors, sentence(f"second approver: {refusal.message}"), "second_password")
        return None
    return checked.username
