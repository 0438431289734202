"""Start-up at the floor: the root loads its command groups lazily, so ``dfg --help`` and ``dfg --version``
import no group and nothing of the library, and a command imports only its own group and what it needs.
Each check runs in a fresh interpreter, as a real ``dfg`` would."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import GROUPS, main

ROOT = Path(__file__).resolve().parent.parent
# What the root itself is made of: the version, and the face's shared module.
ROOT_MODULES = {"cli", "dfg", "dfg.cli", "dfg.cli.command"}


def _loaded_after(code: str, *args: str) -> tuple[set[str], str]:
    """The project's and SQLAlchemy's modules loaded once ``code`` has run (with ``args`` as sys.argv)."""
    probe = (
        f"import sys\nsys.argv = ['dfg', *{list(args)!r}]\n{code}\n"
        "names = [m for m in sys.modules if m == 'cli' or m.split('.')[0] in ('dfg', 'sqlalchemy')]\n"
        "print('\\n' + ' '.join(sorted(names)), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return set(run.stderr.splitlines()[-1].split()), run.stdout


_RUN_DFG = "import cli\ntry:\n    cli.main(prog_name='dfg')\nexcept SystemExit as end:\n    assert end.code == 0, end.code"


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_import_no_group_and_nothing_of_the_library(option: str) -> None:
    loaded, stdout = _loaded_after(_RUN_DFG, option)
    assert loaded == ROOT_MODULES
    assert stdout.startswith("Usage: dfg" if option == "--help" else "dfg, version")


def test_a_group_module_imports_no_service_store_or_sqlalchemy() -> None:
    loaded, _ = _loaded_after("import dfg.cli.case")
    # the pure pieces its options parse with (money, dates' errors); the services come with each command
    # 'dfg case person' is a group of the case group in its own module, loaded with it
    case_group = {"dfg.cli.case", "dfg.cli.case_people"}
    assert loaded == ROOT_MODULES - {"cli"} | case_group | {"dfg.errors", "dfg.rules", "dfg.rules.money"}


@pytest.mark.slow
def test_case_show_loads_only_the_case_group(db_url: str, open_sample: Callable[..., str]) -> None:
    reference = open_sample()
    loaded, stdout = _loaded_after(
        _RUN_DFG, "--db", db_url, "--as", "officer", "case", "show", reference, "--json"
    )
    assert json.loads(stdout)["reference"] == reference
    assert {m for m in loaded if m.startswith("dfg.cli.")} == {
        "dfg.cli.command",
        "dfg.cli.case",
        "dfg.cli.case_people",
    }
    assert not {m for m in loaded if m.startswith(("dfg.letters", "dfg.reports"))}
    # showing a case reads with Core: the ORM's record classes (and their mapping) are not needed
    assert "dfg.store.models" not in loaded


def test_a_command_leaves_the_collector_as_it_found_it(db_url: str, open_sample: Callable[..., str]) -> None:
    """Start-up switches the cyclic garbage collector off and work switches it on with start-up's objects
    set aside; a command run inside a longer process (these tests, a batch job) leaves neither behind."""
    import gc

    reference = open_sample()
    for args in (["--version"], ["--db", db_url, "--as", "officer", "case", "show", reference]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.stderr
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0


def test_every_command_of_the_root_is_in_the_table_and_loads() -> None:
    ctx = click.Context(main, info_name="dfg")
    assert main.commands == {}, "a command added to the root directly would be imported by --help"
    for name, entry in GROUPS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name, entry


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_the_tables_short_help_is_the_commands_own(name: str) -> None:
    command = main.get_command(click.Context(main, info_name="dfg"), name)
    assert command is not None
    assert command.get_short_help_str(limit=10_000) == GROUPS[name].short_help


@pytest.mark.parametrize("width", [60, 80, 100])
def test_the_root_help_is_what_click_prints_from_the_groups_themselves(width: int) -> None:
    ctx = click.Context(main, info_name="dfg", terminal_width=width)
    loaded = click.Group("dfg", commands=[c for n in GROUPS if (c := main.get_command(ctx, n)) is not None])
    lazy, eager = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    main.format_commands(ctx, lazy)
    loaded.format_commands(click.Context(loaded, info_name="dfg"), eager)
    assert lazy.getvalue() == eager.getvalue()


FACE_FILES = [ROOT / "cli.py", *sorted((ROOT / "dfg" / "cli").glob("*.py"))]


@pytest.mark.parametrize("path", FACE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_face_imports_neither_the_store_nor_sqlalchemy(path: Path) -> None:
    # import-linter checks dfg.cli; cli.py is a lone module it cannot take as a root, so read both here,
    # imports inside command bodies included
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    forbidden = [
        n for n in names if n.split(".")[0] in ("sqlalchemy", "alembic") or n.startswith("dfg.store")
    ]
    assert not forbidden, f"{path.name} imports {forbidden}: go through dfg.services.database"


def test_a_mistyped_command_is_still_told_the_nearest_one() -> None:
    result = CliRunner().invoke(main, ["cas"], prog_name="dfg")
    assert (result.exit_code, result.stderr) == (
        2,
        "dfg: No such command 'cas'. Did you mean 'case'? (see 'dfg --help')\n",
    )
