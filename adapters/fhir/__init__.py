"""FHIR R4 / UK Core, in JSON or XML (single resources, Bundles, NDJSON), to and from standard events.

Inbound: Patient, RelatedPerson, EpisodeOfCare and Organization, each validated with the
``fhir.resources`` models, then mapped (see :mod:`adapters.fhir._inbound`). XML is read into the
FHIR JSON form first (:mod:`adapters.fhir._xml`), so a resource gives the same events in either
format. Outbound: :func:`to_fhir` turns PersonRecorded and ServiceEpisodeRecorded values back into
FHIR resources, validated the same way.

Public API: :data:`adapter`, :func:`to_fhir`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from adapters._sniff import looks_like
from adapters._standard import validate_events
from adapters.fhir._inbound import map_resource
from adapters.fhir._outbound import to_fhir
from adapters.fhir._resources import entries, load_json, reject_control_characters, validate_resource
from adapters.fhir._xml import is_xml, xml_document
from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError

__all__ = ["adapter", "split", "to_fhir", "translate"]


def split(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """One record per resource: the file's resource, each Bundle entry, or each NDJSON line.

    A file that is not JSON, NDJSON or FHIR XML is one reject saying what it looks like.
    """
    if is_xml(data):
        document = xml_document(data, "file")
        if document["resourceType"] != "Bundle":
            yield SourceRecord(data, f"{origin}#{document['resourceType']}")  # the original XML
            return
    else:
        try:
            document = load_json(data, "file")
        except DataError as exc:
            if not _ndjson_like(data):
                if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
                    raise
                raise DataError(
                    f"file is not JSON, NDJSON or FHIR XML: it looks like {looks_like(data)}", stage="parse"
                ) from exc
            yield from _ndjson(data, origin)
            return
    for position, resource in entries(document):
        yield SourceRecord(json.dumps(resource, ensure_ascii=False).encode("utf-8"), f"{origin}#{position}")


def _ndjson_like(data: bytes) -> bool:
    """NDJSON: more than one line, and the first that is not blank is a JSON object."""
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return isinstance(load_json(lines[0], "line"), dict)
    except DataError:
        return False


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
    """Read the resource (JSON or XML), validate it with fhir.resources, map it, validate the events."""
    if is_xml(record.data):
        resource = xml_document(record.data, "record")
    else:
        resource = load_json(record.data, "record")
    if not isinstance(resource, dict) or not resource:
        raise DataError("record is not a FHIR resource", stage="parse")
    kind, resource = validate_resource(resource, context.warn)
    reject_control_characters(resource, kind)
    events = map_resource(kind, resource, context)
    validate_events(events)
    return events


adapter = Adapter(
    name="fhir",
    summary="FHIR R4 / UK Core Patient, RelatedPerson, EpisodeOfCare (JSON, XML, Bundles) to standard events",
    split=split,
    translate=translate,
    file_patterns=("*.json", "*.ndjson", "*.xml"),
)
