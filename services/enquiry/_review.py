"""The review queue: requests the decision point sent to a person, on ``mais.<agency>.review.v1``.

Records are keyed by request id, with a small JSON value; the latest record of a key is its state:

* ``pending`` (written by the responder with its REVIEW decision, carrying the original request),
* ``approved`` / ``denied`` (written by ``mais enquiry review approve|deny``, naming the reviewer),
* ``answered`` (written by the responder in the same transaction as the answer it then sent).

The topic is compacted, so the queue is always the latest state per request. Nothing personal is
shown by ``review list``: who asked, for which purpose, under which policies, why it needs review.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from exchange.errors import ConfigError, TransientError
from exchange.settings import KafkaSettings
from services.enquiry._settings import EnquirySettings, reader_group

__all__ = ["ReviewItem", "decide_review", "fold", "read_queue"]

STATES = ("pending", "approved", "denied", "answered")


@dataclass(frozen=True, slots=True)
class ReviewItem:
    request_id: str
    state: str
    requester: str
    purpose: str
    policies: tuple[str, ...]
    rules: tuple[str, ...]
    received: str
    request: bytes = field(repr=False)
    reviewer: str | None = None
    note: str | None = None

    def encode(self) -> bytes:
        return json.dumps(
            {
                "requestId": self.request_id,
                "state": self.state,
                "requester": self.requester,
                "purpose": self.purpose,
                "policies": list(self.policies),
                "rules": list(self.rules),
                "received": self.received,
                "request": base64.b64encode(self.request).decode(),
                "reviewer": self.reviewer,
                "note": self.note,
            }
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> ReviewItem:
        raw: dict[str, Any] = json.loads(data)
        return cls(
            request_id=str(raw["requestId"]),
            state=str(raw["state"]),
            requester=str(raw["requester"]),
            purpose=str(raw["purpose"]),
            policies=tuple(raw["policies"]),
            rules=tuple(raw["rules"]),
            received=str(raw["received"]),
            request=base64.b64decode(raw["request"]),
            reviewer=raw.get("reviewer"),
            note=raw.get("note"),
        )


def fold(records: Iterable[bytes]) -> dict[str, ReviewItem]:
    """The latest state of every request in the queue."""
    latest: dict[str, ReviewItem] = {}
    for value in records:
        item = ReviewItem.decode(value)
        latest[item.request_id] = item
    return latest


def read_queue(kafka: KafkaSettings, agency: str, timeout_s: float = 30.0) -> dict[str, ReviewItem]:
    """Read ``agency``'s whole review topic (committed records) and fold it."""
    topic = EnquirySettings().review_topic(agency)
    consumer = Consumer(
        {
            **kafka.confluent_config(),
            "group.id": reader_group(agency, "review-reader"),
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            return {}
        consumer.assign([TopicPartition(topic, p, -2) for p in metadata.partitions])
        pending = set(metadata.partitions)
        values: list[bytes] = []
        while pending:
            message = consumer.poll(timeout_s)
            if message is None:
                raise TransientError(f"reading {topic} stalled", hint="check the broker")
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    pending.discard(message.partition())
                    continue
                raise TransientError(f"reading {topic} failed: {error.name()}")
            if message.value():
                values.append(bytes(message.value() or b""))
        return fold(values)
    finally:
        consumer.close()


def decide_review(
    kafka: KafkaSettings, agency: str, request_id: str, *, approve: bool, reviewer: str, note: str | None
) -> ReviewItem:
    """Record a person's decision on a pending request of ``agency``; the responder then answers it."""
    topic = EnquirySettings().review_topic(agency)
    queue = read_queue(kafka, agency)
    item = queue.get(request_id)
    if item is None:
        raise ConfigError(
            f"request {request_id} is not in the review queue {topic}", hint="mais enquiry review list"
        )
    if item.state != "pending":
        raise ConfigError(
            f"request {request_id} is already {item.state}", hint="only pending requests are decided"
        )
    decided = replace(item, state="approved" if approve else "denied", reviewer=reviewer, note=note)
    producer = Producer({**kafka.confluent_config(), "enable.idempotence": True, "acks": "all"})
    producer.produce(topic, decided.encode(), request_id.encode())
    if producer.flush(30) > 0:
        raise TransientError("the review decision was not acknowledged by the broker", hint="try again")
    return decided


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
