"""Which partitions the subscriber should read: the topic list, read again on a thread of its own.

Reading the topic list is a broker round trip (tens of milliseconds on a busy machine). Done on the
ingest loop every ``metadata_refresh_ms`` it stalled ingest; here a daemon thread reads it with its
own admin client and the loop only compares the latest answer with what it has assigned.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from exchange.logging import get_logger

__all__ = ["TopicWatcher"]

_log = get_logger("mais.singleview.topics")


class TopicWatcher:
    """The partitions of every topic matching ``pattern``, refreshed every ``refresh_s`` seconds."""

    def __init__(self, config: dict[str, Any], pattern: re.Pattern[str], refresh_s: float) -> None:
        self._admin = AdminClient(config)
        self._pattern, self._refresh_s = pattern, refresh_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="singleview-topics", daemon=True)
        self.partitions: frozenset[tuple[str, int]] = frozenset()
        """The latest answer (replaced whole, so any thread may read it)."""

    def start(self, consumer: Any) -> TopicWatcher:
        """Read the topic list once now, then keep reading it.

        The first read goes through the ingest ``consumer`` itself: that also connects it and
        fetches its metadata, so its first poll finds messages instead of timing out empty.
        """
        self.refresh(consumer)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    def refresh(self, client: Any = None) -> None:
        """Read the topic list now (through ``client`` if given, else this watcher's admin client)."""
        try:
            topics = (client or self._admin).list_topics(timeout=10).topics
        except KafkaException as exc:
            _log.warning("cannot list topics; trying again later", error_class=type(exc).__name__)
            return
        self.partitions = frozenset(
            (name, partition)
            for name, topic in topics.items()
            if self._pattern.match(name) and topic.error is None
            for partition in topic.partitions
        )

    def _run(self) -> None:
        while not self._stop.wait(self._refresh_s):
            self.refresh()
