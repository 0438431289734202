"""Fuzzing: generated malformed input over every command of the ``dfg`` tree and every file it imports
(bad encodings, lone surrogates, huge numbers, control characters, NUL, very long and hostile strings,
missing and extra arguments). No input may end in an unexpected error (exit 70) or a traceback, a refusal
is one line on stderr, and a refused command changes nothing in the database.

Runs in-process (click's CliRunner) against a copy of a small prepared SQLite database per shard.
``DFG_FUZZ_INPUTS`` sets how many inputs in all (default 10,000), ``DFG_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main
from dfg.services.case_opening import open_case
from dfg.services.estimates import record_estimate, select_estimate
from dfg.services.grant import calculate_case_grant
from dfg.store.database import Database
from tests.conftest import make_cast, prepare_works, sample_case, walk_to

ROOT = Path(__file__).resolve().parent.parent
INPUTS = int(os.environ.get("DFG_FUZZ_INPUTS", "10000"))
SEED = int(os.environ.get("DFG_FUZZ_SEED", "20261203"))
SHARDS = 8
UNEXPECTED = 70

# What a hostile caller types: huge and odd numbers, encodings Python carries as lone surrogates,
# control characters, NUL, very long strings, SQL, format strings, markup and path traversal.
HOSTILE = (
    "", " ", "\x00", "CAN-2026-0001\x00", "\udcff\udcfe", "\ud800", "caf\udce9", "1e309", "-1e309", "1e-400",
    "nan", "NaN", "inf", "-inf", str(2**64), str(-(2**64)), str(10**30), "9223372036854775808",
    "-9223372036854775809", "-1", "0", "-0.00", "0.001", "1.005", "1,000.00", "£100", "1_000", "0x10",
    "١٢٣", "\x1b[31mred\x1b[0m", "\r\n", "\t", "\x7f", "\u202eevil", "\ufeff", "😀" * 50, "x" * 100_000,
    "'; DROP TABLE cases; --", "Robert'); DELETE FROM events; --", "%s%s%s%n", "{0.__class__}", "{}",
    "${HOME}", "$(reboot)", "<script>alert(1)</script>", "../../../../etc/passwd", "..\\..\\boot.ini",
    "31/02/2026", "2026-02-30", "2026-13-01", "9999-12-31", "0001-01-01", "99999-01-01", "2026-03-31T25:61",
    "CAN-9999-9999", "can-2026-0001", "ZZZ-2026-0001", "null", "[]", "true", "-", "--", "-x", "--bogus",
)  # fmt: skip

# Files a command reads: broken bytes, broken structure, hostile values (and valid ones, mutated below).
HOSTILE_FILES: tuple[bytes, ...] = (
    b"", b"\x00" * 64, b"\xff\xfe\x00\x00", b"\xef\xbb\xbf", "\ufeff{}".encode("utf-16"),
    b"\xc3\x28 not utf-8", b"{", b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 50_000, b"null", b"[]", b"1e309",
    b'{"capital": 1e309}', b'{"capital": "1e309"}', b'{"capital": 18446744073709551616}',
    b'{"capital": 1000000000000000000000000000000}', b'{"capital": NaN}', b'{"\\ud800": "\\udfff"}',
    b'{"tenure": "\\u0000"}', b'[{"reference": "CAN-2026-0001"}]', b"reference\n" + b"x" * 200_000,
    b"reference,assessed_on\n\x00,\x00\n", b'reference,reasons\n"unterminated\n', b"\r\r\r\n\n",
    b"a = [" * 10_000, b"a = " + b"[" * 5_000 + b"]" * 5_000, b"[definition]\nname = 1e309\n", b"SQLite format 3\x00" + b"\x00" * 200,
    b"PK\x03\x04 not a database", b"%PDF-1.7\n%%EOF",
)  # fmt: skip

ROLES = ("admin", "officer", "ot", "technical", "approver", "manager", "lichfield")


@dataclass
class Prepared:
    """The shared database a shard copies, and what it holds."""

    path: Path
    references: tuple[str, ...]
    samples: dict[str, bytes]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Prepared:
    """Users of every role, contractors and budgets, and cases at referral, with a valid application
    and a calculated grant, approved, and closed (with its payments): most commands find something."""
    path = tmp_path_factory.mktemp("fuzz") / "prepared.sqlite"
    shutil.copyfile(sqlite_template, path)
    db = Database.open(f"sqlite:///{path}")
    cast = make_cast(db)
    prepare_works(db, cast)
    references = [open_case(db, cast["officer"], sample_case()) for _ in range(4)]
    walk_to(db, cast, references[1], "application_valid")
    estimate = record_estimate(db, cast["officer"], references[1], contractor="Castle Adaptations",
                               price_pence=20_000_00, received_on=date.today())  # fmt: skip
    select_estimate(db, cast["officer"], references[1], estimate.id)
    calculate_case_grant(db, cast["officer"], references[1])
    walk_to(db, cast, references[2], "approved")
    walk_to(db, cast, references[3], "closed")
    db.dispose()
    samples = {
        "household": (ROOT / "tests/data/households/owner-couple-300.json").read_bytes(),
        "assessment": json.dumps(
            {
                "assessed_on": "2026-03-01",
                "assessor": "Ruth Ashley",
                "organisation": "Staffordshire",
                "purposes": ["d"],
                "works": ["stairlift_straight"],
                "priority": "non_urgent",
                "necessary_and_appropriate": True,
                "reasons": "Cannot climb the stairs",
            }
        ).encode(),
        "batch": (
            "reference,assessed_on,assessor,organisation,purposes,works,necessary_and_appropriate,reasons\n"
            f"{references[0]},2026-03-01,Ruth Ashley,Staffordshire,d,stairlift_straight,true,Stairs\n"
        ).encode(),
        "rates": (ROOT / "workflows/rates/means-test-england-2008.toml").read_bytes(),
        "workflow": (ROOT / "workflows/dfg.toml").read_bytes(),
    }
    return Prepared(path, tuple(references), samples)


def leaf_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command under the root, each group loaded as ``dfg`` itself loads it."""
    found: list[tuple[tuple[str, ...], click.Command]] = []
    context = click.Context(main)

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                child = command.get_command(context, name)
                assert child is not None, name
                walk(child, (*path, name))
        else:
            found.append((path, command))

    walk(main, ())
    return found


