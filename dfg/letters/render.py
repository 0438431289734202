"""Render letters: Jinja2 HTML, then a tagged, deterministic PDF with WeasyPrint.

- WeasyPrint is imported inside the functions that need it: importing it costs ~400 ms, and the CLI
  imports this module at start.
- Each process keeps one :class:`weasyprint.text.fonts.FontConfiguration` and one parsed stylesheet per
  templates folder (~25% faster than building them per letter).
- Every resource (stylesheet, fonts, logo) is fetched through a fetcher that serves only files under the
  templates folder; anything else (``http:``, ``file:`` elsewhere, ``data:``) stops the render. Case data
  is escaped by Jinja2 and can never add a resource.
- The same context, ``letter_id`` and ``created_at`` give byte-identical PDFs: the PDF's creation and
  modification dates come from ``created_at`` and its ``/ID`` from ``letter_id``; nothing else in
  WeasyPrint's output depends on the clock or on chance.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import os
import threading
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from hashlib import sha256
from multiprocessing import get_context
from pathlib import Path
from time import sleep
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2

from dfg.errors import ConfigurationError, InvalidInput
from dfg.letters.context import LetterContext
from dfg.letters.contracts import contract_for
from dfg.paths import letter_templates_dir
from dfg.rules.money import Pence, format_pounds

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# The sheet: A4, and the region the envelope-window address must stay inside (page 1's top panel, above
# the first fold at 99 mm, and left of the letterhead column that starts at 125 mm).
_SHEET_WIDTH_MM = 210
_TOP_PANEL_MM = 99
_LETTERHEAD_COLUMN_MM = 120
# Where page 1's letterhead starts and the page's left margin (letter.css), and the least room the
# letterhead needs above the window.
_FIRST_PAGE_TOP_MM = 14
_PAGE_LEFT_MM = 20
_LETTERHEAD_MM = 30
# Page 1's top panel: the window's column, a gap, and the column of contact details and references
# filling the rest of the 170 mm of text.
_TEXT_WIDTH_MM = 170
_COLUMN_GAP_MM = 7


# --------------------------------------------------------------------------------------------------------
# Jinja2 filters: how amounts and dates read in a letter


def pounds(pence: Pence) -> str:
    """Pence as en-GB pounds for a letter: ``£12,345.67``."""
    if isinstance(pence, bool) or not isinstance(pence, int):
        # A float or Decimal here means the context was built wrongly: fail the render, not the reader.
        raise TypeError(f"pounds: expected whole pence (an int), got {pence!r}")
    return format_pounds(pence)


def longdate(value: date, weekday: bool = False) -> str:
    """A date as a letter writes it: ``3 March 2027`` (``weekday=True``: ``Wednesday 3 March 2027``)."""
    text = f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return f"{_WEEKDAYS[value.weekday()]} {text}" if weekday else text


def clock(value: time | datetime) -> str:
    """A time as GOV.UK style writes it: ``10am``, ``2:30pm``, ``midday``."""
    if value.hour == 12 and value.minute == 0:
        return "midday"
    if value.hour == 0 and value.minute == 0:
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def longdatetime(value: datetime) -> str:
    """``Tuesday 9 March 2027 at 10:30am``."""
    return f"{longdate(value.date(), weekday=True)} at {clock(value)}"


@cache
def _environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,  # every value is escaped: names and addresses are untrusted text
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pounds=pounds, longdate=longdate, clock=clock, longdatetime=longdatetime)
    return env


# --------------------------------------------------------------------------------------------------------
# Layout: the envelope window


@dataclass(frozen=True)
class EnvelopeWindow:
    """Where the recipient's address must sit on page 1, in millimetres from the sheet's top-left corner."""

    name: str
    left: float
    top: float
    width: float
    height: float

    def css(self) -> str:
        """The stylesheet rules that place the address block in this window: the letterhead above it
        fills page 1 from its top margin down to the window, and the block starts at the window's left
        edge (the page's left margin is 20 mm)."""
        left_column = self.left + self.width - _PAGE_LEFT_MM
        return (
            f".top-left {{ width: {left_column}mm; }}\n"
            f".top-right {{ width: {_TEXT_WIDTH_MM - _COLUMN_GAP_MM - left_column}mm; }}\n"
            f".letterhead {{ height: {self.top - _FIRST_PAGE_TOP_MM}mm; }}\n"
            f".address-window {{ margin-left: {self.left - _PAGE_LEFT_MM}mm; "
            f"width: {self.width}mm; min-height: {self.height}mm; }}"
        )


def load_envelope_window(*, templates_dir: Path | None = None) -> EnvelopeWindow:
    """The envelope window selected in ``layout.toml``; :class:`ConfigurationError` if it is unusable."""
    return _load_window(templates_dir or letter_templates_dir())


@cache
def _load_window(templates_dir: Path) -> EnvelopeWindow:
    path = templates_dir / "layout.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    name = data.get("envelope")
    envelopes = data.get("envelopes", {})
    table = envelopes.get(name) if isinstance(envelopes, dict) and isinstance(name, str) else None
    if not isinstance(name, str) or not isinstance(table, dict):
        raise ConfigurationError(f"{path}: envelope = {name!r} names no [envelopes.<name>] table")
    sizes: dict[str, float] = {}
    for key in ("left", "top", "width", "height"):
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigurationError(f"{path} [envelopes.{name}]: {key} must be a positive number of mm")
        sizes[key] = float(value)
    window = EnvelopeWindow(name=name, **sizes)
    if window.top + window.height > _TOP_PANEL_MM:
        raise ConfigurationError(f"{path} [envelopes.{name}]: the window runs below the first fold at 99 mm")
    if window.top < _FIRST_PAGE_TOP_MM + _LETTERHEAD_MM:
        raise ConfigurationError(
            f"{path} [envelopes.{name}]: the window must start at least "
            f"{_FIRST_PAGE_TOP_MM + _LETTERHEAD_MM} mm from the top, below the letterhead"
        )
    if window.left < _PAGE_LEFT_MM / 2:
        raise ConfigurationError(f"{path} [envelopes.{name}]: the window starts within 10 mm of the edge")
    if window.left + window.width > _LETTERHEAD_COLUMN_MM:
        raise ConfigurationError(
            f"{path} [envelopes.{name}]: the window runs into the letterhead column (from 120 mm)"
        )
    return window


# --------------------------------------------------------------------------------------------------------
# The safe URL fetcher


class UnsafeURL(ValueError):
    """A letter asked for a resource outside its templates folder."""


def resolve_template_url(url: str, root: Path) -> Path:
    """The file under ``root`` that the ``file:`` URL ``url`` names, or :class:`UnsafeURL`.

    Refuses every other scheme (``http``, ``https``, ``data``, ``ftp``...), ``file:`` URLs on another
    host, and paths that leave ``root`` (``..``, symbolic links).
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise UnsafeURL(f"letters may only use files from their templates folder, not {url!r}")
    path = Path(url2pathname(parts.path)).resolve()  # url2pathname decodes %-escapes once
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise UnsafeURL(f"{url!r} is not a file in the templates folder {root}")
    return path


@cache
def make_url_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that serves only files under ``root`` (see :func:`resolve_template_url`).

    Calling it with any other URL raises :class:`UnsafeURL`. It is built with ``fail_on_errors``, so during
    a render a refused or missing resource stops the render rather than printing a letter without it.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class TemplateFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
        def fetch(self, url: str, headers: Any = None) -> Any:
            # Looked up at call time, so a test can record every request.
            path = resolve_template_url(url, root)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})

    return TemplateFetcher(fail_on_errors=True)


# --------------------------------------------------------------------------------------------------------
# Rendering


def _template_variables(kind: str, context: LetterContext) -> dict[str, Any]:
    contract = contract_for(kind)
    if type(context) is not contract.context_type:
        raise InvalidInput(
            f"{kind} letters need a context of type {contract.context_type.__name__}, "
            f"not {type(context).__name__}"
        )
    # Shallow: nested dataclasses stay objects, so templates can use their properties (totals).
    variables = {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
    # Derived figures (order_total, retained...) are properties: offer them as variables like fields.
    for name in dir(type(context)):
        if isinstance(getattr(type(context), name), property):
            variables[name] = getattr(context, name)
    variables["letter"] = contract
    return variables


def render_html(
    kind: str,
    context: LetterContext,
    *,
    copy: bool = False,
    created_at: datetime | None = None,
    templates_dir: Path | None = None,
) -> str:
    """The letter as HTML: ``<kind>.html`` filled in with ``context``.

    ``copy`` marks a reprint "COPY" on every page. ``created_at`` (timezone-aware) becomes the document's
    creation date; it defaults to midnight UTC on the letter date, so the HTML depends only on its inputs.
    Raises :class:`InvalidInput` for an unknown kind or a context of the wrong type.
    """
    variables = _template_variables(kind, context)
    created = created_at or datetime.combine(context.letter_date, time(), tzinfo=UTC)
    if created.tzinfo is None:
        raise InvalidInput("created_at must be timezone-aware")
    variables.update(copy=copy, created_w3c=created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    env = _environment(templates_dir or letter_templates_dir())
    return env.get_template(f"{kind}.html").render(variables)


@dataclass
class _WeasyState:
    """What a process builds once per templates folder: fonts, parsed stylesheets, the fetcher."""

    font_config: Any
    stylesheets: list[Any]
    fetcher: Any
    base_url: str


@cache
def _weasy_state(templates_dir: Path) -> _WeasyState:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fetcher = make_url_fetcher(templates_dir)
    font_config = FontConfiguration()
    base_url = templates_dir.resolve().as_uri() + "/"
    stylesheets = [
        weasyprint.CSS(
            string=css,
            base_url=base_url,
            url_fetcher=fetcher,
            font_config=font_config,
        )
        for css in (
            (templates_dir / "letter.css").read_text(encoding="utf-8"),
            _load_window(templates_dir).css(),
        )
    ]
    return _WeasyState(font_config, stylesheets, fetcher, base_url)


def render_pdf(
    kind: str,
    context: LetterContext,
    *,
    letter_id: str,
    created_at: datetime,
    copy: bool = False,
    templates_dir: Path | None = None,
) -> bytes:
    """The letter as a tagged PDF (PDF/UA-1, language en-GB, titled), ready to print and to store.

    ``letter_id`` (the letter register's identifier) and ``created_at`` (timezone-aware) fix the PDF's
    ``/ID`` and dates: identical inputs give byte-identical output, so a stored letter can be checked
    against a re-render. ``copy=True`` marks a reprint "COPY" on every page. Large print follows
    ``context.recipient.large_print``.
    """
    if not letter_id:
        raise InvalidInput("letter_id must not be empty")
    document = lay_out(kind, context, created_at=created_at, copy=copy, templates_dir=templates_dir)
    # The first element of /ID names the document; WeasyPrint derives the second from the content.
    identifier = sha256(letter_id.encode()).hexdigest()[:32].encode()
    with _font_timestamps_from(created_at):
        pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=identifier)
    return pdf


def lay_out(
    kind: str,
    context: LetterContext,
    *,
    created_at: datetime,
    copy: bool = False,
    templates_dir: Path | None = None,
) -> Any:
    """The letter laid out in pages: WeasyPrint's document, whose boxes say where every line of text is
    (the tests use them to check that nothing runs out of its box). :func:`render_pdf` writes it."""
    root = templates_dir or letter_templates_dir()
    html = render_html(kind, context, copy=copy, created_at=created_at, templates_dir=root)

    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    try:
        state = _weasy_state(root)  # parsing the stylesheet fetches the fonts
        return weasyprint.HTML(string=html, base_url=state.base_url, url_fetcher=state.fetcher).render(
            font_config=state.font_config, stylesheets=state.stylesheets, pdf_variant="pdf/ua-1"
        )
    except FatalURLFetchingError as exc:
        raise ConfigurationError(f"{kind} letter template: {exc.__cause__ or exc}") from None


@contextmanager
def _font_timestamps_from(moment: datetime) -> Iterator[None]:
    """Make embedded font subsets carry ``moment`` instead of the time of rendering.

    Without libharfbuzz-subset, WeasyPrint subsets fonts with fontTools, which stamps each subset's
    ``head.modified`` with the current time, so two renders a second apart differ. fontTools honours the
    reproducible-builds variable SOURCE_DATE_EPOCH; it is set only while the PDF is written and then put
    back (rendering is single-threaded per process).
    """
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


@dataclass(frozen=True)
class LetterJob:
    """One letter of a batch for :func:`render_many`. Plain data, so it can go to a worker process."""

    kind: str
    context: LetterContext
    letter_id: str
    created_at: datetime
    copy: bool = False


def _render_job(job: LetterJob, templates_dir: Path | None = None) -> bytes:
    return render_pdf(
        job.kind,
        job.context,
        letter_id=job.letter_id,
        created_at=job.created_at,
        copy=job.copy,
        templates_dir=templates_dir,
    )


def _render_job_in(args: tuple[LetterJob, Path]) -> bytes:
    return _render_job(*args)


def _end_with_parent(parent: int) -> None:
    """In each worker: exit as soon as the process that started the pool is gone (killed, say), instead
    of rendering the rest of its chunk, or waiting, for nobody."""

    def watch() -> None:
        while os.getppid() == parent:
            sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def render_many(
    jobs: Iterable[LetterJob], *, workers: int | None = None, templates_dir: Path | None = None
) -> Iterator[bytes]:
    """Render a batch, yielding each PDF in the order of ``jobs``.

    Uses a pool of ``workers`` processes (default: every core). With one worker, or one job, it renders
    in this process. Workers start with "spawn", not "fork": a forked child would inherit this process's
    fontconfig and Pango state, which is not safe to share. So, as with any spawned pool, a script that
    calls this must keep its top level under ``if __name__ == "__main__":``. Each worker pays WeasyPrint's
    import and font set-up once (about a second), so a pool pays off from a few dozen letters.
    """
    jobs = list(jobs)
    count = workers or os.cpu_count() or 1
    if count <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _render_job(job, templates_dir)
        return
    root = (templates_dir or letter_templates_dir()).resolve()
    chunksize = max(1, len(jobs) // (count * 4))
    with ProcessPoolExecutor(
        max_workers=min(count, len(jobs)),
        mp_context=get_context("spawn"),
        initializer=_end_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        yield from pool.map(_render_job_in, [(job, root) for job in jobs], chunksize=chunksize)


def merge_pdfs(pdfs: Sequence[bytes]) -> bytes:
    """One PDF of all ``pdfs`` in order, for the post room to print in one go.

    The merged file is for printing: the letters' own PDFs are the record (and the accessible copies).
    Needs ``pypdf``; raises :class:`ConfigurationError` naming it when it is not installed.
    """
    if not pdfs:
        raise InvalidInput("merge_pdfs: no PDFs to merge")
    try:
        from io import BytesIO

        from pypdf import PdfWriter
    except ImportError:
        raise ConfigurationError("merging letters needs the pypdf package: pip install pypdf") from None
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(BytesIO(pdf))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
