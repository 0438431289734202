"""The whole lifecycle, walked through the services as the roles the workflow names."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dfg.errors import GuardFailed, InvalidInput, InvalidTransition
from dfg.rules.clock import local_day, utcnow
from dfg.services.approval import ApprovalTerms, approval_versions, approve_grant
from dfg.services.assessment import record_assessment
from dfg.services.audit import verify_audit
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.cases import advance, available_actions
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.services.identity import user_actor
from dfg.services.letter_batch import render_pending
from dfg.services.letter_register import list_letters
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.store.models import LETTERS
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import HOUSEHOLD_CONTRIBUTION, approve, sample_assessment, take_step

MAIN_PATH = [
    ("accept_referral", "officer", TriggerInput(on=date(2026, 1, 7)), "awaiting_assessment"),
    ("record_assessment", "ot", TriggerInput(on=date(2026, 2, 10)), "test_of_resources"),
    ("complete_test_of_resources", "officer", TriggerInput(on=date(2026, 2, 24)), "scheme_design"),
    ("receive_application", "officer", TriggerInput(on=date(2026, 4, 1)), "application_incomplete"),
    (
        "request_information",
        "officer",
        TriggerInput(
            reason="Landlord consent form missing", reply_by=local_day(utcnow()) + timedelta(days=14)
        ),
        "application_incomplete",
    ),
    ("validate_application", "officer", TriggerInput(on=date(2026, 4, 20)), "application_valid"),
    ("approve", "approver", TriggerInput(on=date(2026, 5, 11)), "approved"),
    ("order_works", "officer", TriggerInput(on=date(2026, 5, 20)), "works_ordered"),
    ("start_on_site", "technical", TriggerInput(on=date(2026, 6, 15)), "on_site"),
    ("complete_works", "technical", TriggerInput(on=date(2026, 6, 26)), "works_complete"),
    ("certify", "technical", TriggerInput(on=date(2026, 7, 2)), "certified"),
    ("pay_final", "officer", TriggerInput(on=date(2026, 7, 14)), "paid"),
    ("close", "officer", TriggerInput(on=date(2026, 7, 20)), "closed"),
]


def test_main_path_from_referral_to_closed(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, given, expected in MAIN_PATH:
        assert take_step(db, cast, reference, trigger, who, given) == expected, trigger
    view = show_case(db, cast["officer"], reference)
    assert view.state == "closed"
    assert view.milestones["valid_application_date"] == date(2026, 4, 20)
    assert view.milestones["approval_date"] == date(2026, 5, 11)
    assert view.milestones["certified_date"] == date(2026, 7, 2)
    assert view.milestones["closed_date"] == date(2026, 7, 20)
    assert view.approved_grant_pence == 8_450_00
    entries = history(db, cast["officer"], reference)
    assert view.version == 1 + len(entries)  # the insert, then one for each event on the case
    steps = [t for t, *_ in MAIN_PATH]
    assert [e.trigger for e in entries if e.kind == "transition"] == [
        *steps[:-1],
        "register_land_charge",
        "close",
    ]
    assert [e.kind for e in entries if e.kind != "transition"] == [
        "case_opened",
        "means_test_determined",
        *["estimate_recorded"] * 3,
        "estimate_selected",
        "grant_calculated",
        *["completion_checked"] * 3,
        "invoice_recorded",
        "contribution_collected",
    ]
    assert [(e.actor, e.role) for e in entries[1:3]] == [("officer", "grant_officer"), ("ot", "ot")]
    assert {e.workflow_version for e in entries if e.kind == "transition"} == {"dfg@1"}
    assert verify_audit(db, cast["manager"], reference).problems == ()


def test_hold_pauses_without_leaving_the_stage(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral")
    review = local_day(utcnow()) + timedelta(days=14)
    held = advance(
        db,
        cast["ot"],
        reference,
        "hold",
        TriggerInput(code="hospital", reason="Admitted", review_date=review),
    )
    assert held.to_state == held.from_state == "awaiting_assessment"
    assert show_case(db, cast["officer"], reference).hold_review_date == review
    with pytest.raises(GuardFailed, match="on hold: resume it first"):
        advance(db, cast["ot"], reference, "record_assessment")
    with pytest.raises(GuardFailed, match="already on hold"):
        advance(
            db,
            cast["ot"],
            reference,
            "hold",
            TriggerInput(code="hospital", reason="again", review_date=review),
        )
    advance(db, cast["ot"], reference, "resume")
    assert show_case(db, cast["officer"], reference).on_hold_since is None
    with pytest.raises(GuardFailed, match="not on hold"):
        advance(db, cast["ot"], reference, "resume")
    assert take_step(db, cast, reference, "record_assessment", "ot", TriggerInput()) == "test_of_resources"


def test_withdrawal_while_on_hold_ends_the_hold(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    advance(db, cast["officer"], reference, "hold",
            TriggerInput(code="applicant_request", reason="Away", review_date=local_day(utcnow()) + timedelta(days=7)))  # fmt: skip
    advance(db, cast["officer"], reference, "withdraw", TriggerInput(reason="No longer wants the works"))
    view = show_case(db, cast["officer"], reference)
    assert (view.state, view.on_hold_since, view.milestones["closed_date"]) == (
        "withdrawn",
        None,
        local_day(utcnow()),
    )


def test_cancel_needs_a_known_code_and_reopen_restores_the_state(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, given, _ in MAIN_PATH[:3]:
        take_step(db, cast, reference, trigger, who, given)
    with pytest.raises(InvalidInput, match="a --code is required"):
        advance(db, cast["officer"], reference, "cancel", TriggerInput(reason="Died"))
    with pytest.raises(InvalidInput, match="unknown --code 'dead'"):
        advance(db, cast["officer"], reference, "cancel", TriggerInput(reason="Died", code="dead"))
    advance(db, cast["officer"], reference, "cancel", TriggerInput(reason="Sold", code="property_sold"))
    with pytest.raises(InvalidTransition, match="not possible while the case is 'Cancelled'"):
        advance(db, cast["officer"], reference, "complete_test_of_resources")
    reopened = advance(
        db,
        cast["officer"],
        reference,
        "reopen",
        TriggerInput(code="wrongly_closed", reason="Sale fell through"),
    )
    assert reopened.to_state == "scheme_design"
    assert show_case(db, cast["officer"], reference).milestones["closed_date"] is None


def test_refusal_review_and_overturn(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, given, _ in MAIN_PATH[:6]:
        take_step(db, cast, reference, trigger, who, given)
    refused_on = local_day(utcnow()) - timedelta(days=10)
    advance(db, cast["approver"], reference, "refuse",
            TriggerInput(on=refused_on, code="not_reasonable_practicable", reason="Stair too narrow"))  # fmt: skip
    with pytest.raises(GuardFailed, match="review_window_closed: the review window is open until"):
        advance(db, cast["officer"], reference, "close_refused")
    advance(
        db,
        cast["officer"],
        reference,
        "request_review",
        TriggerInput(code="new_evidence", reason="Second survey"),
    )
    advance(
        db,
        cast["approver"],
        reference,
        "overturn_refusal",
        TriggerInput(reason="Survey shows a curved lift fits"),
    )
    assert approve(db, cast, reference, 12_000_00) == "approved"
    assert show_case(db, cast["officer"], reference).approved_grant_pence == 12_000_00


def test_review_window_closes(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    for trigger, who, given, _ in MAIN_PATH[:6]:
        take_step(db, cast, reference, trigger, who, given)
    advance(
        db, cast["approver"], reference, "refuse", TriggerInput(on=date(2026, 5, 1), code="other", reason="x")
    )
    with pytest.raises(GuardFailed, match="review_window_open: the review window closed on 29/05/2026"):
        advance(db, cast["officer"], reference, "request_review", TriggerInput(code="other", reason="late"))
    assert advance(db, cast["officer"], reference, "close_refused").to_state == "closed"


def test_guards_name_themselves(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample(dob=None)
    for trigger, who, given, _ in MAIN_PATH[:5]:
        take_step(db, cast, reference, trigger, who, given)
    with pytest.raises(
        GuardFailed, match=r"applicant_is_adult: the applicant's date of birth \(Mrs Margaret Holt\)"
    ):
        advance(db, cast["officer"], reference, "validate_application")


def test_delegated_limit_and_the_second_approver(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    add_user(
        db, "admin", username="junior", full_name="Junior", roles=["approver"], approval_limit_pence=20_000_00
    )
    reference = open_sample()
    for trigger, who, given, _ in MAIN_PATH[:6]:  # to a valid application
        take_step(db, cast, reference, trigger, who, given)
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=20_000_01 + HOUSEHOLD_CONTRIBUTION, received_on=date(2026, 4, 20))  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id)
    calculate_case_grant(db, cast["officer"], reference)
    junior = user_actor(db, "junior")
    above = re.escape("£20,000.01 is above junior's delegated limit of £20,000.00")
    with pytest.raises(
        GuardFailed, match=above + ": a second approver whose limit covers it must countersign"
    ):
        approve_grant(db, junior, reference)
    with pytest.raises(InvalidInput, match="the second approver must be someone other than the approver"):
        approve_grant(db, junior, reference, ApprovalTerms(second_approver="junior"))
    with pytest.raises(GuardFailed, match=above + ", and the second approver officer is not an approver"):
        approve_grant(db, junior, reference, ApprovalTerms(second_approver="officer"))
    # a bare trigger cannot approve: the approval's record (terms, signatories, budget) must go with it
    with pytest.raises(GuardFailed, match="record the approval with 'dfg grant approve"):
        advance(db, cast["approver"], reference, "approve")
    assert (
        approve_grant(db, junior, reference, ApprovalTerms(second_approver="approver")).to_state == "approved"
    )
    assert show_case(db, cast["officer"], reference).approved_grant_pence == 20_000_01
    [version] = approval_versions(db, cast["officer"], reference)
    assert (version.approved_by, version.second_approver) == ("junior", "approver")


def test_dates_are_checked(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    with pytest.raises(InvalidInput, match="is in the future"):
        advance(
            db,
            cast["officer"],
            reference,
            "accept_referral",
            TriggerInput(on=local_day(utcnow()) + timedelta(days=1)),
        )
    with pytest.raises(InvalidInput, match=r"before first contact \(05/01/2026\)"):
        advance(db, cast["officer"], reference, "accept_referral", TriggerInput(on=date(2026, 1, 4)))


def test_actions_explain_why_not(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    actions = {a.trigger: a for a in available_actions(db, cast["ot"], reference)}
    assert set(actions) == {"accept_referral", "hold", "resume", "withdraw", "cancel"}
    assert actions["accept_referral"].allowed is False
    assert actions["accept_referral"].reasons == ("needs the role Grant officer; ot has not",)
    assert actions["hold"].allowed is True
    assert actions["resume"].reasons == ("the case is not on hold",)
    officer = {a.trigger: a for a in available_actions(db, cast["officer"], reference)}
    assert officer["accept_referral"].allowed and officer["accept_referral"].reasons == ()


def test_steps_cannot_be_dated_before_the_last_recorded_step(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, given, _ in MAIN_PATH[:3]:
        take_step(db, cast, reference, trigger, who, given)  # the test of resources is dated 24/02/2026
    with pytest.raises(InvalidInput, match=r"before the case's last recorded step \(24/02/2026\)"):
        advance(db, cast["officer"], reference, "receive_application", TriggerInput(on=date(2026, 2, 23)))
    assert advance(db, cast["officer"], reference, "receive_application", TriggerInput(on=date(2026, 2, 24)))


def test_a_closed_case_can_be_reopened(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    take_step(db, cast, reference, "accept_referral", "officer", TriggerInput())
    record_assessment(db, cast["ot"], reference, sample_assessment(date(2026, 2, 1), necessary=False))
    assert show_case(db, cast["officer"], reference).state == "closed"
    reopened = advance(
        db, cast["officer"], reference, "reopen", TriggerInput(code="complaint_upheld", reason="Ombudsman")
    )
    assert reopened.to_state == "awaiting_assessment"


def test_references_are_ascii(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:
    open_sample()
    assert show_case(db, cast["officer"], " can-2026-1 ").reference == "CAN-2026-0001"
    with pytest.raises(InvalidInput, match="is not a case reference"):
        show_case(db, cast["officer"], "CAN-2026-\u00b9")


def test_a_request_for_information_needs_a_reply_by_date_and_its_letter_shows_it(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, given, _ in MAIN_PATH[:4]:
        take_step(db, cast, reference, trigger, who, given)
    today = local_day(utcnow())
    with pytest.raises(InvalidInput, match="a --reply-by date is required"):
        advance(
            db, cast["officer"], reference, "request_information", TriggerInput(reason="Proof of ownership")
        )
    with pytest.raises(InvalidInput, match="the --reply-by date must be after today"):
        advance(db, cast["officer"], reference, "request_information",
                TriggerInput(reason="Proof of ownership", reply_by=today))  # fmt: skip
    with pytest.raises(InvalidInput, match="this trigger takes no --reply-by"):
        advance(db, cast["officer"], reference, "hold", TriggerInput(
            code="hospital", reason="In hospital", review_date=today + timedelta(days=7), reply_by=today))  # fmt: skip
    reply_by = today + timedelta(days=14)
    advance(db, cast["officer"], reference, "request_information",
            TriggerInput(reason="Proof of ownership; the landlord's consent form", reply_by=reply_by))  # fmt: skip
    render_pending(db, cast["officer"], workers=1)
    [letter] = [
        x for x in list_letters(db, cast["officer"], reference) if x.kind == "request_for_information"
    ]
    with db.read_connection() as connection:
        pdf = connection.scalar(select(LETTERS.c.pdf).where(LETTERS.c.id == letter.id))
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages)
    assert "Proof of ownership." in text and "The landlord's consent form." in text
    assert f"{reply_by.day} {reply_by:%B %Y}" in text


def test_a_request_for_information_repeated_word_for_word_queues_no_second_letter(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    for trigger, who, given, _ in MAIN_PATH[:4]:
        take_step(db, cast, reference, trigger, who, given)
    reply_by = local_day(utcnow()) + timedelta(days=14)
    asked = TriggerInput(reason="Proof of ownership; the landlord's consent form", reply_by=reply_by)
    again = TriggerInput(reason="  proof of ownership;  the landlord's consent form ", reply_by=reply_by)

    def requests_sent() -> int:
        render_pending(db, cast["officer"], workers=1)
        return [x.kind for x in list_letters(db, cast["officer"], reference)].count("request_for_information")

    advance(db, cast["officer"], reference, "request_information", asked)
    events = len(history(db, cast["officer"], reference))
    with pytest.raises(GuardFailed, match=r"the same request, to reply by .* its letter is queued or sent"):
        advance(db, cast["officer"], reference, "request_information", again)  # while its letter is queued
    assert len(history(db, cast["officer"], reference)) == events
    assert requests_sent() == 1
    with pytest.raises(GuardFailed, match="the same request"):  # and once it is sent
        advance(db, cast["officer"], reference, "request_information", again)
    assert requests_sent() == 1
    # a chaser with a new date, or another request, is a new letter
    later = reply_by + timedelta(days=7)
    advance(
        db,
        cast["officer"],
        reference,
        "request_information",
        TriggerInput(reason=asked.reason, reply_by=later),
    )
    advance(
        db, cast["officer"], reference, "request_information", TriggerInput(reason="A quote", reply_by=later)
    )
    assert requests_sent() == 3
