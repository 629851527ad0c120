"""One exception root for the whole project.

Rules every raiser follows:

* A message says what was wrong and what to do about it; it never carries personal data
  (names, dates of birth, identifiers, addresses, free text). Put record coordinates
  (file/line, topic/partition/offset) in the message, never record content.
* :class:`DataError` is about one record: never retried, the record goes to the DLQ.
* :class:`TransientError` is about the world (broker down, registry timeout): retried with backoff.
* :class:`ConfigError` and :class:`PrerequisiteError` stop a command before it starts work.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "MaisError",
    "PrerequisiteError",
    "TransientError",
]


class MaisError(Exception):
    """Root of every error this project raises on purpose.

    ``hint`` is the "what to do" half of the message, shown by the CLI on its own line.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(MaisError):
    """Settings or command-line usage are wrong; nothing was started."""

    exit_code = 2


class PrerequisiteError(MaisError):
    """Something the command needs on this machine is missing or too old (Java, Maven, a free port)."""


class TransientError(MaisError):
    """A passing failure of something outside the record (broker, registry, network): retry it."""


class DataError(MaisError):
    """One record cannot be read, parsed, mapped, validated or serialized. Never retried; DLQ."""

    def __init__(self, message: str, *, stage: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.stage = stage
