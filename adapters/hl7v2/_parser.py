"""A small, fast HL7 v2 parser: only what mapping needs, tolerant of what real feeds send.

* The field separator and encoding characters are read from MSH-1 and MSH-2, never assumed.
* Segments may end in ``\\r``, ``\\n`` or ``\\r\\n`` (or a mix); blank lines are ignored.
* Components, repetitions and subcomponents are split lazily, when a field is read.
* Escape sequences (``\\F\\``, ``\\S\\``, ``\\T\\``, ``\\R\\``, ``\\E\\``, ``\\P\\``, ``\\Xhh..\\``,
  ``\\.br\\``) are decoded on read; formatting and character-set escapes are dropped; an
  unterminated escape is kept as text. ``\\Xhh..\\`` holds bytes in the message's character set.
* ``""`` (the HL7 explicit null) reads as empty.
* Character set (MSH-18): ``UNICODE UTF-8`` (or ``UTF-8``, ``UNICODE``) is strict UTF-8;
  ``8859/15`` is ISO 8859-15; ``8859/1`` and ``ASCII`` are read as Windows-1252, as web
  browsers read those labels. Without MSH-18 the text is UTF-8 when it is valid UTF-8, else
  Windows-1252; the ``\\X..\\`` bytes of a pure-ASCII message follow the same rule on their own.
* A byte the character set cannot decode, an ``\\X..\\`` escape that is not text in it, and a
  control character (other than tab, or the line ends that end segments) are parse errors that
  name the field (``PID-5``).

Errors are :class:`~exchange.errors.DataError` with stage ``parse``; messages name positions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from adapters._fields import has_control_characters
from exchange.errors import DataError

__all__ = ["Encoding", "Message", "Segment", "parse_message"]

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_MAX_SEGMENTS = 10_000
_SEEN_IDS: set[str] = set()
_UTF8_CHARSETS = frozenset({"UNICODE UTF-8", "UTF-8", "UNICODE"})
# MSH-18 value -> Python codec (8859/1 and ASCII as Windows-1252: what senders of them really mean)
_SINGLE_BYTE_CHARSETS = {"8859/1": "cp1252", "ASCII": "cp1252", "8859/15": "iso8859_15"}
_AUTO = "auto"
"""Charset of a pure-ASCII message without MSH-18: its ``\\X..\\`` bytes are UTF-8 if valid, else
Windows-1252."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\r\n"  # ASCII bytes that are no control character


@dataclass(frozen=True, slots=True)
class Encoding:
    """The delimiters a message declares in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""
    charset: str = "utf-8"
    """The Python codec of the message's text, which ``\\X..\\`` escapes are decoded with."""


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
        reps = raw.split(self.encoding.repetition)
        if "" in reps or '""' in reps:
            return [rep for rep in reps if rep and rep != '""']
        return reps

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

    def texts(self, raw: str, count: int, *, first_subcomponent: bool = False) -> list[str]:
        """Components 1..``count`` of one raw repetition, each decoded and stripped ("" when absent).

        With ``first_subcomponent`` the first component is cut to its first subcomponent before
        decoding (an FN surname, an SAD street line). Same result as ``text(c).strip()`` on each.
        """
        enc = self.encoding
        comps = raw.split(enc.component, count)
        if len(comps) > count:
            del comps[count:]
        if first_subcomponent:
            comps[0] = comps[0].split(enc.subcomponent, 1)[0]
        if '"' in raw or (enc.escape and enc.escape in raw):
            comps = [self.text(c).strip() for c in comps]
        else:
            comps = list(map(str.strip, comps))
        if len(comps) < count:
            comps += [""] * (count - len(comps))
        return comps

    def values(self, n: int, count: int) -> list[str]:
        """``[value(n, 1), ..., value(n, count)]``, reading the field once."""
        fields = self.fields
        raw = fields[n] if n < len(fields) else ""
        if not raw:
            return [""] * count
        repetition = self.encoding.repetition
        if repetition in raw:
            raw = raw.split(repetition, 1)[0]
        return self.texts(raw, count)

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
    text, charset = _decode(data)
    start = text.find("MSH")
    if start < 0 or text[:start].strip("\ufeff\x0b\x1c \t\r\n"):
        raise DataError("message does not start with an MSH segment", stage="parse")
    text = text[start:].rstrip("\x1c\r\n")
    if len(text) < 8:
        raise DataError("MSH segment is too short to declare its encoding characters", stage="parse")
    encoding = _encoding(text, charset)
    if "\n" in text:
        text = text.replace("\r\n", "\r").replace("\n", "\r")
    # fast path: ASCII bytes with nothing but printable characters, tabs and line ends
    control = None if data.isascii() and not data.translate(None, _PRINTABLE) else _CONTROL.search(text)
    if control is not None:
        where = _field_at(text, control.start(), encoding.field)
        raise DataError(f"{where} holds a control character", stage="parse")
    lines = text.split("\r")
    segments: list[Segment] = []
    sep = encoding.field
    hex_escape = encoding.escape + "X" if encoding.escape else ""
    for line in lines:
        if not line or line.isspace():
            continue
        if len(segments) >= _MAX_SEGMENTS:
            raise DataError(f"message has more than {_MAX_SEGMENTS} segments", stage="parse")
        position = len(segments) + 1
        name = line[:3]
        if (name not in _SEEN_IDS and not _is_segment_id(name)) or (len(line) > 3 and line[3] != sep):
            raise DataError(f"segment {position} does not start with a segment id", stage="parse")
        fields = ["MSH", sep, *line[4:].split(sep)] if position == 1 else line.split(sep)
        if hex_escape and hex_escape in line:
            _check_hex_escapes(name, fields, encoding)
        segments.append(Segment(name, fields, encoding, position))
    if segments[0].name != "MSH":  # pragma: no cover - guaranteed by the find above
        raise DataError("message does not start with an MSH segment", stage="parse")
    return Message(segments, encoding)


