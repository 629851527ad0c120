"""Which compatibility level and mode apply to a subject when it has none of its own."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.compatibility import CompatibilityLevel
from services.registry._state import Mode, RegistryState

__all__ = ["Policy"]


@dataclass(frozen=True)
class Policy:
    """Defaults that are settings, not log state.

    ``default_compatibility`` is the global level until someone PUTs ``/config`` (Confluent's
    default is BACKWARD). Subjects of the standard (names starting with one of
    ``standard_prefixes``) default to ``standard_compatibility`` unless configured per subject.
    """

    default_compatibility: CompatibilityLevel = CompatibilityLevel.BACKWARD
    standard_prefixes: tuple[str, ...] = ("mais.",)
    standard_compatibility: CompatibilityLevel = CompatibilityLevel.FULL_TRANSITIVE

    def is_standard(self, subject: str) -> bool:
        return subject.startswith(self.standard_prefixes)

    def global_level(self, state: RegistryState) -> CompatibilityLevel:
        return state.config(None) or self.default_compatibility

    def subject_level(self, state: RegistryState, subject: str) -> CompatibilityLevel | None:
        """The level a subject has itself (configured, or the standard's default), if any."""
        configured = state.config(subject)
        if configured is not None:
            return configured
        return self.standard_compatibility if self.is_standard(subject) else None

    def level(self, state: RegistryState, subject: str) -> CompatibilityLevel:
        return self.subject_level(state, subject) or self.global_level(state)

    def mode(self, state: RegistryState, subject: str | None) -> Mode:
        return (subject is not None and state.mode(subject)) or state.mode(None) or Mode.READWRITE
