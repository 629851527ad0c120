"""SSDA903 CSV tables: recognise a table by its header row, cut it into one record per row.

Each record is self-contained: the header line and the row, as CSV, so the runtime can send it
to the DLQ as it is and ``translate`` can read it without the rest of the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from adapters._csv import cell, decode, read_rows
from adapters._sniff import looks_like
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


def recognise(header: list[str]) -> str:
    """The table whose identifying columns the header row holds (the most specific wins)."""
    columns = {h.strip().upper() for h in header}
    matches = [name for name, needed in TABLES.items() if needed <= columns]
    if not matches:
        raise DataError("header row matches no SSDA903 table", stage="parse")
    return max(matches, key=lambda name: len(TABLES[name]))


def split_table(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """One record (header line + row) per data row of a table this adapter maps.

    A row the CSV reader cannot read is still a record of its own (it is rejected alone).
    """
    rows = read_rows(decode(data))
    first = next(rows, None)
    if first is None or first[1] is None or not any(h.strip() for h in first[1]):
        raise DataError(f"file has no header row: it looks like {looks_like(data)}", stage="parse")
    header = first[1]
    try:
        table = recognise(header)
    except DataError as exc:
        raise DataError(f"{exc.message}: it looks like {looks_like(data)}", stage="parse") from None
    if table not in MAPPED:
        return
    head = _line(header)
    for line, row, raw in rows:
        if row is None:
            yield SourceRecord((head + raw).encode("utf-8"), f"{origin}:{line}")
        elif any(cell.strip() for cell in row):
            yield SourceRecord((head + _line(row)).encode("utf-8"), f"{origin}:{line}")


def read_row(data: bytes) -> tuple[str, dict[str, str]]:
    """The table name and the row (column -> stripped text) of one record."""
    rows = list(read_rows(decode(data)))
    if len(rows) != 2 or rows[0][1] is None:
        raise DataError("record must be a header line and one row", stage="parse")
    header, row = rows[0][1], rows[1][1]
    if row is None:
        raise DataError("row is not valid CSV (an unterminated quote or an oversized field)", stage="parse")
    if len(row) != len(header):
        raise DataError(f"row has {len(row)} fields, header has {len(header)}", stage="parse")
    table = recognise(header)
    columns = [h.strip().upper() for h in header]
    return table, {column: cell(value, column) for column, value in zip(columns, row, strict=True)}


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()
