"""Render the sample case's letters to docs/samples/letters/<kind>.png (first page, 80 dpi), and two
more: the approval notice in large print, and the withdrawal notice to a very long name and address.

Run from the repository root after changing a template, the stylesheet or the branding:

    .venv/bin/python tools/render_letter_samples.py

Needs ``pdftoppm`` (Debian package poppler-utils). The data is the test suite's sample case
(tests/letters/letter_samples.py), so the pictures show what the tests check.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "samples" / "letters"
MAX_BYTES = 150_000


def main() -> int:
    """Render every letter kind's first page to a PNG; report each file and its size."""
    if shutil.which("pdftoppm") is None:
        print("pdftoppm not found: apt-get install poppler-utils", file=sys.stderr)
        return 1
    sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "letters")]
    from letter_samples import CREATED_AT, large_print, long_named, sample_contexts

    from dfg.letters.contracts import LETTER_KINDS
    from dfg.letters.render import render_pdf

    contexts = sample_contexts()
    samples = [(kind, kind, contexts[kind]) for kind in LETTER_KINDS]
    samples += [
        ("approval_notice-large-print", "approval_notice", large_print(contexts["approval_notice"])),
        ("withdrawal_notice-long-address", "withdrawal_notice", long_named(contexts["withdrawal_notice"])),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    too_big = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, context in samples:
            pdf = Path(tmp) / f"{name}.pdf"
            pdf.write_bytes(render_pdf(kind, context, letter_id=f"sample-{name}", created_at=CREATED_AT))
            # -singlefile writes <prefix>.png for page 1 only.
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(OUT / name)],
                check=True,
            )
            size = (OUT / f"{name}.png").stat().st_size
            print(f"{OUT.relative_to(ROOT) / name}.png  {size // 1000} KB")
            if size > MAX_BYTES:
                too_big.append(name)
    if too_big:
        print(f"larger than {MAX_BYTES // 1000} KB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
