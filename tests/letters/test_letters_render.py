"""Every letter renders for a realistic case, shows what its contract requires, and is a good PDF."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

import pytest
from letter_pdfs import (
    MM,
    Run,
    flat_text,
    reader,
    shown_as,
    text_runs,
    values_at,
    without_page_furniture,
)
from letter_samples import CREATED_AT

from dfg.errors import InvalidInput
from dfg.letters.context import LetterContext
from dfg.letters.contracts import CONTRACTS, LETTER_KINDS
from dfg.letters.render import load_envelope_window, render_html, render_pdf


def test_every_kind_has_a_sample(contexts: dict[str, LetterContext]) -> None:
    assert sorted(contexts) == sorted(LETTER_KINDS)


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_letter_shows_every_required_field(
    kind: str, texts: dict[str, str], contexts: dict[str, LetterContext]
) -> None:
    context = contexts[kind]
    text = without_page_furniture(texts[kind], context)
    missing = []
    for path in CONTRACTS[kind].all_required_fields:
        for name, value in values_at(context, path):
            expected = shown_as(value, name)
            if expected is not None and " ".join(expected.split()) not in text:
                missing.append(f"{path} = {expected!r}")
    assert not missing, f"{kind} does not show: {missing}"


def test_required_amounts_print_exactly(texts: dict[str, str]) -> None:
    text = texts["approval_notice"]
    for amount in ("£8,950.00", "£12,740.00", "£1,528.80", "£2,014.80", "£14,754.80", "£1,234.61",
                   "£13,520.19", "£8,520.19"):  # fmt: skip
        assert amount in text
    assert "1 September 2027" in text  # the deferred payment date
    assert "We will pay the grant directly to your contractor, Brightwell Builders Ltd" in text


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_pdf_is_tagged_titled_and_english(kind: str, pdfs: dict[str, bytes]) -> None:
    pdf = reader(pdfs[kind])
    catalog = pdf.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-GB"
    assert catalog["/MarkInfo"]["/Marked"]
    assert pdf.metadata is not None
    assert pdf.metadata.title == CONTRACTS[kind].title
    assert pdf.metadata["/CreationDate"] == "D:20270601093000Z"


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_every_page_has_the_reference_and_page_n_of_m(
    kind: str, pdfs: dict[str, bytes], contexts: dict[str, LetterContext]
) -> None:
    pages = reader(pdfs[kind]).pages
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {len(pages)}" in text
        assert f"Our reference {contexts[kind].case_reference}" in text


def test_a_two_page_letter_says_page_1_of_2(pdfs: dict[str, bytes]) -> None:
    two_page = [kind for kind, pdf in pdfs.items() if len(reader(pdf).pages) == 2]
    assert two_page, "the sample case should have some two-page letters"
    pages = reader(pdfs[two_page[0]]).pages
    assert "Page 1 of 2" in pages[0].extract_text()
    assert "Page 2 of 2" in pages[1].extract_text()


@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_address_sits_inside_the_envelope_window(
    kind: str, pdfs: dict[str, bytes], runs: dict[str, list[Run]], contexts: dict[str, LetterContext]
) -> None:
    window = load_envelope_window()
    page_height = float(reader(pdfs[kind]).pages[0].mediabox.height)
    left, right = window.left * MM, (window.left + window.width) * MM
    top, bottom = page_height - window.top * MM, page_height - (window.top + window.height) * MM
    recipient = contexts[kind].recipient
    lines = [recipient.name, *recipient.address_lines, recipient.postcode]
    address = {run.text: run for run in runs[kind] if run.page == 1 and run.text in lines}
    assert sorted(address) == sorted(lines)
    for run in address.values():
        assert left <= run.x <= right, f"{run.text!r} starts outside the window"
        # The baseline and the top of the capitals (about 0.7 of the size above it) are both inside.
        assert bottom <= run.y and run.y + 0.7 * run.size <= top, f"{run.text!r} is outside the window"
        assert run.x + 0.6 * run.size * len(run.text) <= right, f"{run.text!r} may run past the window"


A4_HEIGHT = 297 * MM


def body_runs(runs: Iterable[Run]) -> list[Run]:
    """Text of the letter itself: not page 1's top panel (letterhead, address) nor the page footer."""
    return [run for run in runs if not (run.page == 1 and run.y > A4_HEIGHT - 99 * MM) and run.y > 24 * MM]


