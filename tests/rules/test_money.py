"""Money helpers: exact pounds in, integer pence inside, en-GB pounds out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfg.errors import InvalidInput
from dfg.rules.money import format_pounds, parse_pounds, pounds, round_half_up


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("300.00", 30000),
        ("£1,234.50", 123450),
        ("12.5", 1250),
        ("0", 0),
        (" 47.95 ", 4795),
        (15050, 1505000),
        (Decimal("61.30"), 6130),
    ],
)
def test_parse_pounds(text: str | int | Decimal, pence: int) -> None:
    assert parse_pounds(text) == pence


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5.00", "weekly_income[0].amount: '-5.00' must not be negative"),
        ("1.234", "weekly_income[0].amount: '1.234' has more than two decimal places"),
        ("abc", "weekly_income[0].amount: 'abc' is not an amount in pounds (e.g. 1234.50)"),
        ("NaN", "weekly_income[0].amount: 'NaN' is not an amount in pounds (e.g. 1234.50)"),
        (True, "weekly_income[0].amount: expected an amount in pounds, got True"),
    ],
)
def test_parse_pounds_refuses_with_the_field_named(text: str | bool, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_pounds(text, field="weekly_income[0].amount")
    assert caught.value.message == message


def test_parse_pounds_allows_negative_when_asked() -> None:
    assert parse_pounds("-5.00", allow_negative=True) == -500


@pytest.mark.parametrize(
    ("pence", "whole", "text"),
    [
        (1019945, False, "£10,199.45"),
        (1019945, True, "£10,199"),
        (1019950, True, "£10,200"),  # half a pound rounds up
        (0, False, "£0.00"),
        (-500, False, "-£5.00"),
        (123456789, False, "£1,234,567.89"),
    ],
)
def test_format_pounds(pence: int, whole: bool, text: str) -> None:
    assert format_pounds(pence, whole=whole) == text


@pytest.mark.parametrize(
    ("value", "pence"),
    [("92863.1666", 92863), ("92843.5", 92844), ("38.733", 39), ("0.5", 1), ("-0.5", -1), ("2.4999", 2)],
)
def test_round_half_up(value: str, pence: int) -> None:
    assert round_half_up(Decimal(value)) == pence


def test_pounds_is_exact() -> None:
    assert pounds(1019945) == Decimal("10199.45")


@given(st.integers(min_value=0, max_value=10**12))
def test_format_then_parse_round_trips(pence: int) -> None:
    assert parse_pounds(format_pounds(pence)) == pence
