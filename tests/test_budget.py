"""Budgets on a real database: allocations, commitments, variations, payments, releases and overrides;
the ledger always sums to the running totals, and nothing is written when a movement is refused."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dfg.errors import DfgError, GuardFailed, InvalidInput, NotFound, PermissionDenied
from dfg.reports import budget_lines
from dfg.rules.budget import MANDATORY, BudgetPosition
from dfg.rules.grant import funding_by_line
from dfg.services import approval, budget
from dfg.services.assessment import run_means_test
from dfg.services.grant import calculate_case_grant
from dfg.services.identity import user_actor
from dfg.services.users import add_user
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from tests.conftest import HOUSEHOLD

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
TODAY = date(2026, 6, 1)
YEAR = 2026


# ---------------------------------------------------------------------- helpers


def case_id(db: Database, reference: str) -> int:
    with db.read_connection() as connection:
        return int(
            connection.execute(
                text("SELECT id FROM cases WHERE reference = :r"), {"r": reference}
            ).scalar_one()
        )


def write(db: Database, move: Callable[..., dict[str, int]], **arguments: Any) -> dict[str, int]:
    """One budget movement in its own write transaction, as a step's service makes it."""
    with db.write_connection() as connection:
        return move(connection, **arguments)


def commit(db: Database, case: int, lines: dict[str, int], *, override: str | None = None, year: int = YEAR) -> dict[str, int]:  # fmt: skip
    return write(db, budget.commit, district="CAN", financial_year=year, lines=lines, case_id=case, approval_id=None,
                 recorded_by="approver", now=NOW, override_reason=override)  # fmt: skip


def allocate(
    db: Database, cast: dict[str, Actor], line: str, pounds: int, *, year: int = YEAR
) -> budget.Allocated:
    return budget.allocate(db, cast["manager"], district="CAN", financial_year=year, funding_line=line,
                           amount_pence=pounds * 100, reason="council budget", now=NOW)  # fmt: skip


def position(db: Database, line: str, *, year: int = YEAR, district: str = "CAN") -> BudgetPosition | None:
    with db.read_connection() as connection:
        row = connection.execute(
            text("SELECT allocation_pence, committed_pence, spent_pence FROM budgets "
                 "WHERE district_code = :d AND financial_year = :y AND funding_line = :l"),
            {"d": district, "y": year, "l": line},
        ).first()  # fmt: skip
    return None if row is None else BudgetPosition(*row)


def check_ledger(db: Database) -> None:
    """Every budget's running totals are its ledger's sums, by plain SQL; and the totals balance."""
    with db.read_connection() as connection:
        sums: dict[tuple[str, int, str], dict[str, int]] = {}
        for district, year, line, kind, total in connection.execute(
            text("SELECT district_code, financial_year, funding_line, kind, SUM(amount_pence) FROM budget_entries "
                 "GROUP BY district_code, financial_year, funding_line, kind")
        ):  # fmt: skip
            sums.setdefault((district, year, line), {})[kind] = int(total)
        rows = {
            (r[0], r[1], r[2]): BudgetPosition(r[3], r[4], r[5])
            for r in connection.execute(
                text("SELECT district_code, financial_year, funding_line, allocation_pence, committed_pence, "
                     "spent_pence FROM budgets")
            )
        }  # fmt: skip
    for key, row in rows.items():
        assert BudgetPosition.from_ledger(sums.get(key, {})) == row, key
        assert row.committed_pence + row.spent_pence + row.remaining_pence == row.allocation_pence
    assert set(sums) <= set(rows), "ledger entries for a budget with no row"


def snapshot(db: Database) -> tuple[Any, ...]:
    with db.read_connection() as connection:
        return tuple(
            tuple(tuple(r) for r in connection.execute(text(query)))
            for query in (
                "SELECT * FROM budgets ORDER BY district_code, financial_year, funding_line",
                "SELECT id FROM budget_entries ORDER BY id",
                "SELECT id FROM events ORDER BY id",
            )
        )


def entries(db: Database, case: int | None = None) -> list[dict[str, Any]]:
    with db.read_connection() as connection:
        query = "SELECT kind, funding_line, amount_pence, override_reason, approval_id, payment_id FROM budget_entries"
        rows = connection.execute(
            text(query + (" WHERE case_id = :c" if case is not None else "") + " ORDER BY id"), {"c": case}
        )
        return [dict(r._mapping) for r in rows]


