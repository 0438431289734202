"""Crashes: SIGKILL at random moments of an advancing batch, of ``dfg letters render --pending`` (with its
pool of worker processes) and of ``dfg tick``, on a SQLite file (where a torn write would show).

After every kill: ``PRAGMA integrity_check`` is ok, ``audit verify`` passes, no change is without its
event (each case's audit_seq is the number of events of its stream; each letter in the register has its
``letter_produced`` event), no register row is without its PDF (bytes present, hash matching), and no
process of the killed command is left running. Kills come in series on one database, each run starting
from where the last was killed; at the end of a series the command is run to the end, and the batch is
found done exactly once: each case advanced once, each letter produced once, each breach recorded once
(and a further tick records nothing).

``DFG_CRASH_KILLS`` sets the kills on SQLite (default 100: 40 of the batch, 30 of each command); a tenth
as many again kill the batch on PostgreSQL when DFG_TEST_DATABASE_URL names a server (there the checks
are the same but SQLite's integrity check).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dfg.services.audit import verify_audit
from dfg.services.case_opening import open_case
from dfg.services.identity import resolve_actor
from dfg.store.database import Database
from tests.conftest import make_cast, needs_postgres, sample_case

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("DFG_CRASH_KILLS", "100"))  # on SQLite
POSTGRES_SHARE = 0.1  # of KILLS, on top
CASES = 40  # more than letters render's pool threshold, so it starts its workers
ACCEPTED = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)  # long enough ago for the stage 1 clocks to be breached
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def advance_batch(url: str) -> None:
    """The batch (run as its own process): accept every referral still waiting, one case at a time."""
    from sqlalchemy import select

    from dfg.services.cases import advance
    from dfg.store.tables import CASES as CASE_ROWS

    db = Database.open(url)
    officer = resolve_actor(db, "officer")
    with db.read_connection() as connection:
        waiting = list(
            connection.scalars(select(CASE_ROWS.c.reference).where(CASE_ROWS.c.state == "referral"))
        )
    for reference in waiting:
        advance(db, officer, reference, "accept_referral", now=ACCEPTED)
    db.dispose()


@dataclass(frozen=True)
class Kind:
    """A command to kill: how it is started, and the window its kill falls in (seconds after start)."""

    name: str
    share: float
    window: float
    kill_group: bool  # the whole process group, or (letters render) only the parent its workers watch
    series: int  # kills before the command is let run to the end

    def command(self, url: str) -> list[str]:
        if self.name == "batch":
            code = (
                "import sys; from tests.test_faults_crashes import advance_batch; advance_batch(sys.argv[1])"
            )
            return [sys.executable, "-c", code, url]
        args = ["letters", "render", "--pending"] if self.name == "render" else ["tick"]
        return [sys.executable, str(ROOT / "cli.py"), "--db", url, "--as", "manager", *args]


KINDS = {
    "batch": Kind("batch", 0.4, 2.5, kill_group=True, series=5),
    "render": Kind("render", 0.3, 6.0, kill_group=False, series=10),  # a whole run renders forty letters
    "tick": Kind("tick", 0.3, 2.5, kill_group=True, series=5),
}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> dict[str, Path]:
    """Two starting points: ``referrals``, forty cases waiting to be accepted (for the batch), and
    ``accepted``, the same accepted long ago (forty acknowledgements to render, clocks to breach)."""
    folder = tmp_path_factory.mktemp("crashes")
    made = {}
    for name, accepted in (("referrals", False), ("accepted", True)):
        made[name] = folder / f"{name}.sqlite"
        shutil.copyfile(sqlite_template, made[name])
        _seed(f"sqlite:///{made[name]}", accepted=accepted)
    return {"batch": made["referrals"], "render": made["accepted"], "tick": made["accepted"]}


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its -wal included), through SQLite's own backup."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def _group_members(group: int) -> list[int]:
    """Processes still alive in a process group (a zombie has ended; it waits only to be reaped)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(entry))
    return alive


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.read_connection() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def _check_consistent(db: Database) -> None:
    """What must hold after any kill."""
    if db.is_sqlite:
        assert db.sqlite_path is not None
        with closing(sqlite3.connect(db.sqlite_path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    stale = _rows(
        db,
        "SELECT c.reference, c.audit_seq FROM cases c "
        "WHERE c.audit_seq != (SELECT count(*) FROM events e WHERE e.stream = c.reference)",
    )
    assert stale == [], "a change without its event"
    letters = _rows(db, "SELECT id, pdf, sha256 FROM letters")
    for letter_id, pdf, digest in letters:
        assert pdf and hashlib.sha256(pdf).hexdigest() == digest, f"letter {letter_id} has no whole PDF"
    produced = _rows(db, "SELECT count(*) FROM events WHERE kind = 'letter_produced'")
    assert produced == [(len(letters),)], "a letter without its event, or an event without its letter"
    assert verify_audit(db, resolve_actor(db, "manager")).problems == ()


def _check_done_once(kind: str, db: Database) -> None:
    """The batch, run to the end after its kills, is done, and done once."""
    if kind == "batch":
        assert _rows(db, "SELECT state, count(*) FROM cases GROUP BY state") == [
            ("awaiting_assessment", CASES)
        ]
        accepted = _rows(
            db, "SELECT stream, count(*) FROM events WHERE trigger = 'accept_referral' GROUP BY stream"
        )
        assert len(accepted) == CASES and {n for _, n in accepted} == {1}
    elif kind == "render":
        twice = "SELECT event_id, kind FROM letters WHERE copy_of IS NULL GROUP BY event_id, kind HAVING count(*) > 1"
        assert _rows(db, twice) == []
        assert _rows(db, "SELECT count(*) FROM letters WHERE kind = 'acknowledgement'") == [(CASES,)]
    else:
        twice = "SELECT stream, code FROM events WHERE kind = 'clock_breached' GROUP BY stream, code HAVING count(*) > 1"
        assert _rows(db, twice) == []
        assert _rows(db, "SELECT count(*) FROM events WHERE kind = 'clock_breached'")[0][0] > 0
        before = _rows(db, "SELECT max(id) FROM events")
        again = subprocess.run(
            KINDS[kind].command(db.url), env=ENV, capture_output=True, text=True, timeout=300
        )
        assert again.returncode == 0, again.stderr
        assert _rows(db, "SELECT max(id) FROM events") == before, "a second tick recorded something"


def _seed(url: str, *, accepted: bool) -> None:
    """Forty referrals, accepted long ago if ``accepted``."""
    db = Database.open(url)
    cast = make_cast(db)
    for _ in range(CASES):
        open_case(db, cast["officer"], sample_case())
    db.dispose()
    if accepted:
        advance_batch(url)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "backend"),
    [
        *((kind, "sqlite") for kind in KINDS),
        # a smaller share on PostgreSQL, whose server keeps its files whole whatever its clients do
        pytest.param("batch", "postgresql", marks=needs_postgres),
    ],
)
def test_killed_at_random_moments(
    kind: str, backend: str, templates: dict[str, Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    spec = KINDS[kind]
    kills_wanted = round(KILLS * (spec.share if backend == "sqlite" else POSTGRES_SHARE))
    rng = random.Random(f"{kind}-{backend}-20261203")
    kills = series = left_running = 0
    started = time.monotonic()
    log = (tmp_path / "stderr.log").open("w+")
    while kills < kills_wanted:
        series += 1
        if backend == "sqlite":
            path = tmp_path / f"series-{series}.sqlite"
            _copy_database(templates[kind], path)
            url = f"sqlite:///{path}"
        else:
            url = request.getfixturevalue("postgres").fresh()
            _seed(url, accepted=kind != "batch")
        db = Database.open(url)
        for _ in range(spec.series):
            log.seek(0)
            log.truncate()
            process = subprocess.Popen(spec.command(url), env=ENV, cwd=tmp_path, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
            try:
                process.wait(timeout=rng.uniform(0.1, spec.window))
                finished = True
            except subprocess.TimeoutExpired:
                finished = False
            if finished:  # it ran to the end before its moment came: this series is done
                assert process.returncode == 0, (log.seek(0), log.read())
                break
            if spec.kill_group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait()
            kills += 1
            deadline = time.monotonic() + 10  # a worker looks for its parent every 0.2 s
            while _group_members(process.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            stray = _group_members(process.pid)
            if stray:
                left_running += 1
                os.killpg(process.pid, signal.SIGKILL)
            assert not stray, f"kill {kills}: {len(stray)} of its processes still running after 10 s"
            _check_consistent(db)
            if kills >= kills_wanted:
                break
        finish = subprocess.run(spec.command(url), env=ENV, cwd=tmp_path, capture_output=True, text=True,
                                timeout=600)  # fmt: skip
        assert finish.returncode == 0, finish.stderr
        _check_consistent(db)
        _check_done_once(kind, db)
        db.dispose()
        if backend != "sqlite":
            request.getfixturevalue("postgres").drop(url)
    log.close()
    print(f"\n{kind} on {backend}: {kills} kills in {series} series, {left_running} left processes running, "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
