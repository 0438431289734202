"""Printable reports: each PDF read back with pypdf, its figures and charts checked against the report."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from dfg.reports.closures import closures
from dfg.reports.data_return import data_return
from dfg.reports.performance import performance
from dfg.reports.pipeline import pipeline
from tests.reports.conftest import Population


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, " ".join(" ".join(page.extract_text() for page in reader.pages).split())


REPORTS: dict[str, tuple[Callable[..., Any], dict[str, Any], tuple[str, ...]]] = {
    "pipeline": (
        pipeline,
        {},
        ("Pipeline of open cases", "open cases", "stage 4"),
    ),
    "performance": (
        performance,
        {"financial_year": "2025-26"},
        (
            "Performance: time between stages",
            "to 90th percentile",
            "working days",
        ),
    ),
    "closures": (closures, {"financial_year": "2025-26"}, ("Closures by reason", "cases closed")),
    "data_return": (
        data_return,
        {"financial_year": "2025-26"},
        ("Government data return 2025-26", "completed grants"),
    ),
}


@pytest.mark.parametrize("name", list(REPORTS))
def test_pdf_shows_the_report_figures_and_its_charts(population: Population, name: str) -> None:
    if population.db.is_sqlite is False:
        pytest.skip("the PDF does not depend on the database: one backend is enough")
    make, arguments, phrases = REPORTS[name]
    report = make(population.db, population.manager, today=population.today, district="STA", **arguments)
    reader, text = read(report.as_pdf())
    for phrase in (*phrases, "Stafford", "run on 13/10/2026"):
        assert phrase in text, phrase
    # Every table row of the text form is in the PDF (figures, labels, totals).
    for section in report.document().sections:
        for row in section.rows:
            for cell in row:
                assert " ".join(cell.split()) in text, (section.title, cell)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB" and "/StructTreeRoot" in root  # tagged, in English
    assert reader.metadata is not None and reader.metadata.title.startswith(phrases[0])


def test_the_cli_import_does_not_pull_in_weasyprint() -> None:
    code = "import dfg.reports.pipeline, dfg.reports.performance, dfg.reports.closures, dfg.reports.data_return, sys; print('weasyprint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
