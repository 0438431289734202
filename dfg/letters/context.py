"""What a letter needs to know: frozen, typed contexts built from case data.

One dataclass per letter kind, each a :class:`LetterContext` (recipient, branding, case reference, letter
date, signing officer) plus the facts that letter must show. Everything is plain data so a service can
build a context from the case and its locked determinations, a test can build one by hand, and a batch
can send one to a worker process (they pickle).

Conventions:

- Money is integer pence (:data:`dfg.rules.money.Pence`); templates format it with the ``pounds`` filter.
- Dates are :class:`datetime.date`; the ``longdate`` filter prints "3 March 2027".
- Text is the officer's or the system's words, never HTML: templates escape everything.
- Every "how calculated" or "basis" field is a short plain-English sentence shown to the reader beside
  the figure it explains (the approval notice must explain each amount, s.34 of the 1996 Act).

Contexts check their own arithmetic and shape on construction and raise :class:`dfg.errors.InvalidInput`,
so a letter can never show totals that do not add up.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from dfg.errors import ConfigurationError, InvalidInput
from dfg.paths import letter_templates_dir
from dfg.rules.money import Pence

#: Lines an address may have between the name and the postcode: a DL window holds seven lines in all.
MAX_ADDRESS_LINES = 5

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOGO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.(svg|png)$")


def _require_text(owner: str, **values: str) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{owner}: {name} must not be empty")


def _require_pence(owner: str, *, allow_negative: bool = False, **values: Pence) -> None:
    for name, value in values.items():
        # bool is an int: refuse it, as dfg.rules.money does.
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{owner}: {name} must be whole pence (an int), got {value!r}")
        if value < 0 and not allow_negative:
            raise InvalidInput(f"{owner}: {name} must not be negative, got {value}")


# --------------------------------------------------------------------------------------------------------
# Parts shared by every letter


@dataclass(frozen=True, kw_only=True)
class Recipient:
    """Who the letter is addressed to, as printed in the envelope window."""

    #: Full name as it goes on the envelope: "Mrs Jean Patel", or a company name.
    name: str
    #: Address lines between the name and the postcode (house and street, locality, post town); at most
    #: :data:`MAX_ADDRESS_LINES`.
    address_lines: tuple[str, ...]
    #: Postcode, printed on its own line.
    postcode: str
    #: Words after "Dear": "Mrs Patel". Defaults to :attr:`name`.
    salutation: str | None = None
    #: From the person's recorded communication needs: print the letter in large type (16pt and up).
    large_print: bool = False

    def __post_init__(self) -> None:
        _require_text("recipient", name=self.name, postcode=self.postcode)
        if not self.address_lines or not all(isinstance(x, str) and x.strip() for x in self.address_lines):
            raise InvalidInput("recipient: address_lines must be one or more non-empty lines")
        if len(self.address_lines) > MAX_ADDRESS_LINES:
            raise InvalidInput(
                f"recipient: at most {MAX_ADDRESS_LINES} address lines fit the envelope window, "
                f"got {len(self.address_lines)}"
            )

    @property
    def dear(self) -> str:
        """The name after "Dear"."""
        return self.salutation or self.name


@dataclass(frozen=True, kw_only=True)
class Branding:
    """A district council's letterhead, from ``letter_templates/branding.toml`` (see :func:`load_branding`)."""

    #: District code: CAN, EST, LIC, NUL, SST, STA, SML, TAM.
    district: str
    #: The council's name as it signs letters: "Stafford Borough Council".
    name: str
    #: The team that runs grants: "Disabled Facilities Grants team".
    service: str
    #: Postal address lines of the service, without the postcode.
    address_lines: tuple[str, ...]
    postcode: str
    phone: str
    email: str
    #: The service's web page, as printed: "www.example.gov.uk/dfg".
    web: str
    #: Where to complain (the corporate complaints route), as printed.
    complaints_web: str
    #: Who provides equipment and care where the district is (the social services authority), as a
    #: letter names it: "Staffordshire County Council's adult social care service". None: the letters
    #: speak of "your local social care service".
    social_care: str | None = None
    #: Logo file name under ``letter_templates/branding/``, or None for none.
    logo: str | None = None
    #: Accent colour for rules and headings, "#rrggbb".
    accent: str = "#1d4f73"

    def __post_init__(self) -> None:
        _require_text(
            f"branding {self.district}",
            name=self.name,
            service=self.service,
            postcode=self.postcode,
            phone=self.phone,
            email=self.email,
            web=self.web,
            complaints_web=self.complaints_web,
        )
        if not self.address_lines:
            raise InvalidInput(f"branding {self.district}: address_lines must not be empty")
        if self.social_care is not None:
            _require_text(f"branding {self.district}", social_care=self.social_care)
        # Both end up inside HTML attributes and CSS: accept only their plain shapes.
        if not _COLOUR.match(self.accent):
            raise InvalidInput(
                f"branding {self.district}: accent must look like #1d4f73, got {self.accent!r}"
            )
        if self.logo is not None and not _LOGO_NAME.match(self.logo):
            raise InvalidInput(
                f"branding {self.district}: logo must be a plain .svg or .png file name, got {self.logo!r}"
            )


