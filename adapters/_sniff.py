"""Saying what a file looks like when it is not what an adapter reads (never quoting it).

A file dropped in the wrong folder is one reject whose reason helps the operator route it:
``looks_like`` names its kind from its first bytes (magic numbers, the first line's shape).
"""

from __future__ import annotations

__all__ = ["looks_like"]

_HEAD = 4096
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel or Word file?)"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"MSH", "HL7 v2 messages"),
    (b"FHS", "an HL7 v2 batch file"),
    (b"BHS", "an HL7 v2 batch file"),
    (b"\x0bMSH", "MLLP-framed HL7 v2 messages"),
)
_DELIMITERS = ((",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "bar"))


def looks_like(data: bytes) -> str:
    """A short description of what ``data`` holds: ``"HL7 v2 messages"``, ``"CSV …"`` …"""
    head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "an empty file"
    kind = next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)
    if kind is None and b"\x00" in head:
        kind = "binary data"
    if kind is None:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a character cut at the end of the sample is no sign of binary data
            text = head[: exc.start].decode("utf-8") if exc.start >= len(head) - 3 else ""
        kind = _text_kind(text) if text else "binary data, or text that is not UTF-8"
    return kind


def _text_kind(text: str) -> str:
    lowered = text[:200].lower()
    starts = (("<!doctype html", "an HTML page"), ("<html", "an HTML page"), ("<", "XML"), ("{", "JSON"))
    kind = next((kind for prefix, kind in starts if lowered.startswith(prefix)), None)
    if kind is None and lowered.startswith("["):
        kind = "JSON"
    first = text.splitlines()[0] if kind is None else ""
    for delimiter, name in _DELIMITERS:
        if kind is None and first.count(delimiter) >= 1:
            kind = f"a {name}-separated table ({first.count(delimiter) + 1} columns)"
    return kind or "plain text"
