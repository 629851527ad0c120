"""Pattern checks match the whole value: a trailing newline (which ``$`` lets through) is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exchange.envelope import Envelope, is_token
from exchange.errors import ConfigError
from exchange.metrics import RuntimeMetrics
from exchange.runtime import parse_source
from exchange.runtime._push import IDEMPOTENCY_KEY
from exchange.topics import validate_agency


def test_idempotency_keys_with_a_trailing_newline_are_refused() -> None:
    assert IDEMPOTENCY_KEY.fullmatch("export-2026-11-25-a")
    assert not IDEMPOTENCY_KEY.fullmatch("export-2026-11-25-a\n")


def test_envelope_tokens_with_a_trailing_newline_are_refused() -> None:
    assert is_token("safeguarding")
    assert not is_token("safeguarding\n")
    with pytest.raises(ValueError, match="short token"):
        Envelope(id="1", source="/s", type="t", time=datetime.now(UTC), correlation_id="abc\n")


@pytest.mark.parametrize("value", ["leeds-cc\n", "kafka:raw.adt\n", "http:127.0.0.1:8080\n"])
def test_agency_and_source_values_with_a_trailing_newline_are_refused(value: str) -> None:
    with pytest.raises(ConfigError):
        if value.startswith(("kafka:", "http:")):
            parse_source(value)
        else:
            validate_agency(value)


def test_metric_labels_with_a_trailing_newline_are_refused() -> None:
    with pytest.raises(ValueError, match="label"):
        RuntimeMetrics("people\n", "leeds-cc")
