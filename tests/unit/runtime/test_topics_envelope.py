from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from exchange.envelope import Envelope, build_headers, deterministic_event_id, parse_headers
from exchange.errors import ConfigError, DataError
from exchange.topics import dlq_topic, entity_topic, progress_topic, validate_agency


def test_topic_names_follow_the_agency_convention() -> None:
    assert entity_topic("leeds-cc", "person") == "mais.leeds-cc.person.v1"
    assert entity_topic("leeds-cc", "episode") == "mais.leeds-cc.episode.v1"
    assert dlq_topic("nhs-rr8") == "mais.nhs-rr8.dlq.v1"
    assert progress_topic("nhs-rr8") == "mais.nhs-rr8.progress.v1"


@pytest.mark.parametrize(
    "agency", ["", "ab", "Leeds", "leeds.cc", "leeds cc", "-leeds", "leeds-", "9lbc", "a" * 41]
)
def test_invalid_agency_ids_are_usage_errors(agency: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_agency(agency)
    assert caught.value.hint


def test_unknown_entity_is_a_usage_error() -> None:
    with pytest.raises(ConfigError):
        entity_topic("leeds-cc", "people")


def _envelope(**changes: object) -> Envelope:
    fields: dict[str, object] = {
        "id": "1c0a",
        "source": "/mais/leeds-cc/adapters/csv",
        "type": "mais.v1.PersonRecorded",
        "time": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "subject": "urn:leeds:mosaic|P123",
        "sharing_purpose": "safeguarding",
        "legal_basis": "uk-gdpr-6-1-e",
        "correlation_id": "c-42",
    }
    fields.update(changes)
    return Envelope(**fields)  # type: ignore[arg-type]


def test_headers_round_trip() -> None:
    envelope = _envelope()
    headers = build_headers(envelope)
    names = [name for name, _ in headers]
    for required in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"):
        assert required in names
    assert dict(headers)["ce_time"] == b"2026-01-02T03:04:05.678Z"
    assert dict(headers)["ce_sharingpurpose"] == b"safeguarding"
    assert parse_headers(headers) == envelope


def test_time_is_written_in_utc() -> None:
    local = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    assert dict(build_headers(_envelope(time=local)))["ce_time"] == b"2026-06-01T11:00:00.000Z"


def test_optional_attributes_are_left_out() -> None:
    headers = build_headers(
        _envelope(subject=None, sharing_purpose=None, legal_basis=None, correlation_id=None)
    )
    assert {name for name, _ in headers} == {
        "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type",
    }  # fmt: skip


def test_unknown_headers_are_ignored() -> None:
    headers = [*build_headers(_envelope()), ("traceparent", b"00-abc"), ("x-null", None)]
    assert parse_headers(headers).id == "1c0a"


@pytest.mark.parametrize(
    ("drop", "replace"),
    [
        ("ce_specversion", None),
        ("ce_id", None),
        ("ce_time", None),
        (None, ("ce_specversion", b"0.3")),
        (None, ("ce_time", b"yesterday")),
        (None, ("ce_time", b"2026-01-02T03:04:05")),
        (None, ("ce_source", b"\xff\xfe")),
        (None, ("ce_correlationid", b"has spaces in it")),
    ],
)
def test_bad_headers_are_read_errors(drop: str | None, replace: tuple[str, bytes] | None) -> None:
    headers = [(n, v) for n, v in build_headers(_envelope()) if n != drop]
    if replace is not None:
        headers = [(n, v) for n, v in headers if n != replace[0]] + [replace]
    with pytest.raises(DataError) as caught:
        parse_headers(headers)
    assert caught.value.stage == "read"


def test_missing_headers_are_read_errors() -> None:
    with pytest.raises(DataError):
        parse_headers(None)


def test_envelope_refuses_naive_time_and_empty_ids() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _envelope(time=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="'id'"):
        _envelope(id="")


def test_event_ids_are_deterministic_per_source_record() -> None:
    first = deterministic_event_id("kafka:in", "in/0/7", b"row", 0)
    assert first == deterministic_event_id("kafka:in", "in/0/7", b"row", 0)
    assert first != deterministic_event_id("kafka:in", "in/0/7", b"row", 1)
    assert first != deterministic_event_id("kafka:in", "in/0/8", b"row", 0)
    assert first != deterministic_event_id("kafka:in", "in/0/7", b"other", 0)
