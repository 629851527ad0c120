"""Least-privilege access rules, as data: what each principal of the exchange may do on Kafka.

The rules are plain values so that one computation serves both a running cluster
(:mod:`exchange.security._kafka`, Kafka ACL bindings) and Kubernetes (Strimzi ``KafkaUser``
``spec.authorization.acls``). Every rule allows; anything not allowed is refused, because the
brokers run with ``allow.everyone.if.no.acl.found=false``.

* An **agency** reads, writes and describes every topic starting with ``mais.<agency>.``, uses
  consumer groups and transactional ids with that prefix, and reads (literal names only) the
  entity topics other agencies share with it. It never creates topics: the operator does.
  Every agency appends to the audit log ``mais.audit.v1`` (Write, Describe) and reads it back
  (Read: a restarted writer finds its chain's head there). An agency taking part in enquiries
  (the default) reads and writes the three shared enquiry topics: it asks (writes requests, reads
  decisions and answers) and answers (reads requests, writes decisions and answers). Its
  responder's and requester's groups and transactional ids stay under its own prefix.
* The **monitor** describes topics and groups under ``mais.`` (offsets, lag, partitions, never
  records), and reads and writes each agency's ``mais.<agency>.ops.v1`` (content-free notices and
  replay requests).
* The **registry** reads and writes its one topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from exchange.topics import AUDIT_TOPIC, ENQUIRY_TOPICS, agency_prefix, ops_topic

__all__ = ["AclRule", "agency_rules", "monitor_rules", "registry_rules"]

ResourceType = Literal["topic", "group", "transactionalId", "cluster"]
PatternType = Literal["literal", "prefix"]
Operation = Literal["Read", "Write", "Describe", "Create", "DescribeConfigs", "All"]


@dataclass(frozen=True, slots=True, order=True)
class AclRule:
    """Allow ``operations`` on the resources of ``resource`` type matching ``name`` by ``pattern``."""

    resource: ResourceType
    name: str
    pattern: PatternType
    operations: tuple[Operation, ...]

    def to_strimzi(self) -> dict[str, object]:
        """The rule as one entry of a Strimzi ``KafkaUser`` ``spec.authorization.acls`` list."""
        resource: dict[str, object] = {"type": self.resource}
        if self.resource != "cluster":
            resource |= {"name": self.name, "patternType": self.pattern}
        return {"resource": resource, "operations": list(self.operations), "host": "*"}


def agency_rules(agency: str, granted_topics: Iterable[str] = (), *, enquiries: bool = True) -> list[AclRule]:
    """What agency ``agency`` may do: its own prefix, read on ``granted_topics`` (literal), the
    audit log, and (``enquiries``) the shared enquiry topics."""
    prefix = agency_prefix(agency)
    rules = [
        AclRule("topic", prefix, "prefix", ("Read", "Write", "Describe")),
        AclRule("group", prefix, "prefix", ("Read",)),
        AclRule("transactionalId", prefix, "prefix", ("Write", "Describe")),
    ]
    rules += [
        AclRule("topic", topic, "literal", ("Read", "Describe")) for topic in sorted(set(granted_topics))
    ]
    rules.append(AclRule("topic", AUDIT_TOPIC, "literal", ("Read", "Write", "Describe")))
    if enquiries:
        rules += [
            AclRule("topic", topic, "literal", ("Read", "Write", "Describe")) for topic in ENQUIRY_TOPICS
        ]
    return rules


def monitor_rules(agencies: Iterable[str]) -> list[AclRule]:
    """What the operator's monitor may do: describe (never read records), and its ops channels."""
    rules = [
        AclRule("topic", "mais.", "prefix", ("Describe",)),
        AclRule("group", "mais.", "prefix", ("Describe",)),
    ]
    rules += [
        AclRule("topic", ops_topic(agency), "literal", ("Read", "Write")) for agency in sorted(set(agencies))
    ]
    return rules


def registry_rules(topic: str) -> list[AclRule]:
    """What the schema registry may do: use its state topic (created beforehand by the operator),
    reading it through consumer groups of its own that never commit."""
    return [
        AclRule("topic", topic, "literal", ("Read", "Write", "Describe")),
        AclRule("group", "mais-registry-", "prefix", ("Describe",)),
    ]
