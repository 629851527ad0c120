"""The registry's state, rebuilt by applying the ``_schemas`` log in offset order.

Pure: no Kafka, no HTTP. Every instance feeds the same records in the same order into a
:class:`RegistryState` and so ends with the same subjects, versions, ids and configs.

A record is a *conditional append*: its writer saw the log up to offset ``expected`` and computed
the record from that state, so the record is valid only if it landed exactly at ``expected``.
A record found at any other offset lost a race with another writer and is ignored by everyone.
Because Kafka keeps offsets through compaction, that decision never changes on a later replay.
Every record key carries a unique write id, so no two records share a key and compaction removes
only what a writer deliberately tombstoned (permanently deleted schema text, records that lost a
race).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from exchange.compatibility import CompatibilityLevel
from services.registry._normalise import AVRO, Reference

__all__ = [
    "Applied",
    "Mode",
    "RegistryState",
    "SchemaEntry",
    "VersionEntry",
    "record_key",
]


class Mode(StrEnum):
    READWRITE = "READWRITE"
    READONLY = "READONLY"
    READONLY_OVERRIDE = "READONLY_OVERRIDE"
    IMPORT = "IMPORT"


class Applied(Enum):
    APPLIED = "applied"
    LOST_RACE = "lost_race"
    IGNORED = "ignored"


@dataclass(frozen=True)
class SchemaEntry:
    id: int
    schema: str
    schema_type: str
    references: tuple[Reference, ...]
    fingerprint: str

    def to_json(self) -> dict[str, Any]:
        """Confluent's shape: ``schemaType`` omitted for AVRO, ``references`` only if any."""
        out: dict[str, Any] = {}
        if self.schema_type != AVRO:
            out["schemaType"] = self.schema_type
        if self.references:
            out["references"] = [r.to_json() for r in self.references]
        out["schema"] = self.schema
        return out


@dataclass
class VersionEntry:
    subject: str
    version: int
    schema_id: int
    key: bytes
    deleted: bool = False


def record_key(record_type: str, subject: str | None, expected: int, write_id: str) -> bytes:
    """The Kafka key of one write attempt. ``write_id`` is unique per attempt: two writers that
    planned the same change from the same offset must not share a key, or the loser's tombstone
    would make compaction remove the winner's record."""
    return json.dumps(
        {"keytype": record_type, "subject": subject, "expected": expected, "write": write_id},
        separators=(",", ":"),
    ).encode()


