"""Each line of the grant paid to whom it is due, and the remittance advice that says so: the officer's
guide's worked example (a £6,200.00 invoice, a 15% agency fee in the grant, a £637.16 contribution),
reconciled to the penny and read back from the PDF."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from dfg.errors import InvalidInput
from dfg.rules.grant import ChargeRequest
from dfg.services.approval import approval_versions, approve_grant
from dfg.services.assessment import run_means_test
from dfg.services.cases import advance
from dfg.services.contractors import update_contractor
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import letter_pdf
from dfg.services.payments import money_view, pay_final, pay_interim, record_invoice
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import HOUSEHOLD, prepare_works, take_step
from tests.letters.letter_pdfs import flat_text

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
#: The worked example's household: £189.15 a week, which contributes £637.16.
EXAMPLE_HOUSEHOLD = {
    **copy.deepcopy(HOUSEHOLD),
    "weekly_income": [{"kind": "earnings_net", "amount": "189.15"}],
}


def step(db: Database, cast: dict[str, Actor], reference: str, trigger: str, who: str, on: date) -> None:
    take_step(db, cast, reference, trigger, who, TriggerInput(on=on))


@pytest.fixture
def approved(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """The worked example approved: works £6,200.00, agency fee 15% £930.00, contribution £637.16."""
    reference = open_sample()
    step(db, cast, reference, "accept_referral", "officer", date(2026, 1, 7))
    step(db, cast, reference, "record_assessment", "ot", date(2026, 2, 10))
    run_means_test(db, cast["officer"], reference, EXAMPLE_HOUSEHOLD, on=date(2026, 3, 2))
    advance(db, cast["officer"], reference, "complete_test_of_resources", TriggerInput(on=date(2026, 3, 2)))
    step(db, cast, reference, "receive_application", "officer", date(2026, 3, 16))
    step(db, cast, reference, "validate_application", "officer", date(2026, 3, 20))
    prepare_works(db, cast)
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=6_200_00, received_on=date(2026, 3, 20))  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id, on=date(2026, 3, 25))
    calculate_case_grant(
        db, cast["officer"], reference, charges=[ChargeRequest("agency_fee")], on=date(2026, 4, 1)
    )
    approve_grant(db, cast["approver"], reference, on=date(2026, 4, 1))
    step(db, cast, reference, "order_works", "officer", date(2026, 4, 10))
    step(db, cast, reference, "start_on_site", "officer", date(2026, 4, 20))
    return reference


def test_the_worked_example_pays_each_line_to_whom_it_is_due(
    db: Database, cast: dict[str, Actor], approved: str
) -> None:
    approval = approval_versions(db, cast["officer"], approved)[-1]
    assert (approval.works_pence, approval.charges_pence) == (6_200_00, 930_00)
    assert (approval.contribution_pence, approval.grant_pence) == (637_16, 6_492_84)
    # an interim payment is for the works: at most 90% of the grant's £5,562.84 for them (£5,006.55)
    with pytest.raises(InvalidInput, match=r"90% of the approved £5,562.84 for the works \(£5,006.55\)"):
        pay_interim(db, cast["officer"], approved, amount_pence=5_006_56, work_done_pence=6_000_00)
    pay_interim(
        db, cast["officer"], approved, amount_pence=3_000_00, work_done_pence=4_000_00, on=date(2026, 5, 1)
    )
    step(db, cast, approved, "complete_works", "technical", date(2026, 6, 15))
    step(db, cast, approved, "certify", "technical", date(2026, 6, 20))
    record_invoice(db, cast["officer"], approved, supplier="Castle Adaptations", invoice_reference="INV-6200",
                   amount_pence=6_200_00, received_on=date(2026, 6, 21))  # fmt: skip
    pay_final(db, cast["officer"], approved, on=date(2026, 6, 25))

    money = money_view(db, cast["officer"], approved)
    paid = [(p["kind"], p["payee"], p["paid_for"], p["amount_pence"]) for p in money.payments]
    assert paid == [
        ("interim", "contractor", "works", 3_000_00),
        ("final", "contractor", "works", 2_562_84),
        ("final", "agency", "agency_fee", 930_00),
    ]
    to_contractor = sum(p[3] for p in paid if p[1] == "contractor")
    # the invoice is met by the grant and the applicant's contribution; the fee by the grant alone
    assert to_contractor + approval.contribution_pence == 6_200_00
    assert to_contractor + 930_00 == money.paid_pence == approval.grant_pence
    assert money.outstanding_pence == 0

    update_contractor(db, cast["admin"], "Castle Adaptations", contact_name="Tom Bloor",
                      address="Castle Works, Tamworth B79 7NH")  # fmt: skip
    report = render_pending(db, cast["officer"], workers=1, now=NOW)
    assert report.failed == () and report.waiting == ()
    final = [x for x in report.produced if x.kind == "interim_payment"][-1]
    text = re.sub(r"(?<=\w)- (?=\w)", "-", flat_text(letter_pdf(db, cast["officer"], final.id)))
    for fact in ("INV-6200", "£6,200.00", "£637.16", "£5,562.84", "£3,000.00", "£2,562.84"):
        assert fact in text, f"{fact} is not in the remittance advice:\n{text}"
    assert "£6,492.84" not in text  # the grant includes the agency's fee, which is not the contractor's


def test_the_works_are_never_paid_beyond_the_invoice(
    db: Database, cast: dict[str, Actor], approved: str
) -> None:
    step(db, cast, approved, "complete_works", "technical", date(2026, 6, 15))
    step(db, cast, approved, "certify", "technical", date(2026, 6, 20))
    # the work came in £200.00 under the approved works: the saving is the grant's, not the contractor's
    record_invoice(db, cast["officer"], approved, supplier="Castle Adaptations", invoice_reference="INV-6000",
                   amount_pence=6_000_00, received_on=date(2026, 6, 21))  # fmt: skip
    pay_final(db, cast["officer"], approved, on=date(2026, 6, 25))
    paid = {p["payee"]: p["amount_pence"] for p in money_view(db, cast["officer"], approved).payments}
    assert paid == {"contractor": 6_000_00 - 637_16, "agency": 930_00}
