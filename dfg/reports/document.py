"""A report as a document: titled sections, each a table with an optional chart and note.

Every report builds one :class:`ReportDocument` from its figures; the plain-text and PDF forms are both
drawn from it, so the printed tables, the charts and what the terminal shows can never disagree.

The PDF is HTML laid out by WeasyPrint, which is imported only inside :func:`render_pdf` (it costs
~400 ms to import and most commands never print). It reuses the letters' safe URL fetcher and fonts: the
stylesheet's ``url("fonts/...")`` resolves inside ``letter_templates/``, and nothing outside that folder
can be fetched. Charts are inline SVG, so they need no fetching at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from dfg.paths import letter_templates_dir
from dfg.presentation import day, text_table

_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Section:
    """One part of a report: a heading, a table (first column left-aligned, ``numeric`` ones right),
    and optionally a chart drawn from the same figures and a note on what they mean."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[int] = ()
    #: How many of the last rows are totals (set off by a rule).
    total_rows: int = 0
    chart: str | None = None
    note: str = ""
    #: Columns whose cells may wrap in print (long text); the others stay on one line.
    wrap: Sequence[int] = ()

    def in_words(self, most: int = 6) -> str:
        """The figures the chart draws, in words, for the chart's text alternative: the totals rows, or
        without totals the first ``most`` rows, each as its label and every column's figure."""
        rows = list(self.rows[-self.total_rows :] if self.total_rows else self.rows[:most])
        if not rows:
            return "No figures."
        said = []
        for first, *figures in rows:
            pairs = [f"{h}: {v}" for h, v in zip(self.headers[1:], figures, strict=False) if h and v]
            said.append(f"{first} – {'; '.join(pairs)}." if pairs else f"{first}.")
        if not self.total_rows and len(self.rows) > most:
            said.append(f"And {len(self.rows) - most} more rows.")
        return " ".join(said)


@dataclass(frozen=True)
class ReportDocument:
    """A whole report: its title, what it covers, the day it was run, and its sections."""

    title: str
    scope: str
    run_on: date
    sections: Sequence[Section] = field(default_factory=tuple)

    def as_text(self) -> str:
        """Aligned plain text that reads in a terminal and pastes into an email."""
        lines = [self.title, f"{self.scope} · run on {day(self.run_on)}"]
        for section in self.sections:
            lines += ["", section.title]
            if section.rows:
                lines.append(
                    text_table(
                        section.headers, section.rows, numeric=section.numeric, total_rows=section.total_rows
                    )
                )
            else:
                lines.append("(none)")
            if section.note:
                lines.append(section.note)
        return "\n".join(lines)

    def as_html(self) -> str:
        """The printable page as HTML (what :meth:`as_pdf` lays out)."""
        return _environment().get_template("report.html").render(report=self, run_on=day(self.run_on))

    def as_pdf(self) -> bytes:
        """A printable A4 PDF (tagged, PDF/UA-1) with the charts and tables."""
        return render_pdf(self.as_html())


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # district names, references and reasons are untrusted text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Charts are built by dfg.reports.charts, which escapes every label itself.
    env.filters["svg"] = markupsafe.Markup
    return env


@dataclass
class _Weasy:
    font_config: Any
    stylesheet: Any
    fetcher: Any
    base_url: str


@cache
def _weasy() -> _Weasy:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from dfg.letters.render import make_url_fetcher

    fonts_root = letter_templates_dir()
    fetcher = make_url_fetcher(fonts_root)
    font_config = FontConfiguration()
    base_url = fonts_root.resolve().as_uri() + "/"
    css = weasyprint.CSS(
        string=(_TEMPLATES / "report.css").read_text(encoding="utf-8"),
        base_url=base_url,
        url_fetcher=fetcher,
        font_config=font_config,
    )
    return _Weasy(font_config, css, fetcher, base_url)


def render_pdf(html: str) -> bytes:
    """Lay out a report's HTML as a tagged A4 PDF."""
    import weasyprint

    state = _weasy()
    document = weasyprint.HTML(string=html, base_url=state.base_url, url_fetcher=state.fetcher).render(
        font_config=state.font_config, stylesheets=[state.stylesheet], pdf_variant="pdf/ua-1"
    )
    pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1")
    return pdf