@dataclass
class Generator:
    """Makes one malformed command line at a time, with the files it names."""

    rng: random.Random
    prepared: Prepared
    sandbox: Path
    files: int = 0
    malformed: bool = field(default=False)
    target: click.Parameter | None = None

    def hostile(self) -> str:
        self.malformed = True
        return self.rng.choice(HOSTILE)

    def file(self, kind: str) -> str:
        """A file to read: a hostile one, a valid sample mutated, or a path that is not a file."""
        self.files += 1
        roll = self.rng.random()
        if roll < 0.1:
            self.malformed = True
            return self.rng.choice(
                ["no-such-file.json", ".", "/dev/null", "a\x00b.json", "\udcff.csv", "x" * 5000]
            )
        path = self.sandbox / f"input-{self.files}{self.rng.choice(['.json', '.csv', '.toml', '', '.JSON'])}"
        content = self.rng.choice(HOSTILE_FILES) if roll < 0.5 else self.mutate(self.prepared.samples[kind])
        self.malformed = True
        path.write_bytes(content)
        return str(path)

    def mutate(self, content: bytes) -> bytes:
        """A valid file with one part made hostile: a JSON value replaced, bytes inserted, or cut short."""
        roll = self.rng.random()
        if roll < 0.5 and content.lstrip().startswith(b"{"):
            data = json.loads(content)
            key = self.rng.choice(sorted(data))
            data[key] = self.rng.choice(
                [self.rng.choice(HOSTILE), 1e308 * 10, 2**64, 10**30, -1, None, [], {}]
            )
            text = json.dumps(data, ensure_ascii=self.rng.random() < 0.5)
            return text.encode("utf-8", "surrogatepass")
        at = self.rng.randrange(len(content) + 1)
        if roll < 0.8:
            insert = self.rng.choice(
                [b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"\r", b"\x1b", b'"', b",", b"\n"]
            )
            return content[:at] + insert + content[at:]
        return content[:at]

    def output(self) -> str:
        """A file to write: in the sandbox, in a folder that is not there, or not a file name at all."""
        return self.rng.choice([
            str(self.sandbox / f"out-{self.rng.randrange(10**6)}.pdf"), str(self.sandbox / "missing" / "x.pdf"),
            str(self.sandbox), "a\x00b.pdf", "\udcff.pdf", "../../out.pdf", "x" * 5000 + ".pdf",
        ])  # fmt: skip

    def value(self, command: tuple[str, ...], param: click.Parameter) -> str:
        name = (param.name or "").lower()
        if isinstance(param.type, click.Path):
            if name in ("output", "pdf") or command in (("db", "backup"),):
                return self.output()
            if command == ("db", "restore"):
                return self.file("batch")
            kind = {"household_file": "household", "rates_file": "rates"}.get(name)
            kind = kind or {"import": "batch", "record": "assessment", "lint": "workflow"}.get(
                command[-1], "batch"
            )
            return self.file(kind)
        if self.rng.random() < 0.2 or (not self.malformed and param is self.target):
            return self.hostile()
        if isinstance(param.type, click.Choice):
            return str(self.rng.choice(list(param.type.choices)))
        if isinstance(param.type, click.types._NumberParamTypeBase):
            return str(self.rng.choice([1, 2, 3, 12]))
        return self.plausible(name)

    def plausible(self, name: str) -> str:
        """A well-formed value for an option of this name, so the command gets past its parsing."""
        rng = self.rng
        if name in ("reference", "case"):
            return rng.choice(self.prepared.references)
        if name in ("username", "second_approver"):
            return rng.choice(ROLES)
        if name in ("district", "code") and rng.random() < 0.7:
            return rng.choice(["CAN", "LIC"])
        if name == "trigger":
            return rng.choice(["accept_referral", "hold", "close", "order_works", "withdraw", "refuse"])
        if any(
            word in name for word in ("date", "on", "received", "dob", "since", "from", "to", "at", "expires")
        ):
            return rng.choice(["2026-03-31", "31/03/2026", "2026-03-31 10:00", "today"])
        if name in ("amount", "price", "limit", "factor", "deferred_payment"):
            return rng.choice(["100.00", "5", "0.01", "8450"])
        if name == "year":
            return rng.choice(["2026", "2026/27", "2026-27"])
        if name in ("line", "funding_line"):
            return rng.choice(["mandatory", "top_up"])
        if name == "role":
            return rng.choice(["grant_officer", "approver", "manager", "ot"])
        return rng.choice(["Fuzz text", "Mill Lane", "stairlift_straight", "d", "WS11 1AA"])

    def command_line(self, path: tuple[str, ...], command: click.Command) -> list[str]:
        self.malformed = False
        # one value (of those given) is made hostile at least, so that most lines get past the parsing
        self.target = self.rng.choice(command.params) if command.params else None
        args: list[str] = []
        for param in command.params:
            if isinstance(param, click.Argument):
                if self.rng.random() < 0.05:
                    self.malformed = True  # missing
                    continue
                args.append(self.value(path, param))
            elif isinstance(param, click.Option):
                if param.is_flag:
                    if param.name in ("yes",) and self.rng.random() < 0.5:
                        continue
                    if self.rng.random() < 0.3:
                        args.append(param.opts[0])
                    continue
                if not (self.rng.random() < (0.92 if param.required else 0.3)):
                    self.malformed = self.malformed or param.required
                    continue
                args += [param.opts[0], self.value(path, param)]
        if path == ("serve",):  # a server runs until stopped: it is given only an address it refuses
            args += ["--host", self.rng.choice(["1e-400", "256.0.0.1", "::g", "", self.hostile()])]
            self.malformed = True
        if path == ("demo",):  # a demonstration database is built only for a number of cases it refuses
            args += ["--cases", self.rng.choice(["0", "1001", "1e309", str(2**64)])]
            self.malformed = True
        if not self.malformed or self.rng.random() < 0.1:  # extra: a stray argument or an unknown option
            args.insert(
                self.rng.randrange(len(args) + 1), self.rng.choice(["--bogus", self.hostile(), "extra"])
            )
        return args


