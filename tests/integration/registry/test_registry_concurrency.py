"""Two registry instances on one topic, writing at once, never give one id to two schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

pytestmark = pytest.mark.integration

WRITERS_PER_INSTANCE = 4
SCHEMAS_PER_WRITER = 12


def distinct_schema(writer: int, n: int) -> str:
    name = f"W{writer}N{n}"
    return json.dumps({"type": "record", "name": name, "namespace": "uk.mais.c", "fields": []})


def lost_races(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    match = re.search(r"^mais_registry_write_lost_races_total ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_concurrent_writers_on_two_instances_never_share_an_id(
    start_registry: Callable[..., Any],
) -> None:
    a, b = start_registry(), start_registry()
    races_before = lost_races(a.url)
    # different record names per version: this test is about ids, not evolution rules
    SchemaRegistryClient({"url": a.url}).set_compatibility(level="NONE")
    shared = json.dumps({"type": "record", "name": "Shared", "namespace": "uk.mais.c", "fields": []})

    def writer(index: int) -> dict[str, int]:
        instance = (a, b)[index % 2]
        client = SchemaRegistryClient({"url": instance.url})
        got = {}
        for n in range(SCHEMAS_PER_WRITER):
            text = distinct_schema(index, n)
            got[text] = client.register_schema(f"w{index}-value", Schema(text, "AVRO"))
            # everyone also registers one common schema, each under its own subject
            if n == SCHEMAS_PER_WRITER // 2:
                got[f"shared-{index}"] = client.register_schema(f"shared{index}-value", Schema(shared))
        return got

    writers = 2 * WRITERS_PER_INSTANCE
    with ThreadPoolExecutor(max_workers=writers) as pool:
        results = list(pool.map(writer, range(writers)))

    distinct = {text: sid for result in results for text, sid in result.items() if text.startswith("{")}
    shared_ids = {sid for result in results for text, sid in result.items() if text.startswith("shared")}
    assert len(distinct) == writers * SCHEMAS_PER_WRITER
    assert len(set(distinct.values())) == len(distinct), "an id was given to two different schemas"
    assert len(shared_ids) == 1, "one schema got several ids"
    assert shared_ids.isdisjoint(distinct.values())

    # both instances serve the same schema for every id, and the same versions per subject
    for instance in (a, b):
        client = SchemaRegistryClient({"url": instance.url})
        for text, sid in distinct.items():
            assert json.loads(str(client.get_schema(sid).schema_str)) == json.loads(text)
    client_a = SchemaRegistryClient({"url": a.url})
    client_b = SchemaRegistryClient({"url": b.url})
    for index in range(writers):
        subject = f"w{index}-value"
        assert client_a.get_versions(subject) == list(range(1, SCHEMAS_PER_WRITER + 1))
        assert client_b.get_versions(subject) == client_a.get_versions(subject)
    # the instances did contend for log slots (both are in this process: one metric)
    assert lost_races(a.url) > races_before


def test_an_id_registered_on_one_instance_resolves_at_once_on_another(
    start_registry: Callable[..., Any],
) -> None:
    a, b = start_registry(), start_registry()
    writer = SchemaRegistryClient({"url": a.url})
    reader = SchemaRegistryClient({"url": b.url})
    for n in range(10):
        text = distinct_schema(99, n)
        sid = writer.register_schema(f"x{n}-value", Schema(text, "AVRO"))
        # no sleep: b catches up with the log when it does not know the id yet
        assert json.loads(str(reader.get_schema(sid).schema_str)) == json.loads(text)
        assert reader.get_latest_version(f"x{n}-value").schema_id == sid
