"""DfE Children in Need census XML (yearly variants) to standard Person and ServiceEpisode events.

Public API: :data:`adapter`. ``split`` parses the file once (no DTDs, no entities, no network)
and yields one record per ``<Child>``, carrying the LA number from the header; ``translate``
maps it (see :mod:`adapters.cin_census._mapping`) and validates the events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from lxml import etree

from adapters import _common
from adapters._common import ENGLAND
from adapters._fields import to_utc
from adapters._sniff import looks_like
from adapters._standard import provenance, validate_events
from adapters.cin_census._mapping import map_child
from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import is_valid_la_code

__all__ = ["adapter", "split", "translate"]

_LA_ATTRIBUTE = "mais-la"
_CREATED_ATTRIBUTE = "mais-created"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _first(root: etree._Element, *path: str) -> etree._Element | None:
    node: etree._Element | None = root
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if _local(c) == name), None)
    return node


def split(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """One record per ``<Child>``, tagged with the return's LA number and creation time."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise DataError(f"file is not XML: it looks like {looks_like(data)}", stage="parse") from None
        line = exc.lineno or 0
        raise DataError(f"file is not well-formed XML (line {line})", stage="parse") from None
    if root is None or _local(root) != "Message":
        raise DataError("root element is not Message", stage="parse")
    lea = _first(root, "Header", "Source", "LEA")
    la_code = (lea.text or "").strip() if lea is not None else ""
    created = _first(root, "Header", "Source", "DateTime")
    children = _first(root, "Children")
    if children is None:
        raise DataError("Message has no Children element", stage="parse")
    for number, child in enumerate((c for c in children if _local(c) == "Child"), start=1):
        child.set(_LA_ATTRIBUTE, la_code)
        if created is not None and created.text:
            child.set(_CREATED_ATTRIBUTE, created.text.strip())
        yield SourceRecord(etree.tostring(child), f"{origin}:child {number} (line {child.sourceline})")


def translate(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    """Map and validate one child."""
    try:
        child = etree.fromstring(record.data, _parser())
    except etree.XMLSyntaxError:
        raise DataError("child record is not well-formed XML", stage="parse") from None
    if child is None or _local(child) != "Child":
        raise DataError("record is not a Child element", stage="parse")
    la_code = child.get(_LA_ATTRIBUTE) or context.organisation_id
    if not is_valid_la_code(la_code):
        raise DataError("Header/Source/LEA is not a three-digit LA number", stage="map")
    events = map_child(child, la_code, context, provenance(context, _created(child.get(_CREATED_ATTRIBUTE))))
    validate_events(events)
    return events


def _created(raw: str | None) -> datetime:
    """When the return was made (Header/Source/DateTime, local time); now when absent."""
    if raw:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise DataError("Header/Source/DateTime is not a valid date/time", stage="map") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ENGLAND)
        return to_utc(moment, "Header/Source/DateTime")
    return _common.now()


adapter = Adapter(
    name="cin_census",
    summary="DfE Children in Need census XML to Person and ServiceEpisode events",
    split=split,
    translate=translate,
    file_patterns=("*.xml",),
)