@pytest.fixture
def case(db: Database, open_sample: Callable[..., str]) -> tuple[str, int]:
    reference = open_sample()
    return reference, case_id(db, reference)


def calculated(db: Database, cast: dict[str, Actor], reference: str, *, works_pounds: int, lines: tuple[str, ...] = ()) -> int:  # fmt: skip
    """A grant calculation on the case (with HOUSEHOLD's test of resources); its id."""
    run_means_test(db, cast["officer"], reference, HOUSEHOLD, on=TODAY)
    record = calculate_case_grant(
        db, cast["officer"], reference, works_pence=works_pounds * 100, funding_lines=lines, on=TODAY
    )
    return record.id


def set_case(db: Database, reference: str, **columns: object) -> None:
    """Put a case where a test needs it. The steps that lead there belong to other features (estimates,
    approval), so their tests take them; here only the case's state and dates matter."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with db.write_connection() as connection:
        connection.execute(
            text(f"UPDATE cases SET {assignments} WHERE reference = :r"), {**columns, "r": reference}
        )


# ---------------------------------------------------------------------- allocations


def test_allocate_and_reallocate(db: Database, cast: dict[str, Actor]) -> None:
    first = allocate(db, cast, MANDATORY, 850_000)
    assert (first.previous_pence, first.position.allocation_pence, first.changed, first.warning) == (
        0, 850_000_00, True, None,
    )  # fmt: skip
    again = allocate(db, cast, MANDATORY, 900_000)
    assert (again.previous_pence, again.position.allocation_pence) == (850_000_00, 900_000_00)
    unchanged = allocate(db, cast, MANDATORY, 900_000)
    assert not unchanged.changed
    assert [(e["kind"], e["amount_pence"]) for e in entries(db)] == [
        ("allocation", 850_000_00),
        ("allocation", 50_000_00),
    ]
    check_ledger(db)
    with db.read_connection() as connection:
        events = connection.execute(
            text("SELECT stream, actor, role, reason, payload FROM events WHERE kind = 'budget_allocated' ORDER BY id")
        ).all()  # fmt: skip
    assert [(e.stream, e.actor, e.role, e.reason) for e in events] == [
        ("system", "manager", "manager", "council budget")
    ] * 2
    assert json.loads(events[1].payload) == {
        "district": "CAN", "financial_year": 2026, "funding_line": "mandatory", "allocation_pence": 900_000_00,
        "previous_pence": 850_000_00, "change_pence": 50_000_00,
    }  # fmt: skip
    top_up = budget.allocate(db, cast["admin"], district="can", financial_year=YEAR, funding_line="top_up",
                             amount_pence=40_000_00, reason=None, now=NOW)  # fmt: skip
    assert top_up.as_dict()["remaining_pence"] == 40_000_00


def test_a_reduction_below_what_is_committed_is_allowed_with_a_warning(
    db: Database, cast: dict[str, Actor], case: tuple[str, int]
) -> None:
    allocate(db, cast, MANDATORY, 10_000)
    commit(db, case[1], {MANDATORY: 8_000_00})
    cut = allocate(db, cast, MANDATORY, 5_000)
    assert cut.position.remaining_pence == -3_000_00
    assert cut.warning == (
        "the CAN 2026-27 mandatory budget is now £3,000.00 less than is already committed (£8,000.00) and spent (£0.00)"
    )
    check_ledger(db)


@pytest.mark.parametrize(
    ("who", "changes", "error", "message"),
    [
        ("officer", {}, PermissionDenied, "needs the role manager or admin"),
        ("approver", {}, PermissionDenied, "needs the role manager or admin"),
        ("manager", {"funding_line": "gold_plating"}, InvalidInput, "CAN has no funding line 'gold_plating'"),
        ("manager", {"district": "XYZ"}, NotFound, "no district 'XYZ'"),
        ("manager", {"amount_pence": -1}, InvalidInput, "an allocation is nil or more"),
        ("manager", {"financial_year": 3026}, InvalidInput, "financial year 3026"),
        ("lichfield_manager", {}, PermissionDenied, "works for district LIC, not CAN"),
    ],
)
def test_allocate_refuses_and_changes_nothing(
    db: Database,
    cast: dict[str, Actor],
    who: str,
    changes: dict[str, Any],
    error: type[DfgError],
    message: str,
) -> None:
    add_user(db, "admin", username="lichfield_manager", full_name="L M", roles=["manager"], district="LIC")
    actors = {**cast, "lichfield_manager": user_actor(db, "lichfield_manager")}
    allocate(db, cast, MANDATORY, 1_000)
    before = snapshot(db)
    arguments: dict[str, Any] = {"district": "CAN", "financial_year": YEAR, "funding_line": MANDATORY,
                                 "amount_pence": 5_000_00, "reason": None, **changes}  # fmt: skip
    with pytest.raises(error, match=message):
        budget.allocate(db, actors[who], **arguments)
    assert snapshot(db) == before


# ---------------------------------------------------------------------- commitments


def test_commit_within_the_allocation(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:
    allocate(db, cast, MANDATORY, 10_000)
    allocate(db, cast, "top_up", 2_000)
    assert commit(db, case[1], {"top_up": 1_500_00, MANDATORY: 8_000_00, "fast_track": 0}) == {
        MANDATORY: 8_000_00, "top_up": 1_500_00,
    }  # fmt: skip
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 8_000_00, 0)
    assert position(db, "top_up") == BudgetPosition(2_000_00, 1_500_00, 0)
    assert all(e["override_reason"] is None for e in entries(db, case[1]))
    with db.read_connection() as connection:
        assert budget.outstanding(connection, case[1]) == {MANDATORY: 8_000_00, "top_up": 1_500_00}
    check_ledger(db)


def test_commit_to_exactly_the_allocation_fits(
    db: Database, cast: dict[str, Actor], case: tuple[str, int]
) -> None:
    allocate(db, cast, MANDATORY, 10_000)
    commit(db, case[1], {MANDATORY: 10_000_00})
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 10_000_00, 0)


def test_an_over_commitment_is_refused_and_nothing_is_written(
    db: Database, cast: dict[str, Actor], case: tuple[str, int], open_sample: Callable[..., str]
) -> None:
    allocate(db, cast, MANDATORY, 10_000)
    allocate(db, cast, "top_up", 5_000)
    commit(db, case_id(db, open_sample()), {MANDATORY: 4_000_00})
    before = snapshot(db)
    reference, number = case
    with pytest.raises(GuardFailed) as refused:
        commit(db, number, {MANDATORY: 7_000_00, "top_up": 1_000_00})  # the top-up fits; all is refused
    assert str(refused.value) == (
        f"{reference} would over-commit the budget: the CAN 2026-27 mandatory budget has £6,000.00 left and this "
        f"needs £7,000.00 (£1,000.00 short). A manager may override it ('dfg budget override {reference} "
        '--reason "…"\')'
    )
    assert snapshot(db) == before
    check_ledger(db)


def test_a_line_with_no_budget(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:
    allocate(db, cast, MANDATORY, 10_000)
    before = snapshot(db)
    with pytest.raises(GuardFailed, match=r"there is no CAN 2026-27 top_up budget, so £500.00 is short \(allocate one with "
                       r"'dfg budget allocate CAN --year 2026-27 --line top_up --amount …'\)"):  # fmt: skip
        commit(db, case[1], {MANDATORY: 1_000_00, "top_up": 500_00})
    assert snapshot(db) == before
    assert position(db, "top_up") is None
    # with a manager's override the budget is made, with a nil allocation, and the entry says why
    commit(
        db,
        case[1],
        {MANDATORY: 1_000_00, "top_up": 500_00},
        override="hospital discharge, funded from reserves",
    )
    assert position(db, "top_up") == BudgetPosition(0, 500_00, 0)
    assert [(e["funding_line"], e["override_reason"]) for e in entries(db, case[1])] == [
        (MANDATORY, None), ("top_up", "hospital discharge, funded from reserves"),
    ]  # fmt: skip
    check_ledger(db)


def test_commit_refuses_bad_amounts(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:
    allocate(db, cast, MANDATORY, 10_000)
    before = snapshot(db)
    with pytest.raises(InvalidInput, match="a commitment cannot be negative"):
        commit(db, case[1], {MANDATORY: -5})
    with pytest.raises(InvalidInput, match="whole pence"):
        commit(db, case[1], {MANDATORY: 1.5})  # type: ignore[dict-item]
    assert snapshot(db) == before


# ---------------------------------------------------------------------- overrides


def test_a_managers_override_lets_the_approval_through_and_is_recorded(
    db: Database, cast: dict[str, Actor], case: tuple[str, int]
) -> None:
    reference, number = case
    calculation = calculated(db, cast, reference, works_pounds=20_000)
    allocate(db, cast, MANDATORY, 5_000)
    recorded = approval.override(db, cast["manager"], reference.lower(), reason=" Hospital discharge: funded from reserves ", now=NOW)  # fmt: skip
    assert recorded.kind == "budget_override"
    assert recorded.payload["grant_calculation"] == calculation
    with db.read_connection() as connection:
        reason = budget.override_reason_for(connection, number, calculation)
        assert budget.override_reason_for(connection, number, calculation + 1000) is None
        event = connection.execute(
            text("SELECT actor, role, reason FROM events WHERE case_id = :c AND kind = 'budget_override'"), {"c": number}
        ).one()  # fmt: skip
    assert reason == "Hospital discharge: funded from reserves"
    assert tuple(event)[:2] == ("manager", "manager")
    assert event.reason.startswith("$sealed:")  # free text stays off the chain (dfg.store.personal)
    with pytest.raises(GuardFailed):
        commit(db, number, {MANDATORY: 9_800_55})
    assert commit(db, number, {MANDATORY: 9_800_55}, override=reason) == {MANDATORY: 9_800_55}
    assert position(db, MANDATORY) == BudgetPosition(5_000_00, 9_800_55, 0)
    assert entries(db, number)[0]["override_reason"] == reason
    check_ledger(db)


def test_the_latest_override_for_the_calculation_counts(
    db: Database, cast: dict[str, Actor], case: tuple[str, int]
) -> None:
    reference, number = case
    first = calculated(db, cast, reference, works_pounds=20_000)
    approval.override(db, cast["manager"], reference, reason="first thoughts", now=NOW)
    approval.override(db, cast["manager"], reference, reason="second thoughts", now=NOW)
    second = calculate_case_grant(db, cast["officer"], reference, works_pence=21_000_00, on=TODAY).id
    with db.read_connection() as connection:
        assert budget.override_reason_for(connection, number, first) == "second thoughts"
        assert budget.override_reason_for(connection, number, second) is None  # new figures, no override yet


@pytest.mark.parametrize(
    ("who", "reason", "prepare", "error", "message"),
    [
        ("officer", "why", "calculated", PermissionDenied, "needs the role manager"),
        ("approver", "why", "calculated", PermissionDenied, "needs the role manager"),
        ("manager", "  ", "calculated", InvalidInput, "say why"),
        ("manager", "why", "nothing", InvalidInput, "has no grant calculation"),
        ("manager", "why", "works_complete", InvalidInput,
         "is works complete: a budget override is for an approval or a variation still to be made"),
        ("manager", "why", "cancelled", InvalidInput, "is cancelled"),
    ],
)  # fmt: skip
def test_an_override_is_refused(
    db: Database, cast: dict[str, Actor], case: tuple[str, int], who: str, reason: str, prepare: str,
    error: type[DfgError], message: str,
) -> None:  # fmt: skip
    reference, _ = case
    if prepare != "nothing":
        calculated(db, cast, reference, works_pounds=20_000)
    if prepare == "works_complete":  # approved, and past the point a variation may be made
        set_case(db, reference, state="works_complete", approval_date=TODAY)
    if prepare == "cancelled":
        set_case(db, reference, state="cancelled")
    before = snapshot(db)
    with pytest.raises(error, match=message):
        approval.override(db, cast[who], reference, reason=reason, now=NOW)
    assert snapshot(db) == before


def test_an_override_in_another_district_is_refused(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:  # fmt: skip
    add_user(db, "admin", username="lichfield_manager", full_name="L M", roles=["manager"], district="LIC")
    reference = open_sample()
    calculated(db, cast, reference, works_pounds=20_000)
    with pytest.raises(PermissionDenied, match="works for district LIC"):
        approval.override(db, user_actor(db, "lichfield_manager"), reference, reason="why", now=NOW)


# ---------------------------------------------------------------------- variations, payments, releases


def test_adjust_up_and_down(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:
    reference, number = case
    allocate(db, cast, MANDATORY, 10_000)
    allocate(db, cast, "top_up", 1_000)
    commit(db, number, {MANDATORY: 6_000_00})
    adjust = {
        "case_id": number,
        "approval_id": None,
        "recorded_by": "approver",
        "now": NOW,
        "override_reason": None,
    }
    assert write(db, budget.adjust, deltas={MANDATORY: 3_000_00, "top_up": 800_00}, **adjust) == {
        MANDATORY: 3_000_00, "top_up": 800_00,
    }  # fmt: skip
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 9_000_00, 0)
    assert write(db, budget.adjust, deltas={MANDATORY: -2_500_00}, **adjust) == {MANDATORY: -2_500_00}
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 6_500_00, 0)
    before = snapshot(db)
    with pytest.raises(
        GuardFailed, match=r"the CAN 2026-27 mandatory budget has £3,500\.00 left and this needs £4,000\.00"
    ):
        write(db, budget.adjust, deltas={MANDATORY: 4_000_00}, **adjust)
    with pytest.raises(
        GuardFailed, match=f"cannot reduce the top_up commitment of {reference} by £900.00: only £800.00"
    ):
        write(db, budget.adjust, deltas={"top_up": -900_00}, **adjust)
    assert snapshot(db) == before
    # an override lets an increase through
    overridden = {**adjust, "override_reason": "variation: asbestos found"}
    write(db, budget.adjust, deltas={MANDATORY: 4_000_00}, **overridden)
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 10_500_00, 0)
    assert [e["kind"] for e in entries(db, number)] == ["commitment", *["adjustment"] * 4]
    assert entries(db, number)[-1]["override_reason"] == "variation: asbestos found"
    check_ledger(db)


def test_adjust_needs_a_commitment(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:
    with pytest.raises(
        GuardFailed, match=f"cannot vary the budget on {case[0]}: no budget is committed for it"
    ):
        write(db, budget.adjust, case_id=case[1], approval_id=None, deltas={MANDATORY: 1}, recorded_by="approver",
              now=NOW, override_reason=None)  # fmt: skip


def test_draw_down_splits_a_payment_across_lines(
    db: Database, cast: dict[str, Actor], case: tuple[str, int]
) -> None:
    reference, number = case
    allocate(db, cast, MANDATORY, 10_000)
    allocate(db, cast, "top_up", 5_000)
    allocate(db, cast, "fast_track", 5_000)
    commit(db, number, {MANDATORY: 6_000_00, "top_up": 2_000_00, "fast_track": 1_000_00})
    pay = {"case_id": number, "payment_id": None, "recorded_by": "officer", "now": NOW}
    assert write(db, budget.draw_down, amount_pence=4_000_00, **pay) == {MANDATORY: 4_000_00}
    assert write(db, budget.draw_down, amount_pence=3_000_00, **pay) == {
        MANDATORY: 2_000_00,
        "fast_track": 1_000_00,
    }
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 0, 6_000_00)
    assert position(db, "fast_track") == BudgetPosition(5_000_00, 0, 1_000_00)
    before = snapshot(db)
    with pytest.raises(
        InvalidInput, match=f"{reference}: a payment of £2,000.01 is more than the £2,000.00 committed"
    ):
        write(db, budget.draw_down, amount_pence=2_000_01, **pay)
    assert snapshot(db) == before
    assert write(db, budget.draw_down, amount_pence=2_000_00, **pay) == {"top_up": 2_000_00}
    with db.read_connection() as connection:
        assert budget.outstanding(connection, number) == {}
        summary = budget.case_budget(connection, number)
    assert summary["financial_year_label"] == "2026-27"
    assert summary["lines"][0] == {"funding_line": MANDATORY, "committed_pence": 6_000_00, "paid_pence": 6_000_00,
                                   "released_pence": 0, "outstanding_pence": 0}  # fmt: skip
    assert [line["funding_line"] for line in summary["lines"]] == [MANDATORY, "fast_track", "top_up"]
    check_ledger(db)


def test_draw_down_and_release_without_a_commitment(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:  # fmt: skip
    with pytest.raises(GuardFailed, match="no budget is committed"):
        write(
            db,
            budget.draw_down,
            case_id=case[1],
            payment_id=None,
            amount_pence=1,
            recorded_by="officer",
            now=NOW,
        )
    assert write(db, budget.release, case_id=case[1], recorded_by="officer", now=NOW) == {}
    assert write(db, budget.recommit, case_id=case[1], recorded_by="officer", now=NOW) == {}
    with db.read_connection() as connection:
        assert budget.case_budget(connection, case[1]) == {}


def test_release_and_recommit(db: Database, cast: dict[str, Actor], case: tuple[str, int], open_sample: Callable[..., str]) -> None:  # fmt: skip
    _, number = case
    allocate(db, cast, MANDATORY, 10_000)
    allocate(db, cast, "top_up", 2_000)
    commit(db, number, {MANDATORY: 6_000_00, "top_up": 1_000_00})
    write(
        db,
        budget.draw_down,
        case_id=number,
        payment_id=None,
        amount_pence=2_500_00,
        recorded_by="officer",
        now=NOW,
    )
    # closed with money unpaid: what is left is released
    assert write(db, budget.release, case_id=number, recorded_by="officer", now=NOW) == {
        MANDATORY: -3_500_00, "top_up": -1_000_00,
    }  # fmt: skip
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 0, 2_500_00)
    assert write(db, budget.release, case_id=number, recorded_by="officer", now=NOW) == {}  # nothing left
    check_ledger(db)
    # reopened: the released money is committed again; another case took most of it meanwhile
    commit(db, case_id(db, open_sample()), {MANDATORY: 6_000_00})
    assert write(db, budget.recommit, case_id=number, recorded_by="officer", now=NOW, reason="applicant back home") == {
        MANDATORY: 3_500_00, "top_up": 1_000_00,
    }  # fmt: skip
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 9_500_00, 2_500_00)  # £2,000 over: allowed
    recommitted = entries(db, number)[-2:]
    assert [(e["kind"], e["funding_line"], e["override_reason"]) for e in recommitted] == [
        ("commitment", MANDATORY, "reopened: applicant back home"), ("commitment", "top_up", None),
    ]  # fmt: skip
    assert (
        write(db, budget.recommit, case_id=number, recorded_by="officer", now=NOW) == {}
    )  # latest is not a release
    with db.read_connection() as connection:
        assert budget.outstanding(connection, number) == {MANDATORY: 3_500_00, "top_up": 1_000_00}
        assert budget.case_budget(connection, number)["overrides"] == ["reopened: applicant back home"]
    check_ledger(db)


def test_later_movements_stay_in_the_year_of_the_approval(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:  # fmt: skip
    allocate(db, cast, MANDATORY, 10_000, year=2025)
    allocate(db, cast, MANDATORY, 10_000, year=2026)
    commit(db, case[1], {MANDATORY: 5_000_00}, year=2025)
    write(
        db,
        budget.draw_down,
        case_id=case[1],
        payment_id=None,
        amount_pence=1_000_00,
        recorded_by="officer",
        now=NOW,
    )
    write(db, budget.release, case_id=case[1], recorded_by="officer", now=NOW)
    assert position(db, MANDATORY, year=2025) == BudgetPosition(10_000_00, 0, 1_000_00)
    assert position(db, MANDATORY, year=2026) == BudgetPosition(10_000_00, 0, 0)


# ---------------------------------------------------------------------- reading


def test_budget_show_with_pipeline_and_forecast(
    db: Database, cast: dict[str, Actor], case: tuple[str, int], open_sample: Callable[..., str]
) -> None:
    _, number = case
    allocate(db, cast, MANDATORY, 100_000)
    allocate(db, cast, "top_up", 10_000)
    budget.allocate(db, cast["manager"], district="LIC", financial_year=YEAR, funding_line=MANDATORY,
                    amount_pence=50_000_00, reason=None, now=NOW)  # fmt: skip
    commit(db, number, {MANDATORY: 20_000_00})
    write(
        db,
        budget.draw_down,
        case_id=number,
        payment_id=None,
        amount_pence=5_000_00,
        recorded_by="officer",
        now=NOW,
    )
    # awaiting a decision: counted in the pipeline; a case in another state is not
    waiting = open_sample()
    calculation = calculated(db, cast, waiting, works_pounds=60_000, lines=("top_up",))
    set_case(db, waiting, state="application_valid")
    elsewhere = open_sample()
    calculated(db, cast, elsewhere, works_pounds=20_000)
    with db.read_connection() as connection:
        figures = json.loads(
            connection.execute(text("SELECT result FROM grant_calculations WHERE id = :i"), {"i": calculation}).scalar_one()
        )  # fmt: skip
    expected = funding_by_line(figures)
    assert set(expected) == {MANDATORY, "top_up"}

    lines = budget_lines.budget_show(db, cast["manager"], today=TODAY)
    assert [(b.district, b.funding_line) for b in lines] == [
        ("CAN", MANDATORY),
        ("CAN", "top_up"),
        ("LIC", MANDATORY),
    ]
    mandatory = lines[0].position
    assert mandatory == BudgetPosition(100_000_00, 15_000_00, 5_000_00, expected[MANDATORY])
    assert mandatory.forecast_outturn_pence == 20_000_00 + expected[MANDATORY]
    assert mandatory.forecast_remaining_pence == 80_000_00 - expected[MANDATORY]
    assert lines[1].position.pipeline_pence == expected["top_up"]
    assert lines[0].as_dict()["district_name"] == "Cannock Chase"
    assert lines[0].as_dict()["financial_year_label"] == "2026-27"
    total = budget_lines.budget_totals(lines)
    assert total.allocation_pence == 160_000_00
    assert total.pipeline_pence == sum(expected.values())
    # another year has no pipeline (it is for the year applications will be decided in)
    assert budget_lines.budget_show(db, cast["manager"], financial_year=2025, today=TODAY) == []
    next_year = date(2027, 4, 1)  # the applications will be decided in 2027-28 now: 2026-27 has no pipeline
    assert {
        b.position.pipeline_pence
        for b in budget_lines.budget_show(db, cast["manager"], financial_year=YEAR, today=next_year)
    } == {0}
    assert [b.position for b in budget_lines.budget_show(db, cast["manager"], today=next_year)] == [
        BudgetPosition(pipeline_pence=expected[MANDATORY]), BudgetPosition(pipeline_pence=expected["top_up"]),
    ]  # fmt: skip
    # a district's user sees only that district
    assert {b.district for b in budget_lines.budget_show(db, cast["officer"], today=TODAY)} == {"CAN"}
    assert [b.district for b in budget_lines.budget_show(db, cast["lichfield"], today=TODAY)] == ["LIC"]
    assert [
        b.district for b in budget_lines.budget_show(db, cast["approver"], district="lic", today=TODAY)
    ] == ["LIC"]


def test_pipeline_on_a_line_with_no_budget_is_shown(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> None:  # fmt: skip
    waiting = open_sample()
    calculated(db, cast, waiting, works_pounds=20_000)
    set_case(db, waiting, state="application_valid")
    [line] = budget_lines.budget_show(db, cast["manager"], today=TODAY)
    assert (line.district, line.funding_line, line.position.allocation_pence) == ("CAN", MANDATORY, 0)
    assert line.position.forecast_remaining_pence == -line.position.pipeline_pence < 0


@pytest.mark.parametrize(
    ("who", "district", "error", "message"),
    [
        ("ot", None, PermissionDenied, "needs the role manager or grant_officer or approver or admin"),
        ("technical", None, PermissionDenied, "needs the role"),
        ("officer", "LIC", PermissionDenied, "works for district CAN, not LIC"),
        ("manager", "XYZ", NotFound, "no district 'XYZ'"),
    ],
)
def test_budget_show_and_entries_refuse(
    db: Database, cast: dict[str, Actor], who: str, district: str | None, error: type[DfgError], message: str
) -> None:
    with pytest.raises(error, match=message):
        budget_lines.budget_show(db, cast[who], district=district, today=TODAY)
    with pytest.raises(error, match=message):
        budget_lines.budget_entries(db, cast[who], district=district or "CAN", financial_year=YEAR)


def test_budget_entries_is_the_ledger(db: Database, cast: dict[str, Actor], case: tuple[str, int]) -> None:
    reference, number = case
    allocate(db, cast, MANDATORY, 10_000)
    allocate(db, cast, "top_up", 1_000)
    commit(db, number, {MANDATORY: 2_000_00, "top_up": 1_500_00}, override="reserves")
    ledger = budget_lines.budget_entries(db, cast["officer"], district="can", financial_year=YEAR)
    assert [(e.kind, e.funding_line, e.amount_pence, e.reference, e.override_reason) for e in ledger] == [
        ("allocation", MANDATORY, 10_000_00, None, None),
        ("allocation", "top_up", 1_000_00, None, None),
        ("commitment", MANDATORY, 2_000_00, reference, None),  # it fitted: no override needed
        ("commitment", "top_up", 1_500_00, reference, "reserves"),
    ]
    only = budget_lines.budget_entries(
        db, cast["officer"], district="CAN", financial_year=YEAR, funding_line="top_up"
    )
    assert [e.kind for e in only] == ["allocation", "commitment"]
    assert only[1].as_dict()["recorded_at"] == NOW.isoformat()
    assert budget_lines.budget_entries(db, cast["officer"], district="CAN", financial_year=2025) == []


# ---------------------------------------------------------------------- races and properties


def _wait_for_a_lock(db: Database) -> None:
    """The second approval is waiting for the first's budget row. PostgreSQL shows it; SQLite cannot."""
    if db.is_sqlite:
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 30
    with db.read_engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     "AND query LIKE 'UPDATE budgets%' AND datname = current_database()")
            ).scalar()  # fmt: skip
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the second approval never waited for the budget row")


