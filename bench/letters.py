"""Benchmark: letters per second for ``dfg letters render --pending`` against bare WeasyPrint.

A database is seeded through the real services with cases whose steps queue the given number of letters
(acknowledgements, test of resources results with their workings, valid-application letters,
withdrawals; one applicant in seven asks for large print). Then, each as a whole process, timed by the
wall clock:

- **ours**: ``dfg letters render --pending`` — read the queue, build every context from the case data,
  render on every core, store each PDF with its SHA-256 and its ``letter_produced`` audit event;
- **bare**: one Python process that imports WeasyPrint and renders the same letters' HTML files (written
  beforehand from the same contexts) to tagged PDFs, one after another, with one font configuration and
  the stylesheets parsed once — WeasyPrint used as well as it can be used in one process;
- **bare on every core**, for comparison: as bare, in one process per core, each with its share of the
  files — what the machine gives WeasyPrint in parallel with no overhead at all.

The three take turns, for a few rounds, and each keeps its best time: on a shared machine other work only
ever adds time. The targets: ours at least 0.9x the bare rate per core (ours / cores against bare), and at
least 20 letters a second in total on 2 cores with libharfbuzz-subset0.

    python bench/letters.py              # 500 letters, 3 rounds; rewrites its section of docs/benchmarks.md
    python bench/letters.py --quick      # 60 letters, 1 round, printed only
"""

from __future__ import annotations

import argparse
import ctypes.util
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dfg.letters.render import render_html  # noqa: E402
from dfg.paths import letter_templates_dir  # noqa: E402
from dfg.services.assessment import AssessmentInput, record_assessment, run_means_test  # noqa: E402
from dfg.services.case_opening import NewCase, NewPerson, open_case  # noqa: E402
from dfg.services.cases import advance  # noqa: E402
from dfg.services.contractors import NewContractor, add_contractor  # noqa: E402
from dfg.services.estimates import record_estimate  # noqa: E402
from dfg.services.identity import map_identity, running_principal, user_actor  # noqa: E402
from dfg.services.letter_batch import pending_letters  # noqa: E402
from dfg.services.letter_contexts import build_letters  # noqa: E402
from dfg.services.letter_queue import read_queue  # noqa: E402
from dfg.services.users import add_district, add_user  # noqa: E402
from dfg.store.database import Database  # noqa: E402
from dfg.store.migrate import upgrade  # noqa: E402
from dfg.workflow.actor import Actor  # noqa: E402
from dfg.workflow.guards import TriggerInput  # noqa: E402

MARK_START, MARK_END = "<!-- letters:start -->", "<!-- letters:end -->"

_CONTRACTORS = ("Able Lifts Ltd", "Brook Builders")

_HOUSEHOLDS = (
    {
        "relevant_persons": [{"age": 78, "benefits": ["pension_credit_guarantee"], "premiums": []}],
        "couple": False,
        "weekly_income": [{"kind": "state_pension", "amount": "221.20"}],
        "capital": "0.00",
    },
    {
        "relevant_persons": [
            {"age": 45, "benefits": [], "premiums": []},
            {"age": 44, "benefits": [], "premiums": []},
        ],
        "couple": True,
        "weekly_income": [{"kind": "earnings_net", "amount": "300.00"}],
        "capital": "9000.00",
    },
)

# Where the bare process renders: the same stylesheet and envelope window our renderer adds to each letter.
_BARE = """
import sys
from pathlib import Path
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from dfg.letters.render import load_envelope_window
templates, folder = Path(sys.argv[1]), Path(sys.argv[2])
font_config = FontConfiguration()
base_url = templates.resolve().as_uri() + "/"
stylesheets = [
    weasyprint.CSS(filename=templates / "letter.css", font_config=font_config),
    weasyprint.CSS(string=load_envelope_window().css(), font_config=font_config),
]
part, parts = int(sys.argv[3]), int(sys.argv[4])
for path in sorted(folder.glob("*.html"))[part::parts]:  # this process's share of the files
    weasyprint.HTML(filename=path, base_url=base_url).write_pdf(
        path.with_suffix(".pdf"), stylesheets=stylesheets, font_config=font_config, pdf_variant="pdf/ua-1"
    )
"""


def seed(db: Database, letters: int) -> int:
    """Cases in Cannock whose steps queue exactly ``letters`` letters; returns how many cases."""
    upgrade(db)
    add_user(db, None, username="admin", full_name="Admin", roles=["admin"])
    add_district(db, user_actor(db, "admin"), "CAN", "Cannock Chase")
    for username, name, role in (("officer", "Sam Whitfield", "grant_officer"), ("ot", "Ruth Ashley", "ot")):
        add_user(db, "admin", username=username, full_name=name, roles=[role], district="CAN")
    officer, ot = user_actor(db, "officer"), user_actor(db, "ot")
    map_identity(db, user_actor(db, "admin"), "officer", running_principal(db))  # the runs act as officer
    for name in _CONTRACTORS:  # a valid application needs two estimates from different contractors
        add_contractor(
            db, officer, NewContractor(name=name, address="Unit 4, Watling Street, Cannock WS11 0BD")
        )
    queued, cases = 0, 0
    while queued < letters:
        queued += _walk(db, officer, ot, cases, letters - queued)
        cases += 1
    return cases


