"""The NHS number check (written for speed) agrees with the modulus 11 rule as the standard states it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from exchange.identifiers import is_valid_nhs_number, nhs_check_digit


def _textbook_check_digit(first_nine: str) -> int | None:
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return 0 if check == 11 else None if check == 10 else check


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_check_digit_is_the_modulus_11_rule(first_nine: str) -> None:
    assert nhs_check_digit(first_nine) == _textbook_check_digit(first_nine)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_ten_digits_are_valid_exactly_when_the_last_is_the_check_digit(value: str) -> None:
    expected = _textbook_check_digit(value[:9])
    assert is_valid_nhs_number(value) == (expected is not None and expected == int(value[9]))


@given(st.text(min_size=0, max_size=12))
def test_anything_but_ten_ascii_digits_is_invalid(value: str) -> None:
    if not (len(value) == 10 and value.isascii() and value.isdigit()):
        assert not is_valid_nhs_number(value)
