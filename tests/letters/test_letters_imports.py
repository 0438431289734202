"""Importing the letters modules stays light: WeasyPrint loads only when a PDF is rendered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_letters_does_not_import_weasyprint() -> None:
    code = (
        "import sys, dfg.letters, dfg.letters.render, dfg.letters.contracts, dfg.letters.context\n"
        "print(sorted(m for m in ('weasyprint', 'pypdf', 'fontTools') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
