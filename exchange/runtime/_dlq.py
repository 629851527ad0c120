"""Dead-letter records: the original bytes and headers of a reject, plus why and where it failed.

A DLQ message on ``mais.<agency>.dlq.v1`` keeps the rejected input's key, value and headers
unchanged and adds ``mais_dlq_*`` headers (see ``docs/runtime.md``). Nothing in them is taken
from the record's content: the error message is ours or an adapter's, and those never carry
personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["DLQ_PREFIX", "DlqEntry", "Reject", "dlq_headers"]

DLQ_PREFIX = "mais_dlq_"
_MAX_MESSAGE = 500


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

    @property
    def coordinate(self) -> str:
        return f"{self.partition}:{self.offset}"

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
        )


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
) -> list[tuple[str, bytes]]:
    """The headers of the DLQ message for ``reject``: the original ones, then ours.

    ``sender`` is the authenticated sender's name and how it authenticated (``certificate`` or
    ``token``), for units pushed through an authenticated listener.
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
    return kept + [(DLQ_PREFIX + name, value.encode()) for name, value in ours.items()]