def _field_at(text: str, index: int, sep: str) -> str:
    """``SEG-n`` of the character at ``index`` of a message's text (segments end in CR or LF);
    ``segment N`` when that line does not start with a segment id."""
    begin = max(text.rfind("\r", 0, index), text.rfind("\n", 0, index)) + 1
    line = text[begin:index]
    if _SEGMENT_ID.fullmatch(text[begin : begin + 3]) is None:
        lines = text.count("\r", 0, begin) + text.count("\n", 0, begin)
        return f"segment {lines + 1}"
    name = text[begin : begin + 3]
    return f"{name}-{line.count(sep) + (1 if name == 'MSH' else 0)}"


def _check_hex_escapes(name: str, fields: list[str], encoding: Encoding) -> None:
    """Every ``\\X..\\`` escape of a segment decodes to text in the message's character set."""
    mark = encoding.escape + "X"
    for number, raw in enumerate(fields):
        if mark in raw:
            try:
                decoded = unescape(raw, encoding, strict=True)
            except ValueError:
                charset = "UTF-8 or Windows-1252" if encoding.charset == _AUTO else encoding.charset
                raise DataError(
                    f"{name}-{number} holds an \\X..\\ escape that is not {charset} text", stage="parse"
                ) from None
            if has_control_characters(decoded):
                raise DataError(f"{name}-{number} holds a control character (escaped)", stage="parse")


def _is_segment_id(name: str) -> bool:
    """True for a well-formed segment id; valid ids are remembered (at most 26 x 36 x 36)."""
    if _SEGMENT_ID.fullmatch(name) is None:
        return False
    _SEEN_IDS.add(name)
    return True


def _decode(data: bytes) -> tuple[str, str]:
    """The message's text and the codec it was read with (see the module docstring)."""
    charset = ""
    if data.find(b"MSH", 0, 512) >= 0:
        # MSH-18 declares the character set; read it from the raw first line.
        ends = [i for i in (data.find(b"\r"), data.find(b"\n")) if i >= 0]
        first = data[: min(ends)] if ends else data
        if len(first) > 3:
            parts = first.split(first[3:4], 18)
            if len(parts) > 17:
                charset = parts[17].decode("ascii", "replace").strip().upper()
    if charset in _UTF8_CHARSETS:
        return _strict(data, "utf-8", "MSH-18 declares UTF-8 but {} is not UTF-8"), "utf-8"
    if charset in _SINGLE_BYTE_CHARSETS:
        codec = _SINGLE_BYTE_CHARSETS[charset]
        return _strict(data, codec, f"MSH-18 declares {charset} but {{}} is not {charset} text"), codec
    if data.isascii():
        return data.decode("ascii"), _AUTO
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return _strict(data, "cp1252", "{} is neither UTF-8 nor Windows-1252 text"), "cp1252"


def _strict(data: bytes, codec: str, problem: str) -> str:
    """``data`` decoded with ``codec``; else a DataError: ``problem`` with the field put in."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        where = _field_at(
            data[: exc.start].decode("latin-1"), exc.start, chr(data[3]) if len(data) > 3 else "|"
        )
        raise DataError(f"{problem.format(where)} (byte {exc.start})", stage="parse") from None


def _encoding(text: str, charset: str) -> Encoding:
    sep = text[3]
    if sep.isalnum() or sep in "\r\n \t":
        raise DataError("MSH-1 is not a usable field separator", stage="parse")
    end = text.find(sep, 4)
    if end < 0 or "\r" in text[4:end] or "\n" in text[4:end]:
        raise DataError("MSH-2 (encoding characters) is not terminated by the field separator", stage="parse")
    return _declared(sep, text[4:end], charset)


@lru_cache(maxsize=64)
def _declared(sep: str, chars: str, charset: str) -> Encoding:
    """The encoding MSH-1 ``sep`` and MSH-2 ``chars`` declare (feeds repeat theirs: cached)."""
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
        charset=charset,
    )


def unescape(raw: str, encoding: Encoding, *, strict: bool = False) -> str:
    """Decode HL7 escape sequences; unknown formatting escapes are dropped, unterminated ones kept.

    With ``strict``, an ``\\X..\\`` escape that is not text in the message's character set
    raises ValueError (the parser checks this once per message); otherwise it is kept as written.
    """
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
        out.append(_escape_value(raw[j + 1 : k], encoding, raw[j : k + 1], strict))
        i = k + 1
    return "".join(out)


def _escape_value(code: str, encoding: Encoding, literal: str, strict: bool) -> str:
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
            result = _hex_text(bytes.fromhex(code[1:]), encoding.charset)
        except ValueError:
            if strict:
                raise
            result = literal
    elif code.startswith(".sp"):
        result = "\n"
    elif code and code[0] in "HNCMZ.":
        result = ""
    return result


def _hex_text(data: bytes, charset: str) -> str:
    """The text of an ``\\X..\\`` escape's bytes (UnicodeDecodeError is a ValueError)."""
    if charset != _AUTO:
        return data.decode(charset)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")
