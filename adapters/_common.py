"""Small helpers shared by file-based adapters: dates in England, codes, record coordinates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from exchange.errors import DataError

__all__ = ["ENGLAND", "local_midnight", "parse_date"]

ENGLAND = ZoneInfo("Europe/London")


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
