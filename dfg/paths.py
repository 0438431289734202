"""Where the data folders are: ``workflows/`` and ``letter_templates/``.

In a source checkout they sit beside the ``dfg`` package; in an installed wheel they are packed inside it
as ``dfg/_data/``. ``DFG_WORKFLOWS`` and ``DFG_LETTER_TEMPLATES`` point a council at its own copies.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str, env: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override)
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder; set {env} to its path")


@cache
def workflows_dir() -> Path:
    """The folder of workflow definitions, rate tables and policy files."""
    return _data_dir("workflows", "DFG_WORKFLOWS")


@cache
def letter_templates_dir() -> Path:
    """The folder of letter templates, stylesheet, fonts and branding."""
    return _data_dir("letter_templates", "DFG_LETTER_TEMPLATES")
