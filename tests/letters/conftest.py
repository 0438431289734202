"""Fixtures for the letter tests: the sample case, and each letter rendered once per session."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from letter_pdfs import Run, flat_text, text_runs
from letter_samples import CREATED_AT, large_print, sample_contexts

from dfg.letters.context import LetterContext
from dfg.letters.contracts import LETTER_KINDS
from dfg.letters.render import render_pdf


@pytest.fixture(scope="session", autouse=True)
def _weasyprint_loaded() -> Iterator[None]:
    """Import WeasyPrint once, quietly, for tests that run with warnings as errors.

    Without libharfbuzz-subset0 (which only makes rendering faster), WeasyPrint 70 warns at import that
    a future version will require it. That is advice to the machine's administrator, not a fault here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "HarfBuzz-Subset will be required", DeprecationWarning)
        import weasyprint  # noqa: F401
    yield


@pytest.fixture(scope="session")
def contexts() -> dict[str, LetterContext]:
    """A realistic context for every kind of letter."""
    return sample_contexts()


@pytest.fixture(scope="session")
def pdfs(contexts: dict[str, LetterContext]) -> dict[str, bytes]:
    """Every kind of letter rendered once, as its PDF bytes."""
    return {
        kind: render_pdf(kind, contexts[kind], letter_id=f"letter-{kind}", created_at=CREATED_AT)
        for kind in LETTER_KINDS
    }


@pytest.fixture(scope="session")
def texts(pdfs: dict[str, bytes]) -> dict[str, str]:
    """Every sample letter's text, whitespace collapsed (pypdf is slow: read each once)."""
    return {kind: flat_text(pdf) for kind, pdf in pdfs.items()}


@pytest.fixture(scope="session")
def runs(pdfs: dict[str, bytes]) -> dict[str, list[Run]]:
    """Every sample letter's text runs with their positions and sizes."""
    return {kind: list(text_runs(pdf)) for kind, pdf in pdfs.items()}


@pytest.fixture(scope="session")
def large_print_pdf(contexts: dict[str, LetterContext]) -> bytes:
    """The approval notice for a reader who asked for large print."""
    context = large_print(contexts["approval_notice"])
    return render_pdf("approval_notice", context, letter_id="letter-large", created_at=CREATED_AT)
