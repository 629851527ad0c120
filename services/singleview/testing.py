"""Helpers for tests and benchmarks of a SingleView (shipped as API, like ``exchange.testing``).

* :func:`sample_files` - a sample set translated as ``mais translate`` writes it.
* :func:`sample_events` - the standard events of a generated sample set, as the adapters
  translate them (every file of the manifest, in order), with ``truth.csv`` beside them.
* :class:`Publisher` - writes such events to ``mais.<agency>.<entity>.v1`` exactly as an adapter
  does: Confluent-framed Avro through the registry, CloudEvents headers, the record key.
* :func:`as_events` - sample events as the subscriber hands them to the store (no broker needed).
* :func:`store_snapshot` - every row of a store, for comparing two stores row for row.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, cast

from confluent_kafka import Producer

from exchange.adapter import load_adapter
from exchange.cli.translate import translate_files
from exchange.codec import AvroCodec, topic_record_name_strategy
from exchange.envelope import Envelope, build_headers
from exchange.registry_client import SchemaRegistryClient
from exchange.samples import generate
from exchange.schemas import from_json, schema_json
from services.singleview._db import Database
from services.singleview._records import Event
from services.singleview._store import PERSONAL_TABLES

__all__ = [
    "Message",
    "Publisher",
    "SampleEvent",
    "as_events",
    "sample_events",
    "sample_files",
    "store_snapshot",
]

SNAPSHOT_TABLES = (*PERSONAL_TABLES, "sv_removed", "sv_offset", "sv_person_redirect", "sv_linker_state")


@dataclass(frozen=True, slots=True)
class SampleEvent:
    agency: str
    entity: str
    key: str
    schema: str
    value: dict[str, Any]

    def for_agency(self, agency: str) -> SampleEvent:
        return replace(self, agency=agency)


def sample_files(out: Path, *, people: int = 200, seed: int = 1) -> list[Path]:
    """Generate a sample set in ``out`` and translate every file of it (``mais translate`` output,
    one JSON lines file per sample file, in manifest order, under ``out/translated``)."""
    generate(out, people=people, seed=seed)
    manifest = json.loads((out / "manifest.json").read_text())
    folder = out / "translated"
    folder.mkdir(exist_ok=True)
    files: list[Path] = []
    for number, entry in enumerate(manifest["files"]):
        if entry["file"].startswith("mllp/"):
            continue  # the same messages as hl7/
        sink = io.StringIO()
        translate_files(
            load_adapter(entry["format"]), [out / entry["file"]], agency=entry["agency"],
            organisation=entry["organisation"], out=sink, err=io.StringIO(),
        )  # fmt: skip
        files.append(folder / f"{number:03d}.jsonl")
        files[-1].write_text(sink.getvalue(), encoding="utf-8")
    return files


def sample_events(out: Path, *, people: int = 200, seed: int = 1) -> list[SampleEvent]:
    """Generate a sample set in ``out`` and translate every file of it, in manifest order."""
    events: list[SampleEvent] = []
    for path in sample_files(out, people=people, seed=seed):
        for line in path.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            agency, entity = data["topic"].split(".")[1:3]
            value = from_json(data["schema"], data["value"])
            events.append(SampleEvent(agency, entity, data["key"], data["schema"], value))
    return events


class Message(NamedTuple):
    """One encoded standard event, ready to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Publisher:
    """Publishes standard events as an adapter would (idempotent producer, one flush per call)."""

    def __init__(self, bootstrap_servers: str, registry_url: str) -> None:
        self.registry = SchemaRegistryClient(registry_url)
        self.codec = AvroCodec(self.registry, subject_strategy=topic_record_name_strategy)
        self.producer = Producer(
            {"bootstrap.servers": bootstrap_servers, "enable.idempotence": True, "linger.ms": 5}
        )

    def prepare(self, events: Iterable[SampleEvent]) -> list[Message]:
        """``events`` encoded as an adapter sends them (registry schema id, CloudEvents headers)."""
        prepared: list[Message] = []
        for event in events:
            topic = f"mais.{event.agency}.{event.entity}.v1"
            envelope = Envelope(
                id=str(uuid.uuid4()), source=f"/mais/{event.agency}/adapters/test", type=event.schema,
                time=datetime.now(UTC), subject=event.key,
            )  # fmt: skip
            value = self.codec.encode(topic, schema_json(event.schema), event.value)
            prepared.append(Message(topic, event.key.encode(), value, build_headers(envelope)))
        return prepared

    def send(
        self,
        messages: Iterable[Message],
        *,
        flush: bool = True,
        on_delivery: Callable[[Any, Any], None] | None = None,
    ) -> int:
        """Produce prepared ``messages``; ``on_delivery(error, message)`` is called for each once
        acknowledged."""
        count = 0
        for message in messages:
            self.producer.produce(
                message.topic, value=message.value, key=message.key, headers=cast(Any, message.headers),
                on_delivery=on_delivery,
            )  # fmt: skip
            self.producer.poll(0)
            count += 1
        if flush:
            self.producer.flush(30)
        return count

    def publish(
        self,
        events: Iterable[SampleEvent],
        *,
        flush: bool = True,
        on_delivery: Callable[[Any, Any], None] | None = None,
    ) -> int:
        """Encode and produce ``events`` (see :meth:`send`)."""
        return self.send(self.prepare(events), flush=flush, on_delivery=on_delivery)

    def close(self) -> None:
        self.producer.flush(30)
        self.registry.close()


def as_events(events: Iterable[SampleEvent], *, partition: int = 0) -> list[Event]:
    """``events`` as decoded messages of ``mais.<agency>.<entity>.v1`` (offsets per topic)."""
    offsets: dict[str, int] = {}
    decoded = []
    for event in events:
        topic = f"mais.{event.agency}.{event.entity}.v1"
        offset = offsets.get(topic, 0)
        offsets[topic] = offset + 1
        decoded.append(Event(topic, partition, offset, event.key, event.schema, event.value))
    return decoded


def store_snapshot(database_url: str, *, person_ids: bool = True) -> dict[str, list[Any]]:
    """Every row of every table of a store, sorted, plus ``persons``: each person's record keys.

    With ``person_ids=False`` the tables that hold person ids (``sv_link``, ``sv_person_redirect``,
    ``sv_linker_state``) are left out and persons are compared by their record keys only.
    """
    db = Database(database_url).connect()
    try:
        skip = set() if person_ids else {"sv_link", "sv_person_redirect", "sv_linker_state"}
        tables: dict[str, list[Any]] = {
            t: sorted(map(repr, db.query(f"SELECT * FROM {t}")))  # noqa: S608 - fixed names
            for t in SNAPSHOT_TABLES
            if t not in skip
        }
        persons: dict[str, list[str]] = {}
        for person_id, key in db.query("SELECT person_id, record_key FROM sv_link ORDER BY record_key"):
            persons.setdefault(str(person_id), []).append(str(key))
        tables["persons"] = sorted(persons.values())
        return tables
    finally:
        db.close()
