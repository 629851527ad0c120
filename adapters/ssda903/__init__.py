"""SSDA903 looked-after children return (CSV tables) to standard Person, ServiceEpisode and
LifeEvent events. Each file is one table, recognised by its header row.

Public API: :data:`adapter`. Run it with the LA's three-digit number as ``--organisation``: child
ids are namespaced by it (the adapter declares so, and anything else is a usage error).
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters._standard import validate_events
from adapters.ssda903._mapping import map_row
from adapters.ssda903._tables import read_row, recognise, split_table
from exchange.adapter import Adapter, AdapterContext, OrganisationId, SourceRecord, StandardEvent

__all__ = ["adapter", "recognise", "translate"]


def translate(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    """Map and validate one row (with its header line)."""
    table, row = read_row(record.data)
    events = map_row(table, row, context)
    validate_events(events)
    return events


adapter = Adapter(
    name="ssda903",
    summary="SSDA903 looked-after children CSV tables to Person, ServiceEpisode and LifeEvent events",
    split=split_table,
    translate=translate,
    file_patterns=("*.csv",),
    organisation_id=OrganisationId(r"[0-9]{3}", "a three-digit DfE local authority number (e.g. 202)"),
)