@dataclass
class RegistryState:
    """Subjects, versions, schemas by id, compatibility configs and modes."""

    schemas: dict[int, SchemaEntry] = field(default_factory=dict)
    subjects: dict[str, dict[int, VersionEntry]] = field(default_factory=dict)
    configs: dict[str, CompatibilityLevel] = field(default_factory=dict)
    modes: dict[str, Mode] = field(default_factory=dict)
    global_config: CompatibilityLevel | None = None
    global_mode: Mode | None = None
    max_id: int = 0
    _by_fingerprint: dict[str, int] = field(default_factory=dict)
    _users: dict[int, int] = field(default_factory=dict)

    # -- applying the log ---------------------------------------------------------------------
    def apply(self, offset: int, key: bytes | None, value: bytes | None) -> Applied:
        """Apply the record found at ``offset``; tombstones and foreign records are ignored."""
        if value is None or key is None:
            return Applied.IGNORED
        try:
            record = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Applied.IGNORED
        if not isinstance(record, dict) or not isinstance(record.get("expected"), int):
            return Applied.IGNORED
        if record["expected"] != offset:
            return Applied.LOST_RACE
        handler = {
            "SCHEMA": self._apply_schema,
            "DELETE_VERSIONS": self._apply_delete,
            "CONFIG": self._apply_config,
            "MODE": self._apply_mode,
        }.get(record.get("type", ""))
        if handler is None:
            return Applied.IGNORED
        handler(record, key)
        return Applied.APPLIED

    def _apply_schema(self, record: dict[str, Any], key: bytes) -> None:
        schema_id = int(record["id"])
        subject = str(record["subject"])
        version = int(record["version"])
        if schema_id not in self.schemas:
            entry = SchemaEntry(
                id=schema_id,
                schema=str(record["schema"]),
                schema_type=str(record.get("schemaType") or AVRO),
                references=tuple(
                    Reference(str(r["name"]), str(r["subject"]), int(r["version"]))
                    for r in record.get("references") or []
                ),
                fingerprint=str(record["fingerprint"]),
            )
            self.schemas[schema_id] = entry
            self._by_fingerprint[entry.fingerprint] = schema_id
        versions = self.subjects.setdefault(subject, {})
        previous = versions.get(version)
        if previous is not None:
            self._release(previous.schema_id)
        versions[version] = VersionEntry(subject, version, schema_id, key)
        self._users[schema_id] = self._users.get(schema_id, 0) + 1
        self.max_id = max(self.max_id, schema_id)

    def _apply_delete(self, record: dict[str, Any], _key: bytes) -> None:
        subject = str(record["subject"])
        permanent = bool(record.get("permanent"))
        for schema_id in record.get("ids") or []:
            self.max_id = max(self.max_id, int(schema_id))
        versions = self.subjects.get(subject, {})
        for version in record.get("versions") or []:
            entry = versions.get(int(version))
            if entry is None:
                continue
            if permanent:
                del versions[entry.version]
                self._release(entry.schema_id)
            else:
                entry.deleted = True
        if not versions:
            self.subjects.pop(subject, None)
        if permanent and subject not in self.subjects:
            self.configs.pop(subject, None)
            self.modes.pop(subject, None)

    def _release(self, schema_id: int) -> None:
        users = self._users.get(schema_id, 0) - 1
        if users > 0:
            self._users[schema_id] = users
            return
        self._users.pop(schema_id, None)
        entry = self.schemas.pop(schema_id, None)
        if entry is not None and self._by_fingerprint.get(entry.fingerprint) == schema_id:
            del self._by_fingerprint[entry.fingerprint]

    def _apply_config(self, record: dict[str, Any], _key: bytes) -> None:
        subject = record.get("subject")
        raw = record.get("compatibilityLevel")
        level = CompatibilityLevel(raw) if raw is not None else None
        if subject is None:
            self.global_config = level
        elif level is None:
            self.configs.pop(str(subject), None)
        else:
            self.configs[str(subject)] = level

    def _apply_mode(self, record: dict[str, Any], _key: bytes) -> None:
        subject = record.get("subject")
        raw = record.get("mode")
        mode = Mode(raw) if raw is not None else None
        if subject is None:
            self.global_mode = mode
        elif mode is None:
            self.modes.pop(str(subject), None)
        else:
            self.modes[str(subject)] = mode

    # -- queries ------------------------------------------------------------------------------
    def subject_names(self, *, deleted: bool = False, deleted_only: bool = False) -> list[str]:
        out = []
        for subject, versions in self.subjects.items():
            live = any(not v.deleted for v in versions.values())
            if (deleted_only and not live) or (not deleted_only and (live or deleted)):
                out.append(subject)
        return sorted(out)

    def versions(self, subject: str, *, deleted: bool = False) -> list[VersionEntry]:
        entries = self.subjects.get(subject, {}).values()
        return sorted((v for v in entries if deleted or not v.deleted), key=lambda v: v.version)

    def has_subject(self, subject: str, *, deleted: bool = False) -> bool:
        return bool(self.versions(subject, deleted=deleted))

    def version(self, subject: str, version: int, *, deleted: bool = False) -> VersionEntry | None:
        entry = self.subjects.get(subject, {}).get(version)
        if entry is None or (entry.deleted and not deleted):
            return None
        return entry

    def latest(self, subject: str, *, deleted: bool = False) -> VersionEntry | None:
        versions = self.versions(subject, deleted=deleted)
        return versions[-1] if versions else None

    def next_version(self, subject: str) -> int:
        """Versions keep counting past soft-deleted ones; permanently deleted ones are forgotten."""
        return max(self.subjects.get(subject, {}), default=0) + 1

    def schema(self, schema_id: int) -> SchemaEntry | None:
        return self.schemas.get(schema_id)

    def id_for(self, fingerprint: str) -> int | None:
        return self._by_fingerprint.get(fingerprint)

    def usages(self, schema_id: int, *, deleted: bool = False) -> list[VersionEntry]:
        return sorted(
            (
                v
                for versions in self.subjects.values()
                for v in versions.values()
                if v.schema_id == schema_id and (deleted or not v.deleted)
            ),
            key=lambda v: (v.subject, v.version),
        )

    def referenced_by(self, subject: str, version: int) -> list[int]:
        """Ids of schemas, still used by some version, that reference ``subject`` / ``version``."""
        return sorted(
            s.id
            for s in self.schemas.values()
            if any(r.subject == subject and r.version == version for r in s.references)
        )

    def config(self, subject: str | None) -> CompatibilityLevel | None:
        return self.global_config if subject is None else self.configs.get(subject)

    def mode(self, subject: str | None) -> Mode | None:
        return self.global_mode if subject is None else self.modes.get(subject)
