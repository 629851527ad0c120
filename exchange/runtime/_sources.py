"""``--source`` URIs: ``kafka:TOPIC``, ``dir:PATH``, ``http:HOST:PORT``, ``mllp:HOST:PORT``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from exchange.errors import ConfigError

__all__ = ["DirectorySource", "KafkaSource", "ListenerSource", "SourceSpec", "parse_source"]

_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
_HOST_PORT = re.compile(r"(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})")
_HINT = "use kafka:TOPIC, dir:PATH, http:HOST:PORT or mllp:HOST:PORT"


@dataclass(frozen=True, slots=True)
class KafkaSource:
    topic: str

    def __str__(self) -> str:
        return f"kafka:{self.topic}"


@dataclass(frozen=True, slots=True)
class DirectorySource:
    path: Path

    def __str__(self) -> str:
        return f"dir:{self.path}"


@dataclass(frozen=True, slots=True)
class ListenerSource:
    kind: str  # "http" or "mllp"
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.host}:{self.port}"


SourceSpec = KafkaSource | DirectorySource | ListenerSource


def parse_source(uri: str) -> SourceSpec:
    """Parse a ``--source`` value; a malformed one is a usage error."""
    kind, sep, rest = uri.partition(":")
    if not sep or not rest:
        raise ConfigError(f"source {uri!r} has no kind", hint=_HINT)
    if kind == "kafka":
        if not _TOPIC.fullmatch(rest):
            raise ConfigError(f"{rest!r} is not a valid Kafka topic name", hint=_HINT)
        return KafkaSource(rest)
    if kind == "dir":
        return DirectorySource(Path(rest))
    if kind in ("http", "mllp"):
        match = _HOST_PORT.fullmatch(rest)
        if match is None or not 0 < int(match["port"]) < 65536:
            raise ConfigError(f"{rest!r} is not HOST:PORT", hint=_HINT)
        return ListenerSource(kind, match["host"], int(match["port"]))
    raise ConfigError(f"unknown source kind {kind!r}", hint=_HINT)
