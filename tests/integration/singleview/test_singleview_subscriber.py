"""The SingleView against a real broker and registry: ingest, search, view, audit, FHIR, DLQ."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from conftest import S47, RunningSingleView

from exchange.codec import AvroCodec, topic_record_name_strategy
from exchange.envelope import parse_headers
from exchange.registry_client import SchemaRegistryClient
from services.singleview.testing import Publisher, SampleEvent

pytestmark = pytest.mark.integration


def _for(events: list[SampleEvent], sv: RunningSingleView) -> list[SampleEvent]:
    return [e.for_agency(sv.agency(e.agency)) for e in events]


def _read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 30) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"read-{topic}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(found) < expect and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            found.append(message)
    consumer.close()
    return found


def test_ingest_search_view_audit_and_fhir(
    singleview: Callable[..., RunningSingleView],
    publisher: Publisher,
    samples: tuple[Path, list[SampleEvent]],
    kafka_bootstrap: str,
    schema_registry_url: str,
) -> None:
    sv = singleview()
    _, events = samples
    publisher.publish(_for(events, sv))
    persons = {e.key for e in events if e.schema == "mais.v1.PersonRecorded"}
    retired = {
        f"{i['system']}|{i['value']}"
        for e in events
        if e.schema == "mais.v1.PersonsMerged"
        for i in e.value["mergedIdentifier"]
    }
    sv.wait_for(lambda: sv.count("SELECT COUNT(*) FROM sv_person_record") == len(persons - retired))
    sv.wait_for(lambda: sv.count("SELECT COALESCE(SUM(next_offset), 0) FROM sv_offset") == len(events))

    # a child known to the GP (by NHS number) is found by NHS number with grade 0.99
    gp = next(
        e
        for e in events
        if e.agency == "gp"
        and any(i["system"].endswith("nhs-number") for i in e.value["person"]["identifier"])
    )
    nhs = next(i["value"] for i in gp.value["person"]["identifier"] if i["system"].endswith("nhs-number"))
    with sv.client() as client:
        assert client.get("/api/search", params={"identifier": nhs}).status_code == 400  # no purpose
        found = client.get("/api/search", params={"identifier": nhs, "purpose": S47}).json()
        assert found["people"][0]["grade"] == 0.99
        person_id = found["people"][0]["person_id"]
        view = client.get(
            f"/api/people/{person_id}", params={"purpose": S47, "search": found["search"]}
        ).json()
        agencies = {a["agency"] for a in view["agencies"]}
        assert sv.agency("gp") in agencies
        assert all(a["contact"]["telephone"] for a in view["agencies"])
        for agency in view["agencies"]:
            for record in agency["records"]:
                assert record["why_linked"]["rule"]
        bundle = client.get(f"/api/people/{person_id}/fhir", params={"purpose": S47}).json()
        kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
        assert "Patient" in kinds
        assert len([k for k in bundle["entry"] if k["resource"]["resourceType"] == "Patient"]) == len(
            view["record_keys"]
        )
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")
        assert client.get("/readyz").status_code == 200
        metrics = client.get("/metrics").text
        assert "mais_singleview_events_applied_total" in metrics
        unauthenticated = client.get("/api/search", params={"identifier": nhs, "purpose": S47}, auth=None)
    assert unauthenticated.status_code == 401

    # the search and both views are on the audit topic, with user, purpose and record keys
    audit = _read_topic(kafka_bootstrap, sv.audit_topic, expect=3)
    codec = AvroCodec(SchemaRegistryClient(schema_registry_url))
    entries = [(parse_headers(m.headers()), codec.decode(m.value()).value) for m in audit]
    assert [e["activity"] for _, e in entries] == ["REQUEST_RECEIVED", "RESPONSE_SENT", "RESPONSE_SENT"]
    for envelope, entry in entries:
        assert envelope.sharing_purpose == S47
        assert entry["agent"]["value"] == "practitioner"
    viewed = {f"{i['system']}|{i['value']}" for i in entries[1][1]["subjectIdentifier"]}
    assert viewed == set(view["record_keys"])
    assert entries[1][1]["requestIdentifier"]["value"] == found["search"]


def test_new_agency_topics_and_newer_writer_schema_are_picked_up_live(
    singleview: Callable[..., RunningSingleView], publisher: Publisher, samples: tuple[Path, list[SampleEvent]],
    kafka_bootstrap: str, schema_registry_url: str,
) -> None:  # fmt: skip
    sv = singleview()
    _, events = samples
    first = [e for e in events if e.agency == "gp"][:5]
    publisher.publish(_for(first, sv))
    sv.wait_for(lambda: sv.count("SELECT COUNT(*) FROM sv_person_record") == 5)

    # an agency that did not exist when the SingleView started, writing with a newer schema
    agency = sv.agency("newcomer")
    topic = f"mais.{agency}.person.v1"
    from exchange.schemas import schema_json  # noqa: PLC0415

    newer = json.loads(schema_json("mais.v1.PersonRecorded"))
    newer["fields"].append({"name": "note", "type": ["null", "string"], "default": None})
    codec = AvroCodec(SchemaRegistryClient(schema_registry_url), subject_strategy=topic_record_name_strategy)
    record = next(e for e in events if e.agency == "school" and e.schema == "mais.v1.PersonRecorded")
    value = codec.encode(topic, json.dumps(newer), {**record.value, "note": "written by a newer adapter"})
    from datetime import UTC, datetime  # noqa: PLC0415

    from exchange.envelope import Envelope, build_headers  # noqa: PLC0415

    headers = build_headers(
        Envelope(id="n-1", source="/mais/newcomer", type="mais.v1.PersonRecorded", time=datetime.now(UTC))
    )
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, value=value, key=record.key.encode(), headers=headers)
    producer.produce(topic, value=b"not avro at all", key=b"bad|1", headers=headers)  # -> DLQ, stream goes on
    producer.flush(10)
    sv.wait_for(lambda: sv.count(f"SELECT COUNT(*) FROM sv_person_record WHERE agency = '{agency}'") == 1)
    dlq = _read_topic(kafka_bootstrap, sv.view.settings.dlq_topic, expect=1)
    assert dlq[0].value() == b"not avro at all"
    assert dict(dlq[0].headers())["mais_dlq_stage"] == b"read"
    sv.wait_for(lambda: sv.count(f"SELECT next_offset FROM sv_offset WHERE topic = '{topic}'") == 2)


def test_readyz_says_so_when_the_reading_process_dies(singleview: Callable[..., RunningSingleView]) -> None:
    sv = singleview()
    with sv.client() as client:
        sv.wait_for(lambda: client.get("/readyz").status_code == 200)
        readers = [p for p in multiprocessing.active_children() if p.name == "singleview-reader"]
        assert len(readers) == 1
        os.kill(readers[0].pid or 0, signal.SIGKILL)
        sv.wait_for(lambda: client.get("/readyz").status_code == 503, timeout=15)
        assert "subscriber stopped" in client.get("/readyz").text
    assert sv.view.subscriber is not None and "reading process stopped" in str(sv.view.subscriber.failure)
