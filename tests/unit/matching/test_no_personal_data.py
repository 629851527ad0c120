"""Nothing personal leaves the matching code through logs, metrics or exception messages."""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path

import pytest
import structlog
from matching_helpers import person
from prometheus_client import REGISTRY, generate_latest

from exchange.errors import MaisError
from exchange.logging import configure_logging
from exchange.matching import MatchIndex, PersonClusters, load_model, normalise, record_change

NAMES = ("Zebedee", "Quixworth", "9434765919", "MF3 1AB", "2015-03-04", "1 Zephyr Lane")


def test_matching_logs_and_metrics_carry_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as captured:
        clusters = PersonClusters()
        value = person(
            "X1", given="Zebedee", family="Quixworth", born=date(2015, 3, 4), nhs="9434765919",
            line1="1 Zephyr Lane", postcode="MF3 1AB",
        )  # fmt: skip
        events = [{"person": value, "subjectIdentifier": value["identifier"]}]
        for event in events:
            change = record_change("mais.v1.PersonRecorded", event, source="gp")
            assert change is not None
            clusters.apply(change)
        index = MatchIndex()
        index.add(normalise(value, source="gp"))
        candidates = index.query(normalise(value, source="police", key="p|1"))
        assert candidates and candidates[0].score.explain()
        explanation = candidates[0].score.explain()
    text = stream.getvalue() + caplog.text + repr(captured) + generate_latest(REGISTRY).decode()
    for secret in NAMES:
        assert secret not in text
        assert secret not in explanation


def test_error_messages_of_matching_carry_no_personal_data(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text('{"version": 1, "comparisons": [{"field": "Zebedee Quixworth 9434765919"}]}')
    with pytest.raises(MaisError) as caught:
        load_model(path)
    assert not any(s in caught.value.message + (caught.value.hint or "") for s in NAMES)
