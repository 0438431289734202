"""Reading rendered letters back with pypdf: text, text positions and sizes, expected values."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from pypdf import PdfReader

from dfg.letters.context import LetterContext
from dfg.letters.render import longdate, longdatetime, pounds

MM = 72 / 25.4  # PDF points per millimetre

#: What a letter's reader must never see: policy files, snake_case keys, the officer's shorthand.
INTERNAL = re.compile(
    r"\.toml\b|\b[a-z]+_[a-z_]+\b|then cap|then deduct|relevant person|council setting|council practice"
    r"|contribution nil|\bper charges\b",
    re.IGNORECASE,
)


def reader(pdf: bytes) -> PdfReader:
    """A pypdf reader over PDF bytes."""
    return PdfReader(io.BytesIO(pdf))


def flat_text(pdf: bytes) -> str:
    """All the text of a PDF with runs of whitespace made single spaces (lines wrap anywhere)."""
    return " ".join(" ".join(page.extract_text() for page in reader(pdf).pages).split())


@dataclass(frozen=True)
class Run:
    """A run of text on a page, where it starts (points from the page's bottom-left) and its size."""

    page: int
    text: str
    x: float
    y: float
    size: float


def text_runs(pdf: bytes) -> Iterator[Run]:
    """Every text run of every page, via pypdf's ``visitor_text``, in page coordinates."""
    for number, page in enumerate(reader(pdf).pages, start=1):
        runs: list[Run] = []
        page.extract_text(visitor_text=partial(_visit, runs, number))
        yield from runs


def _visit(runs: list[Run], page: int, text: str, cm: list[float], tm: list[float], _font: object,
           size: float) -> None:  # fmt: skip
    if not text.strip():
        return
    # The run's origin is the text matrix's translation mapped through the current matrix.
    x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
    y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
    # Its size is the font size scaled by both matrices (WeasyPrint draws in CSS px, scaled by 0.75).
    a, b, c, d = (
        tm[0] * cm[0] + tm[1] * cm[2],
        tm[0] * cm[1] + tm[1] * cm[3],
        tm[2] * cm[0] + tm[3] * cm[2],
        tm[2] * cm[1] + tm[3] * cm[3],
    )
    runs.append(Run(page, text.strip(), x, y, size * math.sqrt(abs(a * d - b * c))))


# Integer fields that are counts, not pence.
NOT_MONEY = {"grant_condition_years", "land_charge_years", "interim_limit_percent", "variation_number",
             "payment_number"}  # fmt: skip


def shown_as(value: object, name: str) -> str | None:
    """How a field's value reads in a letter, or None for a value the letter does not print (None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name}: a bool is not printed as itself")
    if isinstance(value, int):
        return str(value) if name in NOT_MONEY else pounds(value)
    if isinstance(value, datetime):
        return longdatetime(value)
    if isinstance(value, date):
        return longdate(value)
    return str(value)


def values_at(obj: object, path: str) -> list[tuple[str, object]]:
    """The values a contract path (``calculation.works[].amount``) names in a context, with their names."""
    current: list[tuple[str, object]] = [("", obj)]
    for part in path.split("."):
        name = part.removesuffix("[]")
        current = [(name, getattr(value, name)) for _, value in current]
        if part.endswith("[]"):
            current = [(name, item) for _, items in current for item in items]  # type: ignore[attr-defined]
    return current


def without_page_furniture(text: str, context: LetterContext) -> str:
    """Text with the running footer and page numbers taken out, so a sentence split by a page joins up."""
    footer = f"{context.branding.name} · Our reference {context.case_reference}"
    text = re.sub(r"Page \d+ of \d+", " ", text.replace(footer, " "))
    return " ".join(text.split())
