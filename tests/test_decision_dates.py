"""One date for each deadline: the letters, the workflow's guards and the clocks read the same record.

A letter is dated its step's date however late it is rendered; the review date it prints is the day the
workflow closes the review window on, and ``dfg case clocks`` shows; and the s.34 decision clock stops
when the applicant is notified (the notice is produced), not when the decision is recorded. Each date is
read back from the rendered PDF.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest

from dfg.errors import GuardFailed
from dfg.letters.render import longdate
from dfg.rules.clock import ENGLAND
from dfg.services.case_history import history
from dfg.services.cases import advance
from dfg.services.clocks import case_clocks_for
from dfg.services.letter_batch import RenderReport, render_pending
from dfg.services.letter_contexts import build_letters
from dfg.services.letter_queue import read_queue
from dfg.services.letter_register import letter_pdf, reprint
from dfg.services.worklist import due
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step
from tests.letters.letter_pdfs import flat_text

#: To a valid application on Monday 25 May 2026: the decision must be notified by 25 November 2026.
TO_VALID = (
    ("accept_referral", "officer", date(2026, 3, 2)),
    ("record_assessment", "ot", date(2026, 4, 1)),
    ("complete_test_of_resources", "officer", date(2026, 5, 4)),
    ("receive_application", "officer", date(2026, 5, 18)),
    ("validate_application", "officer", date(2026, 5, 25)),
)
DECISION_DUE = date(2026, 11, 25)
REFUSED_ON = date(2026, 11, 16)
REVIEW_BY = date(2026, 12, 14)  # 28 days from the refusal: the shipped review window
RENDERED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # the day the refusal notice was produced
WHY = "The applicant says a through-floor lift will not fit her home"


def at(on: date) -> datetime:
    """Mid-morning in England on ``on``: when a step dated ``on`` was recorded."""
    return datetime.combine(on, time(10), tzinfo=ENGLAND)


def to_valid_application(db: Database, cast: dict[str, Actor], reference: str) -> None:
    for trigger, who, on in TO_VALID:
        take_step(db, cast, reference, trigger, who, TriggerInput(on=on), now=at(on))
        render(db, cast, on)  # each step's letters go out on its day


def render(db: Database, cast: dict[str, Actor], on: date | datetime) -> RenderReport:
    now = on if isinstance(on, datetime) else at(on)
    return render_pending(db, cast["officer"], workers=1, now=now)


def refuse(db: Database, cast: dict[str, Actor], reference: str) -> None:
    advance(db, cast["approver"], reference, "refuse",
            TriggerInput(on=REFUSED_ON, code="not_reasonable_practicable",
                         reason="The stair cannot take a lift; we offered a through-floor lift instead"),
            now=at(REFUSED_ON))  # fmt: skip


def clock(db: Database, actor: Actor, reference: str, name: str, today: date):  # type: ignore[no-untyped-def]
    return {c.name: c for c in case_clocks_for(db, actor, reference, today)}[name]


@pytest.fixture
def refused(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A case refused on 16 November 2026 whose refusal notice was produced on 3 December."""
    reference = open_sample(referral_source="county OT")
    to_valid_application(db, cast, reference)
    refuse(db, cast, reference)
    return reference


def test_a_refusal_rendered_late_is_dated_its_decision_and_gives_the_window_the_workflow_enforces(
    db: Database, cast: dict[str, Actor], refused: str
) -> None:
    report = render(db, cast, RENDERED)
    [notice] = report.produced
    assert notice.kind == "refusal_notice" and notice.created_at == RENDERED
    text = flat_text(letter_pdf(db, cast["officer"], notice.id))
    assert f"on {longdate(REFUSED_ON)} we refused your application" in text
    assert f"by {longdate(REVIEW_BY)}" in text  # the review date: 28 days from the decision
    assert longdate(RENDERED.date()) not in text  # neither dated the render day...
    assert "31 December 2026" not in text  # ...nor 28 days from it

    # dfg case clocks shows the same day for the window
    window = clock(db, cast["officer"], refused, "review_window", date(2026, 12, 5))
    assert (window.start, window.due, window.status) == (REFUSED_ON, REVIEW_BY, "running")

    # and the workflow closes it then: a request the day after is refused, naming that day...
    with pytest.raises(GuardFailed, match="the review window closed on 14/12/2026"):
        advance(db, cast["officer"], refused, "request_review",
                TriggerInput(on=date(2026, 12, 15), reason=WHY, code="applicant_disagrees"), now=at(date(2026, 12, 15)))  # fmt: skip
    # ...the case cannot be closed while it is open...
    with pytest.raises(GuardFailed, match="the review window is open until 14/12/2026"):
        advance(db, cast["officer"], refused, "close_refused", TriggerInput(on=REVIEW_BY), now=at(REVIEW_BY))
    # ...and a request on the last day the letter gives is taken
    request = advance(db, cast["officer"], refused, "request_review",
                      TriggerInput(on=REVIEW_BY, reason=WHY, code="applicant_disagrees"), now=at(REVIEW_BY))  # fmt: skip
    assert request.to_state == "under_review"


