"""The means-test rate table is the one in force on the approval date: an approval is refused while the
test of resources used another, and a redetermination after approval uses the approval date's table."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from dfg.errors import GuardFailed
from dfg.paths import workflows_dir
from dfg.services.approval import approval_versions, approve_grant, vary_works
from dfg.services.assessment import determination, run_means_test
from dfg.services.case_reading import show_case
from dfg.services.grant import calculate_case_grant
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import HOUSEHOLD, HOUSEHOLD_CONTRIBUTION, approve, take_step, walk_to

OLD, NEW, LATER = "england-2008-10", "england-2026-12", "england-2026-12-03"
TESTED, APPROVED, REDONE = date(2026, 11, 20), date(2026, 12, 2), date(2026, 12, 3)


def _successor(text: str, version: str, start: date, end: date | None, flat_addition: str) -> str:
    """The 2008 table as a successor: its own version and dates, a higher flat addition."""
    text = text.replace('version = "england-2008-10"', f'version = "{version}"')
    dates = f"effective_from = {start}" + (f"\neffective_to = {end}" if end else "")
    text = text.replace("effective_from = 2008-10-02", dates)
    return text.replace('flat_addition = "61.30"', f'flat_addition = "{flat_addition}"')


@pytest.fixture
def new_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shipped workflows with the 2008 table ending on 30 November 2026 and two successors: a higher
    allowance from 1 December, and another from 3 December."""
    folder = tmp_path / "workflows"
    shutil.copytree(workflows_dir(), folder)
    shipped = folder / "rates" / "means-test-england-2008.toml"
    text = shipped.read_text(encoding="utf-8")
    shipped.write_text(
        text.replace("effective_from = 2008-10-02", "effective_from = 2008-10-02\neffective_to = 2026-11-30"),
        encoding="utf-8",
    )
    (folder / "rates" / "means-test-england-2026-12.toml").write_text(
        _successor(text, NEW, date(2026, 12, 1), date(2026, 12, 2), "91.30"), encoding="utf-8"
    )
    (folder / "rates" / "means-test-england-2026-12-03.toml").write_text(
        _successor(text, LATER, REDONE, None, "121.30"), encoding="utf-8"
    )
    monkeypatch.setenv("DFG_WORKFLOWS", str(folder))
    workflows_dir.cache_clear()
    yield
    monkeypatch.undo()
    workflows_dir.cache_clear()


@pytest.fixture
def tested(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], new_tables: None) -> str:
    """A valid application whose test of resources ran on 20 November 2026, under the old table."""
    reference = open_sample()
    for trigger, who in [("accept_referral", "officer"), ("record_assessment", "ot"),
                         ("complete_test_of_resources", "officer"), ("receive_application", "officer"),
                         ("validate_application", "officer")]:  # fmt: skip
        take_step(db, cast, reference, trigger, who, TriggerInput(on=TESTED))
    assert determination(db, cast["officer"], reference).determination.rates_version == OLD
    return reference


def test_approval_on_a_new_table_is_refused_naming_the_rerun(
    db: Database, cast: dict[str, Actor], tested: str
) -> None:
    with pytest.raises(GuardFailed) as refused:
        approve(db, cast, tested, 8_450_00, on=APPROVED)
    message = str(refused.value)
    assert f"used the rate table {OLD}" in message
    assert f"in force is {NEW}" in message
    assert f"dfg means-test run {tested} --household FILE --on 2026-12-02" in message
    assert show_case(db, cast["officer"], tested).state == "application_valid"


def test_rerun_on_the_approval_date_gives_the_new_contribution(
    db: Database, cast: dict[str, Actor], tested: str
) -> None:
    with pytest.raises(GuardFailed):
        approve(db, cast, tested, 8_450_00, on=APPROVED)
    rerun = run_means_test(db, cast["officer"], tested, HOUSEHOLD, on=APPROVED)
    assert rerun.determination.rates_version == NEW
    # £30 a week more allowance is £30 less excess: the contribution falls
    assert rerun.determination.contribution_pence < HOUSEHOLD_CONTRIBUTION
    calculate_case_grant(db, cast["officer"], tested, on=APPROVED)
    approve_grant(db, cast["approver"], tested, on=APPROVED)
    approval = approval_versions(db, cast["officer"], tested)[-1]
    assert approval.contribution_pence == rerun.determination.contribution_pence
    # the estimate was priced for £8,450.00 on the old contribution: the difference is the applicant's gain
    assert approval.grant_pence == 8_450_00 + HOUSEHOLD_CONTRIBUTION - rerun.determination.contribution_pence

    # after approval, a redetermination uses the approval date's table, not the one of the day it is run
    redone = run_means_test(
        db, cast["officer"], tested, HOUSEHOLD, on=REDONE, code="error_corrected", reason="Wage slip misread"
    )
    assert redone.determination.rates_version == NEW
    assert redone.determination.contribution_pence == rerun.determination.contribution_pence


def test_a_variation_redetermines_on_the_maximum_of_the_approval_date(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], new_tables: None
) -> None:
    # From the day after the approval a (hypothetical) lower maximum is in force: the redetermination
    # of s.34(5) varies the approval, so it keeps the approval's maximum and adds the variation's price.
    maxima = workflows_dir() / "rates" / "maximum-grant.toml"
    text = maxima.read_text(encoding="utf-8").replace(
        "effective_from = 2008-05-22\n", f"effective_from = 2008-05-22\neffective_to = {APPROVED}\n"
    )
    lower = f'[[maximum]]\njurisdiction = "england"\neffective_from = {REDONE}\namount = "5000.00"\nsource = "test"\n'
    maxima.write_text(f"{text}\n{lower}", encoding="utf-8")
    reference = open_sample()
    walk_to(db, cast, reference, "approved", on=APPROVED)
    approved = approval_versions(db, cast["officer"], reference)[-1]
    assert approved.grant_pence > 5_000_00
    vary_works(
        db, cast["approver"], reference, change="A second grab rail", price_change_pence=100_00, on=REDONE
    )
    varied = approval_versions(db, cast["officer"], reference)[-1]
    assert (varied.kind, varied.grant_pence) == ("variation", approved.grant_pence + 100_00)
