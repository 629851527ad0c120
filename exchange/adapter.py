"""The adapter contract: a declaration plus a few pure functions.

An adapter knows one legacy format. It never touches Kafka, serialization or retries: the
runtime reads bytes from a source, asks the adapter to ``split`` them into records and to
``translate`` each record into standard events, then owns encoding, producing, retries and the
DLQ. A record that cannot be used makes ``translate`` raise :class:`~exchange.errors.DataError`
with the stage that failed (``parse``, ``map`` or ``validate``) and a message that names fields
and positions but never personal data.

Adapters live in ``adapters/<name>/`` and expose a module attribute ``adapter`` (an
:class:`Adapter`); :func:`load_adapter` and :func:`registered_adapters` find them by that convention.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, Protocol

from exchange.errors import ConfigError
from exchange.mllp import AckOutcome

__all__ = [
    "Acknowledger",
    "Adapter",
    "AdapterContext",
    "Entity",
    "OrganisationId",
    "SourceRecord",
    "StandardEvent",
    "adapter_module",
    "load_adapter",
    "registered_adapters",
]

Entity = Literal["person", "episode", "event"]
"""Which of an agency's standard topics an event goes to: ``mais.<agency>.<entity>.v1``."""


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as read from a source: its original bytes and where it came from.

    ``origin`` is a coordinate such as ``"episodes.csv:12"`` or ``"mllp:127.0.0.1:51000#3"``;
    it is safe to log and is copied into DLQ headers. It never contains record content.
    """

    data: bytes
    origin: str


@dataclass(frozen=True, slots=True)
class StandardEvent:
    """One standard event produced by an adapter, ready for the runtime to encode.

    ``key`` is the agency-local record identifier ``system|value`` so that order holds per
    record; ``schema`` is the Avro full name of the event (e.g. ``mais.v1.PersonRecorded``);
    ``value`` is a plain mapping that validates against that schema.
    """

    entity: Entity
    key: str
    schema: str
    value: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What an adapter may know about where it runs (never how bytes move).

    ``warn`` records a recoverable problem (an invalid identifier left out, say) by a short
    stable code and a message free of personal data; the runtime counts it in metrics.
    """

    agency: str
    organisation_id: str
    warn: Callable[[str, str], None] = field(default=lambda code, message: None)


class Splitter(Protocol):
    """Cuts the bytes of one source unit (a file, an MLLP stream chunk) into records."""

    def __call__(self, data: bytes, origin: str) -> Iterator[SourceRecord]: ...


class Translator(Protocol):
    """Turns one record into the standard events it implies (possibly none)."""

    def __call__(self, record: SourceRecord, context: AdapterContext) -> Sequence[StandardEvent]: ...


class Acknowledger(Protocol):
    """Builds the answer an MLLP sender gets for one framed message (``None``: too large to read).

    Only adapters whose senders speak MLLP declare one (HL7 v2: an ``ACK`` message). ``reason``
    is free of personal data.
    """

    def __call__(self, message: bytes | None, outcome: AckOutcome, reason: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class OrganisationId:
    """The kind of organisation identifier an adapter needs as ``--organisation``.

    ``pattern`` is a regular expression the whole identifier must match; ``description`` says
    what to pass, as it ends the sentence "the <adapter> adapter needs --organisation to be …".
    """

    pattern: str
    description: str

    def problem(self, adapter: str, organisation: str) -> str | None:
        """One line saying what to pass, or ``None`` when ``organisation`` will do."""
        if re.fullmatch(self.pattern, organisation, flags=re.ASCII) is not None:
            return None
        shown = organisation if organisation.isprintable() and len(organisation) <= 64 else "something else"
        return f"the {adapter} adapter needs --organisation to be {self.description}, not {shown!r}"


@dataclass(frozen=True, slots=True)
class Adapter:
    """The declaration of one adapter: its name, what it reads, and its two functions.

    ``acknowledge`` is set by adapters that can sit behind an ``mllp:`` source.
    ``organisation_id`` is set by adapters that need a particular kind of organisation
    identifier (SSDA903: a DfE LA number); :meth:`check_organisation` enforces it before any
    record is read.
    """

    name: str
    summary: str
    split: Splitter
    translate: Translator
    file_patterns: tuple[str, ...] = ("*",)
    acknowledge: Acknowledger | None = None
    organisation_id: OrganisationId | None = None

    def check_organisation(self, organisation: str) -> None:
        """A usage error (exit 2) saying what to pass, when ``organisation`` is not what this
        adapter needs."""
        problem = self.organisation_id.problem(self.name, organisation) if self.organisation_id else None
        if problem is not None:
            raise ConfigError(problem)


def load_adapter(name: str) -> Adapter:
    """Return the adapter declared in ``adapters.<name>``; unknown names are a usage error."""
    known = _adapter_module_names()
    if name not in known:
        raise ConfigError(
            f"unknown adapter {name!r}",
            hint=f"choose one of: {', '.join(sorted(known)) or '(none installed)'}",
        )
    module = importlib.import_module(f"adapters.{name}")
    adapter = getattr(module, "adapter", None)
    if not isinstance(adapter, Adapter):
        raise ConfigError(
            f"adapters.{name} does not declare an 'adapter' of type exchange.adapter.Adapter",
            hint="declare `adapter = Adapter(...)` in the package's __init__.py",
        )
    return adapter


def adapter_module(name: str) -> ModuleType:
    """The package ``adapters.<name>`` itself (for optional declarations beside ``adapter``)."""
    load_adapter(name)
    return importlib.import_module(f"adapters.{name}")


def registered_adapters() -> Mapping[str, Adapter]:
    """Every adapter package under ``adapters/``, by name."""
    return {name: load_adapter(name) for name in sorted(_adapter_module_names())}


def _adapter_module_names() -> set[str]:
    import adapters  # noqa: PLC0415 - deferred: the kernel must not import adapters at start-up

    return {
        info.name
        for info in pkgutil.iter_modules(adapters.__path__)
        if info.ispkg and not info.name.startswith("_")
    }
