"""Messages on an agency's ops topic ``mais.<agency>.ops.v1``: what the operator may see and ask.

The operator's monitor may not read records, so everything it shows about an agency's feeds
comes from the agency's own processes as small JSON messages that carry no content:

* :class:`FeedStatus` — an adapter instance's counters (records in, events out, rejects by
  stage, last event time), sent every few seconds;
* :class:`RejectNotice` — one DLQ entry's coordinates and reason (stage, error class, message,
  origin, time), never its bytes or key;
* :class:`ReplayRequest` — the monitor asks the adapter to send chosen DLQ entries through it
  again after a fix;
* :class:`ReplayResult` — what that replay did.

Each message is a JSON object with a ``kind``; its key says what it is about
(``reject|<partition>:<offset>``, ``feed|<adapter>|<instance>``, ``replay|<request id>``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

__all__ = ["FeedStatus", "OpsMessage", "RejectNotice", "ReplayRequest", "ReplayResult", "decode", "encode"]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    kind: ClassVar[str] = "feed"
    adapter: str
    instance: str
    source: str
    records_in: int
    events_out: int
    rejected: dict[str, int]
    last_event_time: float | None
    sent_at: float
    interval_s: float

    def key(self) -> str:
        return f"feed|{self.adapter}|{self.instance}"


@dataclass(frozen=True, slots=True)
class RejectNotice:
    kind: ClassVar[str] = "reject"
    coordinate: str
    adapter: str
    stage: str
    error_class: str
    message: str
    origin: str
    time: str
    replays: int
    unit: bool

    def key(self) -> str:
        return f"reject|{self.coordinate}"


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    kind: ClassVar[str] = "replay-request"
    request_id: str
    adapter: str
    entries: tuple[str, ...]
    requested_at: float
    requested_by: str = "monitor"

    def key(self) -> str:
        return f"replay|{self.request_id}"


@dataclass(frozen=True, slots=True)
class ReplayResult:
    kind: ClassVar[str] = "replay-result"
    request_id: str
    adapter: str
    entries: tuple[str, ...]
    replayed: int
    events: int
    failed_again: int
    skipped: int
    missing: tuple[str, ...] = ()
    finished_at: float = 0.0
    error: str = ""
    results: dict[str, str] = field(default_factory=dict)  # entry -> delivered|failed-again|skipped

    def key(self) -> str:
        return f"replay|{self.request_id}"


OpsMessage = FeedStatus | RejectNotice | ReplayRequest | ReplayResult
_KINDS: dict[str, type[Any]] = {
    cls.kind: cls for cls in (FeedStatus, RejectNotice, ReplayRequest, ReplayResult)
}


def encode(message: OpsMessage) -> tuple[bytes, bytes]:
    """(key, value) of ``message`` on the ops topic."""
    body = {"kind": message.kind, **asdict(message)}
    return message.key().encode(), json.dumps(body, separators=(",", ":")).encode()


def decode(value: bytes | None) -> OpsMessage | None:
    """The message in ``value``, or None if it is not one we know (other kinds are ignored)."""
    try:
        body = json.loads(value or b"")
        cls = _KINDS[body.pop("kind")]
        names = {f.name for f in fields(cls)}
        args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in body.items() if k in names}
        message: OpsMessage = cls(**args)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return message
