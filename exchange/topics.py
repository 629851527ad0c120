"""Topic names: one place that knows how an agency's topics are spelled.

An agency publishes standard events on ``mais.<agency>.<entity>.v1`` (``person``, ``episode``,
``event``), rejects on ``mais.<agency>.dlq.v1``, and the file-drop and HTTP sources keep their
durable progress on ``mais.<agency>.progress.v1``. Every name starts with ``mais.<agency>.`` so
that one prefixed ACL per agency covers everything it writes.
"""

from __future__ import annotations

import re
from typing import get_args

from exchange.adapter import Entity
from exchange.errors import ConfigError

__all__ = [
    "ENTITIES",
    "dlq_topic",
    "entity_topic",
    "progress_topic",
    "validate_agency",
]

ENTITIES: tuple[str, ...] = get_args(Entity)
"""The entities an agency publishes, each on its own topic."""

_AGENCY_ID = re.compile(r"[a-z][a-z0-9-]{1,38}[a-z0-9]")
_MAJOR = 1


def validate_agency(agency: str) -> str:
    """Return ``agency`` if it is a valid agency id, else raise :class:`ConfigError`.

    An agency id is 3-40 characters of lower-case letters, digits and inner hyphens, starting
    with a letter (``nhs-leeds``, ``lbc``): it becomes part of topic names, consumer groups and
    metric labels, so it never contains dots, spaces or upper case.
    """
    if not _AGENCY_ID.fullmatch(agency):
        raise ConfigError(
            f"invalid agency id {agency!r}",
            hint="use 3-40 lower-case letters, digits and inner hyphens, starting with a letter "
            "(e.g. 'leeds-cc')",
        )
    return agency


def entity_topic(agency: str, entity: str) -> str:
    """The topic an agency publishes ``entity`` events on: ``mais.<agency>.<entity>.v1``."""
    if entity not in ENTITIES:
        raise ConfigError(f"unknown entity {entity!r}", hint=f"choose one of: {', '.join(ENTITIES)}")
    return f"mais.{validate_agency(agency)}.{entity}.v{_MAJOR}"


def dlq_topic(agency: str) -> str:
    """The agency's dead-letter topic: ``mais.<agency>.dlq.v1``."""
    return f"mais.{validate_agency(agency)}.dlq.v{_MAJOR}"


def progress_topic(agency: str) -> str:
    """The compacted topic where non-Kafka sources keep durable progress: ``mais.<agency>.progress.v1``."""
    return f"mais.{validate_agency(agency)}.progress.v{_MAJOR}"
