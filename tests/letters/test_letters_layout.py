"""Letters lay out for every reader and every name: large print enlarges every part, a long name or
address wraps inside its box and pushes the letter down instead of running over it, the workings' column
of amounts holds only money, and the sign-off never stands alone on a page.

Where the text is comes from two places: the PDF read back with pypdf (text, sizes, baselines), and
WeasyPrint's layout boxes (every line's box and its container's), which say exactly where a line ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from letter_pdfs import MM, Run, flat_text, reader, text_runs
from letter_samples import CREATED_AT, LONG_NAME, large_print, long_named
from weasyprint.formatting_structure import boxes

from dfg.letters import context as c
from dfg.letters.render import lay_out, load_envelope_window, render_pdf

PX = 96 / 25.4  # WeasyPrint's CSS pixels per millimetre
TOLERANCE = 0.5  # px: rounding in the layout


@dataclass(frozen=True)
class Line:
    """A line of text on a page as WeasyPrint laid it out, and the block it belongs in (CSS px)."""

    page: int
    text: str
    left: float
    top: float
    right: float
    bottom: float
    box_left: float
    box_right: float
    classes: str  # the classes of the line's element and its ancestors


def laid_out_lines(kind: str, context: c.LetterContext) -> Iterator[Line]:
    """Every line of text of every page, with the content box of the block that holds it."""
    document = lay_out(kind, context, created_at=CREATED_AT)
    for number, page in enumerate(document.pages, start=1):
        yield from _lines(number, page._page_box, None, "")


def _lines(page: int, box: boxes.Box, block: boxes.Box | None, classes: str) -> Iterator[Line]:
    if box.is_outside_marker:
        return  # a list's bullet or number sits in the margin beside its item, by design
    if box.element is not None and isinstance(box, boxes.BlockBox | boxes.LineBox):
        classes = f"{classes} {box.element.get('class') or ''} {box.element_tag}"
    if isinstance(box, boxes.BlockContainerBox) and not isinstance(box, boxes.LineBox):
        block = box
    if isinstance(box, boxes.LineBox) and block is not None:
        texts = [t for t in box.descendants() if isinstance(t, boxes.TextBox) and t.text.strip()]
        if texts:
            left = min(t.position_x for t in texts)
            right = max(t.position_x + t.width for t in texts)
            yield Line(
                page,
                " ".join(t.text for t in texts),
                left,
                box.position_y,
                right,
                box.position_y + box.height,
                block.content_box_x(),
                block.content_box_x() + block.width,
                classes,
            )
        return
    for child in getattr(box, "children", ()):
        yield from _lines(page, child, block, classes)


def assert_nothing_runs_out_or_over(lines: list[Line]) -> None:
    """No line runs past either side of its block, and no two lines on a page overlap."""
    outside = [
        line.text
        for line in lines
        if line.left < line.box_left - TOLERANCE or line.right > line.box_right + TOLERANCE
    ]
    assert not outside, f"text runs out of its box: {outside[:3]}"
    for page in {line.page for line in lines}:
        on_page = [line for line in lines if line.page == page]
        for i, a in enumerate(on_page):
            for b in on_page[i + 1 :]:
                overlap = (
                    a.left < b.right - TOLERANCE
                    and b.left < a.right - TOLERANCE
                    and a.top < b.bottom - TOLERANCE
                    and b.top < a.bottom - TOLERANCE
                )
                assert not overlap, f"page {page}: {a.text!r} overlaps {b.text!r}"


@pytest.mark.parametrize("kind", ["approval_notice", "works_order"])
@pytest.mark.parametrize("size", ["standard", "large print"])
def test_a_long_name_and_address_wrap_inside_the_window_and_push_the_letter_down(
    kind: str, size: str, contexts: dict[str, c.LetterContext]
) -> None:
    context = long_named(contexts[kind])
    if size == "large print":
        context = large_print(context)
    lines = list(laid_out_lines(kind, context))
    assert_nothing_runs_out_or_over(lines)
    window = load_envelope_window()
    address = [line for line in lines if "recipient" in line.classes]
    # The address wraps inside the window's width, from its left edge (positions are on the sheet).
    left, right = window.left * PX, (window.left + window.width) * PX
    assert len(address) > 12, "a 950-character address wraps onto many lines"
    assert all(left - TOLERANCE <= a.left and a.right <= right + TOLERANCE for a in address)
    # The letter starts below the whole address, not over it.
    title = next(line for line in lines if " h1" in line.classes)
    assert title.page == 1 and title.top > max(a.bottom for a in address)

    # Read back: every word of the name and the address is in the PDF, in order.
    text = flat_text(render_pdf(kind, context, letter_id="long", created_at=CREATED_AT))
    assert "Annabel-Rosalind" in text and "Upper St Mary's" in text
    squeezed = text.replace(" ", "").replace("-", "")
    assert LONG_NAME.replace(" ", "").replace("-", "") in squeezed


@pytest.mark.parametrize("kind", ["approval_notice", "test_of_resources_result", "interim_payment"])
def test_nothing_runs_out_of_its_box_in_the_sample_letters(
    kind: str, contexts: dict[str, c.LetterContext]
) -> None:
    assert_nothing_runs_out_or_over(list(laid_out_lines(kind, contexts[kind])))
    assert_nothing_runs_out_or_over(list(laid_out_lines(kind, large_print(contexts[kind]))))


def test_the_check_finds_text_that_runs_over_other_text(contexts: dict[str, c.LetterContext]) -> None:
    # The check can fail: an address window pulled up over the letterhead makes lines overlap.
    context = contexts["acknowledgement"]
    lines = list(laid_out_lines("acknowledgement", context))
    address = [line for line in lines if "recipient" in line.classes]
    head = next(line for line in lines if "council-name" in line.classes)
    moved = [replace(a, top=head.top, bottom=head.bottom) for a in address[:1]]
    with pytest.raises(AssertionError, match="overlaps"):
        assert_nothing_runs_out_or_over([*lines, *moved])
    with pytest.raises(AssertionError, match="runs out of its box"):
        assert_nothing_runs_out_or_over([replace(head, right=head.box_right + 20)])


def runs_of(kind: str, context: c.LetterContext) -> list[Run]:
    return list(text_runs(render_pdf(kind, context, letter_id="large", created_at=CREATED_AT)))


@pytest.mark.parametrize("kind", ["approval_notice", "works_order", "test_of_resources_result"])
def test_large_print_enlarges_every_part_of_the_letter(
    kind: str, contexts: dict[str, c.LetterContext]
) -> None:
    context = contexts[kind]
    runs = runs_of(kind, large_print(context))
    small = sorted({run.text for run in runs if run.size < 15.99})
    # Letterhead, address, references, date, tables, footer and page numbers: all 16pt or more.
    assert not small, f"{kind}: under 16pt in large print: {small}"
    texts = {run.text for run in runs}
    for part in (
        context.branding.name,
        context.recipient.name,
        context.case_reference,
        "Date:",
        "Page 1 of",
    ):
        assert any(part in text for text in texts), f"{part!r} is not in the large-print letter"


@pytest.mark.parametrize(
    ("lines", "size", "large"), [(3, 16, True), (4, 14, True), (5, 12, True), (5, 12, False)]
)
def test_large_print_sets_the_address_as_large_as_the_window_holds(
    lines: int, size: int, large: bool, contexts: dict[str, c.LetterContext]
) -> None:
    # Seven lines in all (name, five lines, postcode) fit the window in standard print too.
    address = ("1 Long Lane", "Upper Green", "Lower Town", "Shire", "Somewhere")[:lines]
    context = contexts["acknowledgement"]
    context = replace(context, recipient=replace(context.recipient, address_lines=address))
    context = large_print(context) if large else context
    pdf = render_pdf("acknowledgement", context, letter_id="large", created_at=CREATED_AT)
    window = load_envelope_window()
    height = float(reader(pdf).pages[0].mediabox.height)
    top, bottom = height - window.top * MM, height - (window.top + window.height) * MM
    wanted = {context.recipient.name, *address, context.recipient.postcode}
    found = [run for run in text_runs(pdf) if run.page == 1 and run.text in wanted]
    assert {run.text for run in found} == wanted
    for run in found:
        assert abs(run.size - size) < 0.01, f"{run.text!r} is {run.size}pt, not {size}pt"
        assert bottom <= run.y - 0.25 * run.size and run.y + 0.75 * run.size <= top, (
            f"{run.text!r} leaves the window"
        )


def test_the_workings_column_of_amounts_holds_only_money(contexts: dict[str, c.LetterContext]) -> None:
    context = contexts["test_of_resources_result"]
    lines = list(laid_out_lines("test_of_resources_result", context))
    amounts = [line for line in lines if "amount" in line.classes and "td" in line.classes]
    assert amounts
    assert all(line.text.startswith(("£", "-£", "–£")) for line in amounts), [a.text for a in amounts]
    # The loan factor is said beside its label instead.
    text = flat_text(render_pdf("test_of_resources_result", context, letter_id="t", created_at=CREATED_AT))
    assert "Loan factor for an owner: 387.33" in text


def test_the_sign_off_takes_the_last_paragraph_along_to_a_new_page(
    contexts: dict[str, c.LetterContext],
) -> None:
    # A reason of more and more words moves the page break through the end of the letter: wherever it
    # falls, the sign-off is on the page with the contact details and the end of the last paragraph.
    pages_seen = set()
    for words in range(610, 720, 10):
        context = replace(contexts["withdrawal_notice"], reason=" ".join(["word"] * words) + ".")
        pages = [
            page.extract_text()
            for page in reader(
                render_pdf("withdrawal_notice", context, letter_id="w", created_at=CREATED_AT)
            ).pages
        ]
        pages_seen.add(len(pages))

        def page_of(text: str, pages: list[str] = pages) -> list[int]:
            return [n for n, page in enumerate(pages) if text in " ".join(page.split())]

        signed = page_of("Yours sincerely")
        assert signed == page_of("Contact us") == page_of("Please call us."), (words, signed)
    assert pages_seen == {2, 3}, "the reasons tried must move the break past the sign-off"
