"""The CloudEvents envelope of every event we publish (Kafka protocol binding, binary mode).

The event data is the Kafka message value (Confluent-framed Avro); the CloudEvents attributes
travel as Kafka headers named ``ce_<attribute>`` with UTF-8 values, and the data's media type
as ``content-type``. Our extension attributes are documented in ``docs/envelope.md``.

This module is the only place that builds or reads those headers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from exchange.errors import DataError

__all__ = [
    "AVRO_CONTENT_TYPE",
    "SPEC_VERSION",
    "Envelope",
    "Headers",
    "build_headers",
    "deterministic_event_id",
    "event_id",
    "parse_headers",
    "record_fingerprint",
]

SPEC_VERSION = "1.0"
AVRO_CONTENT_TYPE = "application/avro"
"""Media type of our event data: Avro binary in Confluent framing (magic byte, schema id, body)."""

Headers = Sequence[tuple[str, bytes | None]]

_EXTENSIONS = {
    "sharingpurpose": "sharing_purpose",
    "legalbasis": "legal_basis",
    "correlationid": "correlation_id",
    "authtype": "auth_type",
    "authid": "auth_id",
}
AUTH_TYPES = frozenset(
    {"app_user", "user", "service_account", "api_key", "system", "unauthenticated", "unknown"}
)
"""Values of ``authtype`` in the CloudEvents Auth Context extension (we write only ``service_account``
and ``api_key``: a system authenticated by its client certificate or by a bearer token)."""
_TOKEN = re.compile(r"^[A-Za-z0-9._:/|#@+-]{1,256}$")
_EVENT_ID_KEY = b"mais-exchange-event-id-v1"
_VARIANT = {h: "89ab"[int(h, 16) % 4] for h in "0123456789abcdef"}


@dataclass(frozen=True, slots=True)
class Envelope:
    """CloudEvents attributes of one event.

    ``subject`` is the agency-local record key (``system|value``): it identifies a person's
    record, so treat it as personal data (it is never logged). ``sharing_purpose`` and
    ``legal_basis`` are codes from the information-governance vocabularies; ``correlation_id``
    ties together every event caused by one source record or one enquiry. ``auth_type`` and
    ``auth_id`` (CloudEvents Auth Context) say which sender pushed the source record to the
    adapter: the configured name of a system, never a person.
    """

    id: str
    source: str
    type: str
    time: datetime
    subject: str | None = None
    content_type: str = AVRO_CONTENT_TYPE
    sharing_purpose: str | None = None
    legal_basis: str | None = None
    correlation_id: str | None = None
    auth_type: str | None = None
    auth_id: str | None = None

    def __post_init__(self) -> None:
        for attribute in ("id", "source", "type"):
            if not getattr(self, attribute):
                raise ValueError(f"CloudEvents attribute {attribute!r} must not be empty")
        if self.time.tzinfo is None:
            raise ValueError("CloudEvents 'time' must be timezone-aware")
        for attribute in ("sharing_purpose", "legal_basis", "correlation_id", "auth_id"):
            value = getattr(self, attribute)
            if value is not None and not _TOKEN.match(value):
                raise ValueError(f"extension {attribute!r} must be a short token without spaces")
        if self.auth_type is not None and self.auth_type not in AUTH_TYPES:
            raise ValueError(f"extension 'auth_type' must be one of {', '.join(sorted(AUTH_TYPES))}")
        if self.auth_id is not None and self.auth_type is None:
            raise ValueError("extension 'auth_id' needs 'auth_type' (CloudEvents Auth Context)")


def record_fingerprint(source: str, origin: str, data: bytes) -> bytes:
    """A 16-byte digest of a source record and where it came from (see :func:`event_id`)."""
    digest = hashlib.blake2b(data, digest_size=16, key=_EVENT_ID_KEY)
    digest.update(f"\x1f{source}\x1f{origin}".encode())
    return digest.digest()


def event_id(fingerprint: bytes, index: int) -> str:
    """The id of the ``index``-th event made from a record: a UUID (version 8, name-based).

    The same record translated again (after a crash, or a DLQ replay) yields the same ids, so
    subscribers can drop duplicates by ``ce_id``. ``index`` -1 gives the record's correlation id.
    """
    raw = hashlib.blake2b(fingerprint + index.to_bytes(4, "big", signed=True), digest_size=16).hexdigest()
    return f"{raw[:8]}-{raw[8:12]}-8{raw[13:16]}-{_VARIANT[raw[16]]}{raw[17:20]}-{raw[20:32]}"


def deterministic_event_id(source: str, origin: str, data: bytes, index: int) -> str:
    """``event_id(record_fingerprint(source, origin, data), index)``."""
    return event_id(record_fingerprint(source, origin, data), index)


def build_headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    """The Kafka headers that carry ``envelope`` in binary mode."""
    headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", envelope.id.encode()),
        ("ce_source", envelope.source.encode()),
        ("ce_type", envelope.type.encode()),
        ("ce_time", _format_time(envelope.time).encode()),
        ("content-type", envelope.content_type.encode()),
    ]
    if envelope.subject is not None:
        headers.append(("ce_subject", envelope.subject.encode()))
    for header, attribute in _EXTENSIONS.items():
        value = getattr(envelope, attribute)
        if value is not None:
            headers.append((f"ce_{header}", value.encode()))
    return headers


def parse_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> Envelope:
    """Read and validate the envelope from Kafka headers; anything wrong is a ``DataError(stage="read")``.

    Headers this module does not know are ignored, as the binding requires.
    """
    values: dict[str, str] = {}
    for name, raw in headers or ():
        if raw is None:
            continue
        if name.startswith("ce_") or name == "content-type":
            try:
                values[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"header {name!r} is not UTF-8", stage="read") from None
    if values.get("ce_specversion") != SPEC_VERSION:
        raise DataError(
            f"missing or unsupported ce_specversion (expected {SPEC_VERSION})",
            stage="read",
            hint="the producer must use the CloudEvents Kafka binding in binary mode",
        )
    missing = [name for name in ("ce_id", "ce_source", "ce_type", "ce_time") if not values.get(name)]
    if missing:
        raise DataError(f"missing CloudEvents headers: {', '.join(missing)}", stage="read")
    try:
        time = datetime.fromisoformat(values["ce_time"].replace("Z", "+00:00"))
    except ValueError:
        raise DataError("ce_time is not an RFC 3339 timestamp", stage="read") from None
    try:
        return Envelope(
            id=values["ce_id"],
            source=values["ce_source"],
            type=values["ce_type"],
            time=time,
            subject=values.get("ce_subject"),
            content_type=values.get("content-type", AVRO_CONTENT_TYPE),
            sharing_purpose=values.get("ce_sharingpurpose"),
            legal_basis=values.get("ce_legalbasis"),
            correlation_id=values.get("ce_correlationid"),
            auth_type=values.get("ce_authtype"),
            auth_id=values.get("ce_authid"),
        )
    except ValueError as exc:
        raise DataError(f"invalid CloudEvents headers: {exc}", stage="read") from None


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
