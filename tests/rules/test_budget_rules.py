"""Budget arithmetic: financial years, a budget's position from its ledger, and how payments draw down."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dfg.errors import InvalidInput
from dfg.rules.budget import (
    MANDATORY,
    BudgetPosition,
    financial_year_label,
    financial_year_of,
    ordered_lines,
    parse_financial_year,
    shortfall_pence,
    split_payment,
)

# --------------------------------------------------------------------------------------------------
# Financial years


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2027, 3, 31), 2026),
        (date(2027, 4, 1), 2027),
        (date(2026, 4, 1), 2026),
        (date(2026, 3, 31), 2025),
        (date(2026, 12, 31), 2026),
        (date(2027, 1, 1), 2026),
    ],
)
def test_financial_year_turns_on_1_april(day: date, year: int) -> None:
    assert financial_year_of(day) == year


def test_financial_year_label() -> None:
    assert financial_year_label(2026) == "2026-27"
    assert financial_year_label(1999) == "1999-00"
    assert financial_year_label(2009) == "2009-10"


@pytest.mark.parametrize(("text", "year"), [("2026", 2026), ("2026/27", 2026), ("2026-27", 2026), (" 2026/27 ", 2026),
                                            ("1999/00", 1999), (2026, 2026)])  # fmt: skip
def test_parse_financial_year(text: str | int, year: int) -> None:
    assert parse_financial_year(text) == year


@pytest.mark.parametrize(
    "text",
    ["2026/28", "2026-2027", "26/27", "2026/7", "FY2026", "", "2026/27/28", "0026", "2206/07", "2026 27"],
)
def test_parse_financial_year_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidInput, match="financial year"):
        parse_financial_year(text)


@given(st.dates(min_value=date(1990, 4, 1), max_value=date(2100, 3, 31)))
def test_a_day_is_in_the_year_its_label_names(day: date) -> None:
    year = financial_year_of(day)
    assert date(year, 4, 1) <= day <= date(year + 1, 3, 31)
    assert parse_financial_year(financial_year_label(year)) == year


# --------------------------------------------------------------------------------------------------
# Positions


def test_position_from_ledger_totals() -> None:
    position = BudgetPosition.from_ledger(
        {"allocation": 100_000_00, "commitment": 30_000_00, "adjustment": -2_000_00, "payment": 10_000_00,
         "release": -5_000_00},
        pipeline_pence=20_000_00,
    )  # fmt: skip
    assert position.allocation_pence == 100_000_00
    assert position.committed_pence == 30_000_00 - 2_000_00 - 10_000_00 - 5_000_00
    assert position.spent_pence == 10_000_00
    assert position.remaining_pence == 100_000_00 - 13_000_00 - 10_000_00
    assert position.forecast_outturn_pence == 10_000_00 + 13_000_00 + 20_000_00
    assert position.forecast_remaining_pence == 100_000_00 - 43_000_00
    assert (
        position.committed_pence + position.spent_pence + position.remaining_pence
        == position.allocation_pence
    )
    assert position.as_dict()["remaining_pence"] == 77_000_00


def test_positions_add_up_and_unknown_kinds_are_refused() -> None:
    total = BudgetPosition(10, 2, 3, 4) + BudgetPosition(1, 1, 1, 1)
    assert total == BudgetPosition(11, 3, 4, 5)
    with pytest.raises(ValueError, match="unknown budget entry kind"):
        BudgetPosition().after("refund", 5)


def test_shortfall() -> None:
    budget = BudgetPosition(allocation_pence=1_000_00)
    assert shortfall_pence(budget.after("commitment", 600_00), 600_00) == 0
    assert shortfall_pence(budget.after("commitment", 1_000_00), 1_000_00) == 0
    assert shortfall_pence(budget.after("commitment", 1_500_00), 1_500_00) == 500_00
    overdrawn = BudgetPosition(allocation_pence=1_000_00, committed_pence=1_200_00)
    assert shortfall_pence(overdrawn.after("commitment", 300_00), 300_00) == 300_00  # the whole of it
    assert shortfall_pence(overdrawn.after("adjustment", -100_00), -100_00) == 0  # a reduction is never short


# --------------------------------------------------------------------------------------------------
# Splitting a payment


def test_a_payment_draws_down_mandatory_first_then_alphabetically() -> None:
    outstanding = {"top_up": 3_000_00, MANDATORY: 5_000_00, "fast_track": 1_000_00}
    assert ordered_lines(outstanding) == [MANDATORY, "fast_track", "top_up"]
    assert split_payment(outstanding, 4_000_00) == {MANDATORY: 4_000_00}
    assert split_payment(outstanding, 5_500_00) == {MANDATORY: 5_000_00, "fast_track": 500_00}
    assert split_payment(outstanding, 9_000_00) == {
        MANDATORY: 5_000_00,
        "fast_track": 1_000_00,
        "top_up": 3_000_00,
    }
    assert split_payment({"top_up": 200_00, MANDATORY: 0}, 150_00) == {"top_up": 150_00}


@pytest.mark.parametrize(("amount", "message"), [(9_000_01, "more than the £9,000.00 committed"),
                                                 (0, "more than nil"), (-5, "more than nil")])  # fmt: skip
def test_a_payment_is_positive_and_within_what_is_outstanding(amount: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        split_payment({MANDATORY: 5_000_00, "top_up": 4_000_00}, amount)


@given(
    outstanding=st.dictionaries(st.sampled_from([MANDATORY, "top_up", "fast_track", "relocation"]),
                                st.integers(0, 10_000_000), max_size=4),
    share=st.floats(0, 1),
)  # fmt: skip
def test_split_payment_properties(outstanding: dict[str, int], share: float) -> None:
    total = sum(outstanding.values())
    amount = int(total * share)
    if amount <= 0:
        return
    parts = split_payment(outstanding, amount)
    assert sum(parts.values()) == amount
    assert all(0 < parts[line] <= outstanding[line] for line in parts)
    # a line is touched only once every line before it is used up
    order = ordered_lines(outstanding)
    touched = [line for line in order if line in parts]
    for line in order[: order.index(touched[-1])]:
        assert parts.get(line, 0) == outstanding[line]


# --------------------------------------------------------------------------------------------------
# The ledger as a whole


LINES = (MANDATORY, "top_up")


@dataclass
class Model:
    """Budgets for two lines and one case's money on them, moved only through the rules' arithmetic."""

    budgets: dict[str, BudgetPosition]
    owed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LINES, 0))
    committed_ever: int = 0
    paid: int = 0
    entries: list[tuple[str, str, int]] = field(default_factory=list)

    def post(self, line: str, kind: str, amount: int) -> None:
        self.budgets[line] = self.budgets[line].after(kind, amount)
        self.entries.append((line, kind, amount))
        if kind == "payment":
            self.owed[line] -= amount
            self.paid += amount
        elif kind != "allocation":
            self.owed[line] += amount
            if kind in ("commitment", "adjustment"):
                self.committed_ever += amount

    def commit(self, line: str, kind: str, amount: int, override: bool) -> bool:
        """A commitment or adjustment as the service makes it; whether it was an override."""
        if kind == "adjustment" and amount < 0 and -amount > self.owed[line]:
            return False  # a reduction beyond what is outstanding is refused
        short = shortfall_pence(self.budgets[line].after(kind, amount), amount)
        if short and not override:
            return False  # refused: nothing recorded
        self.post(line, kind, amount)
        return bool(short)

    def draw_down(self, amount: int) -> None:
        try:
            parts = split_payment(self.owed, amount)
        except InvalidInput:
            return
        for line, part in parts.items():
            self.post(line, "payment", part)

    def release(self) -> None:
        for line, owed in list(self.owed.items()):
            if owed > 0:
                self.post(line, "release", -owed)


_steps = st.one_of(
    st.tuples(st.just("commitment"), st.sampled_from(LINES), st.integers(0, 2_000_000), st.booleans()),
    st.tuples(
        st.just("adjustment"), st.sampled_from(LINES), st.integers(-2_000_000, 2_000_000), st.booleans()
    ),
    st.tuples(st.just("draw_down"), st.just(""), st.integers(1, 3_000_000), st.just(False)),
    st.tuples(st.just("release"), st.just(""), st.just(0), st.just(False)),
)


@settings(max_examples=300, deadline=None)
@given(
    allocations=st.tuples(st.integers(0, 3_000_000), st.integers(0, 3_000_000)),
    steps=st.lists(_steps, max_size=25),
)
def test_money_never_goes_where_it_was_not_committed(
    allocations: tuple[int, int], steps: list[tuple[str, str, int, bool]]
) -> None:
    model = Model(dict.fromkeys(LINES, BudgetPosition()))
    for line, allocation in zip(LINES, allocations, strict=True):
        model.post(line, "allocation", allocation)
    for kind, line, amount, override in steps:
        before = dict(model.budgets)
        overridden = False
        if kind in ("commitment", "adjustment"):
            overridden = model.commit(line, kind, amount, override)
        elif kind == "draw_down":
            model.draw_down(amount)
        else:
            model.release()
        assert model.paid <= model.committed_ever
        assert all(owed >= 0 for owed in model.owed.values())
        for code, position in model.budgets.items():
            assert position.committed_pence + position.spent_pence + position.remaining_pence == (
                position.allocation_pence
            )
            if not overridden:  # only a recorded override takes a budget below nil, or further below
                assert position.remaining_pence >= min(0, before[code].remaining_pence)
    # the ledger sums to the running totals
    for code in LINES:
        totals: dict[str, int] = {}
        for line, kind, amount in model.entries:
            if line == code:
                totals[kind] = totals.get(kind, 0) + amount
        assert BudgetPosition.from_ledger(totals) == model.budgets[code]