def test_two_approvals_racing_cannot_both_fit_under_the_allocation(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    allocate(db, cast, MANDATORY, 10_000)
    first, second = case_id(db, open_sample()), case_id(db, open_sample())
    outcome: list[BaseException | dict[str, int]] = []

    def approve_second() -> None:
        try:
            outcome.append(commit(db, second, {MANDATORY: 6_000_00}))
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    with db.write_connection() as connection:
        budget.commit(connection, district="CAN", financial_year=YEAR, lines={MANDATORY: 6_000_00}, case_id=first,
                      approval_id=None, recorded_by="approver", now=NOW, override_reason=None)  # fmt: skip
        racer = threading.Thread(target=approve_second)
        racer.start()
        _wait_for_a_lock(db)
    racer.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], GuardFailed), outcome
    assert "has £4,000.00 left and this needs £6,000.00" in str(outcome[0])
    assert position(db, MANDATORY) == BudgetPosition(10_000_00, 6_000_00, 0)
    check_ledger(db)


_years = itertools.count(2030)

_operations = st.lists(
    st.one_of(
        st.tuples(st.just("commit"), st.integers(0, 1), st.sampled_from([MANDATORY, "top_up"]), st.integers(1, 800_000)),
        st.tuples(st.just("adjust"), st.integers(0, 1), st.sampled_from([MANDATORY, "top_up"]),
                  st.integers(-500_000, 500_000)),
        st.tuples(st.just("draw_down"), st.integers(0, 1), st.just(""), st.integers(1, 900_000)),
        st.tuples(st.just("release"), st.integers(0, 1), st.just(""), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=_operations, allocations=st.tuples(st.integers(0, 1_000_000), st.integers(0, 500_000)))
def test_without_overrides_no_sequence_overdraws_a_budget(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str],
    operations: list[tuple[str, int, str, int]], allocations: tuple[int, int],
) -> None:  # fmt: skip
    year = next(_years)  # fresh budgets for every example, in the one database of this test
    for line, pence in zip((MANDATORY, "top_up"), allocations, strict=True):
        budget.allocate(db, cast["manager"], district="CAN", financial_year=year, funding_line=line,
                        amount_pence=pence, reason=None, now=NOW)  # fmt: skip
    cases = [case_id(db, open_sample()) for _ in range(2)]
    for operation, which, line, amount in operations:
        number = cases[which]
        try:
            with db.write_connection() as connection:
                if operation == "commit":
                    budget.commit(connection, district="CAN", financial_year=year, lines={line: amount}, case_id=number,
                                  approval_id=None, recorded_by="approver", now=NOW, override_reason=None)  # fmt: skip
                elif operation == "adjust":
                    budget.adjust(connection, case_id=number, approval_id=None, deltas={line: amount},
                                  recorded_by="approver", now=NOW, override_reason=None)  # fmt: skip
                elif operation == "draw_down":
                    budget.draw_down(connection, case_id=number, payment_id=None, amount_pence=amount,
                                     recorded_by="officer", now=NOW)  # fmt: skip
                else:
                    budget.release(connection, case_id=number, recorded_by="officer", now=NOW)
        except (GuardFailed, InvalidInput):
            pass  # refused: and nothing of it was written (the ledger check below would see it)
        with db.read_connection() as connection:
            for code in (MANDATORY, "top_up"):
                committed_ever = connection.execute(
                    text("SELECT COALESCE(SUM(amount_pence), 0) FROM budget_entries WHERE financial_year = :y "
                         "AND funding_line = :l AND kind IN ('commitment', 'adjustment')"),
                    {"y": year, "l": code},
                ).scalar_one()  # fmt: skip
                now_at = position(db, code, year=year) or BudgetPosition()  # a nil allocation makes no row
                assert now_at.remaining_pence >= 0
                assert now_at.spent_pence <= committed_ever
            for number in cases:
                assert all(pence > 0 for pence in budget.outstanding(connection, number).values())
    assert not any(e["override_reason"] for e in entries(db))
    check_ledger(db)
