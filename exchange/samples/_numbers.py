"""Fictional identifiers for the synthetic population: NHS numbers in the 999 test range, UPNs of
a local authority number no authority has, LA child ids, and phone numbers from Ofcom's drama ranges.
"""

from __future__ import annotations

import random
from datetime import date

from exchange.identifiers import is_valid_nhs_number, upn_check_letter

__all__ = ["LA_CODE", "Numbers"]

LA_CODE = "999"
"""The fictional local authority every child lives in (a DfE LA number no authority has)."""

# Ofcom keeps these 1,000-number blocks for drama: they are never given to anyone.
_DRAMA_PREFIXES = ("07700 900", "020 7946 0", "0113 496 0", "0161 496 0", "0117 496 0", "0121 496 0")
_DRAMA_NUMBERS = 1000 * len(_DRAMA_PREFIXES)


class Numbers:
    """Fictional identifiers, each issued once."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.phones: set[str] = set()

    def _unique(self, kind: str) -> str:
        while True:
            value = self._draw(kind)
            if value not in self.used:
                self.used.add(value)
                return value

    def _draw(self, kind: str) -> str:
        rng = self.rng
        if kind == "nhs":
            while True:
                value = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
                for check in "0123456789":
                    if is_valid_nhs_number(value + check):
                        return value + check
        if kind == "child":
            return str(rng.randrange(100000, 1000000))
        return rng.choice(_DRAMA_PREFIXES) + f"{rng.randrange(1000):03d}"

    def nhs_number(self) -> str:
        """An NHS number in the 999 test range with a valid check digit."""
        return self._unique("nhs")

    def la_child_id(self) -> str:
        """A six-digit LA child id."""
        return self._unique("child")

    def phone(self) -> str:
        """A number from Ofcom's drama ranges (never anyone's): unique while the ranges last."""
        if len(self.phones) >= _DRAMA_NUMBERS:
            return self._draw("phone")
        while True:
            value = self._draw("phone")
            if value not in self.phones:
                self.phones.add(value)
                return value

    def upn(self, establishment: str, allocated: date) -> str:
        """A UPN issued by LA ``LA_CODE`` school ``establishment`` in the year of ``allocated``."""
        while True:
            body = f"{LA_CODE}{establishment}{allocated.year % 100:02d}{self.rng.randrange(1000):03d}"
            value = upn_check_letter(body) + body
            if value not in self.used:
                self.used.add(value)
                return value
