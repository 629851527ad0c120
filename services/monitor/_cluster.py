"""What the monitor learns from the cluster with describe rights only: topics, offsets, lag, health.

One refresh lists topics (partitions, replicas, in-sync replicas), the end offset and newest record
timestamp of each agency topic, and the committed offsets of every consumer group under ``mais.``
that has any. Nothing here fetches a record.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from exchange.settings import KafkaSettings
from services.monitor._lag import EndOffsetHistory

__all__ = ["ClusterSnapshot", "ClusterWatcher", "GroupLag", "TopicState"]

AGENCY_TOPIC = re.compile(r"^mais\.(?P<agency>[a-z][a-z0-9-]{1,38}[a-z0-9])\.(?P<kind>[a-z-]+)\.v\d+$")


@dataclass
class TopicState:
    topic: str
    agency: str
    kind: str
    partitions: int
    end_offset: int
    last_event_time: float | None
    events_per_s: float
    under_replicated: int


@dataclass
class GroupLag:
    group: str
    topic: str
    agency: str
    lag_records: int
    lag_seconds: float
    lag_seconds_lower_bound: bool
    members: int
    state: str


@dataclass
class ClusterSnapshot:
    at: float = 0.0
    ok: bool = False
    error: str = ""
    cluster_id: str = ""
    brokers: int = 0
    controller: int | None = None
    under_replicated: int = 0
    offline_partitions: int = 0
    agencies: list[str] = field(default_factory=list)
    topics: list[TopicState] = field(default_factory=list)
    lag: list[GroupLag] = field(default_factory=list)


class ClusterWatcher:
    def __init__(self, kafka: KafkaSettings, *, timeout_s: float = 10.0) -> None:
        self._admin = AdminClient({**kafka.confluent_config(), "log_level": 0})
        self._timeout = timeout_s
        self._history: dict[tuple[str, int], EndOffsetHistory] = {}
        self._previous: dict[str, tuple[float, int]] = {}

    def refresh(self) -> ClusterSnapshot:
        try:
            return self._refresh()
        except KafkaException as exc:
            return ClusterSnapshot(at=time.time(), ok=False, error=exc.args[0].name())

    def _refresh(self) -> ClusterSnapshot:
        now = time.time()
        metadata = self._admin.list_topics(timeout=self._timeout)
        described = self._admin.describe_cluster(request_timeout=self._timeout).result()
        snap = ClusterSnapshot(
            at=now,
            ok=True,
            cluster_id=described.cluster_id or "",
            brokers=len(metadata.brokers),
            controller=described.controller.id if described.controller is not None else None,
        )
        ours = {
            name: t for name, t in metadata.topics.items() if AGENCY_TOPIC.match(name) and t.error is None
        }
        partitions = [TopicPartition(name, p) for name, t in ours.items() for p in t.partitions]
        ends = self._offsets(partitions, OffsetSpec.latest())  # type: ignore[no-untyped-call]
        newest = self._offsets(partitions, OffsetSpec.max_timestamp(), timestamps=True)  # type: ignore[no-untyped-call]
        for key, end in ends.items():
            self._history.setdefault(key, EndOffsetHistory()).record(now, end)
        agencies = set()
        for name, topic in sorted(ours.items()):
            match = AGENCY_TOPIC.match(name)
            assert match is not None  # noqa: S101 - filtered above
            agencies.add(match["agency"])
            under = sum(1 for p in topic.partitions.values() if len(p.isrs) < len(p.replicas))
            offline = sum(1 for p in topic.partitions.values() if p.leader < 0)
            snap.under_replicated += under
            snap.offline_partitions += offline
            total = sum(ends.get((name, p), 0) for p in topic.partitions)
            stamps = [newest[(name, p)] for p in topic.partitions if newest.get((name, p), -1) > 0]
            snap.topics.append(
                TopicState(
                    topic=name,
                    agency=match["agency"],
                    kind=match["kind"],
                    partitions=len(topic.partitions),
                    end_offset=total,
                    last_event_time=max(stamps) / 1000 if stamps else None,
                    events_per_s=self._rate(name, now, total),
                    under_replicated=under,
                )
            )
        snap.agencies = sorted(agencies)
        snap.lag = self._lags(now, ends)
        return snap

    def _rate(self, topic: str, now: float, total: int) -> float:
        """Offsets per second since the previous refresh (transaction markers count too)."""
        previous = self._previous.get(topic)
        self._previous[topic] = (now, total)
        if previous is None or now <= previous[0]:
            return 0.0
        return max(0.0, (total - previous[1]) / (now - previous[0]))

    def _offsets(
        self, partitions: list[TopicPartition], spec: Any, *, timestamps: bool = False
    ) -> dict[tuple[str, int], int]:
        if not partitions:
            return {}
        futures = self._admin.list_offsets({tp: spec for tp in partitions}, request_timeout=self._timeout)
        found: dict[tuple[str, int], int] = {}
        for tp, future in futures.items():
            try:
                info = future.result(self._timeout)
            except KafkaException:
                continue
            found[(tp.topic, tp.partition)] = int(info.timestamp if timestamps else info.offset)
        return found

    def _lags(self, now: float, ends: dict[tuple[str, int], int]) -> list[GroupLag]:
        listed = self._admin.list_consumer_groups(request_timeout=self._timeout).result()
        names = sorted(g.group_id for g in listed.valid if g.group_id.startswith("mais."))
        if not names:
            return []
        described = self._admin.describe_consumer_groups(names, request_timeout=self._timeout)
        lags: list[GroupLag] = []
        for name in names:
            try:
                offsets = self._admin.list_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(name)], request_timeout=self._timeout
                )[name].result(self._timeout)
                group = described[name].result(self._timeout)
            except KafkaException:
                continue
            by_topic: dict[str, list[TopicPartition]] = {}
            for tp in offsets.topic_partitions or []:
                if tp.offset >= 0 and (tp.topic, tp.partition) in ends:
                    by_topic.setdefault(tp.topic, []).append(tp)
            for topic, tps in sorted(by_topic.items()):
                records = sum(max(0, ends[(topic, tp.partition)] - tp.offset) for tp in tps)
                times = [self._history[(topic, tp.partition)].lag(tp.offset, now) for tp in tps]
                worst = max(times, key=lambda t: t.seconds)
                match = AGENCY_TOPIC.match(topic)
                lags.append(
                    GroupLag(
                        group=name,
                        topic=topic,
                        agency=match["agency"] if match else "",
                        lag_records=records,
                        lag_seconds=round(worst.seconds, 1),
                        lag_seconds_lower_bound=worst.lower_bound,
                        members=len(group.members),
                        state=str(group.state).rsplit(".", 1)[-1],
                    )
                )
        return lags