@dataclass(frozen=True, kw_only=True)
class Officer:
    """The officer who signs the letter and whom the reader should ask for."""

    name: str
    job_title: str
    #: Direct line; the service's number from the branding is printed when None.
    phone: str | None = None
    #: Direct email; the service's address from the branding is printed when None.
    email: str | None = None

    def __post_init__(self) -> None:
        _require_text("officer", name=self.name, job_title=self.job_title)


@dataclass(frozen=True, kw_only=True)
class PricedItem:
    """One line with a price: an item of work, a fee, a change. ``amount`` is in pence."""

    description: str
    amount: Pence
    #: How the amount was arrived at, in a sentence: "Lowest of two estimates (Acme Ltd, 12 May 2027)".
    how_calculated: str = ""

    def __post_init__(self) -> None:
        _require_text("priced item", description=self.description)
        # Negative amounts are legitimate in variations (work omitted); totals are checked by their owners.
        _require_pence(f"priced item {self.description!r}", allow_negative=True, amount=self.amount)


def _total(items: tuple[PricedItem, ...]) -> Pence:
    return sum(item.amount for item in items)


def _require_explained(owner: str, items: tuple[PricedItem, ...]) -> None:
    for item in items:
        if item.amount < 0:
            raise InvalidInput(f"{owner}: {item.description!r} must not be negative")
        if not item.how_calculated.strip():
            raise InvalidInput(f"{owner}: {item.description!r} needs how_calculated")


@dataclass(frozen=True, kw_only=True)
class GrantCalculation:
    """The approved figures, as locked in the determination, each with how it was calculated."""

    #: Eligible works, normally priced at the lowest acceptable estimate.
    works: tuple[PricedItem, ...]
    #: Preliminary and ancillary charges: agency fee, surveys, drawings, planning and building control fees.
    charges: tuple[PricedItem, ...]
    #: The applicant's contribution from the test of resources.
    contribution: Pence
    #: Why the contribution is what it is: "You receive Pension Credit, so you pay nothing."
    contribution_basis: str
    #: The mandatory grant.
    grant: Pence
    #: How the grant follows from the figures: "Estimated expense less your contribution (maximum £30,000)."
    grant_basis: str

    def __post_init__(self) -> None:
        if not self.works:
            raise InvalidInput("grant calculation: works must not be empty")
        _require_explained("grant calculation works", self.works)
        _require_explained("grant calculation charges", self.charges)
        _require_pence("grant calculation", contribution=self.contribution, grant=self.grant)
        _require_text(
            "grant calculation", contribution_basis=self.contribution_basis, grant_basis=self.grant_basis
        )
        if self.grant > self.estimated_expense:
            raise InvalidInput(
                f"grant calculation: grant {self.grant} is more than the estimated expense {self.estimated_expense}"
            )

    @property
    def works_expense(self) -> Pence:
        """The expense of the eligible works."""
        return _total(self.works)

    @property
    def charges_expense(self) -> Pence:
        """The preliminary and ancillary charges."""
        return _total(self.charges)

    @property
    def estimated_expense(self) -> Pence:
        """Works plus charges: the estimated expense of the relevant works."""
        return self.works_expense + self.charges_expense


