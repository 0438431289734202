"""Benchmarks for the case engine, written to docs/benchmarks.md.

Each figure is a ratio against a baseline measured in the same run on the same machine (machines here
are noisy; absolute times are given for context only).

    python bench/run.py            # full run (10,000 transitions), rewrites docs/benchmarks.md
    python bench/run.py --quick    # a smaller run, printed only
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from dfg.services.cases import advance  # noqa: E402
from dfg.services.identity import map_identity, running_principal, user_actor  # noqa: E402
from dfg.services.users import add_district, add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402
from dfg.store.migrate import upgrade  # noqa: E402
from dfg.store.models import CASES, PEOPLE, Property  # noqa: E402


def _cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    """User + system CPU time of one run of ``command``, the whole child process (start-up included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _alternating_medians(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """The median CPU time of each command over ``runs`` rounds, the commands taking turns in each round,
    so a burst of load on a noisy machine falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the file cache and the bytecode
        _cpu_seconds(command, env)
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_cpu_seconds(command, env))
    return {name: statistics.median(values) for name, values in times.items()}


def seed(db: Database, cases: int) -> None:
    """``cases`` cases at 'referral', inserted in bulk with Core (what an import would do)."""
    upgrade(db)
    add_user(db, None, username="admin", full_name="Admin", roles=["admin"])
    add_district(db, user_actor(db, "admin"), "CAN", "Cannock Chase")
    add_user(db, "admin", username="officer", full_name="Officer", roles=["grant_officer"], district="CAN")
    map_identity(db, user_actor(db, "admin"), "officer", running_principal(db))  # the runs act as officer
    now = datetime.now(UTC)
    with db.writing() as session:
        home = Property(
            address_line_1="1 Mill Lane", town="Cannock", postcode="WS11 1AA", district_code="CAN"
        )
        session.add(home)
        session.flush()
        session.execute(
            insert(CASES),
            [
                {
                    "reference": f"CAN-2026-{n:04d}", "district_code": "CAN", "property_id": home.id,
                    "workflow_version": "dfg@1", "state": "referral", "priority": "non_urgent", "tenure": "owner",
                    "first_contact_date": date(2026, 1, 5), "audit_seq": 0, "audit_head": "", "version": 1,
                    "created_at": now, "updated_at": now,
                }
                for n in range(1, cases + 1)
            ],
        )  # fmt: skip
        session.execute(
            insert(PEOPLE),
            [
                {"case_id": n, "given_name": "Margaret", "family_name": "Holt", "is_applicant": True,
                 "is_disabled_occupant": True, "is_relevant_person": True, "date_of_birth": date(1950, 1, 1)}
                for n in range(1, cases + 1)
            ],
        )  # fmt: skip


def bench_advance(cases: int, folder: Path, *, rounds: int = 10) -> dict[str, float]:
    """(b) advance ``cases`` cases one transition each through the library, against plain sqlite3.

    The two take turns in ``rounds`` slices of the cases, so a burst of load on a shared machine falls on
    both alike; each figure is the sum of its slices' wall time."""
    db = Database(f"sqlite:///{folder / 'advance.sqlite'}")
    seed(db, cases)
    officer = user_actor(db, "officer")
    references = [f"CAN-2026-{n:04d}" for n in range(1, cases + 1)]

    plain = sqlite3.connect(folder / "plain.sqlite", isolation_level=None)
    plain.executescript(
        """PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
        CREATE TABLE cases (id INTEGER PRIMARY KEY, reference TEXT UNIQUE, state TEXT, version INTEGER);
        CREATE TABLE events (id INTEGER PRIMARY KEY, case_id INTEGER REFERENCES cases(id), occurred_at TEXT,
                             actor TEXT, trigger TEXT, from_state TEXT, to_state TEXT, payload TEXT);"""
    )
    plain.execute("BEGIN")
    plain.executemany(
        "INSERT INTO cases (reference, state, version) VALUES (?, 'referral', 1)", [(r,) for r in references]
    )
    plain.execute("COMMIT")

    def ours_on(batch: list[str]) -> float:
        start = time.perf_counter()
        for reference in batch:
            advance(db, officer, reference, "accept_referral")
        return time.perf_counter() - start

    def plain_on(batch: list[str]) -> float:
        start = time.perf_counter()
        for reference in batch:
            plain.execute("BEGIN IMMEDIATE")
            case_id, state, version = plain.execute(
                "SELECT id, state, version FROM cases WHERE reference = ?", (reference,)
            ).fetchone()
            plain.execute(
                "UPDATE cases SET state = 'awaiting_assessment', version = ? WHERE id = ? AND version = ?",
                (version + 1, case_id, version),
            )
            plain.execute(
                "INSERT INTO events (case_id, occurred_at, actor, trigger, from_state, to_state, payload) "
                "VALUES (?, ?, 'officer', 'accept_referral', ?, 'awaiting_assessment', '{}')",
                (case_id, datetime.now(UTC).isoformat(), state),
            )
            plain.execute("COMMIT")
        return time.perf_counter() - start

    ours = baseline = 0.0
    size = -(-cases // rounds)
    for first in range(0, cases, size):
        batch = references[first : first + size]
        ours += ours_on(batch)
        baseline += plain_on(batch)
    db.dispose()
    plain.close()
    return {"cases": cases, "ours_s": ours, "plain_s": baseline, "ratio": ours / baseline}


def bench_startup(runs: int, folder: Path) -> dict[str, Any]:
    """(a) start-up: `dfg case show REF --json`, `dfg --help` and `dfg --version`, each against the bare
    imports it cannot do without, as CPU time (user + system) of the whole process."""
    path = folder / "show.sqlite"
    db = Database(f"sqlite:///{path}")
    seed(db, 10)
    db.dispose()
    # as installed: pip compiles the bytecode of what it installs, so the child may write and reuse it
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(ROOT)}
    # the code measured must be this checkout's, not an installed copy
    where = subprocess.run(
        [sys.executable, "-c", "import dfg; print(dfg.__file__)"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if not Path(where).resolve().is_relative_to(ROOT):
        raise SystemExit(f"dfg is imported from {where}, not from {ROOT}")
    # for comparison: plain click printing the same root help (the same text, options and commands)
    (folder / "bare_click_help.py").write_text(_BARE_CLICK_HELP)
    env["PYTHONPATH"] = os.pathsep.join((str(ROOT), str(folder)))
    # what the installed `dfg` script does (it imports the entry point, so its bytecode is cached too)
    dfg = [sys.executable, "-c", "import sys; from cli import main; sys.argv[0] = 'dfg'; sys.exit(main())"]
    commands = {
        "show": [*dfg, "--db", str(path), "--as", "officer", "case", "show", "CAN-2026-0001", "--json"],
        "show_floor": [sys.executable, "-c", "import click, sqlalchemy.orm"],
        "help": [*dfg, "--help"],
        "version": [*dfg, "--version"],
        "click_floor": [sys.executable, "-c", "import click"],
        "bare_help": [sys.executable, "-c", "import bare_click_help", "--help"],
    }
    cpu = _alternating_medians(commands, runs, env)
    return {"runs": runs, **cpu}


def _bare_click_help() -> str:
    """A module that is nothing but click: the root group of `dfg` with its help text, options and the
    one-line help of every command, and no library behind it."""
    from cli import GROUPS
    from cli import main as root

    commands = sorted((name, entry.short_help) for name, entry in GROUPS.items())
    return f"""import sys

import click


@click.group(help={root.help!r}, context_settings={{"help_option_names": ["-h", "--help"], "max_content_width": 100}})
@click.option("--db", envvar="DFG_DB", metavar="PATH|URL", help={root.params[0].help!r})
@click.option("--as", "as_user", envvar="DFG_USER", metavar="USER", help={root.params[1].help!r})
@click.version_option("0", prog_name="dfg")
def main(db, as_user):
    pass


for name, short_help in {commands!r}:
    main.add_command(click.Command(name, short_help=short_help))
sys.argv[0] = "dfg"
main()
"""


_BARE_CLICK_HELP = _bare_click_help()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="1,000 transitions and 5 runs; do not write the file"
    )
    parser.add_argument("--only", choices=("startup", "advance"), help="run one part; do not write the file")
    args = parser.parse_args()
    cases, runs = (1_000, 5) if args.quick else (10_000, 21)
    with tempfile.TemporaryDirectory() as folder:
        start = bench_startup(runs, Path(folder)) if args.only != "advance" else None
        moves = bench_advance(cases, Path(folder)) if args.only != "startup" else None
    lines = []
    if start is not None:
        for row, ours, floor, target in STARTUP_ROWS:
            lines.append(
                f"(a) {row}: {start[ours] * 1000:.0f} ms CPU vs {start[floor] * 1000:.0f} ms "
                f"= {start[ours] / start[floor]:.2f}x" + (f" (target <= {target})" if target else "")
            )
    if moves is not None:
        lines.append(
            f"(b) advance {cases:,} cases: {moves['ours_s'] / cases * 1000:.3f} ms vs plain sqlite3 "
            f"{moves['plain_s'] / cases * 1000:.3f} ms per transition = {moves['ratio']:.1f}x (target <= 5)"
        )
    print("\n".join(lines))
    if start is not None and moves is not None and not args.quick:
        write_report(start, moves)


#: The start-up rows: what is measured, its key, its floor's key, the target ratio.
STARTUP_ROWS = (
    ("`dfg case show REF --json`", "show", "show_floor", 1.15),
    ("`dfg --help`", "help", "click_floor", 1.05),
    ("`dfg --version`", "version", "click_floor", 1.05),
    (
        "for comparison: plain click printing the same root `--help`, no library",
        "bare_help",
        "click_floor",
        None,
    ),
)
FLOORS = {
    "show_floor": '`python -c "import click, sqlalchemy.orm"`',
    "click_floor": '`python -c "import click"`',
}


def write_report(start: dict[str, Any], moves: dict[str, float]) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else ""
    marker_start, marker_end = "<!-- case-engine:start -->", "<!-- case-engine:end -->"
    rows = "\n".join(
        f"| (a) {row}, CPU time (user + system) of the whole process, median of {start['runs']} | "
        f"{start[ours] * 1000:.0f} ms | {FLOORS[floor]}: {start[floor] * 1000:.0f} ms | "
        f"{start[ours] / start[floor]:.2f}x | {f'<= {target}x' if target else ''} |"
        for row, ours, floor, target in STARTUP_ROWS
    )
    per = moves["cases"]
    section = f"""{marker_start}
## Case engine (`python bench/run.py`)

Measured {date.today():%d %B %Y} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},
SQLite {sqlite3.sqlite_version} in WAL mode. Medians; each ratio is against a baseline measured in the same run,
the start-up commands and their floors taking turns in every round.

| benchmark | ours | baseline | ratio | target |
|---|---|---|---|---|
{rows}
| (b) advance {per:,} cases one transition each (guards, event row, hash chain, commit per transition), wall time | {moves["ours_s"] / per * 1000:.3f} ms per transition | plain `sqlite3` SELECT + UPDATE + INSERT per transaction: {moves["plain_s"] / per * 1000:.3f} ms | {moves["ratio"]:.1f}x | <= 5x |

{NOTES}
{marker_end}"""
    if marker_start in text:
        before, rest = text.split(marker_start, 1)
        text = before + section + rest.split(marker_end, 1)[1]
    else:
        text = (
            (text or "# Benchmarks\n\nFigures from `bench/`; rerun them on your machine to compare.\n")
            + "\n"
            + section
            + "\n"
        )
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")


#: What the figures mean, kept with the code that measures them (written under the table).
NOTES = """**Targets.** None is met in the run above; `dfg --version` is at its target in some runs (1.02x to
1.08x), `dfg --help` costs within a tenth of plain click printing the same help, and `dfg case
show` and advancing miss theirs. The machine is noisy: four runs of the start-up part on the final code,
3 December 2026, gave `case show` 1.19x, 1.23x, 1.27x and 1.42x. How the commands are run: as the installed `dfg` script runs
them (the entry point imported, bytecode written and reused, as pip leaves an installation), each
command and its floor taking turns in every round.

**(a) what start-up bought.** Before this work (the same harness, 3 December 2026): `case show --json`
1.92x, `--help` 7.26x, `--version` 7.96x; every command imported the whole 2,616-line `cli.py` (about
140 ms of click decorators) and SQLAlchemy. Now:

- The root loads its command groups lazily (`dfg/cli/`): `--help` and `--version` import `cli`, `dfg`,
  `dfg.cli` and `dfg.cli.command` and nothing else of the library, no SQLAlchemy
  (`tests/test_cli_startup.py`). What is left of `--help` over `import click` is click's own help
  formatting (gettext and `locale`, `shutil` for the terminal's width, wrapping about thirty lines):
  the last row of the table is plain click printing the same help with no library behind it, measured
  in the same rounds. So 1.05x is out of reach for `--help` while click formats it.
- The tables are SQLAlchemy Core `Table`s (`dfg/store/tables.py`, about 45 ms to build, most of it
  SQLAlchemy's event set-up per column); the 26 record classes are mapped onto them imperatively in
  `dfg/store/models.py` (about 25 ms more), which `case show` no longer imports: finding who is acting
  (`services.identity`), showing the case and the audit trail read with Core.
- The cyclic garbage collector is off while a command imports what it needs and back on, with
  start-up's objects frozen, once the command opens the database (`dfg/cli/command.py`). Start-up makes
  a few hundred thousand objects and no garbage, but the collector ran over them again and again: in
  one run of 25 alternating rounds, `case show --json` took 589 ms of CPU with the collector on and 507
  ms with it off (the floor 393 ms).
- `-X importtime` charged about 24 ms of "self" time to `dfg.workflow.facts`: it was not that module but
  a full collection that SQLAlchemy's allocations set off while it was importing.

What is left of `case show` over `import click, sqlalchemy.orm`: building the tables (about 45 ms),
the workflow engine and definition (about 20 ms, `transitions` and the TOML), the service modules'
prebuilt statements, opening the database and the two queries.

**(b) what each step bought.** Each step is a commit; each was run on 10,000 cases against the plain
`sqlite3` floor, the steps taking turns, twice (3 December 2026, medians; the same harness as the
table, so its floor is the same):

| step | ms per transition | floor | ratio |
|---|---|---|---|
| before (the version-checked UPDATE and the event INSERT through `Connection.execute`, reads and writes in SQLAlchemy transactions) | 0.598 | 0.037 | 16.1x |
| the UPDATE and the INSERT compiled once per dialect and run on the driver's cursor (`dfg/store/prepared.py`); BEGIN sent straight to the driver | 0.486 | 0.037 | 13.1x |
| the case's facts read with a prepared statement too | 0.358 | 0.035 | 10.2x |
| the read and a plain step's write in driver transactions (the pool's connection, no SQLAlchemy `Connection`); the guards' records prepared | 0.326 | 0.037 | 8.7x |
| Core tables, one JSON encoder | 0.321 | 0.036 | 8.8x |

The 11.3x measured on 23 November had the floor run after ours, at 0.080 ms; with the two taking turns
the same code is 16.1x. The guarantees are unchanged: the read and the write are still two transactions
(so two officers racing get a conflict, `tests/test_concurrency.py`), the UPDATE still checks the version
and moves the chain's head, the event and its SHA-256 chain hash are written in the same
`BEGIN IMMEDIATE` transaction, and a step that records details or moves the budget still writes through
SQLAlchemy. A prepared statement is SQLAlchemy's own compiled SQL with the same type conversions, so the
rows written are the same; PostgreSQL runs the same path (the whole suite passes on it).

**Where the time of (b) goes now** (cProfile over 1,000 advances, shares of the total): SQLite's own
work about a third (the two commits a quarter, the five statements a tenth); the workflow decision
(obstacles, guards, the shared `transitions` machine) a seventh; binding parameters and reading rows in
`prepared.py` about a tenth; taking and returning the pool's connection twice about a tenth; the rest is
building the facts, the payload and the hash. The floor does one transaction; we do two (the read, then
the version-checked write) so that a race is a conflict, and the two commits alone are a quarter of our
time. Not tried: merging the read into the write transaction (it would turn a race into a wait, which
`tests/test_concurrency.py` forbids) and deciding without the `transitions` machine (the architecture's
choice)."""

if __name__ == "__main__":
    main()
