"""Bad input on the command line gets one clear line and a stable exit code, never a traceback or an
unexpected error (exit 70), and changes nothing: the kinds a run of generated malformed input found."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from cli import main
from dfg.errors import InvalidInput
from dfg.store.database import Database
from dfg.store.tables import EVENTS
from dfg.workflow.actor import Actor

USAGE = 2


@pytest.fixture
def run(db_url: str, cast: dict[str, Actor]) -> Callable[..., Result]:
    def invoke(*args: str, user: str = "officer") -> Result:
        return CliRunner().invoke(main, ["--db", db_url, "--as", user, *args])

    return invoke


def _events(db: Database) -> int:
    with db.read_connection() as connection:
        return int(connection.scalar(select(func.count()).select_from(EVENTS)) or 0)


def test_an_amount_too_large_for_any_column(run: Callable[..., Result], db: Database) -> None:
    before = _events(db)
    for amount in ("1e309", "99999999999999999999"):
        result = run(
            "user", "add", "big", "--name", "Big", "--role", "approver", "--limit", amount, user="admin"
        )
        assert (result.exit_code, result.stderr) == (
            InvalidInput.exit_code,
            f"dfg: --limit: {amount!r} is more than any amount this system can hold\n",
        )
    assert _events(db) == before


@pytest.mark.parametrize(
    "args",
    [
        ("letters", "show", "99999999999999999999"),
        ("estimate", "select", "CAN-2026-0001", "9223372036854775808"),
        ("grant", "show", "CAN-2026-0001", "--id", "0"),
    ],
)
def test_a_record_number_beyond_the_database_s_keys(
    run: Callable[..., Result], args: tuple[str, ...]
) -> None:
    result = run(*args)
    assert result.exit_code == USAGE, result.stderr
    assert "is not in the range 1<=x<=9223372036854775807" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "problem"), [("\udcff\udcfe", "is not UTF-8 text"), ("CAN\x00", "holds a NUL character")]
)
def test_an_argument_that_is_not_text(run: Callable[..., Result], text: str, problem: str) -> None:
    result = run("case", "show", text)
    assert (result.exit_code, result.stderr) == (InvalidInput.exit_code, f"dfg: argument 7 {problem}\n")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"reference,date\n\xff\xfe,2026-01-05\n", "line 2 is not UTF-8 text (save the file as UTF-8)"),
        (
            b'reference,reasons\nCAN-2026-0001,"' + b"x" * 200_000 + b'"\n',
            "line 2: field larger than field limit (131072)",
        ),
        (b"CAN-2026-0001,2026-01-05\n", "the first line must name the columns, 'reference' among them"),
        (b"", "the first line must name the columns, 'reference' among them"),
        (b"reference,date\n", "no rows to record"),
    ],
)
def test_an_import_file_that_cannot_be_read_as_a_batch(
    run: Callable[..., Result], db: Database, tmp_path: Path, content: bytes, problem: str
) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_bytes(content)
    before = _events(db)
    result = run("assess", "import", str(batch), user="ot")
    assert (result.exit_code, result.stderr) == (InvalidInput.exit_code, f"dfg: batch.csv: {problem}\n")
    assert _events(db) == before


@pytest.mark.parametrize(
    "args",
    [
        ("report", "pipeline", "--pdf"),
        ("workflow", "diagram", "--output"),
    ],
)
def test_an_output_file_in_a_folder_that_does_not_exist(
    run: Callable[..., Result], tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "no-such-folder" / "out.pdf"
    result = run(*args, str(missing), user="manager")
    said = {  # a report's files are checked before it is made; the diagram is written at once
        "report": f"{missing.parent} is not a folder you may write to",
        "workflow": "No such file or directory",
    }[args[0]]
    assert (result.exit_code, result.stderr) == (
        InvalidInput.exit_code,
        f"dfg: cannot write {missing}: {said}\n",
    )


def test_a_misspelt_trigger_gets_the_nearest_one(
    run: Callable[..., Result], open_sample: Callable[..., str]
) -> None:
    reference = open_sample()
    result = run("case", "advance", reference, "acept_referal")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        "dfg: unknown trigger 'acept_referal': did you mean 'accept_referral'? (known: "
    )


def test_a_priority_is_taken_as_the_program_prints_it(
    run: Callable[..., Result], open_sample: Callable[..., str]
) -> None:
    open_sample()
    printed = run("case", "list", "--priority", "non-urgent")
    assert printed.exit_code == 0, printed.stderr
    assert printed.stdout == run("case", "list", "--priority", "non_urgent").stdout
    assert "non-urgent" in printed.stdout  # the spelling it prints, and so the one people type back


def test_a_missing_database_beside_the_demo_suggests_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dfg.services.database import DEMO_DB

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DFG_DB", raising=False)
    (tmp_path / DEMO_DB).touch()
    result = CliRunner().invoke(main, ["--as", "can.officer", "case", "list"])
    assert (result.exit_code, result.stderr) == (
        9,
        f"dfg: no database at {tmp_path / 'dfg.sqlite'}: run 'dfg db upgrade' to create it, "
        f"or use the demonstration: --db {DEMO_DB}\n",
    )


def test_the_demo_makes_the_file_the_hint_names() -> None:
    from dfg.cli.demo import demo
    from dfg.services.database import DEMO_DB

    assert next(p.default for p in demo.params if p.name == "demo_db") == DEMO_DB


def test_a_database_url_whose_driver_is_not_installed() -> None:
    result = CliRunner().invoke(
        main, ["--db", "postgresql+asyncpg://dfg@127.0.0.1/dfg", "--as", "x", "case", "list"]
    )
    assert (result.exit_code, result.stderr) == (
        9,
        "dfg: the database driver asyncpg is not installed: for PostgreSQL, install dfg[postgres] and use a "
        "postgresql+psycopg:// URL\n",
    )


# Found by the fuzzing of tests/test_faults_fuzz.py: each was an unexpected error (exit 70) or a refusal
# printed on more than one line.


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"tenure": "\xff"}', "line 1 is not UTF-8 text (save the file as UTF-8)"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON: nested too deeply"),
    ],
)
@pytest.mark.parametrize(
    "args",
    [
        ("means-test", "quick", "--household"),
        ("means-test", "run", "CAN-2026-0001", "--household"),
        ("assess", "record", "CAN-2026-0001", "--file"),
        ("assess", "import"),
    ],
)
def test_a_json_file_that_cannot_be_read(
    run: Callable[..., Result], db: Database, tmp_path: Path, args: tuple[str, ...], content: bytes,
    problem: str, open_sample: Callable[..., str],
) -> None:  # fmt: skip
    open_sample()
    given = tmp_path / "given.json"
    given.write_bytes(content)
    before = _events(db)
    result = run(*args, str(given), user="ot" if args[0] == "assess" else "officer")
    assert (result.exit_code, result.stderr) == (InvalidInput.exit_code, f"dfg: given.json: {problem}\n")
    assert _events(db) == before


@pytest.mark.parametrize(
    ("args", "content", "problem"),
    [
        (("workflow", "lint", "--file"), b"[workflow]\nname = '\xff'\n", "dfg.toml: not UTF-8 text"),
        (("workflow", "lint", "--file"), b"a = " + b"[" * 5_000 + b"]" * 5_000, "dfg.toml: nested too deeply"),
        (("means-test", "quick", "--household", "HOUSEHOLD", "--rates"), b"a = '\xff'",
         "dfg.toml: not valid TOML: not UTF-8 text"),
    ],
)  # fmt: skip
def test_a_toml_file_that_cannot_be_read(
    run: Callable[..., Result], tmp_path: Path, args: tuple[str, ...], content: bytes, problem: str
) -> None:
    from tests.conftest import ROOT

    given = tmp_path / "dfg.toml"
    given.write_bytes(content)
    household = str(ROOT / "tests/data/households/owner-couple-300.json")
    result = run(*(household if a == "HOUSEHOLD" else a for a in args), str(given))
    assert (result.exit_code, result.stderr) == (11, f"dfg: {problem}\n")


def test_a_batch_row_with_more_values_than_columns(
    run: Callable[..., Result], db: Database, tmp_path: Path
) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_bytes(b"reference,assessor\nCAN-2026-0001,Ruth,Ashley\n")
    before = _events(db)
    result = run("assess", "import", str(batch), user="ot")
    assert (result.exit_code, result.stderr) == (
        InvalidInput.exit_code,
        "dfg: batch.csv: row 1 has more values than the first line has columns\n",
    )
    assert _events(db) == before


def test_a_contractor_number_beyond_the_database_s_keys(run: Callable[..., Result]) -> None:
    result = run("contractor", "show", "9223372036854775808")
    assert (result.exit_code, result.stderr) == (
        3,
        "dfg: no contractor '9223372036854775808' on the register (see 'dfg contractor list')\n",
    )


def test_a_completion_date_years_away_is_refused(
    run: Callable[..., Result], db: Database, cast: dict[str, Actor], open_sample: Callable[..., str]
) -> None:
    """It used to be recorded, and every clock counting on from it then ran off the calendar (exit 70 from
    dfg due, dfg case clocks and an extension by months)."""
    from tests.conftest import walk_to

    reference = open_sample()
    walk_to(db, cast, reference, "approved")
    before = _events(db)
    result = run("works", "extend", reference, "--to", "9999-12-31", "--reason", "typing slip")
    assert result.exit_code == InvalidInput.exit_code
    assert result.stderr.startswith("dfg: the new completion date must be on or before ")
    assert _events(db) == before
    assert run("due").exit_code == 0


@pytest.mark.parametrize(
    ("reference", "shown"), [("CAN\n2026", "'CAN\\n2026'"), ("\x1b[31mred", "'\\x1b[31mred'")]
)
def test_a_quoted_value_cannot_split_the_line_or_colour_the_terminal(
    run: Callable[..., Result], reference: str, shown: str
) -> None:
    result = run("case", "show", reference)
    assert result.exit_code == InvalidInput.exit_code
    assert result.stderr == f"dfg: {shown} is not a case reference (like CAN-2026-0042)\n"


def test_an_import_lists_each_problem_on_one_line(run: Callable[..., Result], tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_bytes(b"reference,assess\x00or\nCAN-2026-0001,Ruth\n")
    result = run("assess", "import", str(batch), user="ot")
    assert result.exit_code == InvalidInput.exit_code
    assert result.stderr.splitlines()[0].startswith("dfg: row 1.assess\\x00or: unknown field")


def test_a_key_file_name_too_long_for_the_file_system_is_one_line(tmp_path: Path) -> None:
    """Found by the fuzzing: an OSError from the name itself, before anything is written."""
    from click.testing import CliRunner

    from cli import main

    long = str(tmp_path / ("x" * 300))
    result = CliRunner().invoke(
        main, ["audit", "keygen", "--private", long, "--public", str(tmp_path / "k.pub")]
    )
    assert result.exit_code == 8 and result.stderr.count("\n") == 1 and "File name too long" in result.stderr
    assert not (tmp_path / "k.pub").exists()
