"""How figures read to people, for every face and report: plain-text tables, CSV, days and percentages.

Text tables use spaces only (no box-drawing characters), so they survive being pasted into a
plain-text email; numbers are right-aligned so columns of counts and pounds line up. CSV is RFC 4180
with a header row, amounts in pounds without the £ sign or thousands separators, so a spreadsheet reads
them as numbers. It sits below the services and the reports because both print tables (``dfg due``,
``dfg case clocks`` and every report).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

from dfg.rules.money import pounds


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
