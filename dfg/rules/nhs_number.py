"""NHS numbers: ten digits, the last a modulus 11 check digit (NHS Data Dictionary)."""

from __future__ import annotations

from dfg.errors import InvalidInput


def parse_nhs_number(text: str, *, field: str = "NHS number") -> str:
    """The ten digits of ``text`` (spaces allowed, as printed: 943 476 5919), or :class:`InvalidInput`."""
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        raise InvalidInput(f"{field}: '{text}' is not ten digits")
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise InvalidInput(f"{field}: '{text}' fails the check digit")
    return digits
