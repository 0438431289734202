"""The estimates rules: how many are needed, whether a contractor may be chosen, and which estimate sets
the eligible works."""

from __future__ import annotations

from datetime import date

import pytest

from dfg.errors import InvalidInput
from dfg.rules.estimates import (
    EstimateOption,
    accreditation_current,
    choose_estimate,
    estimates_requirement,
    explain_selection,
    why_not_selectable,
)

NEEDED = (
    "at least two from different contractors are needed, or a direction waiving it ('dfg estimate waive')"
)


@pytest.mark.parametrize(
    ("contractors", "waived", "message"),
    [
        ([], False, f"no estimate is recorded: {NEEDED}"),
        ([7], False, f"only 1 estimate (from 1 contractor) is recorded: {NEEDED}"),
        ([7, 7], False, f"only 2 estimates (from 1 contractor) are recorded: {NEEDED}"),
        ([7, 8], False, None),
        ([7, 7, 8], False, None),
        ([], True, None),
        ([7], True, None),
    ],
    ids=["none", "one", "two-same-contractor", "two-different", "three", "waived-none", "waived-one"],
)
def test_requirement(contractors: list[int], waived: bool, message: str | None) -> None:
    assert estimates_requirement(contractors, waived) == message


@pytest.mark.parametrize(
    ("accreditation", "expires", "current"),
    [
        ("TrustMark", date(2026, 3, 31), True),  # good on its expiry date
        ("TrustMark", date(2026, 3, 30), False),
        ("TrustMark", None, True),  # no expiry date: does not lapse
        (None, None, False),
    ],
)
def test_accreditation_current(accreditation: str | None, expires: date | None, current: bool) -> None:
    assert accreditation_current(accreditation, expires, date(2026, 3, 31)) is current


ON = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("status", "accreditation", "expires", "required", "why"),
    [
        ("active", "TrustMark", date(2027, 1, 1), True, None),
        ("active", "TrustMark", date(2026, 1, 31), True,
         "Acme's TrustMark accreditation expired on 31/01/2026, before 31/03/2026"),
        ("active", "TrustMark", date(2026, 1, 31), False, None),
        ("active", None, None, True, "Acme has no accreditation recorded, and the works policy requires a current one"),
        ("active", None, None, False, None),
        ("suspended", "TrustMark", date(2027, 1, 1), False, "Acme is suspended from the contractor register"),
        ("removed", "TrustMark", date(2027, 1, 1), False, "Acme has been removed from the contractor register"),
    ],
)  # fmt: skip
def test_why_not_selectable(
    status: str, accreditation: str | None, expires: date | None, required: bool, why: str | None
) -> None:
    found = why_not_selectable(
        "Acme", status, accreditation, expires, ON, require_current_accreditation=required
    )
    assert found == why


OPTIONS = [
    EstimateOption(1, "Acme Builders", 5_000_00),
    EstimateOption(2, "Bloggs & Co", 4_500_00),
    EstimateOption(3, "Castle Lifts", 4_200_00),
]


def test_the_lowest_chosen_sets_the_eligible_works() -> None:
    choice = choose_estimate(OPTIONS, 3)
    assert (choice.eligible_works_pence, choice.price_pence, choice.applicant_pays_pence) == (
        4_200_00,
        4_200_00,
        0,
    )
    assert choice.lowest_estimate_id == 3 and choice.not_acceptable == ()
    assert (
        choice.how_decided == "Eligible works £4,200.00: the lowest acceptable estimate, from Castle Lifts."
    )


def test_a_dearer_choice_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as refused:
        choose_estimate(OPTIONS, 1, reason="   ")
    assert str(refused.value) == (
        "estimate 1 (Acme Builders, £5,000.00) is dearer than the lowest acceptable estimate 3 (Castle Lifts, "
        "£4,200.00): give the reason for choosing it (the applicant pays the £800.00 difference)"
    )


def test_a_dearer_choice_with_a_reason_leaves_the_difference_to_the_applicant() -> None:
    choice = choose_estimate(OPTIONS, 1, reason="the applicant's own choice of builder")
    assert (choice.eligible_works_pence, choice.price_pence, choice.applicant_pays_pence) == (
        4_200_00,
        5_000_00,
        800_00,
    )
    assert choice.how_decided == (
        "Eligible works £4,200.00: the lowest acceptable estimate. Acme Builders's dearer estimate of £5,000.00 "
        "was chosen (the applicant's own choice of builder), so the applicant pays the difference of £800.00."
    )
    assert choice.how_decided == explain_selection("Acme Builders", 5_000_00, 4_200_00, 800_00, choice.reason)


def test_unacceptable_estimates_are_left_out_of_the_lowest() -> None:
    choice = choose_estimate(OPTIONS, 2, unacceptable={3: "  no building regulations cover "})
    assert (choice.eligible_works_pence, choice.applicant_pays_pence, choice.lowest_estimate_id) == (
        4_500_00,
        0,
        2,
    )
    assert choice.not_acceptable == ((3, "no building regulations cover"),)


def test_a_contractor_that_cannot_be_selected_is_not_acceptable_either() -> None:
    lapsed = [*OPTIONS[:2], EstimateOption(3, "Castle Lifts", 4_200_00, "Castle Lifts is suspended")]
    choice = choose_estimate(lapsed, 2)
    assert (choice.eligible_works_pence, choice.applicant_pays_pence) == (4_500_00, 0)
    assert choice.not_acceptable == ((3, "Castle Lifts is suspended"),)
    with pytest.raises(InvalidInput, match=r"^estimate 3 cannot be chosen: Castle Lifts is suspended$"):
        choose_estimate(lapsed, 3)


def test_a_tie_with_the_lowest_costs_the_applicant_nothing() -> None:
    tied = [*OPTIONS, EstimateOption(4, "Dale Adaptations", 4_200_00)]
    choice = choose_estimate(tied, 4)
    assert (choice.lowest_estimate_id, choice.applicant_pays_pence) == (4, 0)


@pytest.mark.parametrize(
    ("chosen", "unacceptable", "message"),
    [
        (9, {}, "estimate 9 is not on this case (its estimates: 1, 2, 3)"),
        (1, {9: "too dear"}, "estimate 9 is not on this case (its estimates: 1, 2, 3)"),
        (1, {2: "  "}, "estimate 2: say why it is not acceptable"),
        (3, {3: "no cover"}, "estimate 3 cannot be both chosen and rejected as not acceptable"),
    ],
)
def test_bad_choices_are_one_sentence(chosen: int, unacceptable: dict[int, str], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        choose_estimate(OPTIONS, chosen, unacceptable=unacceptable, reason="preferred")
    assert str(refused.value) == message


def test_no_estimates() -> None:
    with pytest.raises(InvalidInput, match="no estimate is recorded on the case"):
        choose_estimate([], 1)
