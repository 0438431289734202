"""Progress on long work: a bar with the count, the rate and the time left on a terminal, and nothing on a
pipe; every long action tells its progress as ``(items just finished, items in all)``."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import pytest
from click.testing import CliRunner

from cli import main
from dfg.cli.command import progress_bar
from dfg.services.worklist import tick
from dfg.store.database import Database
from dfg.workflow.actor import Actor
from dfg.workflow.guards import TriggerInput
from tests.conftest import take_step


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_count_rate_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with progress_bar("Checking cases") as progress:
        progress(0, 4)
        for _ in range(4):
            progress(1, 4)
    shown = terminal.getvalue()
    assert "Checking cases" in shown
    assert "4/4" in shown  # the count
    assert "100%" in shown
    assert re.search(r"3/4   75%  [0-9.]+/s, 00:00:00 left", shown)  # the rate and the time left


def test_a_pipe_sees_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    with progress_bar("Checking cases") as progress:
        progress(0, 4)
        progress(4, 4)
    assert pipe.getvalue() == ""


def test_tick_tells_its_progress_over_every_case(
    db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    for _ in range(3):
        take_step(db, cast, open_sample(), "accept_referral", "officer", TriggerInput(on=date(2026, 1, 7)))
    told: list[tuple[int, int]] = []
    result = tick(db, cast["manager"], progress=lambda done, total: told.append((done, total)))
    assert told[0] == (0, 3)
    assert sum(done for done, _ in told) == result.cases_checked == 3
    assert {total for _, total in told} == {3}


def test_the_daily_tick_on_a_pipe_prints_only_its_result(
    db_url: str, db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    take_step(db, cast, open_sample(), "accept_referral", "officer", TriggerInput(on=date(2026, 1, 7)))
    result = CliRunner().invoke(main, ["--db", db_url, "--as", "manager", "tick"])
    assert result.exit_code == 0, result.stderr
    assert "Checking cases" not in result.stderr + result.stdout
