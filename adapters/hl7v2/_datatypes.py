"""HL7 v2 data types read into the standard's shapes: dates (DT/DTM), names (XPN), addresses
(XAD), telecoms (XTN), identifiers (CX). Each returns plain values or dicts; errors name fields.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from adapters._fields import postcode, telephone
from adapters.hl7v2._parser import Segment
from exchange.errors import DataError
from exchange.identifiers import Warn

__all__ = [
    "address",
    "contacts",
    "hl7_date",
    "hl7_datetime",
    "names",
]

_LONDON = ZoneInfo("Europe/London")
_DTM = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?"
    r"(?:([+-])(\d{2})(\d{2}))?"
)
# HL7 table 0200 name type -> the standard's name use
_NAME_USE = {"L": "official", "D": "usual", "M": "maiden", "N": "nickname", "S": "anonymous", "B": "old"}
# HL7 table 0190 address type -> the standard's address use
_ADDRESS_USE = {"H": "home", "B": "work", "O": "work", "C": "temp", "BA": "old", "BI": "billing"}


def hl7_date(raw: str, where: str) -> dict[str, Any] | None:
    """A DT/DTM as the standard's PartialDate: missing month/day are marked unknown (``U``)."""
    if not raw:
        return None
    if len(raw) == 8 and raw.isascii() and raw.isdigit():  # the usual YYYYMMDD, without the regex
        try:
            return {"date": date(int(raw[:4]), int(raw[4:6]), int(raw[6:])), "accuracyIndicator": "AAA"}
        except ValueError:
            raise DataError(f"{where} is not a valid calendar date", stage="map") from None
    match = _DTM.fullmatch(raw)
    if match is None:
        raise DataError(f"{where} is not a valid HL7 date", stage="map")
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        parsed = date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise DataError(f"{where} is not a valid calendar date", stage="map") from None
    accuracy = ("A" if day else "U") + ("A" if month else "U") + "A"
    return {"date": parsed, "accuracyIndicator": accuracy}


def hl7_datetime(raw: str, where: str) -> datetime | None:
    """A DTM as an aware UTC datetime; without an offset it is local time in England."""
    if not raw:
        return None
    try:
        value = _dtm(raw)
    except OverflowError:
        raise DataError(f"{where} is outside the years 1 to 9999 once taken to UTC", stage="map") from None
    if value is None:
        raise DataError(f"{where} is not a valid HL7 date/time", stage="map")
    return value


@lru_cache(maxsize=4096)
def _dtm(raw: str) -> datetime | None:
    """The parse behind :func:`hl7_datetime`, cached: feeds repeat message and event times.

    ``None`` when ``raw`` is no date/time; OverflowError when it falls outside years 1-9999 in UTC.
    """
    match = _DTM.fullmatch(raw)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    try:
        tz: timezone | ZoneInfo = _LONDON
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            tz = timezone(-offset if sign == "-" else offset)
        value = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        return None
    return value.astimezone(UTC)


def names(segment: Segment, n: int) -> list[dict[str, Any]]:
    """Every XPN repetition of ``SEG-n`` that has a family or given name."""
    result: list[dict[str, Any]] = []
    for raw in segment.repetitions(n):
        # XPN-1 is itself FN (surname & own surname prefix & ...): its first subcomponent is the surname.
        parts = segment.texts(raw, 7, first_subcomponent=True)
        family, first, middle, _suffix, _prefix, _degree, kind = parts
        given = [first] if first else []
        if middle:
            given += [g for g in middle.split(" ") if g]
        if not family and not given:
            continue
        name: dict[str, Any] = {"familyName": [family] if family else [], "givenName": given}
        use = _NAME_USE.get(kind.upper())
        if use:
            name["use"] = use
        result.append(name)
    return result


def address(segment: Segment, n: int, warn: Warn) -> list[dict[str, Any]]:
    """Every XAD repetition of ``SEG-n`` that has at least a line or a usable postcode."""
    result: list[dict[str, Any]] = []
    for index, raw in enumerate(segment.repetitions(n), start=1):
        # XAD-1 is SAD (street & street name & dwelling number): the first subcomponent is the line.
        parts = segment.texts(raw, 7, first_subcomponent=True)
        street, other, city, _county, code, country, kind = parts
        code = postcode(code, f"{segment.name}-{n}[{index}].5", warn, country=country)
        if not (street or code):
            continue
        # line1, city and postcode are required by the standard: absent ones stay empty text.
        entry: dict[str, Any] = {"line1": street, "city": city, "postcode": code}
        if other:
            entry["line2"] = other
        use = _ADDRESS_USE.get(kind.upper())
        if use:
            entry["use"] = use
        result.append(entry)
    return result


def contacts(segment: Segment, n: int, label: str, warn: Warn) -> dict[str, Any] | None:
    """The telephone numbers and email addresses of XTN field ``SEG-n`` as one Contact;
    a telephone number that is not one is left out with a warning."""
    phones: list[str] = []
    emails: list[str] = []
    component = segment.encoding.component
    for index, raw in enumerate(segment.repetitions(n), start=1):
        where = f"{segment.name}-{n}[{index}]"
        if component not in raw:  # a bare number: XTN-1 only
            number = telephone(segment.text(raw), where, warn)
            if number:
                phones.append(number)
            continue
        comps = segment.texts(raw, 12)
        equipment = comps[2].upper()
        if equipment in ("INTERNET", "X.400") or comps[1].upper() == "NET":
            if comps[3] or comps[0]:
                emails.append(comps[3] or comps[0])
            continue
        number = telephone(comps[11] or comps[0] or "".join(comps[4:7]), where, warn)
        if number:
            phones.append(number)
    if not phones and not emails:
        return None
    entry: dict[str, Any] = {"name": label}
    if phones:
        entry["telephone"] = phones
    if emails:
        entry["email"] = emails
    return entry
