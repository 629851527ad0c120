"""What each write request does to the log, and the read requests that need parsing.

A planner looks at the applied :class:`RegistryState` and returns a :class:`Plan`: the answer
for the client and, if something must change, the one record to append. Planners are pure; the
store decides whether the record won its race (see ``_state``) and only then is the answer given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import avro.schema
from cachetools import LRUCache

from exchange.compatibility import CompatibilityLevel, Incompatibility, check_compatibility
from services.registry._errors import RegistryError
from services.registry._normalise import (
    AVRO,
    ParsedSchema,
    Reference,
    ReferenceResolver,
    parse_references,
    parse_schema,
)
from services.registry._policy import Policy
from services.registry._state import Mode, RegistryState, VersionEntry

__all__ = [
    "Plan",
    "SchemaParser",
    "compatibility_report",
    "describe",
    "lookup",
    "parse_version",
    "plan_delete_config",
    "plan_delete_mode",
    "plan_delete_subject",
    "plan_delete_version",
    "plan_register",
    "plan_set_config",
    "plan_set_mode",
]

T = TypeVar("T")
_MAX_VERSION = 2**31 - 1


@dataclass(frozen=True)
class Plan(Generic[T]):
    """The client's answer, and the record to append first (``None``: nothing to write)."""

    result: T
    record_type: str | None = None
    subject: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    cleanup: tuple[bytes, ...] = ()


class SchemaParser:
    """Parsed avro objects of registered schemas, by id (ids never change meaning)."""

    def __init__(self, max_entries: int = 2048) -> None:
        self._cache: LRUCache[int, avro.schema.Schema] = LRUCache(maxsize=max_entries)

    def resolver(self, state: RegistryState) -> ReferenceResolver:
        def resolve(ref: Reference) -> tuple[str, tuple[Reference, ...]]:
            entry = state.version(ref.subject, ref.version, deleted=True)
            schema = state.schema(entry.schema_id) if entry is not None else None
            if schema is None:
                raise RegistryError.invalid_schema(
                    f"reference {ref.name}: subject '{ref.subject}' version {ref.version} not found"
                )
            return schema.schema, schema.references

        return resolve

    def parse(self, state: RegistryState, body: Any, *, normalize: bool = False) -> ParsedSchema:
        if not isinstance(body, dict):
            raise RegistryError.invalid_schema("the request body must be a JSON object")
        text = body.get("schema")
        if not isinstance(text, str) or not text.strip():
            raise RegistryError.invalid_schema("Empty schema")
        schema_type = body.get("schemaType") or AVRO
        refs = parse_references(body.get("references"))
        return parse_schema(text, refs, self.resolver(state), schema_type=str(schema_type).upper())

    def by_id(self, state: RegistryState, schema_id: int) -> avro.schema.Schema:
        cached = self._cache.get(schema_id)
        if cached is not None:
            return cached
        entry = state.schema(schema_id)
        if entry is None:
            raise RegistryError.schema_not_found(f"Schema {schema_id} not found")
        parsed = parse_schema(entry.schema, entry.references, self.resolver(state))
        self._cache[schema_id] = parsed.schema
        return parsed.schema


def parse_version(raw: str, *, allow_latest: bool = True) -> int | None:
    """A path version: an int in [1, 2^31-1], or ``latest`` / ``-1`` (returned as ``None``)."""
    if allow_latest and raw in ("latest", "-1"):
        return None
    try:
        version = int(raw)
    except ValueError:
        raise RegistryError.invalid_version(raw) from None
    if not 1 <= version <= _MAX_VERSION:
        raise RegistryError.invalid_version(raw)
    return version


def _writable(policy: Policy, state: RegistryState, subject: str | None) -> Mode:
    mode = policy.mode(state, subject)
    if mode in (Mode.READONLY, Mode.READONLY_OVERRIDE):
        where = f"Subject '{subject}'" if subject else "The registry"
        raise RegistryError.operation_not_permitted(f"{where} is in read-only mode")
    return mode


def describe(problems: list[Incompatibility], compared: list[VersionEntry]) -> list[str]:
    """One line per incompatibility, naming version, record, field and rule."""
    lines = []
    for p in problems:
        version = compared[p.version - 1].version if p.version else None
        where = f"record {p.record}" + (f" field '{p.field}'" if p.field else "")
        against = f"version {version}: " if version is not None else ""
        lines.append(f"{against}{where} breaks rule {p.rule}: {p.message}")
    return lines


