"""Batches: many letters at once in worker processes, and one merged PDF for the post room."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


_RENDER_FOR_EVER = """
import sys
from letter_samples import CREATED_AT, sample_contexts
from dfg.letters.render import LetterJob, render_many

if __name__ == "__main__":
    contexts = sample_contexts()
    jobs = [LetterJob(kind, contexts[kind], f"letter-{n}", CREATED_AT) for n, kind in enumerate(sorted(contexts) * 40)]
    for n, _ in enumerate(render_many(jobs, workers=2)):
        print(n, flush=True)
"""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _running(pid: int) -> bool:
    """Still there and not a zombie (an exited process that nobody has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the workers through Linux's /proc")
def test_killing_a_batch_ends_its_workers(tmp_path: Path) -> None:
    """A batch killed mid-way (SIGKILL: no clean-up runs in it) leaves no worker rendering for nobody."""
    script = tmp_path / "render.py"
    script.write_text(_RENDER_FOR_EVER)
    root = Path(__file__).resolve().parents[2]
    batch = subprocess.Popen(
        [sys.executable, str(script)], cwd=root, env={**os.environ, "PYTHONPATH": os.pathsep.join((str(root), str(root / "tests" / "letters")))},
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert batch.stdout is not None
        batch.stdout.readline()  # the first letter is back: the pool's workers are at work
        workers = _children(batch.pid)
        assert len(workers) >= 2, workers  # the two workers (and the pool's resource tracker)
    finally:
        batch.kill()
        batch.wait()
        batch.stdout.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.1)
    alive = [pid for pid in workers if _running(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert alive == [], "workers went on after their batch was killed"
