"""Dead-letter records: the original bytes and headers of a reject, plus why and where it failed.

A DLQ message on ``mais.<agency>.dlq.v1`` keeps the rejected input's key, value and headers
unchanged and adds ``mais_dlq_*`` headers (see ``docs/runtime.md``). Nothing in them is taken
from the record's content: the error message is ours or an adapter's, and those never carry
personal data.

A reject whose bytes would make a message larger than the producer (or the topic) accepts is
written as a *stub*: the same headers plus the content's size and SHA-256, where it was kept (a
file moved to ``done/``, the Kafka coordinates of the input) and, only if the operator allows
it, the content itself in chunks that each fit (:func:`dlq_messages`). A stub always fits, so
an oversize reject can never block the stream.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

__all__ = ["DLQ_PREFIX", "DlqEntry", "DlqMessage", "Reject", "assemble_chunks", "dlq_headers", "dlq_messages"]

DLQ_PREFIX = "mais_dlq_"
_MAX_MESSAGE = 500
_FRAMING = 4096
"""Bytes kept free in every DLQ message for Kafka's record framing beyond key, value and headers."""
_MAX_KEY = 4096
"""A stub drops an input key longer than this (its SHA-256 is in the headers)."""

OversizeContent = Literal["omit", "chunks"]
DlqMessage = tuple[bytes | None, bytes, list[tuple[str, bytes]]]
"""``(key, value, headers)`` of one message to produce to the DLQ."""


