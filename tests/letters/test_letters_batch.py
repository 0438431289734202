"""Batches: many letters at once in worker processes, and one merged PDF for the post room."""

from __future__ import annotations

import logging

import pytest
from letter_pdfs import reader
from letter_samples import CREATED_AT, large_print

from dfg.errors import InvalidInput
from dfg.letters.context import LetterContext
from dfg.letters.render import LetterJob, merge_pdfs, render_many, render_pdf


def jobs(contexts: dict[str, LetterContext]) -> list[LetterJob]:
    kinds = ("acknowledgement", "hold_notice", "closure_notice", "works_order")
    return [LetterJob(kind, contexts[kind], f"letter-{kind}", CREATED_AT) for kind in kinds]


def test_render_many_in_one_process_matches_render_pdf(
    contexts: dict[str, LetterContext], pdfs: dict[str, bytes]
) -> None:
    batch = jobs(contexts)
    assert list(render_many(batch, workers=1)) == [pdfs[job.kind] for job in batch]


@pytest.mark.slow
def test_render_many_in_worker_processes_gives_the_same_bytes(
    contexts: dict[str, LetterContext], pdfs: dict[str, bytes]
) -> None:
    # Byte-identical across processes: determinism does not depend on the process or its hash seed.
    batch = jobs(contexts)
    assert list(render_many(batch, workers=2)) == [pdfs[job.kind] for job in batch]


def test_merge_pdfs_keeps_every_page_in_order(pdfs: dict[str, bytes]) -> None:
    parts = [pdfs["acknowledgement"], pdfs["approval_notice"], pdfs["closure_notice"]]
    merged = reader(merge_pdfs(parts))
    counts = [len(reader(part).pages) for part in parts]
    assert len(merged.pages) == sum(counts)
    assert "We have received your referral" in merged.pages[0].extract_text()
    assert "We have closed your case" in merged.pages[counts[0] + counts[1]].extract_text()


def test_merge_nothing() -> None:
    with pytest.raises(InvalidInput):
        merge_pdfs([])


def test_rendering_logs_no_weasyprint_errors(
    contexts: dict[str, LetterContext], caplog: pytest.LogCaptureFixture
) -> None:
    # WeasyPrint logs, rather than raises, what breaks PDF/UA (an image without alt text, no language).
    caplog.set_level(logging.ERROR, logger="weasyprint")
    render_pdf("approval_notice", large_print(contexts["approval_notice"]), letter_id="x", created_at=CREATED_AT,
               copy=True)  # fmt: skip
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