def _data_version(connection: sqlite3.Connection) -> int:
    """Changes whenever another connection commits a write to the file (SQLite's own counter)."""
    return int(connection.execute("PRAGMA data_version").fetchone()[0])


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder the commands run in, deep enough that ``../../`` still lands inside the test's own."""
    place = tmp_path / "a" / "b" / "c"
    place.mkdir(parents=True)
    monkeypatch.chdir(place)
    for name in ("DFG_DB", "DFG_USER", "DFG_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    yield place


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_malformed_input_is_refused_in_one_line_and_changes_nothing(
    shard: int, prepared: Prepared, sandbox: Path, tmp_path: Path
) -> None:
    database = tmp_path / "dfg.sqlite"
    shutil.copyfile(prepared.path, database)
    url = f"sqlite:///{database}"
    commands = leaf_commands()
    rng = random.Random(SEED * 100 + shard)
    make = Generator(rng, prepared, sandbox)
    watcher = sqlite3.connect(database)
    runner = CliRunner()
    outcomes: Counter[int] = Counter()
    problems: list[str] = []
    started = time.monotonic()
    count = INPUTS // SHARDS + (1 if shard < INPUTS % SHARDS else 0)
    for number in range(count):
        path, command = commands[(number + shard) % len(commands)]  # every command in turn
        root = ["--db", url, "--as", rng.choice(ROLES)] if rng.random() > 0.03 else ["--db", url]
        args = [*root, *path, *make.command_line(path, command)]
        before = _data_version(watcher)
        result = runner.invoke(main, args)
        outcomes[result.exit_code] += 1
        where = f"{' '.join(path)} {[a[:60] for a in args[4:]]!r}"
        if result.exit_code == UNEXPECTED or not isinstance(result.exception, SystemExit | None):
            problems.append(
                f"{where}: exit {result.exit_code}: {result.stderr.strip()[:300] or result.exception!r}"
            )
        elif result.exit_code != 0:
            if _data_version(watcher) != before:
                problems.append(f"{where}: refused (exit {result.exit_code}) but the database changed")
            lines = result.stderr.splitlines()
            # an import and a lint list each problem on its own line before the one that sums them up
            listed = path in (("assess", "import"), ("import", "cases"), ("workflow", "lint"))
            if not lines or (len(lines) > 1 and not listed) or not all(line.isprintable() for line in lines):
                problems.append(f"{where}: exit {result.exit_code} with {result.stderr!r}")
    watcher.close()
    elapsed = time.monotonic() - started
    print(f"shard {shard}: {count} inputs in {elapsed:.1f} s, exit codes {dict(sorted(outcomes.items()))}")
    assert not problems, f"{len(problems)} of {count}:\n" + "\n".join(problems[:40])
