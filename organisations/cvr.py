"""Danish CVR numbers: the company register's eight digits, the last a modulus-11 check digit."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_CVR_PATTERN = re.compile(r"^[0-9]{8}$")
_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def normalize_cvr(value: str) -> str:
    """Return the CVR number as 8 digits, or raise ValidationError with a message for the person typing it.

    Spaces are allowed (``12 34 56 78``), and so is the prefix ``DK`` of a VAT number.
    """
    text = "".join((value or "").split()) if isinstance(value, str) else ""
    if text[:2].upper() == "DK":
        text = text[2:]
    if not _CVR_PATTERN.fullmatch(text):
        raise ValidationError(_("Enter a CVR number as 8 digits, for example 12345674."), code="cvr_format")
    if text[0] == "0" or sum(int(digit) * weight for digit, weight in zip(text, _WEIGHTS, strict=True)) % 11:
        raise ValidationError(
            _("This is not a valid CVR number: its check digit does not match. Check the number."),
            code="cvr_check_digit",
        )
    return text


def validate_cvr(value: str) -> None:
    normalize_cvr(value)


def format_cvr(cvr: str) -> str:
    """Show a stored CVR number the way it is printed: ``12 34 56 78``."""
    return " ".join(cvr[i : i + 2] for i in range(0, 8, 2)) if cvr and len(cvr) == 8 else cvr or ""
