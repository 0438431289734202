"""How engine messages and codes read on a page."""

from __future__ import annotations

import pytest

from dfg.web.templating import label, sentence


@pytest.mark.parametrize(
    ("message", "page"),
    [
        ("no district 'XX' (see 'dfg district list')", "No district 'XX'."),
        ("above the approver's limit (--second-approver)", "Above the approver's limit."),
        ("the review window (28 days) is open", "The review window (28 days) is open."),
        ("no case CAN-2026-0001", "No case CAN-2026-0001."),
        ("Done?", "Done?"),
    ],
)
def test_messages_read_as_sentences_without_command_line_asides(message: str, page: str) -> None:
    assert sentence(message) == page


def test_codes_in_words() -> None:
    assert [label(c) for c in ("ot", "non_urgent", "large_print", None)] == [
        "OT",
        "Non urgent",
        "Large print",
        "",
    ]
