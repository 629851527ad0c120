"""Declarative CSV / JSON-lines adapter: a TOML mapping file says how an export's rows become
standard events. Mappings for a school census pupil extract, a police safeguarding notification
export and a housing case export ship with it; agencies add their own with
``MAIS_TABULAR_MAPPINGS`` (see ``docs/adapters.md``).

Public API: :data:`adapter`, :func:`known_mappings`, :func:`load_mapping`, :class:`Mapping`.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters._standard import validate_events
from adapters.tabular._engine import known_mappings, map_row, split_rows
from adapters.tabular._model import Mapping, load_mapping
from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent

__all__ = ["Mapping", "adapter", "known_mappings", "load_mapping", "translate"]


def translate(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    """Map one row with its mapping and validate the events."""
    events = map_row(record, context)
    validate_events(events)
    return events


adapter = Adapter(
    name="tabular",
    summary="CSV or JSON-lines exports mapped by TOML mapping files (school, police, housing ...)",
    split=split_rows,
    translate=translate,
    file_patterns=("*.csv", "*.jsonl", "*.ndjson"),
)
