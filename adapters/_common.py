"""Small helpers shared by file-based adapters: dates in England, codes, record coordinates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from exchange.errors import DataError

__all__ = [
    "DFE_ETHNICITY",
    "DFE_ETHNICITY_UNMAPPED",
    "ENGLAND",
    "NHS_ETHNICITY",
    "dfe_ethnicity",
    "local_midnight",
    "now",
    "parse_date",
]

ENGLAND = ZoneInfo("Europe/London")

# DfE ethnicity codes (CIN census, SSDA903, school census; 2001 census based) -> ONS 2021 ethnic
# group 20b. WROM (Gypsy/Roma) spans two ONS categories and REFU/NOBT say nothing: left out.
DFE_ETHNICITY = {
    "WBRI": "13",
    "WIRI": "14",
    "WIRT": "15",
    "WOTH": "17",
    "MWBC": "11",
    "MWBA": "10",
    "MWAS": "9",
    "MOTH": "12",
    "AIND": "3",
    "APKN": "4",
    "ABAN": "1",
    "AOTH": "5",
    "BCRB": "7",
    "BAFR": "6",
    "BOTH": "8",
    "CHNE": "2",
    "OOTH": "19",
}
DFE_ETHNICITY_UNMAPPED = frozenset({"WROM", "REFU", "NOBT"})
"""DfE ethnicity codes with no single ONS 2021 category: known, so left out without a warning."""


# NHS ethnic category (2001 census; PAS PID-22, UK Core EthnicCategoryEngland) -> ONS 2021 20b.
# Z (not stated) and unknown codes are left out.
NHS_ETHNICITY = {
    "A": "13", "B": "14", "C": "17", "D": "11", "E": "10", "F": "9", "G": "12", "H": "3",
    "J": "4", "K": "1", "L": "5", "M": "7", "N": "6", "P": "8", "R": "2", "S": "19",
}  # fmt: skip


def dfe_ethnicity(raw: str, where: str, warn: Callable[[str, str], None]) -> str | None:
    """The ONS 2021 ethnicity of a DfE code; a code outside the DfE list is left out with a warning."""
    code = raw.strip().upper()
    if not code or code in DFE_ETHNICITY_UNMAPPED:
        return None
    found = DFE_ETHNICITY.get(code)
    if found is None:
        warn("unknown-ethnicity-code", f"{where} is not a DfE ethnicity code; left out")
    return found


def now() -> datetime:
    """The time a record is taken as recorded when its source gives none (tests freeze it)."""
    return datetime.now(UTC)


def parse_date(raw: str | None, field: str, *, formats: tuple[str, ...] = ("%Y-%m-%d",)) -> date | None:
    """A calendar date in one of ``formats``; empty is ``None``; anything else a ``map`` error."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise DataError(f"{field} is not a valid date", stage="map")


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in England, as an aware UTC datetime (dates in returns are local)."""
    return datetime(day.year, day.month, day.day, tzinfo=ENGLAND).astimezone(UTC)
