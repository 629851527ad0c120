"""Reading CSV exports row by row, so that one bad row rejects that row only.

Exports are UTF-8 (with or without a byte order mark) or, failing that, Windows-1252 (what
spreadsheet software writes). A byte that is not Windows-1252 either is read as the Latin-1
control character it would be, so the row holding it is rejected by :func:`cell` and the rest
of the file flows. A row the CSV reader cannot read (a field over the reader's size limit) is
reported with its line number and raw text, and reading goes on. A quote that is never closed
would make the rest of the file one cell: its line alone is reported, and reading resumes on
the next line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from adapters._fields import check_text

__all__ = ["cell", "decode", "read_rows"]


def decode(data: bytes) -> str:
    """The text of an export: UTF-8, else Windows-1252, else Latin-1 (see the module docstring)."""
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_rows(
    text: str, delimiter: str = ",", *, first_line: int = 1
) -> Iterator[tuple[int, list[str] | None, str]]:
    """Each row as ``(line number, cells, raw text)``; cells are ``None`` when it cannot be read."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    read = 0
    while True:
        consumed.clear()
        start = first_line + reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            read += sum(map(len, consumed))
            yield start, None, "".join(consumed)
            continue
        raw = "".join(consumed)
        read += len(raw)
        if len(consumed) > 1 and read == len(text) and _ends_inside_quotes(raw, delimiter):
            # a quote opened on this line ran to the end of the file: this line is the bad row
            yield start, None, consumed[0]
            yield from read_rows(raw[len(consumed[0]) :], delimiter, first_line=start + 1)
            return
        yield start, row, raw


def _ends_inside_quotes(raw: str, delimiter: str) -> bool:
    """True when the text of one row ends inside a quoted cell.

    The reader is asked again with one more line after the row: when that line comes back as a
    row of its own, the row was closed; when it was swallowed into the row, a quote was still
    open. (A strict reader cannot tell: it stops earlier, at a stray character after a quote.)
    """
    try:
        rows = list(csv.reader(io.StringIO(raw + _PROBE, newline=""), delimiter=delimiter))
    except csv.Error:  # the probe line pushed a cell over the size limit: it was swallowed
        return True
    return len(rows) == 1


_PROBE = "\n\ue000\n"  # a private-use character no export holds, on a line of its own


def cell(value: str, column: str) -> str:
    """A cell's text, stripped; control characters make it a ``parse`` error naming the column."""
    return check_text(value.strip(), column)
