"""The documentation: every command documented, the CLI reference current, every exit code, trigger and
reason code explained, and no broken links between the documents."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType

import click
import pytest

from cli import main
from dfg.errors import ALL_ERRORS, DfgError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REGENERATE = "python tools/cli_reference.py"


def _load_cli_reference() -> ModuleType:
    path = ROOT / "tools" / "cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cli_reference", module)
    spec.loader.exec_module(module)
    return module


cli_reference = _load_cli_reference()


COMMANDS = [(ctx.command_path, command) for command, ctx in cli_reference.walk(main, "dfg")]


@cache
def _reference() -> str:
    return str(cli_reference.render())


# ------------------------------------------------------------------------------------------ commands


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help(path: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"'{path}' has no help text: give its function a docstring"


def test_cli_reference_is_current() -> None:
    committed = (DOCS / "cli.md").read_text(encoding="utf-8") if (DOCS / "cli.md").exists() else ""
    assert committed == _reference(), f"docs/cli.md is out of date: run '{REGENERATE}'"


def test_cli_reference_has_a_section_per_command() -> None:
    text = _reference()
    for path, _ in COMMANDS:
        assert f"\n## {path}\n" in text


# ------------------------------------------------------------------------------------------ exit codes


def _exit_code_rows() -> dict[int, str]:
    """The rows of the table in docs/exit-codes.md, by the code in their first cell."""
    rows: dict[int, str] = {}
    for line in (DOCS / "exit-codes.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].isdigit():
            rows[int(cells[0])] = line
    return rows


# Exit codes that are not a DfgError's: success, click's generic error and usage error, and the code
# cli.py gives an unexpected error (a bug).
OTHER_CODES = (0, 1, 2, 70)


def test_every_exit_code_is_documented_with_its_kind() -> None:
    rows = _exit_code_rows()
    for code in OTHER_CODES:
        assert code in rows, f"docs/exit-codes.md: no row for exit code {code}"
    assert f"`{DfgError.kind}`" in rows[DfgError.exit_code]
    for error in ALL_ERRORS:
        assert error.exit_code in rows, f"docs/exit-codes.md: no row for {error.__name__} ({error.exit_code})"
        assert f"`{error.kind}`" in rows[error.exit_code], (
            f"docs/exit-codes.md: the row for exit code {error.exit_code} does not name its kind `{error.kind}`"
        )


def test_no_exit_code_is_documented_that_does_not_exist() -> None:
    known = {*OTHER_CODES, DfgError.exit_code} | {error.exit_code for error in ALL_ERRORS}
    assert set(_exit_code_rows()) <= known


# ------------------------------------------------------------------------------------------ workflow

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
WORD = re.compile(r"[A-Za-z0-9_@]+")


@cache
def _code_words(*names: str) -> frozenset[str]:
    """Every word written as code (in backticks or a fenced block) in the named documents."""
    words: set[str] = set()
    for name in names:
        text = (DOCS / name).read_text(encoding="utf-8")
        for block in FENCE.findall(text):
            words.update(WORD.findall(block))
        for span in INLINE_CODE.findall(FENCE.sub("", text)):
            words.update(WORD.findall(span))
    return frozenset(words)


def _workflow() -> dict[str, object]:
    with (ROOT / "workflows" / "dfg.toml").open("rb") as handle:
        return tomllib.load(handle)


GUIDES = ("officer.md", "workflow-configuration.md")


def test_every_trigger_is_explained() -> None:
    triggers = [t["name"] for t in _workflow()["triggers"]]  # type: ignore[attr-defined]
    missing = [name for name in triggers if name not in _code_words(*GUIDES)]
    assert not missing, f"triggers not mentioned (as code) in docs/{' or docs/'.join(GUIDES)}: {missing}"


def test_every_reason_code_list_and_code_is_explained() -> None:
    lists: dict[str, dict[str, str]] = _workflow()["reason_codes"]  # type: ignore[assignment]
    words = _code_words(*GUIDES)
    missing = [name for name in lists if name not in words]
    missing += [f"{name}.{code}" for name, codes in lists.items() for code in codes if code not in words]
    assert not missing, f"reason codes not mentioned (as code) in docs/{' or docs/'.join(GUIDES)}: {missing}"


def test_every_guard_is_explained() -> None:
    from dfg.workflow.guards import GUARDS

    missing = [name for name in GUARDS if name not in _code_words("workflow-configuration.md")]
    assert not missing, f"guards not listed in docs/workflow-configuration.md: {missing}"


# ------------------------------------------------------------------------------------------ links

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(text: str) -> str:
    """The text without code, where a link is only an example."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub makes for the headings of a document."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        base = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")
        slug, number = base, 0
        while slug in found:
            number += 1
            slug = f"{base}-{number}"
        found.add(slug)
    return found


@cache
def _anchors_of(file: Path) -> set[str]:
    return anchors(file.read_text(encoding="utf-8"))


def broken_links(document: Path) -> list[str]:
    """The relative links of ``document`` whose file, or heading, does not exist."""
    problems = []
    for target in LINK.findall(_prose(document.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, fragment = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists():
            problems.append(f"{target}: no file {path}")
        elif fragment and file.suffix == ".md" and fragment not in _anchors_of(file):
            problems.append(f"{target}: no heading #{fragment} in {file.name}")
    return problems


DOCUMENTS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_relative_links_point_at_files_that_exist(document: Path) -> None:
    if not document.exists():
        pytest.skip(f"{document.name} does not exist")
    assert broken_links(document) == []


def test_the_link_checker_sees_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# A heading\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md) [ok](there.md#a-heading) [web](https://example.org/x) `[code](nowhere.md)`\n"
        "[gone](missing.md) [no heading](there.md#nothing)\n"
    )
    assert broken_links(page) == [
        "missing.md: no file missing.md",
        "there.md#nothing: no heading #nothing in there.md",
    ]