def _walk(db: Database, officer: Actor, ot: Actor, n: int, room: int) -> int:
    """Take case ``n`` along the main path, queuing at most ``room`` letters; returns how many it queued."""
    first = date(2026, 1, 5) + timedelta(days=n % 20)
    person = NewPerson(
        title=("Mrs", "Mr", "Ms")[n % 3],
        given_name=("Margaret", "Keith", "Aisha")[n % 3],
        family_name=("Holt", "Salt", "Hussain", "Bennett")[n % 4],
        date_of_birth=date(1940 + n % 40, 1 + n % 12, 1 + n % 28),
        is_applicant=True,
        is_disabled_occupant=True,
        communication_needs="large_print" if n % 7 == 0 else None,
    )
    reference = open_case(
        db,
        officer,
        NewCase(
            district="CAN",
            priority="non_urgent",
            tenure=("owner", "tenant")[n % 2],
            first_contact_date=first,
            address_line_1=f"{n % 140 + 1} Mill Lane",
            town="Cannock",
            postcode="WS11 1AA",
            referral_source="county OT",
            people=(person,),
        ),
    )
    advance(db, officer, reference, "accept_referral", TriggerInput(on=first + timedelta(days=2)))
    if room == 1:
        return 1
    assessed = first + timedelta(days=30)
    record_assessment(
        db,
        ot,
        reference,
        AssessmentInput(
            assessed_on=assessed,
            assessor="Ruth Ashley",
            organisation="Staffordshire County Council",
            purposes=("d", "f"),
            works=(("stairlift_straight", None),),
            priority="non_urgent",
            necessary_and_appropriate=True,
            reasons="Cannot climb the stairs safely",
        ),
    )
    household = {
        "tenure": ("owner", "tenant")[n % 2],
        "application_for_child": False,
        "children": [],
        "earlier_contributions": [],
        **_HOUSEHOLDS[n % 2],
    }
    run_means_test(db, officer, reference, household, on=assessed + timedelta(days=7))
    advance(
        db, officer, reference, "complete_test_of_resources", TriggerInput(on=assessed + timedelta(days=7))
    )
    if room == 2:
        return 2
    if n % 10 == 9:
        advance(db, officer, reference, "withdraw", TriggerInput(reason="Moving to sheltered housing"))
        return 3
    advance(db, officer, reference, "receive_application", TriggerInput(on=assessed + timedelta(days=20)))
    for contractor, price in zip(_CONTRACTORS, (4_200_00, 4_650_00), strict=True):
        record_estimate(
            db,
            officer,
            reference,
            contractor=contractor,
            price_pence=price,
            received_on=assessed + timedelta(days=25),
        )
    advance(db, officer, reference, "validate_application", TriggerInput(on=assessed + timedelta(days=30)))
    return 3


def write_html(db: Database, folder: Path) -> int:
    """The HTML of every queued letter, from the contexts ``render --pending`` builds; returns how many."""
    officer = user_actor(db, "officer")
    now = datetime.now(UTC)
    # The service's own queue and builders (each letter dated its step's date), so the bare run renders
    # exactly the letters ours renders.
    built = build_letters(db, officer, read_queue(db, officer))
    for number, (_, kind, context) in enumerate(built.ready):
        (folder / f"{number:05d}-{kind}.html").write_text(render_html(kind, context, created_at=now))
    return len(built.ready)


@dataclass(frozen=True)
class Run:
    """One run of a contender: wall seconds, and CPU seconds of all its processes."""

    wall: float
    cpu: float


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process waited for, and their children
    return usage.ru_utime + usage.ru_stime


def _run(commands: list[list[str]], env: dict[str, str]) -> Run:
    """Start ``commands`` side by side; the time until the last has finished, and the CPU they used."""
    cpu = _cpu_of_children()
    start = time.perf_counter()
    running = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    for process in running:
        _, errors = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"{process.args!r} failed:\n{errors}")
    return Run(time.perf_counter() - start, _cpu_of_children() - cpu)


