"""Start-up stays light: the CLI must not import the PDF engine or the holiday tables until it needs them,
and every module imports on its own (no dependence on import order)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for p in (ROOT / "dfg").rglob("*.py")
    if "migrations" not in p.parts and p.name != "__init__.py"
)


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_cli_import_is_light() -> None:
    loaded = _fresh("import sys, cli; print(' '.join(sorted(sys.modules)))").split()
    for heavy in ("weasyprint", "holidays", "alembic", "pypdf"):
        assert heavy not in loaded, f"importing the CLI pulled in {heavy}"


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    _fresh(f"import {module}")
