"""Reading every agency's ops topic (status, reject notices, replay results) and sending requests.

The monitor's principal may read and write ``mais.<agency>.ops.v1`` and nothing else, so this is
the only place records are fetched: messages that by construction carry no personal data (see
:mod:`exchange.ops`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from exchange.ops import FeedStatus, RejectNotice, ReplayRequest, ReplayResult, decode, encode
from exchange.runtime._ops_agent import new_request
from exchange.settings import KafkaSettings
from exchange.topics import ops_topic

__all__ = ["OpsLedger", "OpsReader"]


@dataclass
class OpsLedger:
    """Everything read from the ops topics so far, by agency."""

    feeds: dict[tuple[str, str, str], FeedStatus] = field(default_factory=dict)
    previous_feeds: dict[tuple[str, str, str], FeedStatus] = field(default_factory=dict)
    rejects: dict[tuple[str, str], RejectNotice] = field(default_factory=dict)
    requests: dict[tuple[str, str], ReplayRequest] = field(default_factory=dict)
    results: dict[tuple[str, str], ReplayResult] = field(default_factory=dict)
    version: int = 0

    def apply(self, agency: str, value: bytes | None) -> None:
        message = decode(value)
        if isinstance(message, FeedStatus):
            key = (agency, message.adapter, message.instance)
            known = self.feeds.get(key)
            if known is not None and known.sent_at >= message.sent_at:
                return
            if known is not None:
                self.previous_feeds[key] = known
                if known.last_event_time and (message.last_event_time or 0) < known.last_event_time:
                    # a restarted instance starts its counters again; its last event did happen
                    message = dataclasses.replace(message, last_event_time=known.last_event_time)
            self.feeds[key] = message
        elif isinstance(message, RejectNotice):
            self.rejects[(agency, message.coordinate)] = message
        elif isinstance(message, ReplayRequest):
            self.requests[(agency, message.request_id)] = message
        elif isinstance(message, ReplayResult):
            self.results[(agency, message.request_id)] = message
        else:
            return
        self.version += 1


class OpsReader:
    """A thread that follows the ops topics of the agencies it is told about."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.ledger = OpsLedger()
        self.lock = threading.Lock()
        self._kafka = kafka
        self._assigned: set[str] = set()
        self._wanted: set[str] = set()
        self._partitions: dict[str, int] = {}
        self._stop = threading.Event()
        self._consumer: Any = None
        self._producer = Producer({**kafka.confluent_config(), "log_level": 0, "linger.ms": 0})
        self._thread = threading.Thread(target=self._run, name="ops-reader", daemon=True)

    def start(self) -> OpsReader:
        self._consumer = Consumer(
            {
                **self._kafka.confluent_config(),
                "log_level": 0,
                "group.id": self._kafka.scratch_group("monitor"),
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._producer.flush(5)

    def follow(self, agencies: Iterable[str], partitions: dict[str, int]) -> None:
        """Follow the ops topics of ``agencies`` (``partitions``: topic -> partition count)."""
        with self.lock:
            self._wanted = {ops_topic(a) for a in agencies if ops_topic(a) in partitions}
            self._partitions = dict(partitions)

    def request_replay(self, agency: str, adapter: str, entries: list[str]) -> ReplayRequest:
        """Ask the agency's adapter to replay ``entries``; the ledger shows it once it is on the topic."""
        request = new_request(adapter, entries)
        key, value = encode(request)
        errors: list[Any] = []
        self._producer.produce(ops_topic(agency), value, key, on_delivery=lambda err, _m: errors.append(err))
        if self._producer.flush(15) or not errors or errors[0] is not None:
            raise KafkaException(errors[0] if errors and errors[0] is not None else "not delivered in time")
        return request

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.lock:
                new = self._wanted - self._assigned
                sizes = dict(self._partitions)
            if new:
                self._consumer.incremental_assign(
                    [
                        TopicPartition(t, p, OFFSET_BEGINNING)
                        for t in sorted(new)
                        for p in range(sizes.get(t, 1))
                    ]
                )
                self._assigned |= new
            if not self._assigned:
                self._stop.wait(0.5)
                continue
            messages = self._consumer.consume(500, 0.5)
            good = [m for m in messages if m.error() is None]
            if good:
                with self.lock:
                    for message in good:
                        self.ledger.apply(_agency_of(str(message.topic())), message.value())
        self._consumer.close()


def _agency_of(topic: str) -> str:
    return topic.split(".")[1]