def test_standard_print_body_is_at_least_12pt(runs: dict[str, list[Run]]) -> None:
    for kind, letter in runs.items():
        body = body_runs(letter)
        assert body
        small = {run.text for run in body if run.size < 11.99}
        assert not small, f"{kind}: text under 12pt: {small}"


def test_large_print_body_is_at_least_16pt(large_print_pdf: bytes, pdfs: dict[str, bytes]) -> None:
    body = body_runs(text_runs(large_print_pdf))
    assert min(run.size for run in body) >= 15.99
    assert "£13,520.19" in flat_text(large_print_pdf)
    # Bigger type, more pages: the large-print letter is a real re-layout, not a scaled page.
    assert len(reader(large_print_pdf).pages) > len(reader(pdfs["approval_notice"]).pages)


def test_same_data_renders_byte_identical_pdfs(
    contexts: dict[str, LetterContext], pdfs: dict[str, bytes]
) -> None:
    again = render_pdf(
        "approval_notice",
        contexts["approval_notice"],
        letter_id="letter-approval_notice",
        created_at=CREATED_AT,
    )
    assert again == pdfs["approval_notice"]


def test_identity_and_dates_come_from_the_letter(
    contexts: dict[str, LetterContext], pdfs: dict[str, bytes]
) -> None:
    other_id = render_pdf(
        "approval_notice", contexts["approval_notice"], letter_id="another-letter", created_at=CREATED_AT
    )
    assert reader(other_id).trailer["/ID"][0] != reader(pdfs["approval_notice"]).trailer["/ID"][0]
    later = render_pdf(
        "approval_notice",
        contexts["approval_notice"],
        letter_id="letter-approval_notice",
        created_at=CREATED_AT.replace(hour=15),
    )
    metadata = reader(later).metadata
    assert metadata is not None
    assert metadata["/ModDate"] == "D:20270601153000Z"


def test_a_copy_says_copy_on_every_page(contexts: dict[str, LetterContext], texts: dict[str, str]) -> None:
    copy = render_pdf(
        "approval_notice",
        contexts["approval_notice"],
        letter_id="letter-approval_notice",
        created_at=CREATED_AT,
        copy=True,
    )
    pages = reader(copy).pages
    assert all(re.search(r"\bCOPY\b", page.extract_text()) for page in pages)
    assert "COPY" not in texts["approval_notice"]


def test_html_is_escaped_english_and_titled(contexts: dict[str, LetterContext]) -> None:
    html = render_html("acknowledgement", contexts["acknowledgement"])
    assert '<html lang="en-GB"' in html
    assert "<title>We have received your referral</title>" in html


def test_wrong_context_for_the_kind_is_refused(contexts: dict[str, LetterContext]) -> None:
    with pytest.raises(InvalidInput, match="approval_notice letters need a context of type ApprovalNotice"):
        render_html("approval_notice", contexts["refusal_notice"])


def test_unknown_kind_is_refused(contexts: dict[str, LetterContext]) -> None:
    with pytest.raises(InvalidInput, match="unknown letter kind 'thank_you'"):
        render_html("thank_you", contexts["acknowledgement"])


def test_naive_created_at_is_refused(contexts: dict[str, LetterContext]) -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        render_html(
            "acknowledgement", contexts["acknowledgement"], created_at=CREATED_AT.replace(tzinfo=None)
        )


def test_no_deferred_payment_date_and_no_land_charge(contexts: dict[str, LetterContext]) -> None:
    context = replace(contexts["approval_notice"], deferred_payment_date=None, land_charge_amount=None)
    html = render_html("approval_notice", context)
    assert "We will not pay the grant before" not in html
    assert "land charge" not in html
