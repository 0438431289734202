"""Crashes: SIGKILL at random moments of an advancing batch, of ``dfg letters render --pending`` (with its
pool of worker processes) and of ``dfg tick``, on a SQLite file (where a torn write would show).

After every kill: ``PRAGMA integrity_check`` is ok, ``audit verify`` passes, no change is without its
event (each case's audit_seq is the number of events of its stream; each letter in the register has its
``letter_produced`` event), no register row is without its PDF (bytes present, hash matching), and no
process of the killed command is left running. Kills come in series on one database, each run starting
from where the last was killed; at the end of a series the command is run to the end, and the batch is
found done exactly once: each case advanced once, each letter produced once, each breach recorded once
(and a further tick records nothing).

``DFG_CRASH_KILLS`` sets the kills in all (default 100: 40 of the batch, 30 of each command).
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
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dfg.services.audit import verify_audit
from dfg.services.case_opening import open_case
from dfg.services.identity import resolve_actor
from dfg.store.database import Database
from tests.conftest import make_cast, sample_case

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("DFG_CRASH_KILLS", "100"))
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
    referrals = folder / "referrals.sqlite"
    shutil.copyfile(sqlite_template, referrals)
    db = Database.open(f"sqlite:///{referrals}")
    cast = make_cast(db)
    for _ in range(CASES):
        open_case(db, cast["officer"], sample_case())
    db.dispose()
    accepted = folder / "accepted.sqlite"
    _copy_database(referrals, accepted)
    advance_batch(f"sqlite:///{accepted}")
    return {"batch": referrals, "render": accepted, "tick": accepted}


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


def _check_consistent(path: Path, manager_db: Database) -> None:
    """What must hold after any kill."""
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stale = connection.execute(
            "SELECT c.reference, c.audit_seq, (SELECT count(*) FROM events e WHERE e.stream = c.reference) "
            "FROM cases c WHERE c.audit_seq != (SELECT count(*) FROM events e WHERE e.stream = c.reference)"
        ).fetchall()
        assert stale == [], "a change without its event"
        letters = connection.execute("SELECT id, pdf, sha256 FROM letters").fetchall()
        for letter_id, pdf, digest in letters:
            assert pdf and hashlib.sha256(pdf).hexdigest() == digest, f"letter {letter_id} has no whole PDF"
        produced = connection.execute("SELECT count(*) FROM events WHERE kind = 'letter_produced'").fetchone()
        assert produced == (len(letters),), "a letter without its event, or an event without its letter"
    assert verify_audit(manager_db, resolve_actor(manager_db, "manager")).problems == ()


def _check_done_once(kind: str, path: Path, url: str) -> None:
    """The batch, run to the end after its kills, is done, and done once."""
    with closing(sqlite3.connect(path)) as connection:
        if kind == "batch":
            states = Counter(s for (s,) in connection.execute("SELECT state FROM cases"))
            assert states == {"awaiting_assessment": CASES}
            accepted = Counter(
                s
                for (s,) in connection.execute("SELECT stream FROM events WHERE trigger = 'accept_referral'")
            )
            assert set(accepted.values()) == {1} and len(accepted) == CASES
        elif kind == "render":
            twice = connection.execute(
                "SELECT event_id, kind FROM letters WHERE copy_of IS NULL GROUP BY event_id, kind "
                "HAVING count(*) > 1"
            ).fetchall()
            assert twice == []
            kinds = Counter(k for (k,) in connection.execute("SELECT kind FROM letters"))
            assert kinds["acknowledgement"] == CASES
        else:
            twice = connection.execute(
                "SELECT stream, code FROM events WHERE kind = 'clock_breached' GROUP BY stream, code "
                "HAVING count(*) > 1"
            ).fetchall()
            assert twice == []
            assert connection.execute("SELECT count(*) FROM events WHERE kind = 'clock_breached'").fetchone()[
                0
            ]
            before = connection.execute("SELECT max(id) FROM events").fetchone()
    if kind == "tick":  # running it again records nothing
        again = subprocess.run(KINDS[kind].command(url), env=ENV, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("SELECT max(id) FROM events").fetchone() == before


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_killed_at_random_moments(kind: str, templates: dict[str, Path], tmp_path: Path) -> None:
    spec = KINDS[kind]
    kills_wanted = round(KILLS * spec.share)
    rng = random.Random(f"{kind}-20261203")
    kills = series = left_running = 0
    started = time.monotonic()
    log = (tmp_path / "stderr.log").open("w+")
    while kills < kills_wanted:
        series += 1
        path = tmp_path / f"series-{series}.sqlite"
        _copy_database(templates[kind], path)
        url = f"sqlite:///{path}"
        manager_db = Database.open(url)
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
            _check_consistent(path, manager_db)
            if kills >= kills_wanted:
                break
        finish = subprocess.run(spec.command(url), env=ENV, cwd=tmp_path, capture_output=True, text=True,
                                timeout=600)  # fmt: skip
        assert finish.returncode == 0, finish.stderr
        _check_consistent(path, manager_db)
        _check_done_once(kind, path, url)
        manager_db.dispose()
    log.close()
    print(f"\n{kind}: {kills} kills in {series} series, {left_running} left processes running, "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
