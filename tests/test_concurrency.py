"""Two officers' processes race to advance the same case: exactly one wins, the other is told of the conflict."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from dfg.errors import Conflict
from dfg.services.audit import verify_audit
from dfg.services.case_reading import show_case
from dfg.services.cases import advance
from dfg.store.database import Database
from dfg.workflow.actor import Actor

ROOT = Path(__file__).resolve().parent.parent


def _wait_until_waiting(db: Database, racers: list[int]) -> None:
    """Every racer (by process id) has read the case and waits for the lock to write. PostgreSQL shows
    it; SQLite cannot, but /proc shows who has the file open: a racer opens it to read the case, and
    asks for the write lock within milliseconds of that. (A fixed sleep was too short on a loaded
    machine, where eight processes take longer to start.)"""
    deadline = time.monotonic() + 120
    if db.is_sqlite:
        assert db.sqlite_path is not None
        target = str(db.sqlite_path.resolve())
        waiting = set(racers)
        while waiting and time.monotonic() < deadline:
            for pid in list(waiting):
                try:
                    opened = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
                except OSError:
                    opened = set()
                if target in opened:
                    waiting.discard(pid)
            time.sleep(0.05)
        assert not waiting, f"{len(waiting)} racers never opened the database"
        time.sleep(2)
        return
    with db.read_engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar()
            watcher.rollback()
            if waiting == len(racers):
                return
            time.sleep(0.1)
    raise AssertionError(f"the {len(racers)} racers never all waited for the lock")


@pytest.mark.slow
def test_two_processes_racing_on_one_case(
    db: Database, db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    command = [
        sys.executable,
        str(ROOT / "cli.py"),
        "--db",
        db_url,
        "--as",
        "officer",
        "case",
        "advance",
        reference,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Hold the write lock (SQLite) or the case's row lock (PostgreSQL) while both processes read the case,
    # so both decide on the same version; then let them write.
    with db.write_engine.connect() as blocker:
        transaction = blocker.begin()
        if not db.is_sqlite:
            blocker.execute(text("SELECT id FROM cases WHERE reference = :r FOR UPDATE"), {"r": reference})
        racers = [
            subprocess.Popen(
                [*command, trigger], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for trigger in ("accept_referral", "accept_referral")
        ]
        _wait_until_waiting(db, [p.pid for p in racers])
        transaction.rollback()
    results = [(p.wait(timeout=30), *p.communicate()) for p in racers]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, Conflict.exit_code], results
    loser = next(err for code, _, err in results if code == Conflict.exit_code)
    assert (
        loser == f"dfg: {reference} was changed by someone else after you read it: show it again and retry\n"
    )
    assert show_case(db, cast["officer"], reference).state == "awaiting_assessment"
    assert verify_audit(db, cast["manager"], reference).problems == ()


def test_a_stale_read_is_a_conflict_in_process(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rule without processes: a write based on a version someone else has moved on fails."""
    reference = open_sample()
    import dfg.services.cases as cases

    real_read = cases.read_case

    def read_then_someone_else_writes(*args: object, **kwargs: object) -> object:
        row = real_read(*args, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(cases, "read_case", real_read)
        advance(db, cast["officer"], reference, "hold", cases.TriggerInput(
            code="other", reason="meanwhile", review_date=date(2099, 1, 1)))  # fmt: skip
        return row

    monkeypatch.setattr(cases, "read_case", read_then_someone_else_writes)
    with pytest.raises(Conflict):
        advance(db, cast["officer"], reference, "accept_referral")
    assert show_case(db, cast["officer"], reference).state == "referral"
    assert verify_audit(db, cast["manager"], reference).problems == ()


def test_two_officers_open_the_first_cases_of_a_year_at_once(db: Database, cast: dict[str, Actor]) -> None:
    """The reference counter for a new district-year is created by whoever gets there first."""
    from concurrent.futures import ThreadPoolExecutor

    from dfg.services.case_opening import open_case
    from tests.conftest import sample_case

    with ThreadPoolExecutor(max_workers=4) as pool:
        references = list(pool.map(lambda _: open_case(db, cast["officer"], sample_case()), range(8)))
    year = references[0].split("-")[1]
    assert sorted(references) == [f"CAN-{year}-{n:04d}" for n in range(1, 9)]


@pytest.mark.slow
def test_eight_approvers_racing_on_one_case(
    db: Database, db_url: str, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    """A step that records something (the approval) takes the case and checks its version before it
    writes that record: of eight approvers who read the case at once, one approves and seven are told of
    the conflict in one line (on PostgreSQL the losers used to meet a unique index: exit 70 and SQL)."""
    from dfg.services.estimates import record_estimate, select_estimate
    from dfg.services.grant import calculate_case_grant
    from tests.conftest import HOUSEHOLD_CONTRIBUTION, prepare_works, walk_to

    reference = open_sample()
    walk_to(db, cast, reference, "application_valid")
    prepare_works(db, cast)
    estimate = record_estimate(db, cast["officer"], reference, contractor="Castle Adaptations",
                               price_pence=8_000_00 + HOUSEHOLD_CONTRIBUTION, received_on=date.today())  # fmt: skip
    select_estimate(db, cast["officer"], reference, estimate.id)
    calculate_case_grant(db, cast["officer"], reference)
    command = [
        sys.executable,
        str(ROOT / "cli.py"),
        "--db",
        db_url,
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
            for _ in range(8)
        ]
        _wait_until_waiting(db, [p.pid for p in racers])
        transaction.rollback()
    results = [(p.wait(timeout=60), *p.communicate()) for p in racers]
    assert sorted(code for code, _, _ in results) == [0] + [Conflict.exit_code] * 7, results
    for _, _, err in (r for r in results if r[0] == Conflict.exit_code):
        assert (
            err
            == f"dfg: {reference} was changed by someone else after you read it: show it again and retry\n"
        )
    assert show_case(db, cast["officer"], reference).state == "approved"
    assert verify_audit(db, cast["manager"], reference).problems == ()
