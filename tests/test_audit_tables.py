"""The audit check sees the tables: each row edited, inserted or deleted by hand is reported with what differs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import main
from dfg.services.approval import vary_works
from dfg.services.audit import verify_audit
from dfg.services.cases import advance
from dfg.services.letter_batch import render_pending
from dfg.store.audit import AuditProblem
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import walk_to


@pytest.fixture
def paid(db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]) -> str:
    """A case approved, its works done and certified, and paid: every table the check reads has rows."""
    reference = open_sample()
    walk_to(db, cast, reference, "paid")
    return reference


def _edit(db: Database, table: str, *statements: str, **params: object) -> None:
    """Edit ``table`` as a database administrator could: with its append-only guard (if it has one) off."""
    with db.write_engine.begin() as connection:
        if db.is_sqlite:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        else:  # as its owner: every guard the table has, whatever the migration named it
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for sql in statements:
            connection.execute(text(sql), params)


def _problems(db: Database, cast: dict[str, Actor], reference: str | None = None) -> list[AuditProblem]:
    return list(verify_audit(db, cast["manager"], reference).problems)


def test_a_clean_lifecycle_verifies(db: Database, cast: dict[str, Actor], paid: str) -> None:
    assert _problems(db, cast) == []
    assert _problems(db, cast, paid) == []


def test_a_variation_a_cancellation_and_a_reopening_verify(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    """Every kind of ledger movement a case makes: commitment, adjustment, release and recommitment."""
    reference = open_sample()
    walk_to(db, cast, reference, "works_ordered")
    vary_works(
        db, cast["approver"], reference, change="Extra grab rails by the WC", price_change_pence=500_00
    )
    advance(db, cast["officer"], reference, "cancel", TriggerInput(code="died", reason="Died in September"))
    reopen = TriggerInput(code="wrongly_closed", reason="Cancelled on the wrong case")
    advance(db, cast["officer"], reference, "reopen", reopen)
    assert _problems(db, cast) == []
    # the variation's row is checked against the figures its event carries
    _edit(db, "approvals", "UPDATE approvals SET total_assistance_pence = 1 WHERE version = 2")
    [problem] = _problems(db, cast)
    assert (problem.table, problem.column, problem.held) == ("approvals", "total_assistance_pence", 1)
    assert problem.row is not None and problem.row.endswith(f"({reference} version 2)")


def test_a_hold_verifies_and_its_start_is_checked(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    advance(db, cast["officer"], reference, "accept_referral")
    hold = TriggerInput(code="hospital", reason="In hospital after a fall", review_date=date(2027, 2, 1))
    advance(db, cast["officer"], reference, "hold", hold)
    assert _problems(db, cast) == []
    advance(db, cast["officer"], reference, "resume", TriggerInput())
    assert _problems(db, cast) == []  # the step that ended the hold says the columns are empty again
    advance(db, cast["officer"], reference, "hold", hold)
    _edit(db, "cases", "UPDATE cases SET hold_since = NULL, hold_review_date = NULL")
    found = {(p.column, p.held, p.seq) for p in _problems(db, cast)}
    assert found == {("hold_since", None, 5), ("hold_review_date", None, 5)}


def test_a_state_changed_with_no_event(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(db, "cases", "UPDATE cases SET state = 'closed' WHERE reference = :ref", ref=paid)
    [problem] = _problems(db, cast)
    assert (problem.table, problem.row, problem.column, problem.held, problem.expected) == (
        "cases", paid, "state", "closed", "paid",
    )  # fmt: skip
    assert str(problem).startswith(f"{paid} event ")
    assert str(problem).endswith(f"cases {paid}: state is 'closed' but the events say 'paid'")
    assert _problems(db, cast, paid) == [problem]  # one case's check sees it too


def test_a_case_inserted_with_no_event(db: Database, cast: dict[str, Actor], paid: str) -> None:
    # an empty chain is a whole one: only the table check sees a case no event opened
    _edit(
        db, "cases",
        "INSERT INTO cases (reference, district_code, property_id, workflow_version, state, priority, tenure,"
        " first_contact_date, audit_seq, audit_head, version, created_at, updated_at)"
        " SELECT 'CAN-2026-0999', district_code, property_id, workflow_version, 'approved', priority, tenure,"
        " first_contact_date, 0, '', 1, created_at, updated_at FROM cases",
    )  # fmt: skip
    assert [str(p) for p in _problems(db, cast)] == [
        "CAN-2026-0999: cases CAN-2026-0999: no event opened this case (inserted?)"
    ]


def test_the_approved_grant_changed_on_the_case(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(db, "cases", "UPDATE cases SET approved_grant_pence = approved_grant_pence + 100000")
    [problem] = _problems(db, cast)
    assert (problem.table, problem.column, problem.held - problem.expected) == (
        "cases", "approved_grant_pence", 100000,
    )  # fmt: skip


def test_the_approved_grant_changed_on_the_approval(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(db, "approvals", "UPDATE approvals SET grant_pence = grant_pence + 100000, works_pence = 1")
    found = {(p.table, p.column) for p in _problems(db, cast)}
    assert found == {("approvals", "grant_pence"), ("approvals", "works_pence")}


def test_a_budgets_committed_figure_zeroed(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(db, "budgets", "UPDATE budgets SET spent_pence = 0 WHERE spent_pence > 0")
    [problem] = _problems(db, cast)
    assert (problem.table, problem.column, problem.held) == ("budgets", "spent_pence", 0)
    assert problem.row == "CAN 2026-27 mandatory"
    assert "its ledger sums to" in problem.problem


def test_a_ledger_row_deleted(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(
        db, "budget_entries",
        "DELETE FROM budget_entries WHERE id = (SELECT max(id) FROM budget_entries WHERE kind = 'payment')",
    )  # fmt: skip
    found = {(p.table, p.column) for p in _problems(db, cast)}
    # the ledger no longer has the payment its event records, and the budget's figures no longer sum
    assert found == {("budget_entries", None), ("budgets", "committed_pence"), ("budgets", "spent_pence")}
    [deleted] = [p for p in _problems(db, cast, paid) if p.table == "budget_entries"]
    assert deleted.stream == paid and deleted.seq is not None
    assert "recorded by this event but not in the ledger (deleted?)" in deleted.problem


def test_a_ledger_row_inserted(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(
        db, "budget_entries",
        "INSERT INTO budget_entries (district_code, financial_year, funding_line, kind, amount_pence, recorded_by,"
        " recorded_at) VALUES ('CAN', 2026, 'mandatory', 'allocation', 500, 'mallory', :at)",
        at=datetime(2026, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    found = {(p.table, p.column) for p in _problems(db, cast)}
    assert found == {("budget_entries", None), ("budgets", "allocation_pence")}


def test_an_administrator_inserted_with_no_event(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(
        db, "users",
        "INSERT INTO users (username, full_name, active, created_at) VALUES ('mallory', 'Mallory', true, :at)",
        "INSERT INTO user_roles (user_id, role) SELECT id, 'admin' FROM users WHERE username = 'mallory'",
        at=datetime(2026, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    [problem] = _problems(db, cast)
    assert str(problem) == "system: users mallory: no event records this user (inserted?)"


def test_a_delegated_limit_raised_and_a_role_granted(db: Database, cast: dict[str, Actor], paid: str) -> None:
    _edit(
        db, "users",
        "UPDATE users SET approval_limit_pence = 999999999 WHERE username = 'approver'",
        "INSERT INTO user_roles (user_id, role) SELECT id, 'approver' FROM users WHERE username = 'officer'",
        "UPDATE users SET active = false WHERE username = 'ot'",
    )  # fmt: skip
    found = {(p.table, p.row, p.column): (p.held, p.expected) for p in _problems(db, cast)}
    assert found == {
        ("users", "approver", "approval_limit_pence"): (999999999, 30_000_00),
        ("user_roles", "officer", "roles"): (["approver", "grant_officer"], ["grant_officer"]),
        ("users", "ot", "active"): (False, True),
    }


@pytest.mark.slow  # renders the case's letters
def test_a_letters_pdf_replaced_or_missing(db: Database, cast: dict[str, Actor], paid: str) -> None:
    produced = render_pending(db, cast["officer"], workers=1).produced
    assert len(produced) >= 3 and _problems(db, cast) == []
    first, second, third = (letter.id for letter in produced[:3])
    forged = b"%PDF-1.7 forged"
    _edit(
        db, "letters",
        "UPDATE letters SET pdf = :forged WHERE id = :first",
        "UPDATE letters SET pdf = :forged, sha256 = :digest WHERE id = :second",  # the register's hash recomputed
        "DELETE FROM letters WHERE id = :third",
        forged=forged, digest=hashlib.sha256(forged).hexdigest(), first=first, second=second, third=third,
    )  # fmt: skip
    found = sorted((p.row or "", p.column or "") for p in _problems(db, cast))
    assert found == [
        (f"{first} ({paid})", "SHA-256 of the PDF"),
        (f"{second} ({paid})", "SHA-256 of the PDF"),
        (f"{second} ({paid})", "sha256"),
        (str(third), ""),
    ]


def test_the_command_line_reports_a_table_problem(
    db_url: str, db: Database, cast: dict[str, Actor], paid: str
) -> None:
    _edit(db, "cases", "UPDATE cases SET state = 'closed' WHERE reference = :ref", ref=paid)
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "manager", "audit", "verify"])
    assert result.exit_code == 10
    [line] = result.stdout.splitlines()
    assert line.endswith(f"cases {paid}: state is 'closed' but the events say 'paid'")
    assert result.stderr.splitlines()[-1].startswith("dfg: the audit trail is broken: ")
    as_json = CliRunner().invoke(main, ["--db", db_url, "--as", "manager", "audit", "verify", "--json"])
    assert '"column": "state"' in as_json.stdout and as_json.exit_code == 10


def test_changed_deactivated_and_reactivated_users_verify_and_a_hand_edit_after_is_caught(
    db: Database, cast: dict[str, Actor]
) -> None:
    from dfg.services.users import change_user, deactivate_user, reactivate_user

    admin = cast["admin"]
    change_user(db, admin, "officer", roles=["grant_officer", "approver"], approval_limit_pence=5_000_00)
    change_user(db, admin, "approver", district="LIC", full_name="Priya Khan")
    deactivate_user(db, admin, "ot", reason="retired")
    deactivate_user(db, admin, "technical", reason="left")
    reactivate_user(db, admin, "technical", reason="came back")
    assert _problems(db, cast) == []
    # checked against the latest event naming each user, not the first
    _edit(
        db, "users",
        "UPDATE users SET approval_limit_pence = 999999999 WHERE username = 'officer'",
        "DELETE FROM user_roles WHERE role = 'approver' AND user_id = (SELECT id FROM users WHERE username = 'officer')",
        "UPDATE users SET active = true WHERE username = 'ot'",
        "UPDATE users SET active = false WHERE username = 'technical'",
        "UPDATE users SET district_code = NULL WHERE username = 'approver'",
    )  # fmt: skip
    found = {(p.table, p.row, p.column): (p.held, p.expected) for p in _problems(db, cast)}
    assert found == {
        ("users", "officer", "approval_limit_pence"): (999999999, 5_000_00),
        ("user_roles", "officer", "roles"): (["grant_officer"], ["approver", "grant_officer"]),
        ("users", "ot", "active"): (True, False),
        ("users", "technical", "active"): (False, True),
        ("users", "approver", "district_code"): (None, "LIC"),
    }


def test_the_officer_a_case_is_opened_onto_is_checked(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    mine, nobodys = open_sample(), open_sample(address_line_1="3 Oak Road", unassigned=True)
    assert _problems(db, cast) == []
    _edit(
        db, "cases",
        "UPDATE cases SET assigned_to = NULL WHERE reference = :mine",
        "UPDATE cases SET assigned_to = (SELECT id FROM users WHERE username = 'officer') WHERE reference = :nobodys",
        mine=mine, nobodys=nobodys,
    )  # fmt: skip
    found = {(p.row, p.column): (p.held, p.expected) for p in _problems(db, cast)}
    assert found == {
        (mine, "assigned_to"): (None, cast["officer"].user_id),
        (nobodys, "assigned_to"): (cast["officer"].user_id, None),
    }