def test_the_decision_clock_stops_when_the_notice_is_produced_not_when_the_decision_is_recorded(
    db: Database, cast: dict[str, Actor], refused: str
) -> None:
    # Decided on 16 November, in time; but the applicant has not been told.
    before = clock(db, cast["officer"], refused, "decision_due", date(2026, 11, 20))
    assert (before.due, before.stopped, before.status, before.days_remaining) == (
        DECISION_DUE, None, "running", 5
    )  # fmt: skip
    overdue = clock(db, cast["officer"], refused, "decision_due", date(2026, 11, 30))
    assert (overdue.stopped, overdue.status, overdue.days_overdue) == (None, "breached", 5)
    # dfg due lists it, with what clears it
    listed = [i for i in due(db, cast["officer"], today=date(2026, 11, 30)) if i.reference == refused]
    assert [(i.clock, i.due, i.action) for i in listed if i.clock == "decision_due"] == [
        ("decision_due", DECISION_DUE, "produce the decision's notice (dfg letters render)")
    ]
    # The notice goes out on 3 December: eight days after the s.34 deadline, and the clock says so.
    render(db, cast, RENDERED)
    after = clock(db, cast["officer"], refused, "decision_due", date(2026, 12, 10))
    assert (after.stopped, after.status, after.days_overdue) == (RENDERED.date(), "breached", 8)
    # A copy made later is not the notice: the clock keeps the original's day.
    [original] = [e for e in history(db, cast["officer"], refused) if e.kind == "letter_produced"][-1:]
    reprint(db, cast["officer"], json.loads(original.payload)["letter"], now=at(date(2026, 12, 9)))
    again = clock(db, cast["officer"], refused, "decision_due", date(2026, 12, 10))
    assert again.stopped == RENDERED.date()


def test_a_notice_produced_in_time_meets_the_decision_clock(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(referral_source="county OT")
    to_valid_application(db, cast, reference)
    refuse(db, cast, reference)
    render(db, cast, REFUSED_ON)  # produced the day it was decided
    met = clock(db, cast["officer"], reference, "decision_due", date(2026, 12, 10))
    assert (met.stopped, met.status, met.days_remaining) == (REFUSED_ON, "met", 9)


def test_every_letter_is_dated_its_steps_date_and_a_copy_the_originals(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    """Along the main path to approval and a hold, rendered all at once a month after the last step:
    each letter carries the date of its own step, the approval its approval date."""
    reference = open_sample(referral_source="county OT")
    approved_on, held_on = date(2026, 6, 8), date(2026, 6, 15)
    for trigger, who, on in TO_VALID:
        take_step(db, cast, reference, trigger, who, TriggerInput(on=on), now=at(on))
    take_step(db, cast, reference, "approve", "approver", TriggerInput(on=approved_on), now=at(approved_on))
    advance(db, cast["officer"], reference, "hold",
            TriggerInput(on=held_on, code="hospital", reason="Admitted to Royal Stoke",
                         review_date=date(2026, 7, 6)), now=at(held_on))  # fmt: skip
    queue = read_queue(db, cast["officer"])
    built = build_letters(db, cast["officer"], queue)
    assert built.waiting == [] and built.failed == []
    step_dates = {kind: step.effective_date for step, kind, _ in built.ready}
    assert step_dates == {
        "acknowledgement": date(2026, 3, 2),
        "test_of_resources_result": date(2026, 5, 4),
        "valid_application_received": date(2026, 5, 25),
        "approval_notice": approved_on,
        "hold_notice": held_on,
    }
    assert {kind: context.letter_date for _, kind, context in built.ready} == step_dates

    report = render(db, cast, date(2026, 7, 15))
    assert sorted(letter.kind for letter in report.produced) == sorted(step_dates)
    texts = {letter.kind: flat_text(letter_pdf(db, cast["officer"], letter.id)) for letter in report.produced}
    for kind, text in texts.items():
        assert longdate(step_dates[kind]) in text, f"{kind} is not dated {step_dates[kind]}"
        assert "15 July 2026" not in text, f"{kind} is dated the day it was rendered"
    # The s.34 date the applicant is given is for being told, as the decision clock counts it.
    assert f"We must tell you our decision by {longdate(DECISION_DUE)}" in texts["valid_application_received"]
    # The approval prints its step's date; its review date runs from it (28 days).
    assert f"by {longdate(date(2026, 7, 6))}" in texts["approval_notice"]
    # The register records the date each letter carries and the day it was produced.
    said = [
        json.loads(e.payload) for e in history(db, cast["officer"], reference) if e.kind == "letter_produced"
    ]
    assert {p["kind"]: (p["letter_date"], p["produced_on"]) for p in said} == {
        kind: (on.isoformat(), "2026-07-15") for kind, on in step_dates.items()
    }
    # A copy made later is dated as the original was.
    approval = next(letter for letter in report.produced if letter.kind == "approval_notice")
    copy = reprint(db, cast["officer"], approval.id, now=at(date(2026, 8, 3)))
    copy_text = flat_text(letter_pdf(db, cast["officer"], copy.id))
    assert " ".join(copy_text.replace("COPY", " ").split()) == texts["approval_notice"]
