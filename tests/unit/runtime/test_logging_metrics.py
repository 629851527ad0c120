from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import pytest
import structlog

from exchange.errors import DataError
from exchange.logging import configure_logging, get_logger, scrub
from exchange.metrics import HealthState, MetricsServer, RuntimeMetrics

NAME = "Amelia Okonkwo-Smith"
NHS = "943 476 5919"
NHS_PLAIN = "9434765919"
DOB = "2014-03-09"


@pytest.fixture
def log_lines() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    yield stream
    structlog.reset_defaults()


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_personal_data_never_reaches_the_log(log_lines: io.StringIO) -> None:
    log = get_logger("test")
    log.info("record translated", adapter="csv", given_name=NAME, nhs_number=NHS, birth_date=DOB)
    log.info("record translated", adapter="csv", person={"name": NAME, "nhs": int(NHS_PLAIN)})
    log.warning(f"bad row for {NAME} born {DOB} nhs {NHS}", origin=f"people.csv:3 {NHS_PLAIN}")
    log.info("counted", records=12, offset=NHS_PLAIN, stage="map")  # even under a safe key
    text = log_lines.getvalue()
    for secret in (NHS, NHS_PLAIN, DOB, "Okonkwo"):
        assert secret not in text
    records = _records(log_lines)
    assert records[0]["adapter"] == "csv"
    assert records[0]["given_name"] == "[redacted]"
    assert records[3]["records"] == 12
    assert records[3]["stage"] == "map"


def test_library_exception_messages_are_dropped_but_ours_kept(log_lines: io.StringIO) -> None:
    log = get_logger("test")
    try:
        raise ValueError(f"{NAME} is not a valid date of birth {DOB}")
    except ValueError:
        log.exception("translate failed", adapter="csv")
    try:
        raise DataError("field 'birthDate' at line 4 is not a date", stage="parse", hint="fix the export")
    except DataError:
        log.exception("translate failed", adapter="csv")
    text = log_lines.getvalue()
    assert "Okonkwo" not in text
    assert DOB not in text
    first, second = _records(log_lines)
    assert first["error_class"] == "ValueError"
    assert "test_logging_metrics.py" in str(first["exception"])
    assert second["error"] == "field 'birthDate' at line 4 is not a date"
    assert second["hint"] == "fix the export"


def test_scrub_keeps_coordinates() -> None:
    assert scrub("people.csv:12") == "people.csv:12"
    assert scrub("mais.leeds-cc.person.v1/0/1234") == "mais.leeds-cc.person.v1/0/1234"
    assert "LS1 4AP" not in scrub("lives at LS1 4AP")
    assert "someone@example.org" not in scrub("mail someone@example.org")


def test_metrics_labels_refuse_record_values() -> None:
    metrics = RuntimeMetrics("csv_people", "leeds-cc")
    metrics.records_in("mais.leeds-cc.raw")
    metrics.rejected("map")
    with pytest.raises(ValueError):
        metrics.records_out(NAME)
    with pytest.raises(ValueError):
        metrics.rejected("typo")
    text = metrics.exposition().decode()
    assert (
        'mais_records_in_total{adapter="csv-people",agency="leeds-cc",topic="mais.leeds-cc.raw"} 1.0' in text
    )
    assert 'mais_records_rejected_total{adapter="csv-people",agency="leeds-cc",stage="map"} 1.0' in text


def test_metrics_server_serves_metrics_and_health() -> None:
    metrics = RuntimeMetrics("csv", "leeds-cc")
    metrics.observe_latency(0.02)
    health = HealthState()
    server = MetricsServer(metrics, health, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with urllib.request.urlopen(f"{base}/metrics") as response:  # noqa: S310 - loopback
            assert b"mais_processing_latency_seconds_bucket" in response.read()
        with urllib.request.urlopen(f"{base}/healthz") as response:  # noqa: S310
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{base}/readyz")  # noqa: S310
        assert caught.value.code == 503
        health.set(ready=True, reason="partitions assigned")
        with urllib.request.urlopen(f"{base}/readyz") as response:  # noqa: S310
            assert response.read() == b"ready: partitions assigned\n"
    finally:
        server.stop()


def test_names_formatted_into_messages_are_hidden(log_lines: io.StringIO) -> None:
    log = get_logger("test")
    log.info("Kafka transaction committed for Seán O'Brien and Amelia Okonkwo-Smith via DLQ")
    event = _records(log_lines)[0]["event"]
    assert event == "Kafka transaction committed for [redacted] [redacted] and [redacted] [redacted] via DLQ"
