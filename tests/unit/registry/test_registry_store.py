"""The conditional-append protocol: racing writers, retries, replay and compaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from registry_memlog import SharedLog

from exchange.compatibility import CompatibilityLevel
from services.registry._commands import Plan, SchemaParser, plan_delete_subject, plan_register
from services.registry._policy import Policy
from services.registry._state import RegistryState
from services.registry._store import Store

POLICY = Policy(default_compatibility=CompatibilityLevel.NONE)  # names differ per version
PARSER = SchemaParser()


def schema(name: str) -> dict[str, str]:
    return {"schema": json.dumps({"type": "record", "name": name, "fields": []})}


def register(store: Store, subject: str, name: str) -> int:
    result = store.write(lambda s: plan_register(s, POLICY, PARSER, subject, schema(name), normalize=False))
    return int(result["id"])


@pytest.fixture
def stores(shared_log: SharedLog) -> Iterator[list[Store]]:
    made: list[Store] = []

    def make() -> Store:
        store = Store(shared_log.view(), instance_id=f"i{len(made)}", timeout=5)
        store.start()
        made.append(store)
        return store

    yield [make(), make()]
    for store in made:
        store.stop()


def replayed(shared_log: SharedLog) -> RegistryState:
    store = Store(shared_log.view(), instance_id="replay", timeout=5)
    store.start()
    store.stop()
    return store.state


def test_the_writer_that_loses_a_slot_retries_and_takes_the_next_id(
    stores: list[Store], shared_log: SharedLog
) -> None:
    a, b = stores
    interfered = threading.Event()

    def planner_with_interference(state: RegistryState) -> Plan[dict[str, int]]:
        plan = plan_register(state, POLICY, PARSER, "a-value", schema("A"), normalize=False)
        if not interfered.is_set():
            interfered.set()  # b writes between a's planning and a's append
            assert register(b, "b-value", "B") == 1
        return plan

    result = a.write(planner_with_interference)
    assert result == {"id": 2}
    b.sync()  # b reads the log on its own thread: catch up before comparing
    assert a.state.schema(1).schema == b.state.schema(1).schema  # type: ignore[union-attr]
    assert {v.subject for v in b.state.usages(2)} == {"a-value"}
    # the losing record was tombstoned by its writer: compaction removes it, replay agrees
    lost = [r for r in shared_log.records if r.value and json.loads(r.value)["expected"] != r.offset]
    assert len(lost) == 1
    assert any(r.key == lost[0].key and r.value is None for r in shared_log.records)
    shared_log.compact()
    assert replayed(shared_log).schemas == a.state.schemas


def test_many_writers_on_two_instances_get_distinct_ids(stores: list[Store]) -> None:
    a, b = stores
    names = [f"N{i}" for i in range(60)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(lambda i: register((a, b)[i % 2], f"s{i}-value", names[i]), range(60)))
    assert sorted(ids) == list(range(1, 61))
    a.sync()
    b.sync()
    assert a.state.schemas == b.state.schemas


def test_replay_after_compaction_rebuilds_the_same_state(stores: list[Store], shared_log: SharedLog) -> None:
    a, _ = stores
    for i in range(5):
        register(a, "keep-value" if i % 2 else "drop-value", f"R{i}")
    a.write(lambda s: plan_delete_subject(s, POLICY, "drop-value", permanent=False))
    a.write(lambda s: plan_delete_subject(s, POLICY, "drop-value", permanent=True))
    shared_log.compact()
    again = replayed(shared_log)
    assert again.schemas == a.state.schemas
    assert again.max_id == 5  # the permanently deleted id 5 is not handed out again
    assert [v.version for v in again.versions("keep-value")] == [1, 2]
    # the permanently deleted schema text is gone from the log itself
    texts = [json.loads(r.value).get("schema", "") for r in shared_log.records if r.value]
    assert not any('"R0"' in t or '"R4"' in t for t in texts)


def test_a_losing_record_for_the_same_subject_does_not_take_the_winner_with_it(
    stores: list[Store], shared_log: SharedLog
) -> None:
    a, b = stores
    interfered = threading.Event()

    def planner_with_interference(state: RegistryState) -> Plan[dict[str, int]]:
        plan = plan_register(state, POLICY, PARSER, "same-value", schema("A"), normalize=False)
        if not interfered.is_set():
            interfered.set()  # b registers in the very same subject from the very same offset
            assert register(b, "same-value", "B") == 1
        return plan

    assert a.write(planner_with_interference) == {"id": 2}
    shared_log.compact()  # the loser's tombstone must not remove b's accepted record
    again = replayed(shared_log)
    assert [(v.version, v.schema_id) for v in again.versions("same-value")] == [(1, 1), (2, 2)]
    assert again.schemas == a.state.schemas