@dataclass(frozen=True, slots=True)
class Reject:
    """One record (or whole source unit) the runtime could not turn into events.

    ``unit`` is true when the bytes are a whole source unit that could not even be split into
    records (a replay splits it again); otherwise they are one record as split by the adapter.
    """

    stage: str
    error_class: str
    message: str
    data: bytes
    origin: str
    unit: bool = False
    size: int | None = None
    """Set when the content was never read into ``data`` (refused up front): its size in bytes."""
    sha256: str | None = None
    """With ``size``: the content's SHA-256 (hex), if it was read (an HTTP body refused from its
    headers never is)."""
    kept: str | None = None
    """Where the content can still be found (a file path), if the source keeps it."""

    @property
    def content_size(self) -> int:
        return self.size if self.size is not None else len(self.data)

    def content_sha256(self) -> str | None:
        if self.size is not None:
            return self.sha256
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class DlqEntry:
    """A DLQ message as read back: where it is, why it was rejected, and the original bytes."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    stage: str
    error_class: str
    message: str
    adapter: str
    source: str
    origin: str
    time: str
    unit: bool
    replays: int
    original_headers: tuple[tuple[str, bytes], ...]
    kafka_coordinates: tuple[str, int, int] | None = None
    sender: str | None = None
    sender_auth: str | None = None
    content: str = "full"
    """``full`` (the value is the original bytes), ``omitted`` (a stub: only size and SHA-256),
    ``chunks`` (reassembled from chunk messages) or ``chunk`` (one piece, before reassembly)."""
    size: int = 0
    sha256: str = ""
    kept: str = ""
    chunk: tuple[int, int] | None = None

    @property
    def coordinate(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def has_content(self) -> bool:
        return self.content in ("full", "chunks")

    @classmethod
    def from_message(
        cls,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]] | None,
    ) -> DlqEntry:
        ours: dict[str, str] = {}
        original: list[tuple[str, bytes]] = []
        for name, raw in headers or ():
            if name.startswith(DLQ_PREFIX):
                ours[name[len(DLQ_PREFIX) :]] = (raw or b"").decode("utf-8", "replace")
            else:
                original.append((name, raw or b""))
        return cls(
            partition=partition,
            offset=offset,
            key=key,
            value=value or b"",
            stage=ours.get("stage", "?"),
            error_class=ours.get("error_class", "?"),
            message=ours.get("message", ""),
            adapter=ours.get("adapter", "?"),
            source=ours.get("source", "?"),
            origin=ours.get("origin", "?"),
            time=ours.get("time", ""),
            unit=ours.get("unit") == "unit",
            replays=int(ours.get("replays", "0") or 0),
            original_headers=tuple(original),
            kafka_coordinates=_coordinates(ours),
            sender=ours.get("sender"),
            sender_auth=ours.get("sender_auth"),
            content=ours.get("content", "full"),
            size=_int(ours.get("size"), len(value or b"")),
            sha256=ours.get("sha256", ""),
            kept=ours.get("kept", ""),
            chunk=_chunk(ours.get("chunk")),
        )


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _chunk(text: str | None) -> tuple[int, int] | None:
    index, _, count = (text or "").partition("/")
    if not (index.isdigit() and count.isdigit()):
        return None
    return int(index), int(count)


def assemble_chunks(entries: Sequence[DlqEntry]) -> list[DlqEntry]:
    """Entries in order, with each complete set of chunks replaced by one entry holding the content.

    The chunks of one reject are written in one transaction, so a committed set is complete; an
    incomplete set (never expected) stays a stub without content.
    """
    groups: dict[tuple[str, str, str], list[DlqEntry]] = {}
    for entry in entries:
        if entry.content == "chunk" and entry.chunk is not None:
            groups.setdefault((entry.sha256, entry.origin, entry.time), []).append(entry)
    out: list[DlqEntry] = []
    for entry in entries:
        if entry.content != "chunk" or entry.chunk is None:
            out.append(entry)
            continue
        group = groups[(entry.sha256, entry.origin, entry.time)]
        if entry is not group[0]:
            continue
        pieces = sorted(group, key=lambda e: e.chunk or (0, 0))
        value = b"".join(p.value for p in pieces)
        complete = [p.chunk for p in pieces] == [(i, len(pieces)) for i in range(1, len(pieces) + 1)]
        if complete and hashlib.sha256(value).hexdigest() == entry.sha256:
            out.append(dataclasses.replace(entry, value=value, content="chunks", chunk=None))
        else:
            out.append(dataclasses.replace(entry, value=b"", content="omitted", chunk=None))
    return out


def _coordinates(ours: dict[str, str]) -> tuple[str, int, int] | None:
    try:
        return ours["topic"], int(ours["partition"]), int(ours["offset"])
    except (KeyError, ValueError):
        return None


def dlq_headers(
    reject: Reject,
    *,
    adapter: str,
    agency: str,
    source: str,
    original_headers: Sequence[tuple[str, bytes | None]] | None,
    kafka_coordinates: tuple[str, int, int] | None = None,
    replays: int = 0,
    now: datetime | None = None,
    sender: tuple[str, str] | None = None,
    content: dict[str, str] | None = None,
) -> list[tuple[str, bytes]]:
    """The headers of the DLQ message for ``reject``: the original ones, then ours.

    ``sender`` is the authenticated sender's name and how it authenticated (``certificate`` or
    ``token``), for units pushed through an authenticated listener. ``content`` adds the stub
    headers (``content``, ``size``, ``sha256``, ``kept``, ``chunk``).
    """
    kept = [(n, v or b"") for n, v in original_headers or () if not n.startswith(DLQ_PREFIX)]
    ours = {
        "stage": reject.stage,
        "error_class": reject.error_class,
        "message": reject.message[:_MAX_MESSAGE],
        "adapter": adapter,
        "agency": agency,
        "source": source,
        "origin": reject.origin,
        "time": (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "unit": "unit" if reject.unit else "record",
        "replays": str(replays),
    }
    if kafka_coordinates is not None:
        topic, partition, offset = kafka_coordinates
        ours.update(topic=topic, partition=str(partition), offset=str(offset))
    if sender is not None:
        ours.update(sender=sender[0], sender_auth=sender[1])
    ours.update(content or {})
    return kept + [(DLQ_PREFIX + name, value.encode()) for name, value in ours.items()]


def dlq_messages(
    reject: Reject,
    key: bytes | None,
    headers: list[tuple[str, bytes]],
    stub_headers: Callable[[dict[str, str]], list[tuple[str, bytes]]],
    *,
    max_bytes: int,
    oversize: OversizeContent = "omit",
    force_stub: bool = False,
) -> list[DlqMessage]:
    """The DLQ message(s) for ``reject``: itself if it fits in ``max_bytes``, else a stub (or chunks).

    ``headers`` are the full DLQ headers; ``stub_headers(content)`` builds them again with the
    stub's ``content`` headers (and without the input's own headers if those are what is too
    large). ``force_stub`` writes a stub even if the reject seems to fit (the topic refused it).
    """
    if reject.size is None and not force_stub and _size(key, reject.data, headers) <= max_bytes:
        return [(key, reject.data, headers)]
    content = {"content": "omitted", "size": str(reject.content_size)}
    sha256 = reject.content_sha256()
    if sha256 is not None:
        content["sha256"] = sha256
    if reject.kept:
        content["kept"] = reject.kept
    stub_key = key if key is None or len(key) <= _MAX_KEY else None
    stub = stub_headers(content)
    if _size(stub_key, b"", stub) > max_bytes // 2:  # the input's own headers are what is too large
        stub = [(n, v) for n, v in stub if n.startswith(DLQ_PREFIX)]
    room = max_bytes - _size(stub_key, b"", stub) - 64
    if oversize == "omit" or force_stub or reject.size is not None or room < 1024:
        return [(stub_key, b"", stub)]
    pieces = [reject.data[i : i + room] for i in range(0, len(reject.data), room)]
    messages: list[DlqMessage] = []
    for index, piece in enumerate(pieces, 1):
        chunk_headers = [(n, b"chunk" if n == DLQ_PREFIX + "content" else v) for n, v in stub] + [
            (DLQ_PREFIX + "chunk", f"{index}/{len(pieces)}".encode())
        ]
        messages.append((stub_key, piece, chunk_headers))
    return messages


def _size(key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]) -> int:
    return len(key or b"") + len(value) + sum(len(n) + len(v) + 8 for n, v in headers) + _FRAMING
