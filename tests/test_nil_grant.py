"""An approved nil grant (the contribution is at least the estimated expense): approved and notified like
any other decision, then closed from approval with its own step, since the council orders and pays
nothing. The letters are read back from their PDFs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from dfg.errors import GuardFailed
from dfg.reports.closures import closures
from dfg.services.approval import approval_versions
from dfg.services.case_reading import show_case
from dfg.services.cases import available_actions
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import letter_pdf
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import approve, take_step
from tests.letters.letter_pdfs import flat_text
from tests.letters.test_letters_works import BEFORE_APPROVAL, step

APPROVED_ON = date(2026, 4, 1)
CLOSED_ON = date(2026, 4, 8)


@pytest.fixture
def nil(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A case approved on 1 April 2026 on works priced at exactly the household's contribution."""
    reference = open_sample()
    for trigger, who, on in BEFORE_APPROVAL:
        step(db, cast, reference, trigger, who, on)
    assert approve(db, cast, reference, 0, on=APPROVED_ON) == "approved"
    (approval,) = approval_versions(db, cast["officer"], reference)
    assert (approval.grant_pence, approval.total_assistance_pence) == (0, 0)
    return reference


def test_a_nil_grant_is_not_ordered_and_closes_from_approval_with_its_letter(
    db: Database, cast: dict[str, Actor], nil: str
) -> None:
    officer = cast["officer"]
    with pytest.raises(
        GuardFailed, match="nil grant: nothing is ordered or paid; close it with 'close_nil_grant'"
    ):
        step(db, cast, nil, "order_works", "officer", CLOSED_ON)
    assert show_case(db, officer, nil).state == "approved"
    actions = {a.trigger: a for a in available_actions(db, officer, nil)}
    assert actions["close_nil_grant"].allowed and not actions["order_works"].allowed

    step(db, cast, nil, "close_nil_grant", "officer", CLOSED_ON)
    closed = show_case(db, officer, nil)
    assert (closed.state, closed.milestones["closed_date"]) == ("closed", CLOSED_ON)

    report = render_pending(db, officer, workers=1, now=datetime(2026, 4, 9, 9, tzinfo=UTC))
    assert report.failed == () and report.waiting == ()
    by_kind = {x.kind: x for x in report.produced}
    assert {"approval_notice", "closure_notice"} <= set(by_kind)
    text = flat_text(letter_pdf(db, officer, by_kind["closure_notice"].id))
    for fact in (
        "We have closed your case on 8 April 2026.",
        "the grant we approved is nil: we will not pay for the work or order it.",
        "You may have the work done yourself, at your own cost: our approval notice lists it.",
    ):
        assert fact in text, text

    # The closures report names the outcome.
    rows = closures(db, cast["manager"], start=CLOSED_ON, end=CLOSED_ON, today=CLOSED_ON).by_reason()
    assert [(outcome, cases) for _, outcome, _, _, cases, _ in rows] == [("Nil grant", 1)]


def test_only_a_nil_grant_closes_from_approval(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, on in BEFORE_APPROVAL:
        step(db, cast, reference, trigger, who, on)
    take_step(db, cast, reference, "approve", "approver", TriggerInput(on=APPROVED_ON), grant_pence=8_450_00)
    with pytest.raises(GuardFailed, match=r"gives assistance of £8,450\.00: it is not a nil grant"):
        step(db, cast, reference, "close_nil_grant", "officer", CLOSED_ON)
    assert show_case(db, cast["officer"], reference).state == "approved"