def _bare(html: Path, parts: int) -> list[list[str]]:
    """``parts`` bare processes, each rendering every ``parts``-th file."""
    templates = str(letter_templates_dir())
    return [[sys.executable, "-c", _BARE, templates, str(html), str(n), str(parts)] for n in range(parts)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="60 letters, one round; do not write the file")
    parser.add_argument("--letters", type=int, help="how many letters (default 500, or 60 with --quick)")
    parser.add_argument("--rounds", type=int, help="rounds of the three runs, best kept (default 3, or 1)")
    args = parser.parse_args()
    count = args.letters or (60 if args.quick else 500)
    rounds = args.rounds or (1 if args.quick else 3)
    cores = os.cpu_count() or 1
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seeded, path = folder / "seeded.sqlite", folder / "letters.sqlite"
        db = Database(f"sqlite:///{seeded}")
        load = os.getloadavg()[0]
        started = time.perf_counter()
        cases = seed(db, count)
        html = folder / "html"
        html.mkdir()
        letters = write_html(db, html)
        db.dispose()
        print(f"seeded {cases} cases queuing {letters} letters in {time.perf_counter() - started:.0f} s")
        assert letters == count, f"expected {count} letters ready to render, found {letters}"
        render = [
            sys.executable,
            str(ROOT / "cli.py"),
            "--db",
            str(path),
            "--as",
            "officer",
            "letters",
            "render",
        ]
        runs: dict[str, list[Run]] = {"ours": [], "bare": [], "every_core": []}
        for _ in range(rounds):
            # The runs take turns, so a spell of someone else's work on the machine spoils one of each.
            shutil.copyfile(seeded, path)  # the queue as seeded: each run of ours renders all of it
            runs["ours"].append(_run([[*render, "--pending"]], env))
            runs["bare"].append(_run(_bare(html, 1), env))
            runs["every_core"].append(_run(_bare(html, cores), env))
            print(", ".join(f"{name} {r[-1].wall:.1f} s ({r[-1].cpu:.1f} s CPU)" for name, r in runs.items()))
        done = Database(f"sqlite:///{path}")
        left = len(pending_letters(done, user_actor(done, "officer")))
        done.dispose()
        assert left == 0, f"{left} letters are still pending after the run"
    figures = Figures(
        letters=letters,
        cores=cores,
        ours_runs=tuple(runs["ours"]),
        bare_runs=tuple(runs["bare"]),
        bare_every_core_runs=tuple(runs["every_core"]),
        load=load,
    )
    print(summary(figures))
    if not args.quick:
        write_report(figures)


@dataclass(frozen=True)
class Figures:
    """How many letters, on how many cores, and each contender's wall time in every round."""

    letters: int
    cores: int
    ours_runs: tuple[Run, ...]
    bare_runs: tuple[Run, ...]
    bare_every_core_runs: tuple[Run, ...]
    load: float  # the 1-minute load average before the runs: others' work on a shared machine

    # Each contender's best time: on a shared machine, other work only ever adds time.
    @property
    def ours_s(self) -> float:
        return min(r.wall for r in self.ours_runs)

    @property
    def bare_s(self) -> float:
        return min(r.wall for r in self.bare_runs)

    @property
    def bare_every_core_s(self) -> float:
        return min(r.wall for r in self.bare_every_core_runs)

    def cpu_ms_per_letter(self, runs: tuple[Run, ...]) -> float:
        """CPU per letter in the fastest round: our own work shows here, whatever else ran alongside."""
        return min(runs, key=lambda r: r.wall).cpu / self.letters * 1000

    @property
    def ours(self) -> float:
        return self.letters / self.ours_s

    @property
    def bare(self) -> float:
        return self.letters / self.bare_s

    @property
    def bare_every_core(self) -> float:
        return self.letters / self.bare_every_core_s

    @property
    def per_core(self) -> float:
        """Ours per core against bare in one process: the first target."""
        return self.ours / self.cores / self.bare


def summary(f: Figures) -> str:
    return (
        f"ours: {f.letters} letters in {f.ours_s:.1f} s = {f.ours:.1f} letters/s on {f.cores} cores "
        f"({f.ours / f.cores:.1f} per core)\n"
        f"bare, one process: {f.bare_s:.1f} s = {f.bare:.1f} letters/s\n"
        f"bare, one process per core: {f.bare_every_core_s:.1f} s = {f.bare_every_core:.1f} letters/s\n"
        f"CPU per letter: ours {f.cpu_ms_per_letter(f.ours_runs):.0f} ms, bare {f.cpu_ms_per_letter(f.bare_runs):.0f} ms, "
        f"bare per core {f.cpu_ms_per_letter(f.bare_every_core_runs):.0f} ms\n"
        f"per core, ours / bare = {f.per_core:.2f} (target >= 0.9); total {f.ours:.1f} letters/s (target >= 20)"
    )


def _seconds(runs: tuple[Run, ...]) -> str:
    return ", ".join(f"{r.wall:.1f}" for r in runs)


