"""SSDA903 CSV tables: recognise a table by its header row, cut it into one record per row.

Each record is self-contained: the header line and the row, as CSV, so the runtime can send it
to the DLQ as it is and ``translate`` can read it without the rest of the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from exchange.adapter import SourceRecord
from exchange.errors import DataError

__all__ = ["MAPPED", "TABLES", "read_row", "recognise", "split_table"]

# Columns that identify each table of the return (as published for 2024; extra columns are fine).
TABLES: dict[str, frozenset[str]] = {
    "Header": frozenset({"CHILD", "SEX", "DOB", "ETHNIC", "UPN"}),
    "Episodes": frozenset({"CHILD", "DECOM", "RNE", "LS", "PLACE"}),
    "Missing": frozenset({"CHILD", "MISSING", "MIS_START"}),
    "UASC": frozenset({"CHILD", "SEX", "DUC"}),
    "AD1": frozenset({"CHILD", "DATE_INT", "DATE_MATCH", "FOSTER_CARE"}),
    "PlacedAdoption": frozenset({"CHILD", "DATE_PLACED", "REASON_PLACED_CEASED"}),
    "PrevPerm": frozenset({"CHILD", "PREV_PERM", "LA_PERM"}),
    "OC2": frozenset({"CHILD", "SDQ_SCORE", "HEALTH_CHECK"}),
    "OC3": frozenset({"CHILD", "IN_TOUCH", "ACTIV", "ACCOM"}),
    "Reviews": frozenset({"CHILD", "REVIEW", "REVIEW_CODE"}),
    "SocialWorker": frozenset({"CHILD", "SW_ID", "SW_DECOM"}),
}
MAPPED = frozenset({"Header", "Episodes", "Missing"})
"""Tables this adapter turns into events; rows of the others are recognised and skipped."""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def recognise(header: list[str]) -> str:
    """The table whose identifying columns the header row holds (the most specific wins)."""
    columns = {h.strip().upper() for h in header}
    matches = [name for name, needed in TABLES.items() if needed <= columns]
    if not matches:
        raise DataError("header row matches no SSDA903 table", stage="parse")
    return max(matches, key=lambda name: len(TABLES[name]))


def split_table(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """One record (header line + row) per data row of a table this adapter maps."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise DataError("file is empty or has no header row", stage="parse")
        table = recognise(header)
        if table not in MAPPED:
            return
        head = _line(header)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield SourceRecord((head + _line(row)).encode("utf-8"), f"{origin}:{reader.line_num}")
    except csv.Error:
        raise DataError(f"CSV is malformed at line {reader.line_num}", stage="parse") from None


def read_row(data: bytes) -> tuple[str, dict[str, str]]:
    """The table name and the row (column -> stripped text) of one record."""
    try:
        rows = list(csv.reader(io.StringIO(_decode(data), newline="")))
    except csv.Error:
        raise DataError("record is not valid CSV", stage="parse") from None
    if len(rows) != 2:
        raise DataError("record must be a header line and one row", stage="parse")
    header, row = rows
    if len(row) != len(header):
        raise DataError(f"row has {len(row)} fields, header has {len(header)}", stage="parse")
    table = recognise(header)
    return table, {h.strip().upper(): cell.strip() for h, cell in zip(header, row, strict=True)}


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()
