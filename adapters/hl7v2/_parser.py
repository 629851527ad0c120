"""A small, fast HL7 v2 parser: only what mapping needs, tolerant of what real feeds send.

* The field separator and encoding characters are read from MSH-1 and MSH-2, never assumed.
* Segments may end in ``\\r``, ``\\n`` or ``\\r\\n`` (or a mix); blank lines are ignored.
* Components, repetitions and subcomponents are split lazily, when a field is read.
* Escape sequences (``\\F\\``, ``\\S\\``, ``\\T\\``, ``\\R\\``, ``\\E\\``, ``\\P\\``, ``\\Xhh\\``,
  ``\\.br\\``) are decoded on read; formatting and character-set escapes are dropped; an
  unterminated escape is kept as text.
* ``""`` (the HL7 explicit null) reads as empty.
* Text is decoded as UTF-8 when MSH-18 says so or when it is valid UTF-8, else as Latin-1.

Errors are :class:`~exchange.errors.DataError` with stage ``parse``; messages name positions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exchange.errors import DataError

__all__ = ["Encoding", "Message", "Segment", "parse_message"]

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_MAX_SEGMENTS = 10_000
_UTF8_CHARSETS = frozenset({"UNICODE UTF-8", "UTF-8", "UNICODE"})
_LATIN_CHARSETS = frozenset({"8859/1", "8859/15", "ASCII"})


@dataclass(frozen=True, slots=True)
class Encoding:
    """The delimiters a message declares in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""


class Segment:
    """One segment; ``field(n)`` is ``SEG-n`` (for MSH, ``MSH-1`` is the field separator)."""

    __slots__ = ("encoding", "fields", "name", "position")

    def __init__(self, name: str, fields: list[str], encoding: Encoding, position: int) -> None:
        self.name = name
        self.fields = fields
        self.encoding = encoding
        self.position = position

    def field(self, n: int) -> str:
        """The raw text of field ``n`` (escapes not decoded), ``""`` when absent."""
        fields = self.fields
        return fields[n] if n < len(fields) else ""

    def repetitions(self, n: int) -> list[str]:
        """The raw repetitions of field ``n``; empty repetitions are dropped."""
        raw = self.field(n)
        if not raw:
            return []
        if n == 2 and self.name == "MSH":
            return [raw]
        return [rep for rep in raw.split(self.encoding.repetition) if rep and rep != '""']

    def components(self, raw: str) -> list[str]:
        """Split one raw repetition into its raw components."""
        return raw.split(self.encoding.component)

    def text(self, raw: str) -> str:
        """Decode escapes in one raw component (or subcomponent); HL7 null reads as empty."""
        if raw == '""':
            return ""
        if self.encoding.escape and self.encoding.escape in raw:
            return unescape(raw, self.encoding)
        return raw

    def value(self, n: int, component: int = 1, repetition: int = 0, subcomponent: int = 0) -> str:  # noqa: PLR0911
        """Decoded text at ``SEG-n.component`` of the given repetition; ``""`` when absent.

        ``subcomponent`` 0 means the whole component; 1.. picks one subcomponent.
        """
        fields = self.fields
        if n >= len(fields):
            return ""
        raw = fields[n]
        if not raw:
            return ""
        enc = self.encoding
        if repetition or enc.repetition in raw:
            reps = raw.split(enc.repetition)
            if repetition >= len(reps):
                return ""
            raw = reps[repetition]
        if enc.component in raw:
            comps = raw.split(enc.component)
            if component > len(comps):
                return ""
            part = comps[component - 1]
        elif component == 1:
            part = raw
        else:
            return ""
        if subcomponent:
            subs = part.split(enc.subcomponent)
            if subcomponent > len(subs):
                return ""
            part = subs[subcomponent - 1]
        if part == '""':
            return ""
        if enc.escape and enc.escape in part:
            part = unescape(part, enc)
        return part.strip()


class Message:
    """A parsed message: its segments in order, and the encoding it declared."""

    __slots__ = ("encoding", "msh", "segments")

    def __init__(self, segments: list[Segment], encoding: Encoding) -> None:
        self.segments = segments
        self.encoding = encoding
        self.msh = segments[0]

    def first(self, name: str) -> Segment | None:
        """The first segment called ``name``, or ``None``."""
        for segment in self.segments:
            if segment.name == name:
                return segment
        return None

    def all(self, name: str) -> list[Segment]:
        """Every segment called ``name``, in order."""
        return [segment for segment in self.segments if segment.name == name]


