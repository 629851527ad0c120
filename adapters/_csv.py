"""Reading CSV exports row by row, so that one bad row rejects that row only.

Exports are UTF-8 (with or without a byte order mark) or, failing that, Windows-1252 (what
spreadsheet software writes). A byte that is not Windows-1252 either is read as the Latin-1
control character it would be, so the row holding it is rejected by :func:`cell` and the rest
of the file flows. A row the CSV reader cannot read (an unterminated quote, a field over the
reader's size limit) is reported with its line number and raw text, and reading goes on.
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


def read_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str] | None, str]]:
    """Each row as ``(line number, cells, raw text)``; cells are ``None`` when it cannot be read."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    while True:
        consumed.clear()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield reader.line_num, None, "".join(consumed)
            continue
        yield reader.line_num, row, "".join(consumed)


def cell(value: str, column: str) -> str:
    """A cell's text, stripped; control characters make it a ``parse`` error naming the column."""
    return check_text(value.strip(), column)
