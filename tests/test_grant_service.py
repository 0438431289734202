"""The grant on a case: calculated with its workings, and approved only as calculated."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from cli import main
from dfg.errors import GuardFailed, InvalidInput
from dfg.rules.grant import ChargeRequest
from dfg.services.approval import approve_grant
from dfg.services.assessment import run_means_test
from dfg.services.case_history import history
from dfg.services.case_reading import show_case
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant, grant_calculation, parse_charge
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import HOUSEHOLD, HOUSEHOLD_CONTRIBUTION, take_step

PASSPORTED = {**HOUSEHOLD, "relevant_persons": [{"age": 70, "benefits": ["pension_credit_guarantee"], "premiums": []},
                                                {"age": 69, "benefits": [], "premiums": []}]}  # fmt: skip


@pytest.fixture
def valid(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A case with a valid application (and HOUSEHOLD's determination: £10,199.45)."""
    reference = open_sample()
    for trigger, who in [("accept_referral", "officer"), ("record_assessment", "ot"),
                         ("complete_test_of_resources", "officer"), ("receive_application", "officer"),
                         ("validate_application", "officer")]:  # fmt: skip
        take_step(db, cast, reference, trigger, who, TriggerInput(on=date(2026, 3, 2)))
    return reference


def test_calculation_is_stored_with_its_workings(db: Database, cast: dict[str, Actor], valid: str) -> None:
    record = calculate_case_grant(
        db, cast["officer"], valid, works_pence=20_000_00,
        charges=[ChargeRequest("agency_fee"), ChargeRequest("survey", 450_00)],
    )  # fmt: skip
    figures = record.calculation
    # works £20,000 + agency fee 15% £3,000 + survey £450 = £23,450; less £10,199.45 = £13,250.55
    assert figures["estimated_expense_pence"] == 23_450_00
    assert figures["contribution_pence"] == HOUSEHOLD_CONTRIBUTION
    assert figures["grant_pence"] == 13_250_55
    assert "Home improvement agency fee: £3,000.00" in record.explanation
    assert grant_calculation(db, cast["officer"], valid).id == record.id
    assert [e.kind for e in history(db, cast["officer"], valid)][-1] == "grant_calculated"


def test_nil_grant_is_recorded_as_such(db: Database, cast: dict[str, Actor], valid: str) -> None:
    record = calculate_case_grant(db, cast["officer"], valid, works_pence=9_000_00)
    assert (record.calculation["is_nil"], record.calculation["grant_pence"]) == (True, 0)


def test_the_maximum_caps_the_grant(db: Database, cast: dict[str, Actor], valid: str) -> None:
    record = calculate_case_grant(db, cast["officer"], valid, works_pence=60_000_00)
    assert record.calculation["grant_pence"] == 30_000_00  # deduct, then cap
    topped = calculate_case_grant(db, cast["officer"], valid, works_pence=60_000_00, funding_lines=["top_up"])
    assert topped.total_assistance_pence == 30_000_00 + 15_000_00  # the top-up's own cap


def select_works(db: Database, cast: dict[str, Actor], reference: str, works_pence: int) -> None:
    """The lowest estimate, at ``works_pence``, selected: the eligible works an approval needs."""
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=works_pence, received_on=date(2026, 3, 2))  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id)


