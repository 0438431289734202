"""Letters from the works and the money: a case walked through the real services, from approval to a
repayment demand, and every letter read back from its PDF.

Each letter shows what was true at its own step: the works order, rendered after a variation and an
extension, still orders the works as they were approved when it was issued; the remittance advice of
each payment shows that payment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from dfg.letters.render import longdate
from dfg.services.approval import ApprovalTerms, vary_works
from dfg.services.case_history import history
from dfg.services.contractors import update_contractor
from dfg.services.land_charge import record_repayment_decision
from dfg.services.letter_batch import RenderReport, pending_letters, render_pending
from dfg.services.letter_queue import LetterRecord
from dfg.services.letter_register import letter_pdf, reprint
from dfg.services.payments import pay_interim
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import approve, extend_completion, take_step
from tests.letters.letter_pdfs import INTERNAL, flat_text, text_runs

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)  # when the letters are produced: 20 November 2026

BEFORE_APPROVAL = (
    ("accept_referral", "officer", date(2026, 1, 7)),
    ("record_assessment", "ot", date(2026, 2, 10)),
    ("complete_test_of_resources", "officer", date(2026, 3, 2)),
    ("receive_application", "officer", date(2026, 3, 16)),
    ("validate_application", "officer", date(2026, 3, 20)),
)
GRANT = 8_450_00  # the contribution is £10,199.45, so the works are £18,649.45
CASTLE = "Castle Works, Tamworth B79 7NH"  # as the register keeps it: one line, postcode last


def step(db: Database, cast: dict[str, Actor], reference: str, trigger: str, who: str, on: date) -> None:
    take_step(db, cast, reference, trigger, who, TriggerInput(on=on))


def approved(
    db: Database, cast: dict[str, Actor], reference: str, terms: ApprovalTerms | None = None
) -> None:
    for trigger, who, on in BEFORE_APPROVAL:
        step(db, cast, reference, trigger, who, on)
    approve(db, cast, reference, GRANT, on=date(2026, 4, 1), terms=terms)


def register_castle(db: Database, cast: dict[str, Actor]) -> None:
    update_contractor(db, cast["admin"], "Castle Adaptations", contact_name="Tom Bloor", address=CASTLE)


def render(db: Database, cast: dict[str, Actor]) -> RenderReport:
    report = render_pending(db, cast["officer"], workers=1, now=NOW)
    assert report.failed == ()
    return report


def text_of(db: Database, cast: dict[str, Actor], letter: LetterRecord) -> str:
    """The letter's text; a reference broken over two lines after a hyphen is joined up again."""
    return re.sub(r"(?<=\w)- (?=\w)", "-", flat_text(letter_pdf(db, cast["officer"], letter.id)))


def assert_shows(text: str, *facts: str) -> None:
    missing = [fact for fact in facts if fact not in text]
    assert not missing, f"not in the letter: {missing}\n{text}"
    # And nothing the reader has no use for: a policy file, a key, the officer's shorthand.
    assert not INTERNAL.findall(text), f"internal text in the letter: {INTERNAL.findall(text)}"


@pytest.fixture
def case(open_sample: Callable[..., str]) -> str:
    return open_sample(referral_source="county OT")