def _check(
    parser: SchemaParser,
    state: RegistryState,
    new: ParsedSchema,
    compared: list[VersionEntry],
    level: CompatibilityLevel,
) -> list[str]:
    previous = [parser.by_id(state, v.schema_id) for v in compared]
    return describe(check_compatibility(new.schema, previous, level), compared)


def plan_register(
    state: RegistryState,
    policy: Policy,
    parser: SchemaParser,
    subject: str,
    body: Any,
    *,
    normalize: bool,
) -> Plan[dict[str, Any]]:
    mode = _writable(policy, state, subject)
    parsed = parser.parse(state, body, normalize=normalize)
    live = state.versions(subject)
    for entry in live:
        existing = state.schema(entry.schema_id)
        if existing is not None and existing.fingerprint == parsed.fingerprint:
            return Plan({"id": entry.schema_id})
    schema_id = state.id_for(parsed.fingerprint)
    version = state.next_version(subject)
    if mode is Mode.IMPORT:
        schema_id, version = _imported_coordinates(
            state, subject, body=body, parsed=parsed, schema_id=schema_id, version=version
        )
    else:
        level = policy.level(state, subject)
        problems = _check(parser, state, parsed, live, level)
        if problems:
            raise RegistryError.incompatible(
                f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
                f"details: [{'; '.join(problems)}]; compatibility: {level.value}"
            )
    if schema_id is None:
        schema_id = state.max_id + 1
    known = state.schema(schema_id)
    text = known.schema if known is not None else (parsed.normalised if normalize else parsed.text)
    payload: dict[str, Any] = {
        "subject": subject,
        "version": version,
        "id": schema_id,
        "schema": text,
        "references": [r.to_json() for r in parsed.references],
        "fingerprint": parsed.fingerprint,
    }
    return Plan({"id": schema_id}, "SCHEMA", subject, payload)


def _imported_coordinates(
    state: RegistryState,
    subject: str,
    *,
    body: dict[str, Any],
    parsed: ParsedSchema,
    schema_id: int | None,
    version: int,
) -> tuple[int | None, int]:
    """IMPORT mode: keep the id and version given by the exporting registry, if any."""
    wanted_id, wanted_version = body.get("id"), body.get("version")
    if isinstance(wanted_id, int) and not isinstance(wanted_id, bool):
        taken = state.schema(wanted_id)
        if taken is not None and taken.fingerprint != parsed.fingerprint:
            raise RegistryError.operation_not_permitted(
                f"Overwrite new schema with id {wanted_id} is not permitted."
            )
        schema_id = wanted_id
    if isinstance(wanted_version, int) and not isinstance(wanted_version, bool):
        if state.version(subject, wanted_version, deleted=True) is not None:
            raise RegistryError.operation_not_permitted(f"Version {wanted_version} already exists.")
        version = wanted_version
    return schema_id, version


def lookup(
    state: RegistryState, parser: SchemaParser, subject: str, body: Any, *, deleted: bool
) -> dict[str, Any]:
    if not state.has_subject(subject, deleted=deleted):
        raise RegistryError.subject_not_found(subject)
    parsed = parser.parse(state, body)
    for entry in reversed(state.versions(subject, deleted=deleted)):
        schema = state.schema(entry.schema_id)
        if schema is not None and schema.fingerprint == parsed.fingerprint:
            return {"subject": subject, "version": entry.version, "id": entry.schema_id, **schema.to_json()}
    raise RegistryError.schema_not_found()


def _refuse_if_referenced(state: RegistryState, entries: list[VersionEntry]) -> None:
    for entry in entries:
        if state.referenced_by(entry.subject, entry.version):
            raise RegistryError.reference_exists(
                f"One or more references exist to the schema {{subject={entry.subject}, "
                f"version={entry.version}}}."
            )


