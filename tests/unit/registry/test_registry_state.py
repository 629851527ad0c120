"""The log state machine: which records count, and what deletes do to ids and versions."""

from __future__ import annotations

import json
from typing import Any

from exchange.compatibility import CompatibilityLevel
from services.registry._state import Applied, Mode, RegistryState, record_key


def value(record_type: str, expected: int, **payload: Any) -> bytes:
    return json.dumps({"type": record_type, "expected": expected, **payload}).encode()


def schema_record(expected: int, subject: str, version: int, schema_id: int, text: str = '"string"') -> bytes:
    return value(
        "SCHEMA", expected, subject=subject, version=version, id=schema_id, schema=text, fingerprint=text
    )


def apply(state: RegistryState, offset: int, record_type: str, data: bytes) -> Applied:
    return state.apply(offset, record_key(record_type, None, offset, f"w{offset}"), data)


def test_a_record_counts_only_at_the_offset_its_writer_expected() -> None:
    state = RegistryState()
    assert apply(state, 0, "SCHEMA", schema_record(0, "s", 1, 1)) is Applied.APPLIED
    # another writer planned against offset 0 too, but landed at offset 1: it lost the race
    assert apply(state, 1, "SCHEMA", schema_record(0, "s", 1, 1, '"int"')) is Applied.LOST_RACE
    assert state.schema(1) is not None and state.schema(1).schema == '"string"'  # type: ignore[union-attr]
    assert [v.version for v in state.versions("s")] == [1]


def test_tombstones_and_foreign_records_change_nothing() -> None:
    state = RegistryState()
    assert state.apply(0, b"k", None) is Applied.IGNORED
    assert state.apply(1, b"k", b"not json") is Applied.IGNORED
    assert state.apply(2, b"k", b'{"keytype":"SCHEMA","magic":1}') is Applied.IGNORED
    assert state.apply(3, b"k", value("SOMETHING_NEW", 3)) is Applied.IGNORED
    assert state == RegistryState()


def test_soft_delete_hides_versions_but_keeps_ids_resolvable() -> None:
    state = RegistryState()
    apply(state, 0, "SCHEMA", schema_record(0, "s", 1, 1))
    apply(state, 1, "SCHEMA", schema_record(1, "s", 2, 2, '"int"'))
    apply(state, 2, "DELETE_VERSIONS", value("DELETE_VERSIONS", 2, subject="s", versions=[1], ids=[1]))
    assert [v.version for v in state.versions("s")] == [2]
    assert [v.version for v in state.versions("s", deleted=True)] == [1, 2]
    assert state.schema(1) is not None
    assert state.next_version("s") == 3


def test_permanent_delete_forgets_the_schema_but_never_the_id() -> None:
    state = RegistryState()
    apply(state, 0, "SCHEMA", schema_record(0, "s", 1, 5))
    apply(state, 1, "CONFIG", value("CONFIG", 1, subject="s", compatibilityLevel="NONE"))
    apply(state, 2, "DELETE_VERSIONS", value("DELETE_VERSIONS", 2, subject="s", versions=[1], ids=[5]))
    delete = value("DELETE_VERSIONS", 3, subject="s", versions=[1], ids=[5], permanent=True)
    apply(state, 3, "DELETE_VERSIONS", delete)
    assert state.schema(5) is None
    assert state.id_for('"string"') is None
    assert state.subject_names(deleted=True) == []
    assert state.config("s") is None  # the subject's config goes with it
    assert state.next_version("s") == 1

    # after compaction only the delete record is left, and it still carries the highest id
    replayed = RegistryState()
    replayed.apply(3, record_key("DELETE_VERSIONS", "s", 3, "w3"), delete)
    assert replayed.max_id == 5


def test_a_schema_shared_by_two_subjects_lives_until_both_are_gone() -> None:
    state = RegistryState()
    apply(state, 0, "SCHEMA", schema_record(0, "a", 1, 1))
    apply(state, 1, "SCHEMA", schema_record(1, "b", 1, 1))
    assert [(u.subject, u.version) for u in state.usages(1)] == [("a", 1), ("b", 1)]
    apply(state, 2, "DELETE_VERSIONS", value("DELETE_VERSIONS", 2, subject="a", versions=[1], permanent=True))
    assert state.schema(1) is not None and state.id_for('"string"') == 1
    apply(state, 3, "DELETE_VERSIONS", value("DELETE_VERSIONS", 3, subject="b", versions=[1], permanent=True))
    assert state.schema(1) is None


def test_config_and_mode_records_set_and_clear() -> None:
    state = RegistryState()
    apply(state, 0, "CONFIG", value("CONFIG", 0, subject=None, compatibilityLevel="FULL"))
    apply(state, 1, "CONFIG", value("CONFIG", 1, subject="s", compatibilityLevel="FORWARD"))
    apply(state, 2, "MODE", value("MODE", 2, subject=None, mode="READONLY"))
    assert state.config(None) is CompatibilityLevel.FULL
    assert state.config("s") is CompatibilityLevel.FORWARD
    assert state.mode(None) is Mode.READONLY
    apply(state, 3, "CONFIG", value("CONFIG", 3, subject="s", compatibilityLevel=None))
    apply(state, 4, "MODE", value("MODE", 4, subject=None, mode=None))
    assert state.config("s") is None
    assert state.mode(None) is None