def parse_message(data: bytes) -> Message:
    """Parse the bytes of one HL7 v2 message (MLLP framing already removed)."""
    if not data.strip():
        raise DataError("message is empty (a frame cut off or too large leaves nothing)", stage="parse")
    text = _decode(data)
    start = text.find("MSH")
    if start < 0 or text[:start].strip("\ufeff\x0b\x1c \t\r\n"):
        raise DataError("message does not start with an MSH segment", stage="parse")
    text = text[start:]
    if len(text) < 8:
        raise DataError("MSH segment is too short to declare its encoding characters", stage="parse")
    encoding = _encoding(text)
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    segments: list[Segment] = []
    sep = encoding.field
    for line in lines:
        if not line.strip():
            continue
        if len(segments) >= _MAX_SEGMENTS:
            raise DataError(f"message has more than {_MAX_SEGMENTS} segments", stage="parse")
        position = len(segments) + 1
        name = line[:3]
        if _SEGMENT_ID.fullmatch(name) is None or (len(line) > 3 and line[3] != sep):
            raise DataError(f"segment {position} does not start with a segment id", stage="parse")
        fields = ["MSH", sep, *line[4:].split(sep)] if position == 1 else line.split(sep)
        segments.append(Segment(name, fields, encoding, position))
    if segments[0].name != "MSH":  # pragma: no cover - guaranteed by the find above
        raise DataError("message does not start with an MSH segment", stage="parse")
    return Message(segments, encoding)


def _decode(data: bytes) -> str:
    head = data[:512]
    charset = ""
    if b"MSH" in head:
        # MSH-18 declares the character set; read it from the raw first line.
        first = data.split(b"\r", 1)[0].split(b"\n", 1)[0]
        if len(first) > 3:
            parts = first.split(first[3:4])
            if len(parts) > 17:
                charset = parts[17].decode("ascii", "replace").strip().upper()
    if charset in _UTF8_CHARSETS:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = f"byte {exc.start}"
            raise DataError(f"MSH-18 declares UTF-8 but {where} is not UTF-8", stage="parse") from None
    if charset in _LATIN_CHARSETS:
        return data.decode("latin-1")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _encoding(text: str) -> Encoding:
    sep = text[3]
    if sep.isalnum() or sep in "\r\n \t":
        raise DataError("MSH-1 is not a usable field separator", stage="parse")
    end = text.find(sep, 4)
    newline = min((i for i in (text.find("\r", 4), text.find("\n", 4)) if i >= 0), default=-1)
    if end < 0 or (0 <= newline < end):
        raise DataError("MSH-2 (encoding characters) is not terminated by the field separator", stage="parse")
    chars = text[4:end]
    if not 1 <= len(chars) <= 5:
        raise DataError("MSH-2 must hold 1 to 5 encoding characters", stage="parse")
    if len(set(chars + sep)) != len(chars) + 1 or any(c.isalnum() or c in " \t" for c in chars):
        raise DataError("MSH-2 encoding characters must be distinct non-alphanumeric symbols", stage="parse")
    # Delimiters a message does not declare cannot occur in it: "\x00" stands in for them.
    padded = chars + "\x00" * 4
    component, repetition, escape, subcomponent = padded[0], padded[1], padded[2], padded[3]
    return Encoding(
        field=sep,
        component=component,
        repetition=repetition,
        escape=escape if escape != "\x00" else "",
        subcomponent=subcomponent,
        truncation=chars[4] if len(chars) == 5 else "",
    )


def unescape(raw: str, encoding: Encoding) -> str:
    """Decode HL7 escape sequences; unknown formatting escapes are dropped, unterminated ones kept."""
    esc = encoding.escape
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        j = raw.find(esc, i)
        if j < 0:
            out.append(raw[i:])
            break
        out.append(raw[i:j])
        k = raw.find(esc, j + 1)
        if k < 0:
            out.append(raw[j:])
            break
        out.append(_escape_value(raw[j + 1 : k], encoding, raw[j : k + 1]))
        i = k + 1
    return "".join(out)


def _escape_value(code: str, encoding: Encoding, literal: str) -> str:
    simple = {
        "F": encoding.field,
        "S": encoding.component,
        "T": encoding.subcomponent,
        "R": encoding.repetition,
        "E": encoding.escape,
        "P": encoding.truncation,
        ".br": "\n",
    }
    result = literal
    if code in simple:
        result = simple[code]
    elif code.startswith("X") and len(code) > 1:
        try:
            result = bytes.fromhex(code[1:]).decode("latin-1")
        except ValueError:
            result = literal
    elif code.startswith(".sp"):
        result = "\n"
    elif code and code[0] in "HNCMZ.":
        result = ""
    return result
