"""From approval to closure: the approval's terms, variations, extensions, interim and final payments,
completion checks, ceased entitlement, and the figures reconciling at the end (issue: works and money)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cli import main
from dfg.errors import DfgError, GuardFailed, InvalidInput, InvalidTransition, PermissionDenied
from dfg.reports.budget_lines import budget_show
from dfg.rules.budget import financial_year_of
from dfg.rules.calendar import add_calendar_months
from dfg.rules.clock import local_day, utcnow
from dfg.services.approval import ApprovalTerms, approval_versions, approve_grant, override, vary_works
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.cases import advance, available_actions
from dfg.services.clocks import case_clocks_for
from dfg.services.grant import calculate_case_grant
from dfg.services.land_charge import land_charge_view
from dfg.services.payments import (
    cease_entitlement,
    decide_ceased_entitlement,
    money_view,
    pay_final,
    pay_interim,
    record_invoice,
)
from dfg.services.works import extend_completion, record_completion_check
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import (
    APPROVED_GRANT,
    HOUSEHOLD_CONTRIBUTION,
    approve,
    take_step,
    walk_to,
)

TODAY = local_day(utcnow())


def _state(db: Database, cast: dict[str, Actor], reference: str) -> str:
    return show_case(db, cast["officer"], reference).state


def _rows(db: Database, table: str) -> int:
    with db.read_connection() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _events(db: Database, cast: dict[str, Actor], reference: str) -> int:
    return len(history(db, cast["officer"], reference))


@pytest.fixture
def on_site(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample()
    walk_to(db, cast, reference, "works_ordered")
    advance(db, cast["officer"], reference, "start_on_site")
    return reference


def test_a_case_walked_to_closed_reconciles(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    """The issue's walk: two interim payments, one variation and one extension, a land charge; paid equals
    the grant and the district's budget still adds up to its allocation."""
    reference = open_sample()
    walk_to(db, cast, reference, "approved")
    extend_completion(
        db, cast["officer"], reference, months=3, reason="Planning consent for the ramp delayed"
    )
    advance(db, cast["officer"], reference, "order_works")
    varied = vary_works(
        db, cast["approver"], reference, change="Extra grab rails by the WC", price_change_pence=500_00
    )
    assert (varied.trigger, varied.letters) == ("vary_works", ("reapproval_variation", "variation_order"))
    advance(db, cast["officer"], reference, "start_on_site")
    pay_interim(db, cast["officer"], reference, amount_pence=2_000_00, work_done_pence=3_000_00)
    pay_interim(db, cast["officer"], reference, amount_pence=3_000_00, work_done_pence=9_000_00)
    for trigger, who in (("complete_works", "technical"), ("certify", "technical"), ("pay_final", "officer"),
                         ("close", "officer")):  # fmt: skip
        take_step(db, cast, reference, trigger, who, TriggerInput())
    assert _state(db, cast, reference) == "closed"

    versions = approval_versions(db, cast["officer"], reference)
    assert [(v.version, v.kind) for v in versions] == [(1, "approval"), (2, "variation")]
    grant = APPROVED_GRANT + 500_00  # the variation adds its price to the works; nothing else moves
    assert versions[-1].total_assistance_pence == versions[-1].grant_pence == grant
    assert show_case(db, cast["officer"], reference).approved_grant_pence == grant

    money = money_view(db, cast["officer"], reference)
    assert money.paid_pence == money.approved_pence == grant  # paid equals the grant
    assert [p["amount_pence"] for p in money.payments] == [2_000_00, 3_000_00, grant - 5_000_00]
    assert money.contribution_collected_pence == money.contribution_pence == HOUSEHOLD_CONTRIBUTION

    charge = land_charge_view(db, cast["officer"], reference)
    assert charge.registration is not None and charge.repayable_pence == grant - 5_000_00

    year = financial_year_of(TODAY)
    [line] = [b.position for b in budget_show(db, cast["manager"], district="CAN", financial_year=year, today=TODAY)
              if b.funding_line == "mandatory"]  # fmt: skip
    assert (line.committed_pence, line.spent_pence) == (0, grant)
    assert line.committed_pence + line.spent_pence + line.remaining_pence == line.allocation_pence
    with db.read_connection() as connection:  # the running totals are what the ledger adds up to
        totals = dict(connection.execute(text(
            "SELECT kind, sum(amount_pence) FROM budget_entries WHERE district_code = 'CAN' "
            "AND financial_year = :year AND funding_line = 'mandatory' GROUP BY kind"), {"year": year}).all())  # fmt: skip
        row = connection.execute(text(
            "SELECT allocation_pence, committed_pence, spent_pence FROM budgets WHERE district_code = 'CAN' "
            "AND financial_year = :year AND funding_line = 'mandatory'"), {"year": year}).one()  # fmt: skip
    assert totals["commitment"] + totals["adjustment"] - totals["payment"] == row.committed_pence == 0
    assert totals["payment"] == row.spent_pence == grant
    assert totals["allocation"] == row.allocation_pence == line.allocation_pence

    clocks = {c.name: c for c in case_clocks_for(db, cast["officer"], reference, TODAY)}
    approval_date = show_case(db, cast["officer"], reference).milestones["approval_date"]
    assert approval_date is not None
    assert clocks["completion_due"].due == add_calendar_months(approval_date, 12 + 3)  # with the extension


