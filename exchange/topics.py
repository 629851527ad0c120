"""Topic names: one place that knows how an agency's topics are spelled.

An agency publishes standard events on ``mais.<agency>.<entity>.v1`` (``person``, ``episode``,
``event``), rejects on ``mais.<agency>.dlq.v1``, and the file-drop and HTTP sources keep their
durable progress on ``mais.<agency>.progress.v1``; ``mais.<agency>.ops.v1`` carries the content-free
notices and replay requests between the agency's processes and the operator's monitor. Consumer
groups and transactional ids of the agency's processes start with the same ``mais.<agency>.``,
so that one prefix per resource type covers everything an agency owns (see
:mod:`exchange.security`).

A few topics are shared by every agency and owned by the exchange (:func:`shared_topics`): the
enquiry pattern's ``mais.enquiry.{request,decision,response}.v1`` and the audit log
``mais.audit.v1``. Agencies are granted them by literal name, never by prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import get_args

from exchange.adapter import Entity
from exchange.errors import ConfigError

__all__ = [
    "AUDIT_TOPIC",
    "ENQUIRY_DECISION_TOPIC",
    "ENQUIRY_REQUEST_TOPIC",
    "ENQUIRY_RESPONSE_TOPIC",
    "ENQUIRY_TOPICS",
    "ENTITIES",
    "ENTITY_EVENTS",
    "TopicSpec",
    "agency_prefix",
    "agency_topics",
    "client_id",
    "dlq_topic",
    "entity_topic",
    "ops_topic",
    "progress_topic",
    "shared_topics",
    "validate_agency",
]

ENTITIES: tuple[str, ...] = get_args(Entity)
"""The entities an agency publishes, each on its own topic."""

ENTITY_EVENTS: dict[str, tuple[str, ...]] = {
    "person": ("mais.v1.PersonRecorded", "mais.v1.PersonRemoved", "mais.v1.PersonsMerged"),
    "episode": ("mais.v1.ServiceEpisodeRecorded", "mais.v1.ServiceEpisodeClosed"),
    "event": ("mais.v1.LifeEventRecorded",),
}
"""The standard events each entity topic carries (their Avro full names)."""

ENQUIRY_REQUEST_TOPIC = "mais.enquiry.request.v1"
ENQUIRY_DECISION_TOPIC = "mais.enquiry.decision.v1"
ENQUIRY_RESPONSE_TOPIC = "mais.enquiry.response.v1"
ENQUIRY_TOPICS: tuple[str, ...] = (ENQUIRY_REQUEST_TOPIC, ENQUIRY_DECISION_TOPIC, ENQUIRY_RESPONSE_TOPIC)
"""The enquiry pattern's shared topics: requests, sharing decisions, answers."""
AUDIT_TOPIC = "mais.audit.v1"
"""The tamper-evident audit log every agency's processes append to (see :mod:`exchange.audit`)."""

_COMPACTED = {"cleanup.policy": "compact"}

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


def ops_topic(agency: str) -> str:
    """Content-free reject notices and replay requests/results: ``mais.<agency>.ops.v1``."""
    return f"mais.{validate_agency(agency)}.ops.v{_MAJOR}"


def agency_prefix(agency: str) -> str:
    """``mais.<agency>.``: the prefix of every topic, group and transactional id the agency owns."""
    return f"mais.{validate_agency(agency)}."


def client_id(agency: str, *parts: str) -> str:
    """A consumer group or transactional id owned by ``agency``: ``mais.<agency>.<parts…>``."""
    return agency_prefix(agency) + ".".join(parts)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic an agency owns, as the operator creates it (replication: the cluster's default)."""

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def agency_topics(
    agency: str, publishes: tuple[str, ...] = ENTITIES, partitions: int = 3, *, enquiries: bool = True
) -> list[TopicSpec]:
    """The topics of one agency: what it publishes, its DLQ, progress and ops topics, and (if it
    answers enquiries) its responder's review queue ``mais.<agency>.review.v1``.

    Person and episode topics are compacted by record key (each event carries the whole record);
    life events, rejects and ops messages are kept by time; progress and the review queue (the
    latest state of each request) are compacted.
    """
    specs = [
        TopicSpec(entity_topic(agency, entity), partitions, dict(_COMPACTED) if entity != "event" else {})
        for entity in publishes
    ]
    specs += [
        TopicSpec(dlq_topic(agency), partitions),
        TopicSpec(progress_topic(agency), 1, dict(_COMPACTED)),
        TopicSpec(ops_topic(agency), 1),
    ]
    if enquiries:
        specs.append(TopicSpec(f"{agency_prefix(agency)}review.v1", 1, dict(_COMPACTED)))
    return specs


def shared_topics() -> list[TopicSpec]:
    """The exchange's shared topics, as the operator creates them: the enquiry topics (one
    partition each, as the enquiry service creates them on a local stack) and the audit log (one
    partition, kept forever: the verifier must see every entry)."""
    specs = [TopicSpec(topic, 1) for topic in ENQUIRY_TOPICS]
    specs.append(TopicSpec(AUDIT_TOPIC, 1, {"retention.ms": "-1", "retention.bytes": "-1"}))
    return specs