@dataclass(frozen=True, kw_only=True)
class WorkingLine:
    """One line of the test of resources workings: a figure, and the rule and rate behind it."""

    label: str
    #: A money figure in pence (weekly or total as the label says), or None when the line is not money.
    amount: Pence | None = None
    #: A figure that is not money: "387⅓" (the loan factor), "2 people". The letter prints it beside its
    #: label, never in the column of amounts.
    figure: str | None = None
    #: The rule and rate: "Personal allowance, single person aged 25 or over (2008 rates)". A line with
    #: neither amount nor figure is a finding (a premium not applied): its basis says what was found.
    basis: str = ""

    def __post_init__(self) -> None:
        _require_text("working line", label=self.label)
        if self.amount is not None and self.figure is not None:
            raise InvalidInput(f"working line {self.label!r}: give an amount or a figure, not both")
        if self.amount is None and self.figure is None and not self.basis.strip():
            raise InvalidInput(f"working line {self.label!r}: a line with no figure needs its basis")
        if self.figure is not None:
            _require_text(f"working line {self.label!r}", figure=self.figure)
        if self.amount is not None:
            _require_pence(f"working line {self.label!r}", allow_negative=True, amount=self.amount)

    @property
    def is_money(self) -> bool:
        """Whether the line's figure is an amount of money (for the column of amounts)."""
        return self.amount is not None


@dataclass(frozen=True, kw_only=True)
class InformationRequest:
    """One thing the applicant must send."""

    what: str
    #: Why we need it, in plain words.
    why: str = ""

    def __post_init__(self) -> None:
        _require_text("information request", what=self.what)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """The council's finding on one statutory test, and its reasons."""

    met: bool
    reasons: str

    def __post_init__(self) -> None:
        _require_text("finding", reasons=self.reasons)


# --------------------------------------------------------------------------------------------------------
# The common part, and one context per letter kind


@dataclass(frozen=True, kw_only=True)
class LetterContext:
    """What every letter shows: who it is to and from, about which case, and when."""

    recipient: Recipient
    branding: Branding
    #: The case reference the reader must quote: "DFG-STA-2027-00123".
    case_reference: str
    #: The date printed on the letter.
    letter_date: date
    #: Who signs it and whom to ask for.
    officer: Officer

    def __post_init__(self) -> None:
        _require_text(type(self).__name__, case_reference=self.case_reference)

    def recipient_role(self, usual: str) -> str:
        """Who this letter goes to: its kind's usual recipient, unless this one is addressed otherwise."""
        return usual


@dataclass(frozen=True, kw_only=True)
class Acknowledgement(LetterContext):
    """We have the referral; what happens next."""

    referral_date: date
    #: Who referred: "your occupational therapist at Staffordshire County Council"; None when the case
    #: does not record it (the letter then names nobody).
    referred_by: str | None
    #: The disabled person the works are for, when not the applicant themself; None otherwise.
    disabled_occupant_name: str | None = None
    #: By when someone will contact the applicant to arrange the assessment.
    next_contact_by: date


@dataclass(frozen=True, kw_only=True)
class AssessmentAppointment(LetterContext):
    """An appointment for the occupational therapy (or trusted assessor) visit."""

    appointment_at: datetime
    assessor_name: str
    #: "occupational therapist", "trusted assessor".
    assessor_role: str
    assessor_organisation: str
    #: Where: "At your home", or an address.
    location: str
    #: The number to call to rearrange.
    rearrange_phone: str


@dataclass(frozen=True, kw_only=True)
class AssessmentCancellation(LetterContext):
    """The booked assessment visit is called off: which visit, and whom to call to arrange another."""

    #: When the cancelled visit was to be (the time on the applicant's clock).
    appointment_at: datetime
    assessor_name: str
    #: The number to call to arrange another visit.
    rearrange_phone: str


@dataclass(frozen=True, kw_only=True)
class TestOfResourcesResult(LetterContext):
    """The result of the means test, with every figure and its rule."""

    __test__ = False  # not a pytest test class, despite the name

    #: passported (a qualifying benefit), child (a disabled child or young person: no test),
    #: landlord (no test), assessed (income and capital assessed).
    outcome: Literal["passported", "child", "landlord", "assessed"]
    #: The outcome in a sentence: "You get Pension Credit (guarantee credit), so you pay nothing."
    outcome_summary: str
    #: The applicant's contribution towards the cost of the works.
    contribution: Pence
    #: The workings, line by line, as the rules engine produced them.
    workings: tuple[WorkingLine, ...]
    #: The rate table used: "England rates from 2 October 2008".
    rates_version: str
    assessment_date: date
    #: True when worked out on the assessment date's rates; the approval date's rates decide at the end.
    provisional: bool = True
    #: By when to query the result.
    query_by: date

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_pence("test of resources", contribution=self.contribution)
        if not self.workings:
            raise InvalidInput("test of resources: workings must not be empty (the letter shows them)")


