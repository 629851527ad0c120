"""FHIR R4 / UK Core (JSON, single resources, Bundles or NDJSON) to and from standard events.

Inbound: Patient, RelatedPerson, EpisodeOfCare and Organization, each validated with the
``fhir.resources`` models, then mapped (see :mod:`adapters.fhir._inbound`). Outbound:
:func:`to_fhir` turns PersonRecorded and ServiceEpisodeRecorded values back into FHIR resources,
validated the same way.

Public API: :data:`adapter`, :func:`to_fhir`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from adapters._standard import validate_events
from adapters.fhir._inbound import map_resource
from adapters.fhir._outbound import to_fhir
from adapters.fhir._resources import entries, load_json, validate_resource
from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError

__all__ = ["adapter", "split", "to_fhir", "translate"]


def split(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """One record per resource: the file's resource, each Bundle entry, or each NDJSON line."""
    try:
        documents = [("", load_json(data, "file"))]
    except DataError:
        if b"\n" not in data.strip():
            raise
        yield from _ndjson(data, origin)
        return
    for prefix, document in documents:
        for position, resource in entries(document):
            where = f"{origin}#{prefix}{position}"
            yield SourceRecord(json.dumps(resource, ensure_ascii=False).encode("utf-8"), where)


def _ndjson(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """NDJSON: one resource (or Bundle) per line; a line that does not parse is its own record."""
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = load_json(line, f"line {number}")
        except DataError:
            yield SourceRecord(line, f"{origin}#line {number}")
            continue
        for position, resource in entries(document):
            body = json.dumps(resource, ensure_ascii=False).encode("utf-8")
            yield SourceRecord(body, f"{origin}#line {number}:{position}")


def translate(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    """Validate the resource with fhir.resources, map it, validate the events."""
    resource = load_json(record.data, "record")
    if not isinstance(resource, dict) or not resource:
        raise DataError("record is not a FHIR resource", stage="parse")
    kind = validate_resource(resource)
    events = map_resource(kind, resource, context)
    validate_events(events)
    return events


adapter = Adapter(
    name="fhir",
    summary="FHIR R4 / UK Core Patient, RelatedPerson, EpisodeOfCare (JSON, Bundles) to standard events",
    split=split,
    translate=translate,
    file_patterns=("*.json", "*.ndjson"),
)
