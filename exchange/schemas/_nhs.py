"""NHS numbers: ten digits whose last digit is a modulus-11 check digit."""

from __future__ import annotations

__all__ = ["NHS_NUMBER_SYSTEM", "is_valid_nhs_number", "nhs_check_digit"]

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit for nine leading digits, or ``None`` when no valid number starts with them."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("an NHS number check digit needs exactly nine leading digits")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: str) -> bool:
    """Whether ``value`` is ten ASCII digits with a correct modulus-11 check digit."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return nhs_check_digit(value[:9]) == int(value[9])
