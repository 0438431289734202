"""A realistic case, as a context for every kind of letter.

Used by the letter tests (``conftest.py``) and by ``tools/render_letter_samples.py`` for the sample
images in ``docs/samples/letters/``. The people, firms and addresses are invented; the figures follow
the rules in ``shared/domain/dfg-process.md`` (grant = expense − contribution; land charge =
min(£10,000, grant − £5,000)).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from dfg.letters import context as c
from dfg.letters.context import load_branding

CASE_REFERENCE = "DFG-STA-2027-00123"
CREATED_AT = datetime(2027, 6, 1, 9, 30, tzinfo=UTC)

APPLICANT = c.Recipient(
    name="Mrs Margaret Oakley",
    address_lines=("14 Meadow View", "Rising Brook", "Stafford"),
    postcode="ST17 9ZZ",
    salutation="Mrs Oakley",
)

CONTRACTOR = c.Recipient(
    name="Brightwell Builders Ltd",
    address_lines=("Unit 4, Example Trading Estate", "Stone Road", "Stafford"),
    postcode="ST16 9ZY",
    salutation="Ms Okafor",
)

OFFICER = c.Officer(
    name="Sam Whitfield",
    job_title="Grants Officer",
    phone="01632 960206",
    email="sam.whitfield@staffordbc.example.gov.uk",
)

SITE = ("14 Meadow View", "Rising Brook", "Stafford", "ST17 9ZZ")

WORKS = (
    c.PricedItem(
        description="Level-access shower room in place of the bath, with grab rails, a fold-down seat "
        "and non-slip flooring",
        amount=895000,
        how_calculated="Lowest of two estimates: Brightwell Builders Ltd £8,950.00 (Q-2041); "
        "Moorside Adaptations £9,420.00",
    ),
    c.PricedItem(
        description="Straight stairlift, supplied and fitted",
        amount=315000,
        how_calculated="Lowest of two quotes: Acorn Stairlifts £3,150.00; Stairway Mobility £3,395.00",
    ),
    c.PricedItem(
        description="Half-step and grab rail at the back door",
        amount=64000,
        how_calculated="Our schedule of rates, as priced by Brightwell Builders Ltd",
    ),
)  # works expense £12,740.00

CHARGES = (
    c.PricedItem(
        description="Home improvement agency fee",
        amount=152880,
        how_calculated="12% of the cost of the works (£12,740.00), as our Housing Assistance Policy sets",
    ),
    c.PricedItem(
        description="Building regulations fee",
        amount=30600,
        how_calculated="Building control charge for a shower room",
    ),
    c.PricedItem(
        description="Asbestos survey",
        amount=18000,
        how_calculated="The surveyor's invoice",
    ),
)  # charges £2,014.80; estimated expense £14,754.80

CALCULATION = c.GrantCalculation(
    works=WORKS,
    charges=CHARGES,
    contribution=123461,
    contribution_basis="From your test of resources (our letter of 9 March 2027).",
    grant=1352019,
    grant_basis="Total cost £14,754.80 less your contribution £1,234.61. "
    "This is below the £30,000 maximum grant.",
)


def _common(recipient: c.Recipient = APPLICANT, letter_date: date = date(2027, 6, 1)) -> dict[str, object]:
    return {
        "recipient": recipient,
        "branding": load_branding("STA"),
        "case_reference": CASE_REFERENCE,
        "letter_date": letter_date,
        "officer": OFFICER,
    }


def sample_contexts() -> dict[str, c.LetterContext]:
    """A complete, realistic context for every letter kind, keyed by kind."""
    return {
        "acknowledgement": c.Acknowledgement(
            **_common(letter_date=date(2027, 1, 12)),  # type: ignore[arg-type]
            referral_date=date(2027, 1, 8),
            referred_by="your occupational therapist at Staffordshire County Council",
            next_contact_by=date(2027, 1, 26),
        ),
        "assessment_appointment": c.AssessmentAppointment(
            **_common(letter_date=date(2027, 1, 20)),  # type: ignore[arg-type]
            appointment_at=datetime(2027, 2, 9, 10, 30),
            assessor_name="Priya Shah",
            assessor_role="occupational therapist",
            assessor_organisation="Staffordshire County Council",
            location="At your home",
            rearrange_phone="01632 960210",
        ),
        "assessment_cancellation": c.AssessmentCancellation(
            **_common(letter_date=date(2027, 2, 1)),  # type: ignore[arg-type]
            appointment_at=datetime(2027, 2, 9, 10, 30),
            assessor_name="Priya Shah",
            rearrange_phone="01632 960210",
        ),
        "test_of_resources_result": c.TestOfResourcesResult(
            **_common(letter_date=date(2027, 3, 9)),  # type: ignore[arg-type]
            outcome="assessed",
            outcome_summary="We assessed your income and savings. You need to pay part of the cost.",
            contribution=123461,
            workings=(
                c.WorkingLine(
                    label="Your weekly income", amount=25095, basis="State Pension and a works pension"
                ),
                c.WorkingLine(
                    label="Tariff income from savings",
                    amount=1000,
                    basis="£8,500.00 savings: first £6,000.00 ignored, then £1 a week for each £250",
                ),
                c.WorkingLine(
                    label="Your weekly needs allowance",
                    amount=-20510,
                    basis="Pension age single person £143.80, plus £61.30 for every application (2008 rates)",
                ),
                c.WorkingLine(label="Weekly income above your needs", amount=5585),
                c.WorkingLine(
                    label="Tapered weekly amount",
                    amount=319,
                    basis="5% of the first £47.95, plus 10% of the next £7.90 (£3.1875)",
                ),
                c.WorkingLine(label="Loan factor for an owner", figure="387.33", basis="10-year loan"),
                c.WorkingLine(
                    label="Your contribution", amount=123461, basis="£3.1875 × 387.33, to the nearest penny"
                ),
            ),
            rates_version="the England rates from 2 October 2008",
            assessment_date=date(2027, 3, 2),
            query_by=date(2027, 4, 6),
        ),
        "request_for_information": c.RequestForInformation(
            **_common(letter_date=date(2027, 3, 16)),  # type: ignore[arg-type]
            items=(
                c.InformationRequest(
                    what="Proof that you own your home",
                    why="For example, your Land Registry title or a mortgage statement.",
                ),
                c.InformationRequest(
                    what="Your last three months' bank statements",
                    why="We need these to check your savings for the test of resources.",
                ),
                c.InformationRequest(what="The signed owner's certificate (form DFG3)"),
            ),
            reply_by=date(2027, 4, 13),
        ),
        "valid_application_received": c.ValidApplicationReceived(
            **_common(letter_date=date(2027, 4, 20)),  # type: ignore[arg-type]
            valid_application_date=date(2027, 4, 15),
            decision_due=date(2027, 10, 15),
            decision_period="6 months",
        ),
        "approval_notice": c.ApprovalNotice(
            **_common(letter_date=date(2027, 6, 1)),  # type: ignore[arg-type]
            approval_date=date(2027, 6, 1),
            disabled_occupant_name="Margaret Oakley",
            calculation=CALCULATION,
            contractor_name="Brightwell Builders Ltd",
            direct_payment="will",
            deferred_payment_date=date(2027, 9, 1),
            completion_due=date(2028, 6, 1),
            completion_period="12 months",
            conditions=(
                "The grant is paid only when the works are completed to the council's satisfaction and an "
                "acceptable invoice or receipt is received.",
                "The works must be carried out in accordance with the approved schedule of works; any change "
                "must be approved before it is done.",
            ),
            land_charge_amount=852019,
            land_charge_threshold=500000,
            review_by=date(2027, 6, 29),
        ),
        "refusal_notice": c.RefusalNotice(
            **_common(letter_date=date(2027, 6, 1)),  # type: ignore[arg-type]
            decision_date=date(2027, 6, 1),
            valid_application_date=date(2027, 4, 15),
            purpose=c.Finding(
                met=True,
                reasons="A level-access shower helps you use the bathroom, which is a purpose of the grant.",
            ),
            necessary_and_appropriate=c.Finding(
                met=True,
                reasons="Your occupational therapist recommended it, and we agree.",
            ),
            reasonable_and_practicable=c.Finding(
                met=False,
                reasons="The floor of the bathroom is a suspended timber floor over a cellar that floods. "
                "A shower cannot be fitted safely without rebuilding the floor and tanking the cellar, "
                "which would cost more than the home is worth.",
            ),
            other_reasons=("The work had already started before we could make a decision.",),
            review_by=date(2027, 6, 29),
        ),
        "reapproval_variation": c.ReapprovalVariation(
            **_common(letter_date=date(2027, 8, 10)),  # type: ignore[arg-type]
            original_approval_date=date(2027, 6, 1),
            reapproval_date=date(2027, 8, 10),
            reason="When the bath was taken out, the floor joists underneath were found to be rotten. "
            "They must be replaced before the shower can be fitted.",
            changes=(
                c.PricedItem(
                    description="Replace rotten floor joists under the bathroom",
                    amount=128000,
                    how_calculated="Our technical officer's valuation, agreed with Brightwell Builders Ltd",
                ),
                c.PricedItem(
                    description="Agency fee on the extra work",
                    amount=15360,
                    how_calculated="12% of £1,280.00",
                ),
            ),
            previous_grant=1352019,
            calculation=replace(
                CALCULATION,
                works=(
                    *WORKS,
                    c.PricedItem(
                        description="Replace rotten floor joists under the bathroom",
                        amount=128000,
                        how_calculated="Our technical officer's valuation, agreed with Brightwell Builders Ltd",
                    ),
                ),
                charges=(
                    replace(CHARGES[0], amount=168240, how_calculated="12% of £14,020.00"),
                    *CHARGES[1:],
                ),
                grant=1495379,
                grant_basis="Total cost £16,188.40 less your contribution £1,234.61. "
                "This is below the £30,000 maximum grant.",
            ),
            completion_due=date(2028, 6, 1),
            review_by=date(2027, 9, 7),
        ),
        "works_order": c.WorksOrder(
            **_common(CONTRACTOR, date(2027, 6, 3)),  # type: ignore[arg-type]
            order_number="WO-2027-0456",
            applicant_name="Mrs Margaret Oakley",
            site_address=SITE,
            estimate_reference="Q-2041 of 12 May 2027",
            works=(WORKS[0], WORKS[2]),
            start_from=date(2027, 6, 3),
            complete_by=date(2027, 9, 30),
            invoice_to="invoices@staffordbc.example.gov.uk",
            site_contact_phone="07700 900123",
        ),
        "variation_order": c.VariationOrder(
            **_common(CONTRACTOR, date(2027, 8, 10)),  # type: ignore[arg-type]
            order_number="WO-2027-0456",
            applicant_name="Mrs Margaret Oakley",
            site_address=SITE,
            variation_number=1,
            changes=(
                c.PricedItem(
                    description="Replace rotten floor joists under the bathroom",
                    amount=128000,
                    how_calculated="Agreed on site on 4 August 2027",
                ),
                c.PricedItem(
                    description="Leave out the vinyl to the landing (not needed)",
                    amount=-18500,
                    how_calculated="Your estimate Q-2041, item 14",
                ),
            ),
            reason="Rotten floor joists were found when the bath was removed.",
            previous_order_total=959000,
            authorised_by="Dev Malik",
            authorised_by_role="Technical Officer",
            authorised_on=date(2027, 8, 9),
        ),
        "interim_payment": c.InterimPayment(
            **_common(CONTRACTOR, date(2027, 8, 27)),  # type: ignore[arg-type]
            order_number="WO-2027-0456",
            applicant_name="Mrs Margaret Oakley",
            site_address=SITE,
            payment_number=1,
            invoice_reference="INV-7781",
            valuation_amount=600000,
            valuation_date=date(2027, 8, 20),
            valued_by="Dev Malik, Technical Officer",
            previous_payments=0,
            amount=540000,
            payment_date=date(2027, 8, 27),
            payment_reference="DFG00123-IP1",
        ),
        "completion_reminder": c.CompletionReminder(
            **_common(CONTRACTOR, date(2027, 8, 31)),  # type: ignore[arg-type]
            order_number="WO-2027-0456",
            applicant_name="Mrs Margaret Oakley",
            site_address=SITE,
            ordered_on=date(2027, 6, 3),
            complete_by=date(2027, 9, 30),
        ),
        "completion_certified": c.CompletionCertified(
            **_common(letter_date=date(2027, 10, 8)),  # type: ignore[arg-type]
            certified_date=date(2027, 10, 4),
            grant_paid=1495379,
            paid_to="Brightwell Builders Ltd",
            grant_condition_end=date(2032, 10, 4),
            disabled_occupant_name="Margaret Oakley",
            land_charge_amount=995379,
            land_charge_expiry=date(2037, 10, 4),
        ),
        "land_charge_notice": c.LandChargeNotice(
            **_common(letter_date=date(2027, 10, 22)),  # type: ignore[arg-type]
            property_address=SITE,
            grant=1495379,
            land_charge_amount=995379,
            land_charge_threshold=500000,
            certified_date=date(2027, 10, 4),
            registered_on=date(2027, 10, 20),
            expiry=date(2037, 10, 4),
        ),
        "hold_notice": c.HoldNotice(
            **_common(letter_date=date(2027, 2, 15)),  # type: ignore[arg-type]
            hold_date=date(2027, 2, 15),
            reason="You told us you are in hospital and do not know yet when you will be home.",
            review_date=date(2027, 3, 15),
            next_steps=(
                "Please call us, or ask someone to call for you, when you know your discharge date.",
                "If your needs have changed, your occupational therapist can update the assessment.",
            ),
        ),
        "withdrawal_notice": c.WithdrawalNotice(
            **_common(letter_date=date(2027, 5, 4)),  # type: ignore[arg-type]
            withdrawal_date=date(2027, 5, 3),
            reason="You have decided to pay for the work yourself.",
            next_steps=(
                "We have stopped work on your application and will not contact you again about it.",
                "Your occupational therapist can still give you advice about equipment.",
            ),
        ),
        "closure_notice": c.ClosureNotice(
            **_common(letter_date=date(2027, 11, 1)),  # type: ignore[arg-type]
            closure_date=date(2027, 11, 1),
            reason="The adaptation work is finished and the grant has been paid in full.",
            next_steps=(
                "You do not need to do anything.",
                "Keep this letter with your other papers about your home.",
            ),
        ),
        "repayment_demand": c.RepaymentDemand(
            **_common(letter_date=date(2030, 7, 1)),  # type: ignore[arg-type]
            property_address=SITE,
            certified_date=date(2027, 10, 4),
            grant=1495379,
            event="Your home was sold",
            event_date=date(2030, 6, 4),
            basis="This is within 10 years of the date we certified the work as finished, so the land "
            "charge applies: the grant of £14,953.79 less £5,000.00, which is under the £10,000.00 limit.",
            discretion_considered="You told us you sold your home to buy a smaller one nearer your family. "
            "You did not move for your health or to receive care, and you have money from the sale, so "
            "repaying would not cause you hardship. We have therefore decided to ask for the full amount.",
            amount=995379,
            pay_by=date(2030, 7, 29),
            payment_reference="DFG00123-LC",
            review_by=date(2030, 7, 29),
        ),
    }


def large_print(context: c.LetterContext) -> c.LetterContext:
    """The same letter for a reader who asked for large print."""
    return replace(context, recipient=replace(context.recipient, large_print=True))


#: A name and an address far longer than any envelope holds: 350 and 600 characters.
LONG_NAME = ("Ms " + "Annabel-Rosalind Featherstonehaugh-Cholmondeley " * 8)[:350].strip()
LONG_ADDRESS = tuple(
    ("Flat 12, The Old Rectory Buildings, Upper St Mary's Road, " * 3)[:120] for _ in range(5)
)


def long_named(context: c.LetterContext) -> c.LetterContext:
    """The same letter to a reader with a very long name and address."""
    return replace(context, recipient=replace(context.recipient, name=LONG_NAME, address_lines=LONG_ADDRESS))