@dataclass(frozen=True, kw_only=True)
class RequestForInformation(LetterContext):
    """What is missing from the application, and by when we need it."""

    items: tuple[InformationRequest, ...]
    reply_by: date

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.items:
            raise InvalidInput("request for information: items must not be empty")


@dataclass(frozen=True, kw_only=True)
class ValidApplicationReceived(LetterContext):
    """The application is complete: the statutory six-month decision clock has started."""

    valid_application_date: date
    #: Valid application date + 6 calendar months (s.34 of the 1996 Act).
    decision_due: date
    #: That period as the letter says it, from the clock policy in force: "6 months".
    decision_period: str


@dataclass(frozen=True, kw_only=True)
class AssistanceLine:
    """One line of discretionary assistance approved beside the mandatory grant (a top-up, a fast-track
    grant...), with its conditions and its repayment terms, as the council's policy states them."""

    label: str
    amount: Pence
    #: How the amount was arrived at, in a sentence.
    how_calculated: str
    #: Its conditions in a sentence: whether it is means-tested, and what it is given for.
    conditions: str
    #: Its repayment terms in a sentence ("Not repayable; no land charge.").
    repayment: str
    #: Whether the line is secured by a local land charge on the home.
    land_charge: bool = False

    def __post_init__(self) -> None:
        _require_text(
            "assistance line", label=self.label, conditions=self.conditions, repayment=self.repayment
        )
        _require_pence(f"assistance line {self.label!r}", amount=self.amount)


