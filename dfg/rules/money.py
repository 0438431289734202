"""Money: integer pence inside, pounds (en-GB) at the edges.

Amounts are never floats. Input in pounds is parsed exactly with :class:`decimal.Decimal`; output is
formatted as an officer writes it: ``£12,345.67``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dfg.errors import InvalidInput

Pence = int


#: The most an amount can be: pence are kept in the database's 64-bit integers.
LARGEST_POUNDS = Decimal(2**63 - 1) / 100


def parse_pounds(text: str | int | Decimal, *, field: str = "amount", allow_negative: bool = False) -> Pence:
    """Parse an amount in pounds (``"1,234.50"``, ``"£300"``, ``"12.5"``) into integer pence.

    Raises :class:`InvalidInput` naming ``field`` for anything that is not a plain amount, has more
    than two decimal places, or is negative (unless ``allow_negative``).
    """
    if isinstance(text, bool):  # bool is an int: refuse it explicitly
        raise InvalidInput(f"{field}: expected an amount in pounds, got {text!r}")
    raw = str(text).strip().replace(",", "")
    if raw.startswith("£"):
        raw = raw[1:]
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{field}: {text!r} is not an amount in pounds (e.g. 1234.50)") from None
    if not value.is_finite():
        raise InvalidInput(f"{field}: {text!r} is not an amount in pounds (e.g. 1234.50)")
    if abs(value) > LARGEST_POUNDS:
        raise InvalidInput(f"{field}: {text!r} is more than any amount this system can hold")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput(f"{field}: {text!r} has more than two decimal places")
    if value < 0 and not allow_negative:
        raise InvalidInput(f"{field}: {text!r} must not be negative")
    return int(value * 100)


def pounds(pence: Pence) -> Decimal:
    """Pence as an exact :class:`Decimal` number of pounds."""
    return Decimal(pence) / 100


def format_pounds(pence: Pence, *, whole: bool = False) -> str:
    """Format pence as en-GB pounds: ``£12,345.67`` (``whole=True``: ``£12,346``); negatives as ``-£5.00``."""
    sign = "-" if pence < 0 else ""
    amount = pounds(abs(pence))
    if whole:
        return f"{sign}£{amount.quantize(Decimal('1'), rounding=ROUND_HALF_UP):,}"
    return f"{sign}£{amount:,.2f}"


def round_half_up(value: Decimal) -> Pence:
    """Round an exact amount of pence (a :class:`Decimal`) to whole pence, halves away from zero."""
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
