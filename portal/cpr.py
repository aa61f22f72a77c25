"""Danish CPR numbers (personnummer): DDMMYY-SSSS.

The 7th digit together with the two-digit year decides the century of the birth date. Since
2007 not every CPR number satisfies the old modulus-11 check, so it is not applied.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# ASCII digits only: Python's \d also matches full-width and other scripts' digits, which would
# slip past the pattern and then break everything that compares or stores the number.
_CPR_PATTERN = re.compile(r"^([0-9]{6})-?([0-9]{4})$")


def birth_century(year: int, seventh_digit: int) -> int:
    """Return the century (1800, 1900 or 2000) that the CPR rules give a two-digit year."""
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year <= 36 else 1900
    # 5, 6, 7, 8
    return 2000 if year <= 57 else 1800


def birth_date(cpr: str) -> datetime.date:
    """Birth date encoded in a normalised 10-digit CPR number; ValueError if it is not a real date."""
    day, month, year = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6])
    century = birth_century(year, int(cpr[6]))
    return datetime.date(century + year, month, day)


def normalize_cpr(value: str) -> str:
    """Return the CPR as 10 digits, or raise ValidationError with a message for the person typing it."""
    text = (value or "").strip().replace(" ", "") if isinstance(value, str) else ""
    match = _CPR_PATTERN.fullmatch(text)
    if not match:
        raise ValidationError(
            _("Enter a CPR number as 10 digits, for example 010245-1234 or 0102451234."),
            code="cpr_format",
        )
    cpr = match.group(1) + match.group(2)
    try:
        birth_date(cpr)
    except ValueError:
        raise ValidationError(
            _("The CPR number does not start with a real date of birth (DDMMYY)."), code="cpr_date"
        ) from None
    return cpr


def validate_cpr(value: str) -> None:
    normalize_cpr(value)


def format_cpr(cpr: str) -> str:
    """Show a stored CPR the way people write it: DDMMYY-SSSS."""
    return f"{cpr[:6]}-{cpr[6:]}" if cpr and len(cpr) == 10 else cpr or ""