def plan_delete_subject(
    state: RegistryState, policy: Policy, subject: str, *, permanent: bool
) -> Plan[list[int]]:
    _writable(policy, state, subject)
    every = state.versions(subject, deleted=True)
    if not every:
        raise RegistryError.subject_not_found(subject)
    live = [v for v in every if not v.deleted]
    if permanent and live:
        raise RegistryError.subject_not_soft_deleted(subject)
    if not permanent and not live:
        raise RegistryError.subject_soft_deleted(subject)
    targets = every if permanent else live
    _refuse_if_referenced(state, targets)
    versions = [v.version for v in targets]
    payload = {
        "subject": subject,
        "versions": versions,
        "permanent": permanent,
        "ids": sorted({v.schema_id for v in targets}),
    }
    cleanup = tuple(v.key for v in targets) if permanent else ()
    return Plan(versions, "DELETE_VERSIONS", subject, payload, cleanup)


def plan_delete_version(
    state: RegistryState, policy: Policy, subject: str, raw_version: str, *, permanent: bool
) -> Plan[int]:
    _writable(policy, state, subject)
    number = parse_version(raw_version)
    if not state.has_subject(subject, deleted=True):
        raise RegistryError.subject_not_found(subject)
    if number is None:
        latest = state.latest(subject, deleted=permanent)
        if latest is None:
            raise RegistryError.version_not_found(subject, raw_version)
        number = latest.version
    entry = state.version(subject, number, deleted=True)
    if entry is None:
        raise RegistryError.version_not_found(subject, number)
    if permanent and not entry.deleted:
        raise RegistryError.version_not_soft_deleted(subject, number)
    if not permanent and entry.deleted:
        raise RegistryError.version_soft_deleted(subject, number)
    _refuse_if_referenced(state, [entry])
    payload = {"subject": subject, "versions": [number], "permanent": permanent, "ids": [entry.schema_id]}
    return Plan(number, "DELETE_VERSIONS", subject, payload, (entry.key,) if permanent else ())


def _level(body: Any) -> CompatibilityLevel:
    raw = body.get("compatibility", body.get("compatibilityLevel")) if isinstance(body, dict) else None
    try:
        return CompatibilityLevel(str(raw).upper())
    except ValueError:
        raise RegistryError.invalid_compatibility_level(raw) from None


def plan_set_config(state: RegistryState, subject: str | None, body: Any) -> Plan[dict[str, Any]]:
    level = _level(body)
    payload = {"subject": subject, "compatibilityLevel": level.value}
    return Plan({"compatibility": level.value}, "CONFIG", subject, payload)


def plan_delete_config(state: RegistryState, policy: Policy, subject: str | None) -> Plan[dict[str, Any]]:
    if subject is None:
        old = policy.global_level(state)
    else:
        configured = state.config(subject)
        if configured is None:
            if not state.has_subject(subject, deleted=True):
                raise RegistryError.subject_not_found(subject)
            raise RegistryError.subject_config_not_found(subject)
        old = configured
    payload = {"subject": subject, "compatibilityLevel": None}
    return Plan({"compatibilityLevel": old.value}, "CONFIG", subject, payload)


def plan_set_mode(state: RegistryState, subject: str | None, body: Any) -> Plan[dict[str, Any]]:
    raw = body.get("mode") if isinstance(body, dict) else None
    try:
        mode = Mode(str(raw).upper())
    except ValueError:
        raise RegistryError.invalid_mode(raw) from None
    return Plan({"mode": mode.value}, "MODE", subject, {"subject": subject, "mode": mode.value})


def plan_delete_mode(state: RegistryState, subject: str) -> Plan[dict[str, Any]]:
    old = state.mode(subject)
    if old is None:
        raise RegistryError.subject_mode_not_found(subject)
    return Plan({"mode": old.value}, "MODE", subject, {"subject": subject, "mode": None})


def compatibility_report(
    state: RegistryState,
    policy: Policy,
    parser: SchemaParser,
    subject: str,
    *,
    raw_version: str | None,
    body: Any,
    verbose: bool,
) -> dict[str, Any]:
    """``POST /compatibility/subjects/{subject}/versions[/{version}]``."""
    parsed = parser.parse(state, body)
    level = policy.level(state, subject)
    if raw_version is None:
        compared = state.versions(subject)
    else:
        number = parse_version(raw_version)
        if not state.has_subject(subject):
            raise RegistryError.subject_not_found(subject)
        entry = state.latest(subject) if number is None else state.version(subject, number)
        if entry is None:
            raise RegistryError.version_not_found(subject, raw_version)
        compared = [entry]
    messages = _check(parser, state, parsed, compared, level)
    result: dict[str, Any] = {"is_compatible": not messages}
    if verbose:
        result["messages"] = messages
    return result
