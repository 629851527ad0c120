"""``mais tail TOPIC``: print a topic's committed events, decoded, one JSON object per line.

Reads ``read_committed`` (only events of committed transactions), from the end by default or
from the beginning, decodes each value with the codec and the schema registry, and prints
``topic``, ``partition``, ``offset``, ``key``, the CloudEvents headers, ``schema_id`` and
``value``. A record that cannot be decoded prints one short error line on stderr (where it is
and why, never its content) and the tail goes on.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any, TextIO

import typer
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, TopicPartition

from exchange.cli._runtime_options import BootstrapOption, RegistryOption, kafka_settings, registry_client
from exchange.cli.translate import jsonable
from exchange.codec import AvroCodec
from exchange.errors import ConfigError, MaisError, PrerequisiteError
from exchange.registry_client import SchemaRegistry
from exchange.settings import KafkaSettings

__all__ = ["tail", "tail_topic"]


def tail(  # noqa: PLR0917 - a Typer command takes its options as parameters
    topic: Annotated[str, typer.Argument(help="Topic to follow, e.g. mais.leeds-cc.person.v1.")],
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the oldest event, not the newest.")
    ] = False,
    max_events: Annotated[
        int | None, typer.Option("--max", min=1, help="Stop after this many events.")
    ] = None,
    idle_timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds without an event.")
    ] = None,
    bootstrap_servers: BootstrapOption = None,
    registry_url: RegistryOption = None,
) -> None:
    """Print TOPIC's events as they arrive, decoded: one JSON object per line (Ctrl-C stops)."""
    registry = registry_client(registry_url)
    try:
        tail_topic(
            kafka_settings(bootstrap_servers),
            registry,
            topic,
            from_beginning=from_beginning,
            max_events=max_events,
            idle_timeout=idle_timeout,
        )
    except KeyboardInterrupt:
        pass
    finally:
        registry.close()


def tail_topic(
    kafka: KafkaSettings,
    registry: SchemaRegistry,
    topic: str,
    *,
    from_beginning: bool = False,
    max_events: int | None = None,
    idle_timeout: float | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Follow ``topic``; return how many events were printed."""
    out, err = out or sys.stdout, err or sys.stderr
    consumer = Consumer(
        {
            **kafka.confluent_config(),
            "group.id": kafka.scratch_group("tail"),
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    codec = AvroCodec(registry, auto_register=False)
    printed = 0
    try:
        partitions = _partitions(consumer, topic, err)
        start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        consumer.assign([TopicPartition(topic, p, start) for p in partitions])
        last = time.monotonic()
        while max_events is None or printed < max_events:
            message = consumer.poll(0.5)
            if message is None:
                if idle_timeout is not None and time.monotonic() - last > idle_timeout:
                    break
                continue
            if message.error() is not None:
                continue  # partition EOF and similar notices
            last = time.monotonic()
            line = _event_line(codec, message, err)
            if line is not None:
                out.write(line + "\n")
                out.flush()
                printed += 1
    finally:
        consumer.close()
    return printed


def _partitions(consumer: Consumer, topic: str, err: TextIO) -> list[int]:
    waiting = False
    while True:
        try:
            metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        except KafkaException as exc:
            raise PrerequisiteError(
                f"cannot reach Kafka ({exc.args[0].name()})",
                hint="start it with `mais dev up` or set MAIS_KAFKA_BOOTSTRAP_SERVERS",
            ) from None
        if metadata.error is None and metadata.partitions:
            return sorted(metadata.partitions)
        if metadata.error is not None and metadata.error.name() == "TOPIC_AUTHORIZATION_FAILED":
            raise ConfigError(f"not allowed to read {topic}", hint="ask for a read ACL on the topic")
        if not waiting:
            err.write(f"waiting for topic {topic} to exist …\n")
            waiting = True
        time.sleep(1)


def _event_line(codec: AvroCodec, message: Any, err: TextIO) -> str | None:
    where = f"{message.topic()}/{message.partition()}/{message.offset()}"
    value = message.value()
    if value is None:
        err.write(f"{where}: tombstone (no value)\n")
        return None
    try:
        decoded = codec.decode(value)
    except MaisError as exc:
        err.write(f"{where}: cannot decode: {exc.message}\n")
        return None
    key = message.key()
    headers = {
        name: raw.decode("utf-8", "replace")
        for name, raw in (message.headers() or [])
        if name.startswith("ce_") and raw is not None
    }
    event = {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": key.decode("utf-8", "replace") if key is not None else None,
        "headers": headers,
        "schema_id": decoded.schema_id,
        "value": jsonable(decoded.value),
    }
    return json.dumps(event, ensure_ascii=False)
