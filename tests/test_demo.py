"""The demonstration walks cases through every service; it must work whatever the seed (it dates cases
from today, so the seeds below meet different days of the year as time passes)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from dfg.services.audit import verify_audit
from dfg.services.clocks import case_clocks_for
from dfg.services.demo import run_demo
from dfg.services.identity import user_actor
from dfg.services.letter_batch import pending_letters
from dfg.store.database import Database


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_the_demo_runs_and_its_figures_hold(tmp_path: Path, seed: int) -> None:
    db = Database(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    summary = run_demo(db, per_district=3, seed=seed)
    assert summary.cases == 24
    assert verify_audit(db, user_actor(db, "manager")).problems == ()
    with db.read_connection() as connection:
        # every running total is what the ledger adds up to
        mismatched = connection.execute(text(
            "SELECT b.district_code, b.financial_year, b.funding_line FROM budgets b JOIN ("
            " SELECT district_code, financial_year, funding_line,"
            "  sum(CASE WHEN kind = 'allocation' THEN amount_pence ELSE 0 END) AS allocation,"
            "  sum(CASE WHEN kind IN ('commitment', 'adjustment', 'release') THEN amount_pence"
            "      WHEN kind = 'payment' THEN -amount_pence ELSE 0 END) AS committed,"
            "  sum(CASE WHEN kind = 'payment' THEN amount_pence ELSE 0 END) AS spent"
            " FROM budget_entries GROUP BY district_code, financial_year, funding_line) l"
            " USING (district_code, financial_year, funding_line)"
            " WHERE b.allocation_pence != l.allocation OR b.committed_pence != l.committed"
            " OR b.spent_pence != l.spent")).all()  # fmt: skip
        paid_cases = connection.execute(text(
            "SELECT c.reference FROM cases c JOIN payments p ON p.case_id = c.id WHERE c.state IN ('paid', 'closed')"
            " GROUP BY c.reference, c.id HAVING sum(p.amount_pence) != (SELECT total_assistance_pence FROM approvals a"
            "  WHERE a.case_id = c.id ORDER BY version DESC LIMIT 1)")).all()  # fmt: skip
    assert mismatched == []
    assert paid_cases == []  # a paid case was paid exactly its approved assistance
    assert_letters_went_out_on_their_steps_days(db)
    db.dispose()


def assert_letters_went_out_on_their_steps_days(db: Database) -> None:
    """Every step's letters are produced, each dated its step's date; each decision's notice went out
    on the decision's day, so the s.34 clock stopped then."""
    manager = user_actor(db, "manager")
    assert pending_letters(db, manager) == []
    with db.read_connection() as connection:
        steps = {
            row.seq_key: json.loads(row.payload)
            for row in connection.execute(text(
                "SELECT case_id || ':' || seq AS seq_key, payload FROM events WHERE kind IN ('transition', 'reminder')"
            ))
        }  # fmt: skip
        letters = connection.execute(text(
            "SELECT case_id, payload FROM events WHERE kind = 'letter_produced'")).all()  # fmt: skip
        decided = connection.execute(text(
            "SELECT reference, coalesce(refusal_date, approval_date) AS decided FROM cases"
            " WHERE coalesce(refusal_date, approval_date) IS NOT NULL")).all()  # fmt: skip
    assert letters and decided
    for case_id, payload in letters:
        said = json.loads(payload)
        step = steps[f"{case_id}:{said['step']}"]
        assert said["letter_date"] == step["effective_date"], said
        assert said["produced_on"] >= said["letter_date"], said
    for reference, on in decided:
        decision = {c.name: c for c in case_clocks_for(db, manager, reference)}["decision_due"]
        assert (decision.stopped, decision.status) == (
            on if isinstance(on, date) else date.fromisoformat(on),
            "met",
        )