# ---------------------------------------------------------------------- the approval's terms


@pytest.fixture
def valid(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    reference = open_sample()
    for trigger, who in (("accept_referral", "officer"), ("record_assessment", "ot"),
                         ("complete_test_of_resources", "officer"), ("receive_application", "officer"),
                         ("validate_application", "officer")):  # fmt: skip
        take_step(db, cast, reference, trigger, who, TriggerInput(on=date(2026, 3, 2)))
    return reference


def test_the_deferred_payment_date_is_at_most_12_months_after_the_valid_application(
    db: Database, cast: dict[str, Actor], valid: str
) -> None:
    before = _events(db, cast, valid)
    with pytest.raises(InvalidInput, match=r"later than 12 months after the valid application \(02/03/2026\): "
                                           r"the latest allowed is 02/03/2027 \(s\.36\)"):  # fmt: skip
        approve(db, cast, valid, APPROVED_GRANT, terms=ApprovalTerms(deferred_payment_date=date(2027, 3, 3)))
    assert _state(db, cast, valid) == "application_valid"
    assert _rows(db, "approvals") == 0
    assert _events(db, cast, valid) == before + 3  # the estimate, its selection and the calculation only
    approve(db, cast, valid, APPROVED_GRANT, terms=ApprovalTerms(deferred_payment_date=date(2027, 3, 2)))
    [version] = approval_versions(db, cast["officer"], valid)
    assert version.deferred_payment_date == date(2027, 3, 2)


def test_no_payment_before_the_deferred_payment_date(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    walk_to(db, cast, reference, "application_valid")  # validated today, so today + 30 days is allowed
    deferred = TODAY + timedelta(days=30)
    approve(db, cast, reference, APPROVED_GRANT, terms=ApprovalTerms(deferred_payment_date=deferred))
    advance(db, cast["officer"], reference, "order_works")
    advance(db, cast["officer"], reference, "start_on_site")
    with pytest.raises(
        GuardFailed, match=f"payment_not_deferred: the approval deferred payment to {deferred:%d/%m/%Y}"
    ):
        pay_interim(db, cast["officer"], reference, amount_pence=1_000_00, work_done_pence=2_000_00)
    assert money_view(db, cast["officer"], reference).paid_pence == 0


def test_completed_works_can_never_be_approved_and_begun_works_need_a_good_reason(
    db: Database, cast: dict[str, Actor], valid: str
) -> None:
    with pytest.raises(GuardFailed, match=r"never be approved for completed works \(s\.29\)"):
        approve(db, cast, valid, APPROVED_GRANT, terms=ApprovalTerms(works_status="completed"))
    with pytest.raises(InvalidInput, match="needs the good reason recorded"):
        approve_grant(db, cast["approver"], valid, ApprovalTerms(works_status="begun"))
    with pytest.raises(InvalidInput, match="only for works that have already begun"):
        approve_grant(db, cast["approver"], valid, ApprovalTerms(works_begun_reason="Urgent"))
    assert _rows(db, "approvals") == 0
    approve_grant(db, cast["approver"], valid, ApprovalTerms(works_status="begun",
                                                             works_begun_reason="Hospital discharge could not wait"))  # fmt: skip
    [version] = approval_versions(db, cast["officer"], valid)
    assert version.works_begun_reason == "Hospital discharge could not wait"
    assert version.contractor == "Castle Adaptations" and version.pay_contractor_directly
    assert version.conditions[0].startswith("The disabled occupant intends to live in the dwelling")


def test_an_over_commitment_is_refused_unless_a_manager_overrides(
    db: Database, cast: dict[str, Actor], valid: str
) -> None:
    from dfg.services.budget import allocate

    approve(db, cast, valid, APPROVED_GRANT, on=date(2026, 3, 2))  # financial year 2025-26
    year = financial_year_of(date(2026, 3, 2))
    allocate(db, cast["manager"], district="CAN", financial_year=year, funding_line="mandatory",
             amount_pence=APPROVED_GRANT + 1_000_00, reason="Cut in year")  # fmt: skip
    second = ready_for_approval(db, cast)
    entries = _rows(db, "budget_entries")
    with pytest.raises(GuardFailed, match="over-commit"):
        approve_grant(db, cast["approver"], second, on=date(2026, 3, 2))
    assert _state(db, cast, second) == "application_valid" and _rows(db, "budget_entries") == entries
    with pytest.raises(PermissionDenied, match="manager"):
        override(db, cast["approver"], second, reason="Emergency discharge")
    override(db, cast["manager"], second, reason="Emergency discharge; funded from next year's allocation")
    approve_grant(db, cast["approver"], second, on=date(2026, 3, 2))
    [line] = [b.position for b in budget_show(db, cast["manager"], district="CAN", financial_year=year, today=TODAY)
              if b.funding_line == "mandatory"]  # fmt: skip
    assert line.remaining_pence < 0  # over-committed, and only with the override on record
    assert line.committed_pence + line.spent_pence + line.remaining_pence == line.allocation_pence


def test_a_variation_that_would_over_commit_needs_a_manager_override(
    db: Database, cast: dict[str, Actor], on_site: str
) -> None:
    from dfg.services.budget import allocate

    year = financial_year_of(TODAY)
    allocate(db, cast["manager"], district="CAN", financial_year=year, funding_line="mandatory",
             amount_pence=APPROVED_GRANT + 100_00, reason="Cut in year")  # fmt: skip
    with pytest.raises(GuardFailed, match="over-commit"):
        vary_works(db, cast["approver"], on_site, change="Second grab rail", price_change_pence=200_00)
    assert len(approval_versions(db, cast["officer"], on_site)) == 1
    override(db, cast["manager"], on_site, reason="Safety: agreed with the head of service")
    vary_works(db, cast["approver"], on_site, change="Second grab rail", price_change_pence=200_00)
    assert (
        approval_versions(db, cast["officer"], on_site)[-1].total_assistance_pence == APPROVED_GRANT + 200_00
    )
    # the override was for that version: the next variation needs its own
    with pytest.raises(GuardFailed, match="over-commit"):
        vary_works(db, cast["approver"], on_site, change="Third grab rail", price_change_pence=50_00)


def ready_for_approval(db: Database, cast: dict[str, Actor]) -> str:
    """A second case with a calculated grant on a valid application, ready for approval."""
    from dfg.services.case_opening import open_case
    from dfg.services.estimates import record_estimate, select_estimate
    from tests.conftest import sample_case

    reference = open_case(db, cast["officer"], sample_case())
    for trigger, who in (("accept_referral", "officer"), ("record_assessment", "ot"),
                         ("complete_test_of_resources", "officer"), ("receive_application", "officer"),
                         ("validate_application", "officer")):  # fmt: skip
        take_step(db, cast, reference, trigger, who, TriggerInput(on=date(2026, 3, 2)))
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=APPROVED_GRANT + HOUSEHOLD_CONTRIBUTION, received_on=date(2026, 3, 2))  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id)
    calculate_case_grant(db, cast["officer"], reference, on=date(2026, 3, 2))
    return reference