def test_every_letter_of_the_works_shows_its_own_step(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    approved(db, cast, case)
    step(db, cast, case, "order_works", "officer", date(2026, 4, 10))

    # The contractor has no address on the register: their letter waits, saying how to record it; the
    # approval notice, which only names them, is produced.
    first = render(db, cast)
    approval_notice = next(x for x in first.produced if x.kind == "approval_notice")
    (waiting,) = first.waiting
    assert waiting.kind == "works_order"
    assert waiting.reason == (
        "Castle Adaptations has no address on the contractor register (record it with "
        '\'dfg contractor update "Castle Adaptations" --address "..."\')'
    )
    register_castle(db, cast)

    # The works go on while the works order waits: a variation, an extension, payments, the land charge.
    step(db, cast, case, "start_on_site", "officer", date(2026, 4, 20))
    extend_completion(db, cast, case, months=3, reason="Stairlift rail on back order", at=datetime.now(UTC))
    add_user(db, "admin", username="deputy", full_name="Dana Deputy", roles=["approver"],
             approval_limit_pence=30_000_00)  # fmt: skip
    vary_works(db, cast["approver"], case, change="Replace the rotten floor joists under the bathroom",
               price_change_pence=1_200_00, second_approver="deputy", on=date(2026, 5, 5))  # fmt: skip
    pay_interim(
        db, cast["officer"], case, amount_pence=5_000_00, work_done_pence=7_000_00, on=date(2026, 6, 1)
    )
    for trigger, who, on in (
        ("complete_works", "technical", date(2026, 6, 15)),
        ("certify", "technical", date(2026, 6, 20)),
        ("pay_final", "officer", date(2026, 6, 25)),
        ("close", "officer", date(2026, 7, 1)),
    ):
        step(db, cast, case, trigger, who, on)
    record_repayment_decision(
        db, cast["approver"], case, disposal_on=date(2026, 10, 1), decision="part", amount_pence=2_000_00,
        factors=["hardship"], reason="Mrs Holt sold to pay for residential care", on=date(2026, 10, 20),
    )  # fmt: skip

    report = render(db, cast)
    assert report.waiting == ()
    assert pending_letters(db, cast["officer"], case) == []
    letters = sorted(report.produced, key=lambda x: x.event_id)
    assert [x.kind for x in letters] == [
        "works_order", "reapproval_variation", "variation_order", "interim_payment", "completion_certified",
        "interim_payment", "land_charge_notice", "closure_notice", "repayment_demand",
    ]  # fmt: skip
    by_kind = {x.kind: x for x in letters}
    interim, final = [x for x in letters if x.kind == "interim_payment"]
    # Rendered on 20 November, each is dated its own step's date.
    said = {e.seq: json.loads(e.payload) for e in history(db, cast["officer"], case)}
    step_of = {p["letter"]: p["step"] for p in said.values() if "sha256" in p}
    for letter in letters:
        step_date = date.fromisoformat(said[step_of[letter.id]]["effective_date"])
        letter_text = text_of(db, cast, letter)
        assert f"Date: {longdate(step_date)}" in letter_text, letter.kind
        assert "Date: 20 November 2026" not in letter_text, letter.kind
    contractor_letters = [by_kind["works_order"], by_kind["variation_order"], interim, final]
    for letter in contractor_letters:
        assert (letter.recipient_name, letter.recipient_role) == ("Castle Adaptations", "contractor")
        assert_shows(
            text_of(db, cast, letter), "Castle Adaptations", "Castle Works", "Tamworth", "B79 7NH",
            "Dear Tom Bloor", f"WO-{case}", "Mrs Margaret Holt", "12 Mill Lane, Cannock, WS11 1AA",
        )  # fmt: skip
    for kind in ("reapproval_variation", "completion_certified", "land_charge_notice", "repayment_demand"):
        assert by_kind[kind].recipient_name == "Mrs Margaret Holt"

    # The works order shows the approval in force when the works were ordered, not the later variation,
    # and the completion date before the extension granted after the order.
    works_order = text_of(db, cast, by_kind["works_order"])
    assert_shows(
        works_order,
        "Please carry out the work as set out in your estimate of 1 April 2026.",
        "Stairlift (straight); Level-access shower or wet room",
        "Total price of this order £18,649.45",
        "The work may start from 10 April 2026",
        "Finish the work by 1 April 2027",
        "The contract for the works is between the applicant, Mrs Margaret Holt, and you.",
        "The council pays the grant towards the cost directly to you",
        "up to 90% of the grant",
        "Send invoices to",
    )
    assert "£19,849.45" not in works_order

    variation = text_of(db, cast, by_kind["variation_order"])
    assert_shows(
        variation,
        f"This is variation number 1 to works order WO-{case}",
        "Replace the rotten floor joists under the bathroom",
        "Order total before this variation £18,649.45",
        "This variation £1,200.00",
        "New order total £19,849.45",
        "Authorised by Approver, Approver (delegated authority), and countersigned by Dana Deputy, on 5 May 2026.",
    )

    reapproval = text_of(db, cast, by_kind["reapproval_variation"])
    assert_shows(
        reapproval,
        "On 1 April 2026 we approved a Disabled Facilities Grant for you",
        "on 5 May 2026 we worked out your grant again",
        "Your grant was £8,450.00. It is now £9,650.00.",
        "The price of the change, approved on 5 May 2026",
        "The works as approved before this change, £18,649.45, and the change, £1,200.00: £19,849.45.",
        "Cost of the works £19,849.45",
        "The total cost, £19,849.45, less your contribution, £10,199.45, is £9,650.00.",
        "The work must still be finished by 1 July 2027.",  # 12 months, and the 3-month extension
        "by 2 June 2026",  # review by: 28 days from the decision of 5 May, the date the letter carries
    )

    interim_text = text_of(db, cast, interim)
    assert_shows(
        interim_text,
        "We are making interim payment number 1 for the work for Mrs Margaret Holt",
        "Amount paid: £5,000.00",
        "Payment date: 1 June 2026. Payment reference: " + f"{case}-P1.",
        "Value of work done to date Valued by Officer, Grant officer on 1 June 2026 £7,000.00",
        "Less payments already made £0.00",
        "Less amount held until the work is finished £2,000.00",
    )
    assert "invoice" not in interim_text.split("Amount paid")[0]  # no invoice was received before it
    assert_shows(
        text_of(db, cast, final),
        "We are making the final payment, against your invoice INV-1",
        "it is payment number 2 on this order",
        "Amount paid: £4,650.00",
        f"{case}-P2",
        "Certified as finished by Technical, Technical officer on 20 June 2026 £9,650.00",
        "Less payments already made £5,000.00",
        "Less amount held until the work is finished £0.00",
    )

    assert_shows(
        text_of(db, cast, by_kind["completion_certified"]),
        "Date we certified the work as finished 20 June 2026",
        "£9,650.00, paid to Castle Adaptations",
        "Until 20 June 2031, Margaret Holt should live in the home",
        "local land charge for £4,650.00 on your home, which lasts until 20 June 2036",
    )
    assert_shows(
        text_of(db, cast, by_kind["land_charge_notice"]),
        "Your Disabled Facilities Grant of £9,650.00 paid for adaptation work to 12 Mill Lane, Cannock, WS11 1AA",
        "We certified the work as finished on 20 June 2026",
        "on 1 July 2026",  # registered, as recorded
        "Amount of the land charge £4,650.00",
        "The land charge ends on 20 June 2036",
    )
    assert_shows(
        text_of(db, cast, by_kind["repayment_demand"]),
        "We paid a Disabled Facilities Grant of £9,650.00",
        "Your home was sold, given away or transferred to someone else (on 1 October 2026)",
        "for £4,650.00: the grant of £9,650.00 less £5,000.00, at most £10,000.00",
        "We took into account that: repaying would cause the owner financial hardship.",
        "Mrs Holt sold to pay for residential care.",
        "We have therefore decided to ask you to repay £2,000.00 of the £4,650.00.",
        "Amount to repay: £2,000.00",
        f"Please pay by 17 November 2026, quoting payment reference {case}-LC.",  # 28 days from 20 October
    )

    # A reprint is made again from the same step: it still shows what the letter said then.
    copy = reprint(db, cast["officer"], by_kind["works_order"].id, now=NOW)
    assert " ".join(text_of(db, cast, copy).replace("COPY", " ").split()) == works_order
    notice = text_of(db, cast, reprint(db, cast["officer"], approval_notice.id, now=NOW))
    assert_shows(notice, "Your grant: £8,450.00", "£3,450.00", "by 1 April 2027")
    assert "£9,650.00" not in notice


def test_the_approval_notice_names_the_contractor_and_the_recorded_terms(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    terms = ApprovalTerms(
        deferred_payment_date=date(2026, 9, 1),
        pay_contractor_directly=False,
        conditions=("The ramp must be fitted before the shower is used.",),
    )
    approved(db, cast, case, terms)
    (letter,) = [x for x in render(db, cast).produced if x.kind == "approval_notice"]
    assert_shows(
        text_of(db, cast, letter),
        "on 1 April 2026 we approved your application",
        "Your grant: £8,450.00",
        "Stairlift (straight); Level-access shower or wet room",
        "Eligible works £18,649.45: the lowest acceptable estimate, from Castle Adaptations.",
        "£10,199.45",  # the contribution
        "From your test of resources of 2 March 2026",
        # how the grant was worked out, in the reader's words
        "The total cost, £18,649.45, less your contribution, £10,199.45, is £8,450.00.",
        "more than £5,000.00, we will register a local land charge",  # the threshold, from the terms
        "We will not pay the grant directly to your contractor, Castle Adaptations. We will pay it to you",
        "We will not pay the grant before 1 September 2026.",
        "finished within 12 months of the date of this approval, that is by 1 April 2027",  # from the policy
        # the district's standard conditions and the case's own, as recorded with the approval
        "acceptable invoice or receipt is received",
        "The ramp must be fitted before the shower is used.",
        "for 5 years after",
        "£3,450.00",  # the land charge: an owner, grant over £5,000: £8,450.00 − £5,000.00
        "Date: 1 April 2026",  # the approval's date, not the day it was produced
        "by 29 April 2026",  # review by: 28 days from the approval
    )


def test_payments_to_the_applicant_send_the_advice_to_the_applicant(
    db: Database, cast: dict[str, Actor], case: str
) -> None:
    approved(db, cast, case, ApprovalTerms(pay_contractor_directly=False))
    register_castle(db, cast)
    step(db, cast, case, "order_works", "officer", date(2026, 4, 10))
    step(db, cast, case, "start_on_site", "officer", date(2026, 4, 20))
    pay_interim(
        db, cast["officer"], case, amount_pence=1_000_00, work_done_pence=2_000_00, on=date(2026, 5, 1)
    )
    for trigger, who, on in (
        ("complete_works", "technical", date(2026, 6, 15)),
        ("certify", "technical", date(2026, 6, 20)),
    ):
        step(db, cast, case, trigger, who, on)
    report = render(db, cast)
    produced = {x.kind: x for x in report.produced}
    assert_shows(
        text_of(db, cast, produced["works_order"]),
        "The council pays the grant to the applicant, who pays you.",
    )
    assert_shows(text_of(db, cast, produced["completion_certified"]), "£8,450.00, paid to you")
    assert report.waiting == ()
    advice = produced["interim_payment"]
    assert (advice.recipient_name, advice.recipient_role) == ("Mrs Margaret Holt", "applicant")
    assert_shows(
        text_of(db, cast, advice), "We are paying you the", "£1,000.00", "Please pay your contractor"
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("Castle Works, Tamworth", "does not end with a postcode"),
        ("B79 7NH", "needs 1 to 5 lines before the postcode"),
    ],
)
def test_a_contractor_address_the_envelope_cannot_take_makes_the_letter_wait(
    db: Database, cast: dict[str, Actor], case: str, address: str, why: str
) -> None:
    approved(db, cast, case)
    update_contractor(db, cast["admin"], "Castle Adaptations", address=address)
    step(db, cast, case, "order_works", "officer", date(2026, 4, 10))
    (waiting,) = render(db, cast).waiting
    assert waiting.kind == "works_order" and why in str(waiting.reason)
    update_contractor(db, cast["admin"], "Castle Adaptations", address="Castle Works,\nTamworth b79 7nh")
    (letter,) = render(db, cast).produced
    lines = [run.text for run in text_runs(letter_pdf(db, cast["officer"], letter.id)) if run.page == 1]
    start = lines.index("Castle Adaptations")  # the envelope window: name, address lines, postcode
    assert lines[start : start + 4] == ["Castle Adaptations", "Castle Works", "Tamworth", "B79 7NH"]
