"""A module-level logger is made at import, before ``configure_logging`` runs: it must still be
redacted and written where the configuration says."""

from __future__ import annotations

import io
import json

from exchange.logging import configure_logging, get_logger


def test_a_logger_made_before_configure_logging_is_redacted_and_configured() -> None:
    made_at_import = get_logger("mais.test.early")
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        made_at_import.warning("record rejected", given_name="Zebedee", topic="mais.gp.person.v1")
        made_at_import.bind(nhs_number="9434765919").info("bound later")
    finally:
        configure_logging()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["record rejected", "bound later"]
    assert lines[0]["logger"] == "mais.test.early" and lines[0]["topic"] == "mais.gp.person.v1"
    assert "Zebedee" not in stream.getvalue() and "9434765919" not in stream.getvalue()