# ---------------------------------------------------------------------- works and payments


def test_interim_payments_are_for_work_done_and_within_the_cap(
    db: Database, cast: dict[str, Actor], on_site: str
) -> None:
    cap = APPROVED_GRANT * 9 // 10  # 90% of £8,450.00 = £7,605.00
    before = (_rows(db, "payments"), _rows(db, "budget_entries"), _events(db, cast, on_site))
    with pytest.raises(InvalidInput, match=r"more than the work done of £1,000\.00"):
        pay_interim(db, cast["officer"], on_site, amount_pence=1_000_01, work_done_pence=1_000_00)
    with pytest.raises(InvalidInput, match=re.escape("more than 90% of the approved £8,450.00 (£7,605.00)")):
        pay_interim(db, cast["officer"], on_site, amount_pence=cap + 1, work_done_pence=APPROVED_GRANT)
    with pytest.raises(InvalidInput, match=r"must be more than £0\.00"):
        pay_interim(db, cast["officer"], on_site, amount_pence=-5_00, work_done_pence=APPROVED_GRANT)
    assert (_rows(db, "payments"), _rows(db, "budget_entries"), _events(db, cast, on_site)) == before
    pay_interim(db, cast["officer"], on_site, amount_pence=cap, work_done_pence=APPROVED_GRANT)  # exactly 90%
    with pytest.raises(InvalidInput, match=r"£0\.00 may still be paid"):
        pay_interim(db, cast["officer"], on_site, amount_pence=1, work_done_pence=APPROVED_GRANT)
    assert money_view(db, cast["officer"], on_site).paid_pence == cap


