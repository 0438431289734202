"""How figures read to people, for every face and report: plain-text tables, CSV, spreadsheets, days and
percentages.

Text tables use spaces only (no box-drawing characters), so they survive being pasted into a
plain-text email; numbers are right-aligned so columns of counts and pounds line up. CSV is RFC 4180
with a header row, amounts in pounds without the £ sign or thousands separators, so a spreadsheet reads
them as numbers. A list for a spreadsheet (:func:`sheet_csv`, :func:`sheet_xlsx`) keeps each value's kind
(text, number, date, money) so Excel shows dates as dates and money as pounds; text a spreadsheet would
run as a formula is kept as text. It sits below the services and the reports because both print tables (``dfg due``,
``dfg case clocks`` and every report).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import NamedTuple

from dfg.rules.money import Pence, pounds


def text_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    total_rows: int = 0,
) -> str:
    """Aligned columns under a dashed rule; ``numeric`` column indexes are right-aligned.

    The last ``total_rows`` rows are set off by a second rule (the "All districts" line).
    """
    right = set(numeric)
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [line(headers), rule]
    body = list(rows)
    split = len(body) - total_rows if total_rows else len(body)
    lines.extend(line(r) for r in body[:split])
    if total_rows and body:
        lines.append(rule)
        lines.extend(line(r) for r in body[split:])
    return "\n".join(lines)


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """RFC 4180 CSV (CRLF line ends, as the csv module writes) with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def csv_pounds(pence: int) -> str:
    """Pence as a plain number of pounds for CSV: ``12345.67``."""
    return f"{pounds(pence):.2f}"


def day(value: date | None) -> str:
    """A date as officers read it in a table: ``31/03/2027`` (blank for none)."""
    return "" if value is None else f"{value:%d/%m/%Y}"


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percentage for a table; a dash when there is nothing to divide."""
    return "–" if whole == 0 else f"{round(100 * part / whole)}%"


class Money(NamedTuple):
    """An amount in a spreadsheet's cell: pounds as a number with the £ format (in CSV, ``1234.50``)."""

    pence: Pence


#: What a spreadsheet's cell holds; None is an empty cell.
Cell = str | int | float | date | Money | None

#: A table for a spreadsheet: its column names and its rows.
Sheet = tuple[list[str], list[list[Cell]]]

#: How text a spreadsheet would read as a formula begins (tab and carriage return too, as OWASP advises).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Characters an .xlsx file cannot hold (the control characters XML 1.0 forbids).
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

#: Excel's format for pounds, negatives with a minus sign.
POUNDS_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
DATE_FORMAT = "DD/MM/YYYY"


def neutralised(text: str) -> str:
    """Text that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+44...``, ``-1+1``) kept as
    text, with an apostrophe before it: a name or a note typed by anyone must not run when opened."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unneutralised(text: str) -> str:
    """The text :func:`neutralised` was given: a file this engine wrote reads back as it was."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _csv_cell(cell: Cell) -> object:
    if cell is None:
        return ""
    if isinstance(cell, bool):  # before int: a bool is one
        return "yes" if cell else "no"
    if isinstance(cell, Money):
        return csv_pounds(cell.pence)
    if isinstance(cell, date):
        return cell.isoformat()  # one spelling every spreadsheet reads as a date, whatever its locale
    if isinstance(cell, str):
        return neutralised(cell)
    return cell


def sheet_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A list as CSV: dates as 2026-03-31, money as plain pounds, text neutralised against formulas."""
    return csv_text([neutralised(h) for h in headers], ([_csv_cell(c) for c in row] for row in rows))


def sheet_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """A list as an Excel workbook of one sheet: the header row bold and frozen, each column as wide as
    what it holds, dates as dates, money as numbers in pounds, text neutralised; no formulas at all."""
    from openpyxl import Workbook  # only when a workbook is written
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _NOT_IN_XML.sub("", title)[:31] or "Sheet"  # Excel's limit on a sheet's name
    widths = [len(h) for h in headers]
    sheet.append([_xlsx_text(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            if isinstance(value, bool):
                cell.value, shown = ("yes" if value else "no"), 3
            elif isinstance(value, Money):
                cell.value, cell.number_format = pounds(value.pence), POUNDS_FORMAT
                shown = len(f"£{pounds(value.pence):,}")
            elif isinstance(value, date):
                cell.value, cell.number_format, shown = value, DATE_FORMAT, 10
            elif isinstance(value, str):
                cell.value = _xlsx_text(value)
                shown = len(cell.value)
            else:
                cell.value, shown = value, len("" if value is None else str(value))
            widths[column - 1] = max(widths[column - 1], shown)
    sheet.freeze_panes = "A2"
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_text(text: str) -> str:
    return neutralised(_NOT_IN_XML.sub("", text))


class Tabulated:
    """A report that is also one table for a spreadsheet (:meth:`as_sheet`): CSV and Excel are written
    from the same rows, so the two never differ."""

    def as_sheet(self) -> Sheet:
        raise NotImplementedError

    def as_csv(self) -> str:
        return sheet_csv(*self.as_sheet())

    def as_xlsx(self, title: str) -> bytes:
        return sheet_xlsx(title, *self.as_sheet())
