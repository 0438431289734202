"""Races: eight processes fire conflicting steps, budget commitments and payments at the same 50 cases.

First all eight approve the same case at once (through the real ``dfg`` command, each having read the
case before any may write): one approves, seven are told of the conflict. Then each process makes its
share of the attempts on cases chosen at random, reading a case and firing what its state allows (approve
or refuse, review and overturn, order and start the works, interim payments, holds and resumes), most
through the library and a share through ``dfg`` itself. The budget holds fewer approvals than there are
cases, so approvals race for the last of it.

Afterwards: every step that said it succeeded has exactly one event and every event a success (no lost
update, no duplicate), each case's state is its last event's, the budgets agree with their ledger and none
is committed beyond its allocation, every loser got an engine refusal (conflict, or the refusal its state
now gives) and through ``dfg`` exactly one line (never exit 70), and ``audit verify`` passes.

``DFG_RACE_ATTEMPTS`` sets the attempts of the random phase in all (default 2,000).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from dfg.errors import Conflict, DfgError, GuardFailed, InvalidInput, InvalidTransition
from dfg.services.audit import verify_audit
from dfg.services.budget import allocate
from dfg.store.database import Database
from dfg.store.tables import BUDGET_ENTRIES, BUDGETS, CASES, EVENTS
from dfg.workflow.actor import Actor
from tests.conftest import APPROVED_GRANT, HOUSEHOLD_CONTRIBUTION, prepare_works, walk_to
from tests.test_concurrency import _wait_until_waiting

ROOT = Path(__file__).resolve().parent.parent
CASES_RACED = 50
PROCESSES = 8
ATTEMPTS = int(os.environ.get("DFG_RACE_ATTEMPTS", "2000"))
CLI_SHARE = 0.025  # of the random phase's attempts; each costs a process start (about half a second)
APPROVALS_BUDGETED = 30  # the budget holds this many approvals of the 50 cases
INTERIM_PENCE = 100_00
#: What a loser may be told: someone else changed the case first (between its read and its write), or,
#: having read after the winner, what the case's state now refuses. Any other code is a failure.
LOSING = {Conflict.exit_code, InvalidTransition.exit_code, GuardFailed.exit_code, InvalidInput.exit_code}


def _case_ready_for_approval(db: Database, cast: dict[str, Actor], reference: str) -> None:
    from dfg.services.estimates import record_estimate, select_estimate
    from dfg.services.grant import calculate_case_grant

    walk_to(db, cast, reference, "application_valid")
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=APPROVED_GRANT + HOUSEHOLD_CONTRIBUTION, received_on=date.today())  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id)
    calculate_case_grant(db, cast["officer"], reference)


# ------------------------------------------------------------------------------------ in each process


def _choose(state: str, on_hold: bool, rng: random.Random) -> tuple[str, str]:
    """What a user who has just read the case fires next, and as whom."""
    if on_hold:
        return "resume", "officer"
    if rng.random() < 0.08:
        return "hold", "officer"
    return {
        "application_valid": ("approve", "approver") if rng.random() < 0.85 else ("refuse", "approver"),
        "refused": ("request_review", "officer"),
        "under_review": ("overturn_refusal", "approver"),
        "approved": ("order_works", "officer"),
        "works_ordered": ("start_on_site", "officer"),
        "on_site": ("pay_interim", "officer"),
    }.get(state, ("resume", "officer"))  # any other state: a step it refuses


def _cli_arguments(trigger: str, reference: str) -> list[str]:
    review = (date.today() + timedelta(days=30)).isoformat()
    return {
        "approve": ["grant", "approve", reference],
        "pay_interim": ["pay", "interim", reference, "--amount", f"{INTERIM_PENCE / 100:.2f}",
                        "--work-done", f"{APPROVED_GRANT / 100:.2f}"],
        "hold": ["case", "hold", reference, "--code", "hospital", "--reason", "race", "--review-date", review],
        "resume": ["case", "resume", reference, "--reason", "race"],
        "refuse": ["case", "advance", reference, "refuse", "--code", "other", "--reason", "race"],
        "request_review": ["case", "advance", reference, "request_review", "--code", "other", "--reason", "race"],
        "overturn_refusal": ["case", "advance", reference, "overturn_refusal", "--reason", "race"],
    }.get(trigger, ["case", "advance", reference, trigger])  # fmt: skip


def _fire(db: Database, actor: Actor, trigger: str, reference: str) -> None:
    from dfg.services.approval import approve_grant
    from dfg.services.cases import advance
    from dfg.services.payments import pay_interim
    from dfg.workflow.guards import TriggerInput

    if trigger == "approve":
        approve_grant(db, actor, reference)
    elif trigger == "pay_interim":
        pay_interim(db, actor, reference, amount_pence=INTERIM_PENCE, work_done_pence=APPROVED_GRANT)
    else:
        given = {
            "hold": TriggerInput(
                code="hospital", reason="race", review_date=date.today() + timedelta(days=30)
            ),
            "refuse": TriggerInput(code="other", reason="race"),
            "request_review": TriggerInput(code="other", reason="race"),
        }.get(trigger, TriggerInput(reason="race"))
        advance(db, actor, reference, trigger, given)


def race_worker(url: str, references: list[str], attempts: int, seed: int, start_at: float) -> None:
    """One racer (run as its own process): prints one JSON line per attempt."""
    from dfg.services.case_reading import show_case
    from dfg.services.identity import resolve_actor

    rng = random.Random(seed)
    db = Database.open(url)
    actors = {name: resolve_actor(db, name) for name in ("officer", "approver")}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(attempts):
        reference = rng.choice(references)
        view = show_case(db, actors["officer"], reference)
        trigger, who = _choose(view.state, view.on_hold_since is not None, rng)
        outcome: dict[str, Any] = {"case": reference, "trigger": trigger}
        if rng.random() < CLI_SHARE:
            command = [sys.executable, str(ROOT / "cli.py"), "--db", url, "--as", who,
                       *_cli_arguments(trigger, reference)]  # fmt: skip
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            outcome |= {"via": "cli", "code": done.returncode, "stderr": done.stderr}
        else:
            try:
                _fire(db, actors[who], trigger, reference)
                outcome |= {"via": "library", "code": 0}
            except DfgError as error:
                outcome |= {"via": "library", "code": error.exit_code, "stderr": error.message}
            except Exception as error:  # a bug: reported, not raised, so the run's figures still come back
                outcome |= {"via": "library", "code": 70, "stderr": f"{type(error).__name__}: {error}"}
        print(json.dumps(outcome), flush=True)
    db.dispose()


# ------------------------------------------------------------------------------------ the test


def _eight_approve_one_case(db: Database, url: str, reference: str) -> list[tuple[int, str]]:
    """All eight processes approve ``reference`` through ``dfg``, every one having read it first."""
    command = [
        sys.executable,
        str(ROOT / "cli.py"),
        "--db",
        url,
        "--as",
        "approver",
        "grant",
        "approve",
        reference,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with db.write_engine.connect() as blocker:  # every racer reads and decides before any may write
        transaction = blocker.begin()
        if not db.is_sqlite:
            blocker.execute(text("SELECT id FROM cases WHERE reference = :r FOR UPDATE"), {"r": reference})
        racers = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(PROCESSES)
        ]
        _wait_until_waiting(db, [p.pid for p in racers])
        transaction.rollback()
    return [(p.wait(timeout=120), p.communicate()[1]) for p in racers]


def _check_budgets(db: Database) -> None:
    """Each budget's running totals are its ledger's, and nothing is committed beyond its allocation."""
    from dfg.rules.budget import ENTRY_EFFECTS

    with db.read_connection() as connection:
        for row in connection.execute(select(BUDGETS)):
            entries = connection.execute(
                select(BUDGET_ENTRIES.c.kind, func.sum(BUDGET_ENTRIES.c.amount_pence))
                .where(
                    BUDGET_ENTRIES.c.district_code == row.district_code,
                    BUDGET_ENTRIES.c.financial_year == row.financial_year,
                    BUDGET_ENTRIES.c.funding_line == row.funding_line,
                )
                .group_by(BUDGET_ENTRIES.c.kind)
            ).all()
            totals = [0, 0, 0]
            for kind, amount in entries:
                for i, effect in enumerate(ENTRY_EFFECTS[kind]):
                    totals[i] += effect * int(amount)
            assert totals == [row.allocation_pence, row.committed_pence, row.spent_pence], row
            assert row.committed_pence + row.spent_pence <= row.allocation_pence, row


@pytest.mark.slow
def test_eight_processes_racing_on_fifty_cases(db: Database, db_url: str, cast: dict[str, Actor]) -> None:
    from dfg.services.case_opening import open_case
    from tests.conftest import sample_case

    year = date.today().year if date.today().month > 3 else date.today().year - 1
    allocate(db, cast["admin"], district="CAN", financial_year=year, funding_line="mandatory",
             amount_pence=APPROVALS_BUDGETED * APPROVED_GRANT, reason="race budget")  # fmt: skip
    prepare_works(db, cast)  # the contractors (the budget above is the only one)
    references = [open_case(db, cast["officer"], sample_case()) for _ in range(CASES_RACED)]
    for reference in references:
        _case_ready_for_approval(db, cast, reference)
    with db.read_connection() as connection:
        before = int(connection.scalar(select(func.max(EVENTS.c.id))) or 0)
    started = time.monotonic()

    # all eight approve the same case at once
    together = _eight_approve_one_case(db, db_url, references[0])
    assert sorted(code for code, _ in together) == [0] + [Conflict.exit_code] * (PROCESSES - 1), together
    for code, err in together:
        if code:
            assert err == (f"dfg: {references[0]} was changed by someone else after you read it: "
                           "show it again and retry\n")  # fmt: skip
    outcomes: list[dict[str, Any]] = [
        {"case": references[0], "trigger": "approve", "via": "cli", "code": code, "stderr": err}
        for code, err in together
    ]

    # then each at random
    start_at = time.time() + 4  # each process imports the library first
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, json; from tests.test_faults_races import race_worker; "
                "race_worker(*json.loads(sys.argv[1]))",
                json.dumps([db_url, references, ATTEMPTS // PROCESSES, 1000 + n, start_at]),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-2000:]
        outcomes += [json.loads(line) for line in out.splitlines()]
    elapsed = time.monotonic() - started

    codes = Counter(o["code"] for o in outcomes)
    unexpected = [o for o in outcomes if o["code"] not in {0, *LOSING}]
    assert not unexpected, unexpected[:10]
    through_dfg = [o for o in outcomes if o["via"] == "cli"]
    for o in through_dfg:
        if o["code"]:
            lines = o["stderr"].splitlines()
            assert len(lines) == 1 and lines[0].startswith("dfg: "), o

    # every success has its one event, and every event its success
    succeeded = Counter((o["case"], o["trigger"]) for o in outcomes if o["code"] == 0)
    with db.read_connection() as connection:
        recorded = Counter(
            (stream, trigger)
            for stream, trigger in connection.execute(
                select(EVENTS.c.stream, EVENTS.c.trigger).where(
                    EVENTS.c.id > before, EVENTS.c.trigger.is_not(None)
                )
            )
        )
        assert recorded == succeeded
        for case in connection.execute(select(CASES.c.reference, CASES.c.state, CASES.c.audit_seq)):
            last_state = connection.scalar(
                select(EVENTS.c.to_state)
                .where(EVENTS.c.stream == case.reference, EVENTS.c.to_state.is_not(None))
                .order_by(EVENTS.c.seq.desc())
                .limit(1)
            )
            events = connection.scalar(select(func.count()).where(EVENTS.c.stream == case.reference))
            assert (case.audit_seq, case.state) == (events, last_state), case
    _check_budgets(db)
    assert verify_audit(db, cast["manager"]).problems == ()
    approved = sum(1 for (_, trigger), n in succeeded.items() if trigger == "approve" for _ in range(n))
    print(
        f"\n{'sqlite' if db.is_sqlite else 'postgresql'}: {len(outcomes)} attempts "
        f"({len(through_dfg)} through dfg) in {elapsed:.1f} s; exit codes {dict(sorted(codes.items()))}; "
        f"{approved} approvals for a budget of {APPROVALS_BUDGETED}; successes by step "
        f"{dict(sorted(Counter(t for (_, t) in succeeded.elements()).items()))}"
    )
    assert len(outcomes) >= ATTEMPTS
