"""The rule every adapter follows for fields a record can do without: use them, or leave them out.

A field that does not identify the record (a date of birth, a telephone number, a postcode, a
gender code …) and cannot be used is left out of the event, and the adapter warns through
:attr:`exchange.adapter.AdapterContext.warn` with a stable code from :data:`WARNINGS` and a
message naming the source field (never its value). The record still flows. Only a record that
cannot be trusted (it does not parse, nothing identifies it, or a time it cannot do without is
unusable) raises :class:`~exchange.errors.DataError`. ``docs/adapters.md`` lists, per adapter,
which fields are which.

Text with control characters is not trusted at all (:func:`check_text`): it is a sign of a
corrupted or binary record, not of a mistyped field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from exchange.errors import DataError
from exchange.identifiers import Warn

__all__ = [
    "WARNINGS",
    "check_text",
    "has_control_characters",
    "optional",
    "postcode",
    "telephone",
    "to_utc",
]

T = TypeVar("T")

WARNINGS = {
    # a field of a person left out
    "invalid-date-of-birth": "a date of birth that is not a calendar date: left out",
    "invalid-date-of-death": "a date of death that is not a calendar date: left out (still deceased)",
    "invalid-telephone": "a telephone number that is not one: left out",
    "invalid-postcode": "a UK postcode of the wrong shape: left out (the rest of the address kept)",
    "unknown-gender-code": "a gender code outside the source's vocabulary: left out",
    "unknown-sex-code": "a sex code outside the source's vocabulary: left out",
    "unknown-ethnicity-code": "an ethnicity code outside the source's vocabulary: left out",
    "unknown-relationship": "a FHIR relationship code the standard does not know: left out",
    "invalid-element": "a FHIR element that does not validate and that the record can do without",
    # identifiers (exchange.identifiers and the adapters): left out, the record keeps the others
    "invalid-nhs-number": "an NHS number failing its modulus 11 check",
    "invalid-upn": "a UPN of the wrong shape or check letter",
    "invalid-former-upn": "a former UPN of the wrong shape or check letter",
    "invalid-la-child-id": "an LA child id too long or with control characters",
    "invalid-local-id": "a local record number too long or unprintable",
    "unusable-assigning-authority": "an assigning authority that is not a code: the own organisation used",
    "unusable-reference": "a FHIR reference that is not Type/id",
    # episodes and events
    "missing-visit-number": "an HL7 admission without a visit number: the person flows, no episode",
    "episode-start-unknown": "an EpisodeOfCare without a period: dated from when it was recorded",
    "episode-end-unknown": "a cancelled EpisodeOfCare without a period: closed when it was recorded",
    "episode-type-unknown": "an EpisodeOfCare without a type: typed data-absent-reason#unknown",
    "occurrence-left-out": "an episode or event beside a person that cannot be identified or dated",
    "unknown-occurrence-code": "a tabular episode or event code outside the mapping's table",
    "missing-code": "an empty RNE, LS or PLACE of an SSDA903 episode: that observation left out",
}
"""Every warning code the adapters use, with what it means: the catalogue ``docs/adapters.md``
documents and ``mais_adapter_warnings`` counts by."""

# C0 controls except tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PHONE = re.compile(r"\+?[0-9 ().\-/]+")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extn\.?)\s*[0-9]{1,6}$", re.IGNORECASE)
_PHONE_DIGITS = (6, 15)  # a local number without its area code .. the E.164 maximum
_POSTCODE = re.compile(
    r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2}|GIR\s?0AA|BFPO\s?[0-9]{1,4})", re.IGNORECASE
)
_UK = frozenset(
    {"", "GB", "GBR", "UK", "826", "UNITED KINGDOM", "ENGLAND", "WALES", "SCOTLAND", "NORTHERN IRELAND"}
)


def optional(code: str, warn: Warn, read: Callable[[], T | None]) -> T | None:
    """What ``read`` returns, or ``None`` with warning ``code`` when it raises DataError.

    The DataError's message names the field; the warning repeats it and says the field is left out.
    """
    try:
        return read()
    except DataError as exc:
        warn(code, f"{exc.message}; left out")
        return None


def telephone(raw: str, where: str, warn: Warn) -> str | None:
    """``raw`` when it is a telephone number (6 to 15 digits, with the usual punctuation, a
    leading ``+`` and an optional extension); ``None`` (with a warning) when it is not one."""
    text = raw.strip()
    if not text:
        return None
    low, high = _PHONE_DIGITS
    compact = text.replace(" ", "")
    if compact.isascii() and compact.isdigit() and low <= len(compact) <= high:  # the usual case
        return text
    number = _EXTENSION.sub("", text)
    digits = sum(c.isdigit() for c in number)
    if _PHONE.fullmatch(number) is None or not low <= digits <= high:
        warn("invalid-telephone", f"{where} is not a telephone number; left out")
        return None
    return text


def postcode(raw: str, where: str, warn: Warn, *, country: str = "") -> str:
    """``raw`` when it is a UK postcode (or the address is abroad), else ``""`` with a warning."""
    text = raw.strip()
    if not text or country.strip().upper() not in _UK:
        return text
    if _POSTCODE.fullmatch(text) is None:
        warn("invalid-postcode", f"{where} is not a UK postcode; left out")
        return ""
    return text


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a control character other than tab, line feed or carriage return."""
    return _CONTROL.search(text) is not None


def check_text(text: str, where: str) -> str:
    """``text``, or a ``parse`` DataError naming ``where`` when it holds control characters."""
    if _CONTROL.search(text) is not None:
        raise DataError(f"{where} holds control characters", stage="parse")
    return text


def to_utc(moment: datetime, where: str) -> datetime:
    """An aware ``moment`` in UTC; a moment that falls outside years 1-9999 in UTC is a DataError."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise DataError(f"{where} is outside the years 1 to 9999 once taken to UTC", stage="map") from None
