"""The files people give the engine (a household, an assessment, a batch of them, a spreadsheet): read as
UTF-8 text (or an Excel workbook) and parsed, or refused in one line that says why."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time
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


#: What a spreadsheet's cell reads as: text, a number, a date (or date and time), or nothing.
SheetValue = str | int | float | date | None


def read_sheet(path: Path) -> list[list[SheetValue]]:
    """The rows of a CSV file (UTF-8) or of an Excel workbook's first sheet (.xlsx), the header first.
    CSV cells are text; a workbook's keep their kind (a date cell is a date). A formula reads as the
    value Excel last worked out for it, never as the formula."""
    if path.suffix.lower() == ".xlsx":
        return _read_workbook(path)
    if path.suffix.lower() != ".csv":
        raise InvalidInput(f"{path.name}: give a .csv or .xlsx file")
    reader = csv.reader(io.StringIO(read_text(path)))
    try:
        return [list(row) for row in reader]
    except csv.Error as exc:
        raise InvalidInput(f"{path.name}: line {reader.line_num + 1}: {exc}") from None


def _read_workbook(path: Path) -> list[list[SheetValue]]:
    from openpyxl import load_workbook  # only when a workbook is read

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise InvalidInput(f"{path.name}: cannot be read: {exc.strerror}") from None
    except Exception:  # a damaged or foreign file fails deep in the zip and XML readers
        raise InvalidInput(f"{path.name}: not an Excel workbook (save it as .xlsx)") from None
    try:
        sheet = book.worksheets[0]
        return [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell(value: object) -> SheetValue:
    if isinstance(value, datetime):
        return value.date() if value.time() == time() else value
    if value is None or isinstance(value, str | int | float | date):
        return value
    return str(value)  # a time of day, a duration, an error value: as its text