def test_a_variation_after_completion_is_refused(db: Database, cast: dict[str, Actor], on_site: str) -> None:
    advance(db, cast["technical"], on_site, "complete_works")
    with pytest.raises(InvalidTransition, match="vary_works"):
        vary_works(db, cast["approver"], on_site, change="Late extra", price_change_pence=100_00)
    assert len(approval_versions(db, cast["officer"], on_site)) == 1


def test_an_extension_needs_a_reason_and_a_works_state(
    db: Database, cast: dict[str, Actor], on_site: str, open_sample: Callable[..., str]
) -> None:
    with pytest.raises(InvalidInput, match="needs its reason"):
        extend_completion(db, cast["officer"], on_site, months=2, reason="  ")
    with pytest.raises(InvalidInput, match="either --months or --to"):
        extend_completion(db, cast["officer"], on_site, reason="Weather")
    with pytest.raises(InvalidInput, match="the completion period runs from approval"):
        extend_completion(db, cast["officer"], open_sample(), months=2, reason="Weather")
    extend_completion(db, cast["technical"], on_site, months=2, reason="Weather")
    assert history(db, cast["officer"], on_site)[-1].kind == "completion_extended"


def test_certify_waits_for_the_completion_checks(db: Database, cast: dict[str, Actor], on_site: str) -> None:
    advance(db, cast["technical"], on_site, "complete_works")
    with pytest.raises(
        GuardFailed,
        match=re.escape("not yet recorded as passed: inspection, ot sign off, applicant satisfaction"),
    ):
        advance(db, cast["technical"], on_site, "certify")
    with pytest.raises(InvalidInput, match="needs --notes"):
        record_completion_check(db, cast["technical"], on_site, "inspection", passed=False)
    record_completion_check(db, cast["technical"], on_site, "inspection", passed=False, notes="Tray leaks")
    record_completion_check(db, cast["ot"], on_site, "ot_sign_off", passed=True)
    record_completion_check(db, cast["officer"], on_site, "applicant_satisfaction", passed=True)
    with pytest.raises(GuardFailed, match=re.escape("not yet recorded as passed: inspection (")):
        advance(db, cast["technical"], on_site, "certify")
    record_completion_check(db, cast["technical"], on_site, "inspection", passed=True, notes="Resealed")
    assert advance(db, cast["technical"], on_site, "certify").to_state == "certified"