def test_approval_uses_the_calculation_and_refuses_drift(
    db: Database, cast: dict[str, Actor], valid: str
) -> None:
    with pytest.raises(GuardFailed, match="estimate_selected: no estimate is selected"):
        approve_grant(db, cast["approver"], valid)
    select_works(db, cast, valid, 15_000_00)
    with pytest.raises(GuardFailed, match="grant_calculation_current: no grant is calculated"):
        approve_grant(db, cast["approver"], valid)
    calculate_case_grant(db, cast["officer"], valid, works_pence=14_000_00)
    with pytest.raises(
        GuardFailed, match=r"calculated on works of £14,000\.00, but the eligible works are £15,000\.00"
    ):
        approve_grant(db, cast["approver"], valid)
    calculate_case_grant(db, cast["officer"], valid)
    run_means_test(db, cast["officer"], valid, PASSPORTED)  # the household changed: the figures would drift
    with pytest.raises(GuardFailed, match="the test of resources changed after the grant was calculated"):
        approve_grant(db, cast["approver"], valid)
    record = calculate_case_grant(db, cast["officer"], valid)
    assert record.calculation["contribution_pence"] == 0  # passported
    result = approve_grant(db, cast["approver"], valid, on=date(2026, 4, 1))
    assert (result.to_state, result.effective_date) == ("approved", date(2026, 4, 1))
    assert show_case(db, cast["officer"], valid).approved_grant_pence == 15_000_00
    assert history(db, cast["officer"], valid)[-1].as_dict()["payload"]["grant_calculation"] == record.id
    with pytest.raises(InvalidInput, match="its grant can no longer be calculated"):
        calculate_case_grant(db, cast["officer"], valid, works_pence=1_00)
    with pytest.raises(DatabaseError, match="append-only"), db.write_engine.begin() as connection:
        connection.execute(text("DELETE FROM grant_calculations"))


def test_approval_under_another_maximum_is_refused(db: Database, cast: dict[str, Actor], valid: str) -> None:
    select_works(db, cast, valid, 40_000_00)
    calculate_case_grant(db, cast["officer"], valid, on=date(2008, 5, 21))  # £25,000 era
    with pytest.raises(GuardFailed, match=r"the maximum in force is .*: calculate the grant again"):
        approve_grant(db, cast["approver"], valid, on=date(2026, 4, 1))
    calculate_case_grant(db, cast["officer"], valid, on=date(2026, 4, 1))
    approve_grant(db, cast["approver"], valid, on=date(2026, 4, 1))
    assert show_case(db, cast["officer"], valid).approved_grant_pence == 29_800_55  # £40,000 − £10,199.45


def test_approved_grant_is_the_mandatory_grant_and_the_limit_covers_all_assistance(
    db: Database, cast: dict[str, Actor], valid: str
) -> None:
    select_works(db, cast, valid, 59_000_00)  # below the two estimates of the valid application
    calculate_case_grant(db, cast["officer"], valid, funding_lines=["top_up"])
    with pytest.raises(GuardFailed, match=r"assistance of £45,000\.00 is above approver's delegated limit"):
        approve_grant(db, cast["approver"], valid)
    select_works(db, cast, valid, 35_000_00)
    calculate_case_grant(db, cast["officer"], valid, funding_lines=["top_up"])
    approve_grant(db, cast["approver"], valid)
    assert show_case(db, cast["officer"], valid).approved_grant_pence == 24_800_55  # £35,000 − £10,199.45


def test_bad_charges() -> None:
    assert parse_charge("survey=450") == ChargeRequest("survey", 450_00)
    with pytest.raises(InvalidInput, match="--charge survey: 'lots' is not an amount"):
        parse_charge("survey=lots")


def test_grant_on_the_command_line(db: Database, db_url: str, cast: dict[str, Actor], valid: str) -> None:
    def run(*args: str, user: str = "officer") -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])
        return result.exit_code, result.stdout, result.stderr

    select_works(db, cast, valid, 12_000_00)
    code, out, _ = run("grant", "calculate", valid, "--charge", "survey=300")
    assert code == 0 and "Mandatory grant: £2,100.55" in out  # £12,300 − £10,199.45
    code, out, _ = run("grant", "show", valid, "--json")
    assert json.loads(out)["grant_pence"] == 2_100_55
    code, out, err = run("grant", "approve", valid, user="officer")
    assert (code, err) == (
        6,
        "dfg: cannot approve: needs the role Approver (delegated authority); officer has not\n",
    )
    code, out, _ = run("grant", "approve", valid, user="approver")
    assert code == 0 and "(application_valid -> approved)" in out
    code, _, err = run("grant", "calculate", valid, "--works", "-5")
    assert (code, err) == (8, "dfg: --works: '-5' must not be negative\n")
