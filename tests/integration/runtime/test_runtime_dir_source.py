"""File drop → adapter → Kafka with a real broker and registry."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
import runtime_people_adapter as people
from runtime_it_helpers import people_lines, person_id, read_all, wait_for

from exchange.registry_client import SchemaRegistryClient
from exchange.runtime import DirectorySource, LoadedAdapter, RunOptions, StopSignal, run_adapter
from exchange.runtime._replay import read_dlq
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration


def _drop(directory: Path, name: str, lines: list[bytes]) -> None:
    temporary = directory / f".{name}.tmp"
    temporary.write_bytes(b"person_id,given,family,birth,nhs\n" + b"\n".join(lines) + b"\n")
    temporary.rename(directory / name)


def test_files_are_ingested_once_rejects_go_to_the_dlq_and_files_move_to_done(
    tmp_path: Path, kafka_bootstrap: str, schema_registry_url: str, agency: str
) -> None:
    options = RunOptions(
        adapter=LoadedAdapter(people.adapter, people.schemas.__getitem__),
        agency=agency,
        source=DirectorySource(tmp_path),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        registry=SchemaRegistryClient(schema_registry_url),
        instance_id="it",
        batch_size=250,
    )
    _drop(tmp_path, "a.csv", people_lines(1000, poison_every=100))
    _drop(tmp_path, "b.csv", people_lines(500, start=1000))
    (tmp_path / "c.csv.part").write_bytes(b"still being written")
    (tmp_path / "notes.txt").write_bytes(b"not for this adapter")
    (tmp_path / "blob.csv").write_bytes(b"\xff\xfe\x00binary")

    stop = StopSignal()
    thread = threading.Thread(target=run_adapter, args=(options, stop), daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(list((tmp_path / "done").glob("*"))) == 3, 90, "three files done")
        outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=1490)
    finally:
        stop.stop()
        thread.join(60)
    assert not thread.is_alive()
    ids = Counter(person_id(m) for m in outputs)
    assert len(outputs) == 1490
    assert max(ids.values()) == 1
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["a.csv", "b.csv", "blob.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv.part", "done", "notes.txt"]

    entries = read_dlq(options.kafka, agency)
    by_stage = Counter(e.stage for e in entries)
    assert by_stage == {"validate": 10, "parse": 1}
    unit = next(e for e in entries if e.unit)
    assert (unit.origin, unit.value) == ("blob.csv", b"\xff\xfe\x00binary")
    record = next(e for e in entries if not e.unit)
    assert record.origin.startswith("a.csv:")
    assert record.source == f"dir:{tmp_path}"
    assert b"/" in record.value  # the original line, with its dd/mm/yyyy date
