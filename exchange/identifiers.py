"""Identifier systems and validators shared by every adapter.

An identifier in the standard is a ``system`` (a URI naming the namespace) plus a ``value``
unique within it. Each identifier type has exactly one system URI, listed here and in
``docs/identifiers.md``. National identifiers with a check character (NHS number, UPN) are
validated; an invalid one is left out of the record with a warning (see :func:`checked_nhs_number`)
so the record still flows.

Warning messages name where the identifier was found, never its value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "FORMER_UPN_SYSTEM",
    "MAIS_ID_BASE",
    "NHS_NUMBER_SYSTEM",
    "ODS_ORGANISATION_SYSTEM",
    "UPN_SYSTEM",
    "Identifier",
    "Warn",
    "checked_la_child_id",
    "checked_nhs_number",
    "checked_upn",
    "is_valid_la_code",
    "is_valid_nhs_number",
    "is_valid_upn",
    "la_child_id_system",
    "local_system",
    "nhs_check_digit",
    "normalise_nhs_number",
    "upn_check_letter",
]

Warn = Callable[[str, str], None]
"""``warn(code, message)`` as in :class:`exchange.adapter.AdapterContext`."""

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
"""NHS number (England, Wales, Isle of Man), as used by NHS England FHIR APIs and UK Core."""

ODS_ORGANISATION_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
"""Organisation Data Service code of an organisation (NHS trusts, GP practices, LAs)."""

MAIS_ID_BASE = "https://mais-exchange.org/Id/"
"""Namespace for identifier types that have no national FHIR system URI."""

UPN_SYSTEM = MAIS_ID_BASE + "upn"
"""DfE Unique Pupil Number (permanent or temporary)."""

FORMER_UPN_SYSTEM = MAIS_ID_BASE + "former-upn"
"""A UPN the child held before the current one."""

_LA_CODE = re.compile(r"\d{3}")
_LOCAL_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: I, O and S are never used
_UPN_SHAPE = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
_NHS_SEPARATORS = str.maketrans("", "", " -")
_MAX_LOCAL_ID = 64


class Identifier(NamedTuple):
    """One identifier: the namespace URI and the value unique within it (immutable, hashable)."""

    system: str
    value: str

    def as_record(self) -> dict[str, str]:
        """The standard's ``Identifier`` as a plain mapping (Avro record / JSON object)."""
        return {"system": self.system, "value": self.value}

    def key(self) -> str:
        """The Kafka key form ``system|value``."""
        return f"{self.system}|{self.value}"


def is_valid_la_code(la_code: str) -> bool:
    """True for a three-digit DfE local authority number (e.g. ``"202"``)."""
    return _LA_CODE.fullmatch(la_code) is not None


@lru_cache(maxsize=4096)
def la_child_id_system(la_code: str) -> str:
    """The system of child identifiers issued by one local authority (DfE LA number)."""
    if not is_valid_la_code(la_code):
        raise ValueError("an LA code is three digits (the DfE local authority number)")
    return f"{MAIS_ID_BASE}la-child-id/{la_code}"


@lru_cache(maxsize=4096)
def local_system(organisation: str, kind: str) -> str:
    """The system of one kind of record number (``mrn``, ``episode`` …) issued by one organisation.

    ``organisation`` is the ODS code or DfE LA number of the issuer; ``kind`` a short lowercase
    word. Both are restricted to URI-safe characters.
    """
    for name, part in (("organisation", organisation), ("kind", kind)):
        if _LOCAL_PART.fullmatch(part) is None:
            raise ValueError(f"{name} must be 1-64 letters, digits, '.', '_' or '-'")
    return f"{MAIS_ID_BASE}local/{organisation}/{kind}"


def normalise_nhs_number(raw: str) -> str:
    """Drop the spaces and hyphens people type inside NHS numbers (``943 476 5919``)."""
    return raw.strip().translate(_NHS_SEPARATORS)


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit for nine leading digits, or ``None`` when no valid number starts with them.

    Weights 10 down to 2 apply to the nine digits; the check digit is 11 minus the remainder of
    the weighted sum divided by 11 (11 becomes 0; 10 means no valid number has this prefix).
    """
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("an NHS number check digit needs exactly nine leading digits")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def is_valid_nhs_number(value: str) -> bool:
    """True when ``value`` is ten ASCII digits whose last is the modulus 11 check digit."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return nhs_check_digit(value[:9]) == int(value[9])


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters that follow it in a UPN.

    Each character is weighted by its position in the full UPN (2 to 13); a final letter of a
    temporary UPN counts as its index in the 23-letter alphabet. The weighted sum modulo 23
    indexes the same alphabet (A-Z without I, O, S).
    """
    if len(body) != 12:
        raise ValueError("a UPN has 12 characters after its check letter")
    total = 0
    for position, char in enumerate(body, start=2):
        if char.isascii() and char.isdigit():
            total += int(char) * position
        elif position == 13 and char in _UPN_LETTERS:
            total += _UPN_LETTERS.index(char) * position
        else:
            raise ValueError(f"UPN character {position} is not allowed there")
    return _UPN_LETTERS[total % 23]


def is_valid_upn(value: str) -> bool:
    """True for a permanent (``A`` + 12 digits) or temporary (``A`` + 11 digits + letter) UPN
    whose first letter is the correct check letter. Lower case is not accepted; normalise first.
    """
    if _UPN_SHAPE.fullmatch(value) is None or value[12] in "IOS":
        return False
    return upn_check_letter(value[1:]) == value[0]


def checked_nhs_number(raw: str | None, *, where: str, warn: Warn) -> Identifier | None:
    """The NHS number identifier for ``raw``, or ``None`` (with a warning) when it is invalid.

    Empty input is simply absent (no warning). ``where`` names the field, e.g. ``"PID-3[2]"``.
    """
    if raw is None or not raw.strip():
        return None
    value = normalise_nhs_number(raw)
    if not is_valid_nhs_number(value):
        warn("invalid-nhs-number", f"{where}: NHS number fails the modulus 11 check; left out")
        return None
    return Identifier(NHS_NUMBER_SYSTEM, value)


def checked_upn(raw: str | None, *, where: str, warn: Warn, former: bool = False) -> Identifier | None:
    """The (former) UPN identifier for ``raw``, or ``None`` (with a warning) when it is invalid."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip().upper()
    if not is_valid_upn(value):
        code = "invalid-former-upn" if former else "invalid-upn"
        warn(code, f"{where}: UPN has a wrong shape or check letter; left out")
        return None
    return Identifier(FORMER_UPN_SYSTEM if former else UPN_SYSTEM, value)


def checked_la_child_id(raw: str | None, *, la_code: str, where: str, warn: Warn) -> Identifier | None:
    """The LA child identifier for ``raw`` in LA ``la_code``'s namespace, or ``None`` with a warning.

    Any non-empty value of at most 64 printable characters is accepted: LAs choose their own formats.
    """
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if len(value) > _MAX_LOCAL_ID or not value.isprintable():
        warn("invalid-la-child-id", f"{where}: LA child id is too long or has control characters; left out")
        return None
    return Identifier(la_child_id_system(la_code), value)
