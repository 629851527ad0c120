from __future__ import annotations

from collections.abc import Sequence

import pytest
import runtime_people_adapter as people

from exchange.adapter import Adapter, AdapterContext, SourceRecord, StandardEvent
from exchange.codec import AvroCodec
from exchange.envelope import parse_headers
from exchange.errors import ConfigError, TransientError
from exchange.runtime import Identity, Pipeline, UnitResult
from exchange.runtime._dlq import DlqEntry, dlq_headers
from exchange.testing import InMemorySchemaRegistry

KEY_P1 = f"{people.PEOPLE_SYSTEM}|p1".encode()
GOOD = b"p1,Amelia,Okonkwo,2014-03-09,9434765919"
POISON = b"p2,Jack,Smith,09/03/2014,9434765920"


def _pipeline(adapter: Adapter = people.adapter, registry: InMemorySchemaRegistry | None = None) -> Pipeline:
    return Pipeline(
        adapter,
        AdapterContext(agency="leeds-cc", organisation_id="L1"),
        AvroCodec(registry or InMemorySchemaRegistry()),
        people.schemas.__getitem__,
        Identity(agency="leeds-cc", adapter="people_csv", source="dir:/drop", sharing_purpose="safeguarding"),
    )


def test_good_records_become_framed_events_with_envelopes() -> None:
    registry = InMemorySchemaRegistry()
    pipeline = _pipeline(registry=registry)
    result = pipeline.process_unit(b"person_id,given\n" + GOOD + b"\n", "people.csv")
    assert result.records == 1
    assert not result.rejects
    (out,) = result.outputs
    assert out.topic == "mais.leeds-cc.person.v1"
    assert out.key == KEY_P1
    decoded = AvroCodec(registry).decode(out.value)
    assert decoded.value["family_name"] == "Okonkwo"
    envelope = parse_headers(out.headers)
    assert envelope.type == people.SCHEMA_NAME
    assert envelope.source == "/mais/leeds-cc/adapters/people_csv"
    assert envelope.subject == KEY_P1.decode()
    assert envelope.sharing_purpose == "safeguarding"
    again = pipeline.process_unit(b"person_id,given\n" + GOOD + b"\n", "people.csv")
    assert parse_headers(again.outputs[0].headers).id == envelope.id  # same record, same event id


def test_rejects_are_tagged_by_stage_and_keep_the_original_bytes() -> None:
    data = b"\n".join([GOOD, POISON, b"p3,only,three", GOOD.replace(b"p1", b"p4")])
    result = _pipeline().process_unit(data, "people.csv")
    assert [out.key for out in result.outputs] == [KEY_P1, KEY_P1.replace(b"p1", b"p4")]
    assert [(r.stage, r.origin, r.data, r.unit) for r in result.rejects] == [
        ("validate", "people.csv:2", POISON, False),
        ("parse", "people.csv:3", b"p3,only,three", False),
    ]
    assert all("Smith" not in r.message and "2014" not in r.message for r in result.rejects)


def test_unsplittable_unit_is_rejected_whole() -> None:
    result = _pipeline().process_unit(b"\xff\xfe binary", "blob.csv")
    assert not result.outputs
    (reject,) = result.rejects
    assert (reject.stage, reject.unit, reject.data) == ("parse", True, b"\xff\xfe binary")


def _buggy(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    raise KeyError(record.data.decode())  # a library error quoting the record


def test_adapter_bugs_are_map_rejects_without_the_record_in_the_message() -> None:
    buggy = Adapter("buggy", "raises", people.split_lines, _buggy)
    (reject,) = _pipeline(buggy).process_unit(GOOD, "x.csv").rejects
    assert reject.stage == "map"
    assert reject.error_class == "KeyError"
    assert "Amelia" not in reject.message


def _wrong_shape(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    value = {"person_id": "p1", "given_name": "Amelia", "family_name": 7, "birth_date": 1}
    return [StandardEvent("person", "k|1", people.SCHEMA_NAME, value)]


def test_events_that_do_not_fit_their_schema_are_serialize_rejects() -> None:
    result = _pipeline(Adapter("shape", "wrong", people.split_lines, _wrong_shape)).process_unit(
        GOOD, "x.csv"
    )
    (reject,) = result.rejects
    assert reject.stage == "serialize"
    assert "family_name" in reject.message
    assert not result.outputs


class _DownRegistry(InMemorySchemaRegistry):
    def register(self, subject: str, schema: str) -> int:
        raise TransientError("registry unreachable")


def test_transient_failures_propagate_for_a_retry() -> None:
    with pytest.raises(TransientError):
        _pipeline(registry=_DownRegistry()).process_record(SourceRecord(GOOD, "x:1"), None, UnitResult())


class _RefusingRegistry(InMemorySchemaRegistry):
    def register(self, subject: str, schema: str) -> int:
        raise ConfigError("schema registry refused POST /subjects/x/versions: 403", hint="check permissions")


def test_a_registry_refusal_stops_the_adapter_instead_of_rejecting_every_record() -> None:
    with pytest.raises(ConfigError, match="403"):
        _pipeline(registry=_RefusingRegistry()).process_unit(GOOD + b"\n" + GOOD, "x.csv")


def _config_refusal(record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]:
    raise ConfigError("this adapter needs a three-digit LA number", hint="pass --organisation-id 202")


def test_a_config_error_from_adapter_code_is_not_a_record_reject() -> None:
    adapter = Adapter("needs-la", "refuses", people.split_lines, _config_refusal)
    with pytest.raises(ConfigError, match="three-digit"):
        _pipeline(adapter).process_unit(GOOD, "x.csv")


@pytest.mark.parametrize(
    "header",
    [b"{3f2a-11}", b"abc\n", b"x" * 300, b"with space", b"\xff\xfe", b"abc\r\n"],
    ids=["braces", "trailing-newline", "too-long", "space", "not-utf8", "crlf"],
)
def test_an_unusual_upstream_correlation_id_falls_back_to_the_derived_one(header: bytes) -> None:
    pipeline = _pipeline()
    plain = pipeline.process_unit(GOOD, "x.csv")
    odd = pipeline.process_unit(GOOD, "x.csv", [("ce_correlationid", header), ("ce_id", b"up-1")])
    assert not odd.rejects
    (out,) = odd.outputs
    assert parse_headers(out.headers).correlation_id == parse_headers(plain.outputs[0].headers).correlation_id


def test_a_valid_upstream_correlation_id_is_carried_on() -> None:
    result = _pipeline().process_unit(GOOD, "x.csv", [("ce_correlationid", b"enquiry-42:a/b")])
    assert parse_headers(result.outputs[0].headers).correlation_id == "enquiry-42:a/b"


def test_dlq_headers_round_trip() -> None:
    (reject,) = _pipeline().process_unit(POISON, "people.csv").rejects
    headers = dlq_headers(
        reject,
        adapter="people_csv",
        agency="leeds-cc",
        source="kafka:raw",
        original_headers=[("traceparent", b"00-1"), ("mais_dlq_stage", b"old")],
        kafka_coordinates=("raw", 2, 41),
        replays=1,
    )
    entry = DlqEntry.from_message(0, 7, b"k", reject.data, headers)
    assert (entry.stage, entry.adapter, entry.source, entry.origin) == (
        "validate", "people_csv", "kafka:raw", "people.csv:1",
    )  # fmt: skip
    assert entry.kafka_coordinates == ("raw", 2, 41)
    assert entry.replays == 1
    assert entry.original_headers == (("traceparent", b"00-1"),)
    assert entry.value == POISON
    assert entry.coordinate == "0:7"