@dataclass(frozen=True, kw_only=True)
class ApprovalNotice(LetterContext):
    """The grant approval: the s.34 notice with every figure explained, and the conditions."""

    approval_date: date
    #: The disabled person the works are for (named in the occupation condition).
    disabled_occupant_name: str
    calculation: GrantCalculation
    #: The contractor whose estimate was selected: the council pays them directly, or the applicant does.
    contractor_name: str
    #: Whether the council "will" (or "may") pay the contractor directly, as the applicant was told before
    #: approval, or "will not" (it pays the applicant, who pays the contractor).
    direct_payment: Literal["will", "may", "will not"]
    #: A date before which the grant will not be paid (s.36), or None.
    deferred_payment_date: date | None = None
    #: Approval date + 12 months: the works must be complete by then (extendable with a reason).
    completion_due: date
    #: That period as the letter says it, from the clock policy in force: "12 months".
    completion_period: str
    #: The conditions the approval states, as recorded with it (the district's standard conditions and any
    #: added for the case); the 12-month completion and the land charge are stated from their own fields.
    conditions: tuple[str, ...] = ()
    #: Years the disabled person must live there after the certified date (the certificate's condition).
    grant_condition_years: int = 5
    #: Repayable on disposal (owner, grant over £5,000): min(£10,000, grant − £5,000); None when it does
    #: not apply.
    land_charge_amount: Pence | None = None
    #: Years after the certified date that the land charge lasts.
    land_charge_years: int = 10
    #: The grant above which the land charge applies (£5,000 by the terms in force on the approval date);
    #: given whenever :attr:`land_charge_amount` is.
    land_charge_threshold: Pence | None = None
    #: Last day to ask for a review of this decision.
    review_by: date
    #: Discretionary assistance approved beside the mandatory grant, line by line (none: the grant alone).
    assistance: tuple[AssistanceLine, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.land_charge_amount is not None:
            _require_pence("approval notice", land_charge_amount=self.land_charge_amount)
            if self.land_charge_threshold is None:
                raise InvalidInput("approval notice: a land charge needs its land_charge_threshold")
            _require_pence("approval notice", land_charge_threshold=self.land_charge_threshold)
        if self.total_assistance > self.calculation.estimated_expense:
            raise InvalidInput("approval notice: the assistance is more than the estimated expense")

    @property
    def total_assistance(self) -> Pence:
        """The mandatory grant and every line of discretionary assistance."""
        return self.calculation.grant + sum(line.amount for line in self.assistance)

    @property
    def applicant_funds(self) -> Pence:
        """What the applicant pays beyond their contribution: the cost neither the grant nor the
        assistance covers (above the maximum grant, say)."""
        return max(
            0, self.calculation.estimated_expense - self.calculation.contribution - self.total_assistance
        )

    @property
    def applicant_pays(self) -> Pence:
        """All the applicant pays: their contribution and anything beyond it."""
        return self.calculation.contribution + self.applicant_funds
        if self.deferred_payment_date is not None and self.deferred_payment_date < self.approval_date:
            raise InvalidInput("approval notice: deferred_payment_date is before the approval date")
        if not all(isinstance(x, str) and x.strip() for x in self.conditions):
            raise InvalidInput("approval notice: a condition must not be empty")


@dataclass(frozen=True, kw_only=True)
class RefusalNotice(LetterContext):
    """The refusal, with the council's finding on each statutory test made explicit."""

    decision_date: date
    valid_application_date: date
    #: Are the works for a purpose in s.23 of the 1996 Act?
    purpose: Finding
    #: Are they necessary and appropriate to meet the disabled person's needs (s.24(3)(a))?
    necessary_and_appropriate: Finding
    #: Is it reasonable and practicable to carry them out, given the age and condition of the dwelling
    #: (s.24(3)(b))?
    reasonable_and_practicable: Finding
    #: Any other reason: "the works were completed before approval (s.29)".
    other_reasons: tuple[str, ...] = ()
    #: Last day to ask for a review.
    review_by: date

    def __post_init__(self) -> None:
        super().__post_init__()
        findings = (self.purpose, self.necessary_and_appropriate, self.reasonable_and_practicable)
        if all(f.met for f in findings) and not self.other_reasons:
            raise InvalidInput("refusal notice: every test is met and there is no other reason to refuse")


@dataclass(frozen=True, kw_only=True)
class ReapprovalVariation(LetterContext):
    """A variation redetermined the approval: the new expense and grant, each with how calculated."""

    original_approval_date: date
    reapproval_date: date
    #: Why the works changed: "The floor joists were found to be rotten when the bath was removed."
    reason: str
    #: The changes to the works, priced (negative for work left out).
    changes: tuple[PricedItem, ...]
    #: The grant before this change.
    previous_grant: Pence
    #: The new figures in full.
    calculation: GrantCalculation
    completion_due: date
    review_by: date

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_pence("re-approval", previous_grant=self.previous_grant)
        if not self.changes:
            raise InvalidInput("re-approval: changes must not be empty")


@dataclass(frozen=True, kw_only=True)
class _SiteLetter(LetterContext):
    """A letter to the contractor about works at an applicant's home."""

    #: The council's works order number.
    order_number: str
    applicant_name: str
    #: The address of the works, postcode last.
    site_address: tuple[str, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_text(type(self).__name__, order_number=self.order_number, applicant_name=self.applicant_name)
        if not self.site_address:
            raise InvalidInput(f"{type(self).__name__}: site_address must not be empty")


@dataclass(frozen=True, kw_only=True)
class WorksOrder(_SiteLetter):
    """The order to the contractor to carry out the approved works."""

    #: The contractor's estimate the order accepts: "Q-2041 of 12 May 2027".
    estimate_reference: str
    #: The works and their prices, as approved (the accepted estimate, and any variation since).
    works: tuple[PricedItem, ...]
    #: The date of the order: the work may start from then, on a day agreed with the applicant.
    start_from: date
    #: The completion due date: approval + 12 months, and any extension recorded before the order.
    complete_by: date
    #: Where invoices go: an email address or a postal address on one line.
    invoice_to: str
    #: The most the council pays before completion, as a percentage of the approved grant (each payment
    #: only for work done).
    interim_limit_percent: int = 90
    #: True when the council pays the grant to the contractor directly; False when it pays the applicant.
    paid_directly: bool = True
    #: A phone number for access, agreed with the applicant; None to arrange through the officer.
    site_contact_phone: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.works:
            raise InvalidInput("works order: works must not be empty")
        for item in self.works:
            _require_pence(f"works order {item.description!r}", amount=item.amount)
        if self.complete_by < self.start_from:
            raise InvalidInput("works order: complete_by is before start_from")

    @property
    def order_total(self) -> Pence:
        """The total price of the order."""
        return _total(self.works)


@dataclass(frozen=True, kw_only=True)
class VariationOrder(_SiteLetter):
    """An authorised, priced change to a works order (before the work is done)."""

    variation_number: int
    #: The changes, priced: positive for extra work, negative for work left out.
    changes: tuple[PricedItem, ...]
    reason: str
    #: The order total before this variation.
    previous_order_total: Pence
    authorised_by: str
    authorised_by_role: str
    authorised_on: date
    #: Who countersigned the variation, above the first approver's delegated limit; None when no one had to.
    countersigned_by: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.changes:
            raise InvalidInput("variation order: changes must not be empty")
        _require_pence("variation order", previous_order_total=self.previous_order_total)
        if self.new_order_total < 0:
            raise InvalidInput("variation order: the new order total is negative")

    @property
    def change_total(self) -> Pence:
        """The net price of this variation (negative when work is left out)."""
        return _total(self.changes)

    @property
    def new_order_total(self) -> Pence:
        """The order total after this variation."""
        return self.previous_order_total + self.change_total


@dataclass(frozen=True, kw_only=True)
class InterimPayment(_SiteLetter):
    """A remittance advice: a payment on account of work done, or the final payment once the works are
    certified (:attr:`final`)."""

    #: The payment's number among the payments on the order, the final one included.
    payment_number: int
    #: The contractor's invoice this pays, or None when none was received before the payment.
    invoice_reference: str | None = None
    #: For an interim payment, the valuation of the work done to date; for the final payment, the grant
    #: payable for the certified work (so nothing is held back).
    valuation_amount: Pence
    #: When the work was valued (an interim payment) or certified complete (the final payment).
    valuation_date: date
    #: Who valued or certified the work, with their job title.
    valued_by: str
    #: Payments already made on this order.
    previous_payments: Pence
    #: This payment.
    amount: Pence
    payment_date: date
    #: The reference the payment carries on the contractor's bank statement.
    payment_reference: str
    #: The final payment after the certified date, not an interim payment.
    final: bool = False
    #: The approval said the council pays the applicant, not the contractor: the advice goes to them.
    paid_to_applicant: bool = False
    #: For the final payment: the invoices for the works it is paid against, in all.
    invoice_amount: Pence | None = None
    #: For the final payment: the applicant's share of the works (their contribution, and anything the
    #: assistance does not cover), which the applicant pays the contractor, not the grant.
    applicant_share: Pence | None = None

    def recipient_role(self, usual: str) -> str:
        return "applicant" if self.paid_to_applicant else usual

    @property
    def above_approved(self) -> Pence:
        """The part of the invoices above the approved works, which the grant does not pay."""
        if self.invoice_amount is None or self.applicant_share is None:
            return 0
        return max(0, self.invoice_amount - self.applicant_share - self.valuation_amount)

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_pence(
            "interim payment",
            valuation_amount=self.valuation_amount,
            previous_payments=self.previous_payments,
            amount=self.amount,
        )
        if self.retained < 0:
            raise InvalidInput("interim payment: previous payments and this payment exceed the valuation")
        if self.final and self.retained:
            raise InvalidInput("final payment: it must pay everything left of the valuation")

    @property
    def retained(self) -> Pence:
        """What the council holds back until completion: valuation less all payments."""
        return self.valuation_amount - self.previous_payments - self.amount

    @property
    def payment_name(self) -> str:
        """Which payment this is, as the letter names it: "interim payment number 2", "final payment"."""
        return "final payment" if self.final else f"interim payment number {self.payment_number}"


@dataclass(frozen=True, kw_only=True)
class CompletionReminder(_SiteLetter):
    """A reminder to the contractor, ahead of the completion due date: finish the work by then, or ask for
    an extension."""

    #: The date of the works order the reminder is about.
    ordered_on: date
    #: The completion due date as it stood when the reminder was queued: approval + 12 months, moved by
    #: any extension recorded by then.
    complete_by: date

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.complete_by < self.ordered_on:
            raise InvalidInput("completion reminder: complete_by is before the works order")


@dataclass(frozen=True, kw_only=True)
class CompletionCertified(LetterContext):
    """The works are certified complete: the date, the final figures and the conditions now running."""

    certified_date: date
    #: The grant paid in total for the works: what was paid on account while they went on, and the rest
    #: now they are certified.
    grant_paid: Pence
    #: Who the grant is paid to: the contractor ("Brightwell Builders Ltd"), or "you".
    paid_to: str
    #: Certified date + the grant condition period (5 years).
    grant_condition_end: date
    disabled_occupant_name: str
    #: The land charge and when it ends, when one applies; both None otherwise.
    land_charge_amount: Pence | None = None
    land_charge_expiry: date | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_pence("completion", grant_paid=self.grant_paid)
        if (self.land_charge_amount is None) != (self.land_charge_expiry is None):
            raise InvalidInput("completion: give both land_charge_amount and land_charge_expiry, or neither")


@dataclass(frozen=True, kw_only=True)
class LandChargeNotice(LetterContext):
    """A local land charge now secures part of the grant against the home."""

    property_address: tuple[str, ...]
    grant: Pence
    #: min(£10,000, grant − £5,000), repayable if the home is disposed of before :attr:`expiry`.
    land_charge_amount: Pence
    #: The grant above which the charge applies: the floor of the charge's terms (£5,000).
    land_charge_threshold: Pence
    certified_date: date
    registered_on: date
    #: Certified date + 10 years.
    expiry: date

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_pence(
            "land charge",
            grant=self.grant,
            land_charge_amount=self.land_charge_amount,
            land_charge_threshold=self.land_charge_threshold,
        )
        if not self.property_address:
            raise InvalidInput("land charge: property_address must not be empty")


@dataclass(frozen=True, kw_only=True)
class HoldNotice(LetterContext):
    """The case is paused, why, and when we will look at it again."""

    hold_date: date
    reason: str
    review_date: date
    #: What would let the case go on: "Let us know when you are home from hospital."
    next_steps: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class WithdrawalNotice(LetterContext):
    """We confirm the applicant's withdrawal."""

    withdrawal_date: date
    #: The applicant's reason, as they gave it.
    reason: str
    next_steps: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ClosureNotice(LetterContext):
    """The case is closed, why, and what the reader can do now."""

    closure_date: date
    #: The closure reason in plain words: "The adaptation work is finished and paid for."
    reason: str
    next_steps: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RepaymentDemand(LetterContext):
    """A demand to repay grant under a grant condition or the land charge, with the discretion considered."""

    property_address: tuple[str, ...]
    certified_date: date
    grant: Pence
    #: What happened: "You sold your home on 4 June 2030."
    event: str
    event_date: date
    #: The condition and the arithmetic: "Land charge: grant £12,500.00 less £5,000.00 (maximum £10,000)."
    basis: str
    #: The council's consideration of whether to ask for less or nothing, and its reasons.
    discretion_considered: str
    amount: Pence
    pay_by: date
    #: The reference to quote when paying.
    payment_reference: str
    review_by: date

    def __post_init__(self) -> None:
        super().__post_init__()
        _require_pence("repayment demand", grant=self.grant, amount=self.amount)
        _require_text("repayment demand", basis=self.basis, discretion_considered=self.discretion_considered)
        if self.amount > self.grant:
            raise InvalidInput("repayment demand: the amount is more than the grant")


# --------------------------------------------------------------------------------------------------------
# Branding configuration


def load_branding(district: str, *, templates_dir: Path | None = None) -> Branding:
    """The letterhead of ``district`` (a code such as ``STA``) from ``branding.toml``.

    Raises :class:`InvalidInput` for an unknown district and :class:`ConfigurationError` for a malformed
    file.
    """
    councils = _load_branding_file(templates_dir or letter_templates_dir())
    try:
        return councils[district]
    except KeyError:
        known = ", ".join(sorted(councils))
        raise InvalidInput(f"no letter branding for district {district!r}; known: {known}") from None


def _toml_strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ConfigurationError(f"{where}: expected a list of strings")
    return tuple(value)


@cache
def _load_branding_file(templates_dir: Path) -> Mapping[str, Branding]:
    path = templates_dir / "branding.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    districts = data.get("districts")
    if not isinstance(districts, dict) or not districts:
        raise ConfigurationError(f"{path}: expected [districts.<CODE>] tables")
    councils: dict[str, Branding] = {}
    for code, table in districts.items():
        where = f"{path} [districts.{code}]"
        if not isinstance(table, dict):
            raise ConfigurationError(f"{where}: expected a table")
        fields = dict(table)
        try:
            fields["address_lines"] = _toml_strings(f"{where} address_lines", fields.get("address_lines"))
            branding = Branding(district=code, **fields)
        except (TypeError, InvalidInput) as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        if branding.logo is not None and not (templates_dir / "branding" / branding.logo).is_file():
            raise ConfigurationError(f"{where}: logo file branding/{branding.logo} does not exist")
        councils[code] = branding
    return councils