def test_invoices_for_own_labour_are_refused_and_the_final_payment_needs_one(
    db: Database, cast: dict[str, Actor], on_site: str
) -> None:
    advance(db, cast["technical"], on_site, "complete_works")
    for check, who in (
        ("inspection", "technical"),
        ("ot_sign_off", "ot"),
        ("applicant_satisfaction", "officer"),
    ):
        record_completion_check(db, cast[who], on_site, check, passed=True)
    advance(db, cast["technical"], on_site, "certify")
    with pytest.raises(GuardFailed, match="invoice_received"):
        pay_final(db, cast["officer"], on_site)
    for labour in ("applicant", "relative"):
        with pytest.raises(InvalidInput, match=f"the {labour}'s own labour cannot be accepted"):
            record_invoice(db, cast["officer"], on_site, supplier="Mr Holt", invoice_reference="1",
                           amount_pence=500_00, received_on=TODAY, labour=labour)  # fmt: skip
    assert _rows(db, "invoices") == 0
    record_invoice(db, cast["officer"], on_site, supplier="Castle Adaptations", invoice_reference="INV-9",
                   amount_pence=18_649_45, received_on=TODAY)  # fmt: skip
    assert pay_final(db, cast["officer"], on_site).to_state == "paid"
    money = money_view(db, cast["officer"], on_site)
    assert money.paid_pence == APPROVED_GRANT and money.payments[-1]["payee"] == "contractor"


def test_ceased_entitlement_stops_payment_until_a_decision(
    db: Database, cast: dict[str, Actor], on_site: str
) -> None:
    pay_interim(db, cast["officer"], on_site, amount_pence=1_000_00, work_done_pence=2_000_00)
    cease_entitlement(db, cast["officer"], on_site, code="died", on=TODAY)
    [pay] = [a for a in available_actions(db, cast["officer"], on_site) if a.trigger == "pay_interim"]
    assert not pay.allowed and "entitlement_not_stopped" in pay.reasons[0]
    with pytest.raises(GuardFailed, match="entitlement ceased: no further payment"):
        pay_interim(db, cast["officer"], on_site, amount_pence=500_00, work_done_pence=2_000_00)
    with pytest.raises(InvalidInput, match="already paid: the amount decided cannot be less"):
        decide_ceased_entitlement(db, cast["approver"], on_site, decision="part", amount_pence=999_99,
                                  reason="Work done")  # fmt: skip
    decide_ceased_entitlement(db, cast["approver"], on_site, decision="part", amount_pence=2_400_00,
                              reason="The work done before the death, as valued")  # fmt: skip
    with pytest.raises(InvalidInput, match=r"more than the £2,400\.00 the council decided to pay"):
        pay_interim(db, cast["officer"], on_site, amount_pence=1_400_01, work_done_pence=3_000_00)
    pay_interim(db, cast["officer"], on_site, amount_pence=1_400_00, work_done_pence=3_000_00)
    cancelled = advance(
        db, cast["officer"], on_site, "cancel", TriggerInput(code="died", reason="Died in September")
    )
    assert cancelled.to_state == "cancelled"
    money = money_view(db, cast["officer"], on_site)
    assert money.paid_pence == 2_400_00
    assert history(db, cast["officer"], on_site)[-1].as_dict()["payload"]["budget"]["released"] == {
        "mandatory": APPROVED_GRANT - 2_400_00
    }


# ---------------------------------------------------------------------- the command line


