"""Discretionary assistance in the approval notice: each line's amount, the total, what the applicant pays
beyond their contribution, each line's conditions and repayment terms; and the land charge a top-up's
terms carry, registered and reported. Read back from the rendered PDF."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from dfg.services.approval import ApprovalTerms, approval_versions, approve_grant
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.services.land_charge import land_charge_view
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import letter_pdf
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import HOUSEHOLD_CONTRIBUTION, prepare_works, take_step
from tests.letters.letter_pdfs import flat_text

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
WORKS = 59_000_00  # less the £10,199.45 contribution: £48,800.55, beyond the £30,000 maximum


def test_a_top_up_is_in_the_notice_with_its_terms_and_its_land_charge(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, on in (
        ("accept_referral", "officer", date(2026, 1, 7)),
        ("record_assessment", "ot", date(2026, 2, 10)),
        ("complete_test_of_resources", "officer", date(2026, 3, 2)),
        ("receive_application", "officer", date(2026, 3, 16)),
        ("validate_application", "officer", date(2026, 3, 20)),
    ):
        take_step(db, cast, reference, trigger, who, TriggerInput(on=on))
    prepare_works(db, cast)
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=WORKS, received_on=date(2026, 3, 20))  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id, on=date(2026, 3, 25))
    calculate_case_grant(db, cast["officer"], reference, funding_lines=["top_up"], on=date(2026, 4, 1))
    add_user(db, "admin", username="deputy", full_name="Dana Deputy", roles=["approver"],
             approval_limit_pence=60_000_00)  # fmt: skip
    approve_grant(
        db, cast["approver"], reference, ApprovalTerms(second_approver="deputy"), on=date(2026, 4, 1)
    )

    approval = approval_versions(db, cast["officer"], reference)[-1]
    assert approval.funding == {"mandatory": 30_000_00, "top_up": 15_000_00}
    beyond = WORKS - HOUSEHOLD_CONTRIBUTION - 45_000_00
    assert beyond == 3_800_55

    report = render_pending(db, cast["officer"], workers=1, now=NOW)
    assert report.failed == ()
    notice = next(x for x in report.produced if x.kind == "approval_notice")
    text = re.sub(r"\s+", " ", flat_text(letter_pdf(db, cast["officer"], notice.id)))
    for fact in (
        "Your grant and assistance: £45,000.00",
        "The Disabled Facilities Grant of £30,000.00, and discretionary top-up above the mandatory maximum "
        "of £15,000.00",
        "Total grant and assistance £45,000.00",
        "Your contribution £10,199.45",
        "not cover £3,800.55",
        "You pay in all £14,000.00",
        "It is means-tested",
        "Repayable in full if the dwelling is disposed of within 10 years of the certified date",
        # the mandatory grant's £10,000.00 (£30,000 less £5,000, at most £10,000) and the top-up in full
        "land charge on your home for £25,000.00",
        "The charge includes the discretionary top-up above the mandatory maximum of £15,000.00",
    ):
        assert fact in text, f"{fact!r} is not in the approval notice:\n{text}"

    charge = land_charge_view(db, cast["officer"], reference)
    assert (charge.applies, charge.repayable_pence, charge.charged_lines_pence) == (
        True,
        25_000_00,
        15_000_00,
    )
    assert charge.as_dict()["charged_lines_pence"] == 15_000_00
