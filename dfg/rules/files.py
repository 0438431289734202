"""The files people give the engine (a household, an assessment, a batch of them): read as UTF-8 text
and parsed, or refused in one line that says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dfg.errors import InvalidInput


def read_text(path: Path) -> str:
    """The file's text (UTF-8, with or without a byte-order mark)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"{path.name}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise InvalidInput(f"{path.name}: line {line} is not UTF-8 text (save the file as UTF-8)") from None


def read_json(path: Path) -> Any:
    """The JSON value the file holds."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    except RecursionError:  # the parser recurses once per bracket
        raise InvalidInput(f"{path.name}: not valid JSON: nested too deeply") from None