def _harfbuzz_subset() -> str:
    return (
        "installed"
        if ctypes.util.find_library("harfbuzz-subset")
        else "not installed (fontTools subsets fonts)"
    )


# What was measured on 23 November 2026 to make a letter cheaper to render: fixed text, as it is not re-measured.
_TRIED = """**Why 20 letters/s is out of reach here, and what was tried.** 20 letters/s on 2 cores leaves each
core 100 ms a letter; WeasyPrint alone needs 75–150 ms for these letters (260 ms for an approval notice),
about 0.7 ms for each line it lays out. Measured on 23 November 2026, best of at least 12 renders of five
kinds in one process: a trimmed user-agent stylesheet (through a private WeasyPrint hook) saved 5%;
fixed widths for the footer and page-number boxes 2–3%; the address without `<br>` about 3%; a
`string-set` footer, separate table borders, no grid, no `var()`, no kerning saved nothing. For scale,
leaving out the whole page-1 top panel saves about 20%, the footer boxes 7 ms a page, the PDF tags 5%:
none of them may go. Together the allowed changes give about 1.15x, against the 1.35x the target needs,
at the price of private API and layout limits, so none was taken. The interpreter matters more: the same
code under Debian's Python 3.11.2 (built with PGO and LTO) took 17–21% less CPU a letter than under a
plain source build of 3.11.7, and a run of this benchmark under it (500 letters, 2 rounds) gave ours 17.7
letters/s, bare WeasyPrint in one process 11.1, and on every core 18.2. See the administrator's guide."""


def write_report(f: Figures) -> None:
    import weasyprint

    met = {True: "met", False: "**not met**"}
    bare_ms, every_core_ms = f.cpu_ms_per_letter(f.bare_runs), f.cpu_ms_per_letter(f.bare_every_core_runs)
    section = f"""{MARK_START}
## Letters (`python bench/letters.py`)

Measured {date.today():%d %B %Y} on {platform.machine()}, {f.cores} cores, Python {platform.python_version()},
WeasyPrint {weasyprint.__version__}, libharfbuzz-subset0 {_harfbuzz_subset()}: {f.letters} letters, wall time of
the whole process (or processes). The three runs take turns for {len(f.ours_runs)} rounds; each row gives its best
round, and every round's seconds. The load average before the runs was {f.load:.2f}.

| | best, seconds | letters/s | letters/s per core | CPU per letter (best round) | every round, seconds |
|---|---|---|---|---|---|
| ours: `dfg letters render --pending` (queue, contexts, render on every core, register, audit events) | {f.ours_s:.1f} | {f.ours:.1f} | {f.ours / f.cores:.1f} | {f.cpu_ms_per_letter(f.ours_runs):.0f} ms | {_seconds(f.ours_runs)} |
| bare WeasyPrint: the same HTML files one after another in one process | {f.bare_s:.1f} | {f.bare:.1f} | {f.bare:.1f} | {f.cpu_ms_per_letter(f.bare_runs):.0f} ms | {_seconds(f.bare_runs)} |
| for comparison, bare WeasyPrint in {f.cores} processes side by side, each on its share of the files | {f.bare_every_core_s:.1f} | {f.bare_every_core:.1f} | {f.bare_every_core / f.cores:.1f} | {f.cpu_ms_per_letter(f.bare_every_core_runs):.0f} ms | {_seconds(f.bare_every_core_runs)} |

| target | measured | |
|---|---|---|
| ours per core >= 0.9x bare in one process | {f.per_core:.2f}x | {met[f.per_core >= 0.9]} |
| ours >= 20 letters/s in total on 2 cores | {f.ours:.1f} letters/s on {f.cores} cores | {met[f.ours >= 20]} |

The letters are a realistic mix: acknowledgements, test of resources results with the full workings
(two or three pages), valid-application letters and withdrawals; one applicant in seven asks for large
print. Rendering is nearly all of the time in every row. Besides rendering, ours starts the worker
processes (each imports WeasyPrint and loads the fonts once), reads the queue, builds the contexts, and
records each letter and its audit event in the main process while the workers render: the CPU column
shows what all that costs per letter, next to what rendering alone costs in one process and in one
process per core.

At bare WeasyPrint's {bare_ms:.0f} ms of CPU a letter, no renderer could pass {f.cores * 1000 / bare_ms:.1f} letters/s
on {f.cores} cores of this machine, whatever its overhead. The third row shows how the machine runs
WeasyPrint on every core at once: in its best round each letter took {every_core_ms / bare_ms:.1f} times the CPU
it takes in one process. Ours against that row: {f.ours / f.bare_every_core:.2f}x. This one is a virtual machine
shared with other work, and its rounds vary widely; rerun on the machine that will produce the letters.

{_TRIED}
{MARK_END}"""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if MARK_START in text:
        before, rest = text.split(MARK_START, 1)
        text = before + section + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
