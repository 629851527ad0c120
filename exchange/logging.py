"""Structured JSON logs that never carry personal data.

:func:`configure_logging` sets structlog up to write one JSON object per line. Its
:func:`redact_personal_data` processor works by allow-list, because names and free text cannot be
recognised by pattern:

* a value is kept only under a key in :data:`SAFE_KEYS` (coordinates, counts, stages, adapter
  and topic names); under any other key it becomes ``"[redacted]"`` (booleans and ``None``
  excepted) — a number may be an NHS number as well as a count;
* the event message should be a constant; in case a name was formatted into it, every
  capitalised word after the first (bar a few product names) is hidden;
* every kept string is still scrubbed of anything shaped like an NHS number, a date, a UK
  postcode, an e-mail address or a phone number;
* an exception is reduced to its class name, the message of our own errors (which by rule carry
  no personal data) and the file/line/function of each frame — never another library's message,
  which may quote the record.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from exchange.errors import MaisError

__all__ = ["SAFE_KEYS", "configure_logging", "get_logger", "redact_personal_data", "scrub"]

REDACTED = "[redacted]"

SAFE_KEYS: frozenset[str] = frozenset(
    {
        "event", "level", "timestamp", "logger",
        "adapter", "agency", "stage", "source", "topic", "partition", "offset", "origin",
        "error_class", "error", "hint", "exception", "warning_code",
        "count", "records", "rejected", "produced", "batch", "attempt", "delay_s", "duration_ms",
        "instance", "group", "transactional_id", "port", "path", "file", "state", "schema",
        "subject_strategy", "schema_id", "size", "lag", "events",
        "reason", "listener", "peer", "sender",
    }
)  # fmt: skip
"""Keys whose string values may appear in logs (after scrubbing)."""

_PATTERNS = [
    re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"),  # NHS number (and other 10-digit identifiers)
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b"),  # ISO date / time
    re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"),  # dd/mm/yyyy
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE),  # UK postcode
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),  # e-mail
    re.compile(r"\+?\d[\d ]{8,}\d"),  # long digit runs: phone numbers, other identifiers
]
_TIMESTAMP_KEYS = frozenset({"timestamp"})
_CAPITALISED = re.compile("(?<!^)(?<![\\w.])[A-Z][\\w'\u2019-]*")
_PROPER_NOUNS = frozenset(
    {"Kafka", "Avro", "CloudEvents", "Prometheus", "Confluent", "SIGTERM", "SIGINT", "DLQ", "HTTP"}
    | {"MLLP", "HL7", "CSV", "XML", "FHIR", "JSON", "ID", "EOF", "TCP", "OK", "TLS"}
)


def _scrub_message(text: str) -> str:
    """Scrub an event message; also hide capitalised words after the first (they may be names)."""
    text = _CAPITALISED.sub(lambda m: m.group(0) if m.group(0) in _PROPER_NOUNS else REDACTED, text)
    return scrub(text)


def scrub(text: str) -> str:
    """Replace anything shaped like an identifier, date, postcode, e-mail or phone number."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _clean_text(key: str, value: str) -> str:
    if key in _TIMESTAMP_KEYS:
        return value
    return _scrub_message(value) if key == "event" else scrub(value)


def _clean(key: str, value: Any, safe_keys: frozenset[str]) -> Any:
    if value is None or isinstance(value, bool) or (key in safe_keys and isinstance(value, int | float)):
        return value
    if key not in safe_keys:
        return REDACTED
    if isinstance(value, str):
        return _clean_text(key, value)
    if isinstance(value, Mapping):
        return {str(k): _clean(str(k), v, safe_keys) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(key, item, safe_keys) for item in value]
    return REDACTED


def _describe_exception(exc: BaseException) -> dict[str, Any]:
    frames = [
        f"{frame.filename}:{frame.lineno}:{frame.name}" for frame in traceback.extract_tb(exc.__traceback__)
    ]
    described: dict[str, Any] = {"error_class": type(exc).__name__, "exception": " <- ".join(frames[-8:])}
    if isinstance(exc, MaisError):
        described["error"] = exc.message
        if exc.hint:
            described["hint"] = exc.hint
    return described


def make_redactor(extra_safe_keys: Iterable[str] = ()) -> structlog.types.Processor:
    """A redacting processor that also allows ``extra_safe_keys``."""
    safe_keys = SAFE_KEYS | frozenset(extra_safe_keys)

    def redactor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
        exc_info = event_dict.pop("exc_info", None)
        exc: BaseException | None = None
        if isinstance(exc_info, BaseException):
            exc = exc_info
        elif exc_info is True or isinstance(exc_info, tuple):
            exc = sys.exc_info()[1] if exc_info is True else exc_info[1]
        if exc is not None:
            event_dict.update(_describe_exception(exc))
        return {key: _clean(key, value, safe_keys) for key, value in event_dict.items()}

    return redactor


redact_personal_data = make_redactor()
"""The default redacting processor (see the module documentation)."""


def configure_logging(
    level: str = "INFO", *, stream: TextIO | None = None, extra_safe_keys: Iterable[str] = ()
) -> None:
    """Send structlog output as JSON lines to ``stream`` (stderr by default), redacted."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            make_redactor(extra_safe_keys),
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=stream) if stream else _current_stderr,
        cache_logger_on_first_use=False,
    )


def _current_stderr(*args: Any) -> structlog.PrintLogger:
    """Write to whatever ``sys.stderr`` is when logging (test runners swap it for a while)."""
    return structlog.PrintLogger(file=sys.stderr)


class _Logger:
    """A logger that binds ``logger=name`` on the configuration of the moment, at every call.

    A module-level logger is made at import, often before :func:`configure_logging` runs; a
    structlog logger bound then would keep structlog's defaults (no redaction, another stream)
    for the life of the process.
    """

    __slots__ = ("_context", "_name")

    def __init__(self, name: str, context: Mapping[str, Any]) -> None:
        self._name = name
        self._context = dict(context)

    def bind(self, **values: Any) -> _Logger:
        return _Logger(self._name, {**self._context, **values})

    def __getattr__(self, method: str) -> Any:
        return getattr(structlog.get_logger(self._name).bind(logger=self._name, **self._context), method)


def get_logger(name: str) -> Any:
    """A structlog logger bound to ``logger=name`` (redacted and configured whenever it logs)."""
    return _Logger(name, {})
