"""Checks that catch plausible-looking mistakes before they are recorded: a postcode that is not one, a
date of birth before anyone living was born, an e-mail address or phone number that cannot be one. Each
returns the problem in words, or None."""

from __future__ import annotations

import re
from datetime import date

from dfg.rules.rates import add_years

#: The oldest age accepted for a date of birth: older is taken for a typing mistake (1800 for 1950).
OLDEST_AGE = 120

# The UK postcode format (outward code, a space, inward code), as the Royal Mail's PAF defines it, and the
# one non-geographic exception. Checked for form only: whether it exists is the address gazetteer's job.
_POSTCODE = re.compile(
    r"^(GIR 0AA|[A-PR-UWYZ]([0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?) [0-9][ABD-HJLNP-UW-Z]{2})$"
)


def postcode(text: str) -> str:
    """A postcode as it is written: capitals, one space before the last three characters."""
    compact = "".join(text.split()).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def postcode_problem(text: str) -> str | None:
    written = postcode(text)
    if _POSTCODE.match(written):
        return None
    return f"'{text.strip()}' is not a UK postcode (for example WS11 1AA)"


def date_of_birth_problem(born: date, today: date) -> str | None:
    if born > today:
        return f"date of birth {born:%d/%m/%Y} is in the future"
    if born < add_years(today, -OLDEST_AGE):
        return f"date of birth {born:%d/%m/%Y} would make them over {OLDEST_AGE}: check the year"
    return None


# One @, something before it, and a domain with a dot: the form of an address, not whether it exists.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# A UK number (0 then 9 or 10 digits) or an international one (+ then 7 to 15 digits), spaced and
# bracketed as people write them.
_PHONE = re.compile(r"(0[0-9]{9,10}|\+[1-9][0-9]{6,14})")


def email_problem(text: str) -> str | None:
    if _EMAIL.fullmatch(text.strip()):
        return None
    return f"'{text.strip()}' is not an e-mail address (for example name@example.com)"


def phone_problem(text: str) -> str | None:
    digits = re.sub(r"[\s()-]", "", text)
    if _PHONE.fullmatch(digits.replace("+440", "0")):  # +44 (0)1543: the 0 written in brackets
        return None
    return f"'{text.strip()}' is not a phone number (for example 01543 462621 or +44 1543 462621)"
