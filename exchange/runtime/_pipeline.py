"""From a source unit's bytes to ready-to-produce messages, or rejects: no Kafka in here.

The pipeline splits a unit with the adapter, translates each record, and encodes each event
into a Confluent-framed value with its CloudEvents headers. Every failure is tagged by stage:
``parse`` (the adapter could not split the unit), whatever stage the adapter's own
:class:`DataError` names (``parse``/``map``/``validate``), ``map`` for any other exception out of
adapter code, ``serialize`` when an event does not fit its schema. One record's events are all
or nothing: if one of them cannot be encoded, the record is rejected as a whole.
:class:`TransientError` (the registry is down) propagates: the caller retries the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers, event_id, record_fingerprint
from exchange.errors import DataError, TransientError
from exchange.metrics import STAGES
from exchange.runtime._dlq import Reject
from exchange.topics import entity_topic

if TYPE_CHECKING:
    from exchange.ingress import Sender

__all__ = ["OutMessage", "Pipeline", "UnitResult"]

SchemaResolver = Callable[[str], str]
"""Avro full name -> schema JSON."""

Headers = Sequence[tuple[str, bytes | None]]


@dataclass(frozen=True, slots=True)
class OutMessage:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(slots=True)
class UnitResult:
    """What one source unit turned into."""

    outputs: list[OutMessage] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    records: int = 0


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is producing: copied into every envelope."""

    agency: str
    adapter: str
    source: str
    sharing_purpose: str | None = None
    legal_basis: str | None = None

    @property
    def ce_source(self) -> str:
        return f"/mais/{self.agency}/adapters/{self.adapter}"


class Pipeline:
    """Split, translate and encode, with stage-tagged rejects."""

    def __init__(
        self,
        adapter: Adapter,
        context: AdapterContext,
        codec: AvroCodec,
        resolve_schema: SchemaResolver,
        identity: Identity,
    ) -> None:
        self.adapter = adapter
        self.context = context
        self.codec = codec
        self.identity = identity
        self._resolve_schema = resolve_schema
        self._schemas: dict[str, str] = {}
        self._topics: dict[str, str] = {}

    def split(self, data: bytes, origin: str) -> list[SourceRecord] | Reject:
        """The unit's records, or a whole-unit reject if the adapter cannot split it."""
        try:
            return list(self.adapter.split(data, origin))
        except DataError as error:
            stage = error.stage if error.stage in STAGES else "parse"
            return Reject(stage, type(error).__name__, error.message, data, origin, unit=True)
        except Exception as error:
            return Reject("parse", type(error).__name__, _bug_message(error), data, origin, unit=True)

    def process_unit(
        self, data: bytes, origin: str, headers: Headers | None = None, *, sender: Sender | None = None
    ) -> UnitResult:
        """Split and translate a unit; ``sender`` (who pushed it, if known) goes into every envelope."""
        split = self.split(data, origin)
        result = UnitResult()
        if isinstance(split, Reject):
            result.rejects.append(split)
            return result
        for record in split:
            self.process_record(record, headers, result, sender=sender)
        return result

    def process_record(
        self,
        record: SourceRecord,
        headers: Headers | None,
        result: UnitResult,
        *,
        sender: Sender | None = None,
    ) -> None:
        """Append the record's messages, or its reject, to ``result``."""
        result.records += 1
        try:
            events = self.adapter.translate(record, self.context)
            fingerprint = record_fingerprint(self.identity.source, record.origin, record.data)
            correlation = _correlation_id(headers) or event_id(fingerprint, -1)
            now = datetime.now(UTC)
            messages = [
                self._message(fingerprint, index, event, correlation, now, sender=sender)
                for index, event in enumerate(events)
            ]
        except TransientError:
            raise
        except DataError as error:
            result.rejects.append(
                Reject(error.stage, type(error).__name__, error.message, record.data, record.origin)
            )
            return
        except Exception as error:
            result.rejects.append(
                Reject("map", type(error).__name__, _bug_message(error), record.data, record.origin)
            )
            return
        result.outputs.extend(messages)

    def _message(
        self,
        fingerprint: bytes,
        index: int,
        event: StandardEvent,
        correlation: str,
        now: datetime,
        *,
        sender: Sender | None,
    ) -> OutMessage:
        topic = self._topics.get(event.entity)
        if topic is None:
            topic = self._topics.setdefault(event.entity, entity_topic(self.identity.agency, event.entity))
        schema_name = event.schema
        schema = self._schemas.get(schema_name)
        if schema is None:
            try:
                schema = self._schemas.setdefault(schema_name, self._resolve_schema(schema_name))
            except LookupError:
                raise DataError(f"unknown event schema {schema_name}", stage="serialize") from None
        encoded = self.codec.encode(topic, schema, event.value)
        envelope = Envelope(
            id=event_id(fingerprint, index),
            source=self.identity.ce_source,
            type=schema_name,
            time=now,
            subject=event.key,
            sharing_purpose=self.identity.sharing_purpose,
            legal_basis=self.identity.legal_basis,
            correlation_id=correlation,
            auth_type=sender.auth_type if sender else None,
            auth_id=sender.name if sender else None,
        )
        return OutMessage(topic, event.key.encode(), encoded, build_headers(envelope))


def _correlation_id(headers: Headers | None) -> str | None:
    for name, value in headers or ():
        if name == "ce_correlationid" and value:
            return value.decode("utf-8", "replace")
    return None


def _bug_message(error: Exception) -> str:
    # Another library's message may quote the record: keep only where it was raised.
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = f" at {frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}" if frame else ""
    return f"adapter raised {type(error).__name__}{where} (not a DataError: this is an adapter bug)"