def test_bad_money_input_is_one_line_and_changes_nothing(
    db: Database, db_url: str, cast: dict[str, Actor], on_site: str
) -> None:
    def run(*args: str, user: str = "officer") -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])
        return result.exit_code, result.stdout, result.stderr

    before = (_rows(db, "payments"), _events(db, cast, on_site))
    assert run("pay", "interim", on_site, "--amount", "-5", "--work-done", "100") == (
        8, "", "dfg: --amount: '-5' must not be negative\n")  # fmt: skip
    assert run("pay", "interim", on_site, "--amount", "lots", "--work-done", "100")[0] == 8
    code, _, err = run("pay", "interim", on_site, "--amount", "9000", "--work-done", "9000")
    assert (
        code == 8
        and err.startswith("dfg: payments would total £9,000.00, more than 90%")
        and err.count("\n") == 1
    )
    code, _, err = run("works", "extend", on_site, "--months", "2", "--reason", " ")
    assert (code, err) == (8, "dfg: an extension needs its reason (--reason)\n")
    assert (_rows(db, "payments"), _events(db, cast, on_site)) == before
    code, out, _ = run("pay", "interim", on_site, "--amount", "1000", "--work-done", "2500", "--json")
    assert code == 0 and json.loads(out)["trigger"] == "pay_interim"
    code, out, _ = run("pay", "show", on_site, "--json")
    assert json.loads(out)["paid_pence"] == 1_000_00
    code, out, _ = run("works", "extend", on_site, "--months", "2", "--reason", "Rail on back order")
    approved = show_case(db, cast["officer"], on_site).milestones["approval_date"]
    assert approved is not None
    assert (code, out) == (0, f"{on_site}: completion period extended; the works are now due by "
                              f"{add_calendar_months(approved, 14):%d/%m/%Y}\n")  # fmt: skip
    code, out, _ = run("case", "history", on_site)
    assert (
        "pay_interim £1,000.00 to the contractor" in out
        and "estimate_recorded Castle Adaptations £18,649.45" in out
    )
    code, out, _ = run("grant", "versions", on_site)
    assert code == 0 and "approval" in out and "Castle Adaptations" in out


# ---------------------------------------------------------------------- a property of the real services

_step = st.one_of(
    st.tuples(st.just("interim"), st.integers(-100_00, 9_000_00), st.integers(0, 12_000_00)),
    st.tuples(st.just("vary"), st.integers(-9_000_00, 3_000_00), st.just(0)),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_step, min_size=1, max_size=6))
def test_no_sequence_of_payments_and_variations_pays_more_than_the_grant(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], steps: list[tuple[str, int, int]]
) -> None:
    """Through the real services and database: whatever interim payments and variations are attempted,
    what is paid never exceeds the approved assistance, and the budget's spend is exactly what was paid."""
    reference = open_sample()
    walk_to(db, cast, reference, "works_ordered")
    advance(db, cast["officer"], reference, "start_on_site")
    for kind, amount, work_done in steps:
        try:
            if kind == "interim":
                pay_interim(db, cast["officer"], reference, amount_pence=amount, work_done_pence=work_done)
            else:
                vary_works(db, cast["approver"], reference, change="Changed", price_change_pence=amount)
        except DfgError:
            pass
        money = money_view(db, cast["officer"], reference)
        assert 0 <= money.paid_pence <= money.approved_pence
        assert money.paid_pence <= money.approved_pence * 9 // 10  # nothing certified yet: the cap holds
        with db.read_connection() as connection:
            spent = connection.execute(
                text("SELECT coalesce(sum(amount_pence), 0) FROM budget_entries e JOIN cases c ON c.id = e.case_id "
                     "WHERE c.reference = :ref AND e.kind = 'payment'"), {"ref": reference}).scalar_one()  # fmt: skip
        assert spent == money.paid_pence


def test_a_budget_override_after_approval_says_it_is_for_the_next_variation(
    db_url: str, on_site: str
) -> None:
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "manager", "budget", "override", on_site,
                                       "--reason", "Safety works agreed by the head of service"])  # fmt: skip
    assert (result.exit_code, result.stdout) == (
        0, f"{on_site}: budget override recorded for the next variation of approval version 1\n")  # fmt: skip
