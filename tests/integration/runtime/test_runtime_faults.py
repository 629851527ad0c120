"""Real faults under a running adapter: the registry process stopped and started again, the broker
paused (SIGSTOP) for longer than the transaction timeout and resumed (SIGCONT).

These tests run their own broker and registry (the session's are shared with other tests), and
the adapter as a real ``mais adapter run`` process. Output is checked by identifier: every input's
output exactly once, nothing in the DLQ, and the adapter recovered by itself (never restarted).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from runtime_it_helpers import AdapterProcess, create_topic, people_lines, person_id, produce_lines, read_all
from runtime_it_helpers import subprocess_env as _subprocess_env

from exchange.localkafka import LocalKafkaCluster, LocalRegistry, free_port
from exchange.runtime._replay import read_dlq
from exchange.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


@dataclass
class FaultyStack:
    """A broker and a registry of this module's own, which its tests may stop and pause."""

    cluster: LocalKafkaCluster
    registry: LocalRegistry
    registry_topic: str

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap_servers

    @property
    def registry_url(self) -> str:
        return self.registry.url

    def env(self, **runtime: str) -> dict[str, str]:
        settings = {f"MAIS_RUNTIME_{name.upper()}": value for name, value in runtime.items()}
        return {**_subprocess_env(self.bootstrap, self.registry_url), **settings}

    def broker_pid(self) -> int:
        (pid,) = self.cluster.running_pids().values()
        return pid

    def adapter(self, topic: str, agency: str, log_dir: Path, adapter: str, **runtime: str) -> AdapterProcess:
        """``mais adapter run`` of a test adapter on ``kafka:topic``, batches of 200 (100 for notes)."""
        batch = "100" if adapter == "noting_adapter" else "200"
        return AdapterProcess(
            f"kafka:{topic}",
            agency,
            self.env(**runtime),
            log_dir,
            adapter,
            adapter=f"runtime_people_adapter:{adapter}",
            extra=("--batch-size", batch),
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyStack]:
    state = tmp_path_factory.mktemp("faulty-kafka")
    cluster = LocalKafkaCluster(state, ports=[(free_port(), free_port())])
    cluster.start(timeout=180)
    registry = LocalRegistry(state / "registry", port=free_port())
    topic = f"_schemas-faults-{uuid.uuid4().hex[:8]}"
    try:
        registry.start(cluster.bootstrap_servers, topic=topic, timeout=120)
        yield FaultyStack(cluster, registry, topic)
    finally:
        registry.stop()
        with _resumed(cluster):
            cluster.stop()


@contextlib.contextmanager
def _resumed(cluster: LocalKafkaCluster) -> Iterator[None]:
    """On exit, SIGCONT the broker whatever happened (a failed test must not leave it stopped)."""
    pids = list(cluster.running_pids().values())
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def _ids(messages: list[object]) -> Counter[str]:
    return Counter(person_id(m) for m in messages)


def test_registry_stopped_and_restarted_under_a_running_adapter_rejects_nothing_and_loses_nothing(
    stack: FaultyStack, agency: str, unique_topic: object, tmp_path: Path
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(stack.bootstrap, topic, partitions=3)
    adapter = stack.adapter(topic, agency, tmp_path, "noting_adapter", drain_s="10")
    lines = people_lines(600)
    without_notes = [line for i, line in enumerate(lines[:300]) if i % 10 != 7]
    adapter.start()
    try:
        adapter.wait_ready(60)
        produce_lines(stack.bootstrap, topic, without_notes)  # only the person schema is needed so far
        read_all(stack.bootstrap, f"mais.{agency}.person.v1", expect=len(without_notes))
        stack.registry.stop()
        # Records that need a schema never registered before, while the registry is away:
        produce_lines(stack.bootstrap, topic, [line for i, line in enumerate(lines[:300]) if i % 10 == 7])
        produce_lines(stack.bootstrap, topic, lines[300:])
        time.sleep(8)
        assert adapter.alive(), adapter.logs()[-3000:]
        stack.registry.start(stack.bootstrap, topic=stack.registry_topic, timeout=120)
        people = read_all(stack.bootstrap, f"mais.{agency}.person.v1", expect=600, timeout_s=120)
        notes = read_all(stack.bootstrap, f"mais.{agency}.event.v1", expect=60, timeout_s=60)
        assert adapter.alive()
    finally:
        if stack.registry.running_pid() is None:
            stack.registry.start(stack.bootstrap, topic=stack.registry_topic, timeout=120)
        code, seconds = adapter.timed_terminate()
    assert _ids(people) == Counter(f"P{i:07d}" for i in range(600)), "each person exactly once"
    assert Counter(bytes(m.key()).decode().rsplit("|", 1)[1] for m in notes) == Counter(  # type: ignore[attr-defined]
        f"note-P{i:07d}" for i in range(600) if i % 10 == 7
    )
    assert read_dlq(KafkaSettings(bootstrap_servers=stack.bootstrap), agency) == []
    assert "schema registry unreachable" in adapter.logs()  # the outage was felt, and retried
    assert adapter.runs == 1
    assert (code, seconds < 10) == (0, True)


def test_broker_paused_longer_than_the_transaction_timeout_the_adapter_recovers_by_itself_exactly_once(
    stack: FaultyStack, agency: str, unique_topic: object, tmp_path: Path
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(stack.bootstrap, topic, partitions=3)
    # a busy adapter (2 ms per record): the pause lands inside a transaction
    adapter = stack.adapter(topic, agency, tmp_path, "slow_adapter", transaction_timeout_s="5", drain_s="10")
    lines = people_lines(12_000)

    def feed() -> None:  # about 600 records a second, before, during and after the pause
        for start in range(0, len(lines), 300):
            produce_lines(stack.bootstrap, topic, lines[start : start + 300])
            time.sleep(0.5)

    adapter.start()
    adapter.wait_ready(60)
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    time.sleep(4)  # transactions are flowing
    pid = stack.broker_pid()
    with _resumed(stack.cluster):
        os.kill(pid, signal.SIGSTOP)
        time.sleep(15)  # three times the transaction timeout
        os.kill(pid, signal.SIGCONT)
    try:
        feeder.join(120)
        outputs = read_all(stack.bootstrap, f"mais.{agency}.person.v1", expect=len(lines), timeout_s=180)
        assert adapter.alive(), adapter.logs()[-3000:]
    finally:
        code, seconds = adapter.timed_terminate()
    ids = _ids(outputs)
    assert not {pid: n for pid, n in ids.items() if n > 1}, "an output was written twice"
    assert set(ids) == {f"P{i:07d}" for i in range(len(lines))}, "an input was lost"
    assert read_dlq(KafkaSettings(bootstrap_servers=stack.bootstrap), agency) == []
    logs = adapter.logs()
    assert "transaction aborted" in logs  # the pause was felt inside a transaction …
    assert "producer recreated" in logs  # … which could neither commit nor abort: a new producer
    assert adapter.runs == 1
    assert (code, seconds < 10) == (0, True)


def test_sigterm_while_the_broker_is_paused_exits_0_within_the_drain_time(
    stack: FaultyStack, agency: str, unique_topic: object, tmp_path: Path
) -> None:
    topic = unique_topic("raw")  # type: ignore[operator]
    create_topic(stack.bootstrap, topic, partitions=3)
    drain_s = 8.0
    adapter = stack.adapter(topic, agency, tmp_path, "slow_adapter", drain_s=str(drain_s))
    adapter.start()
    adapter.wait_ready(60)
    produce_lines(stack.bootstrap, topic, people_lines(3000))  # 6 s of work: a transaction is open
    time.sleep(1)
    with _resumed(stack.cluster):
        os.kill(stack.broker_pid(), signal.SIGSTOP)
        time.sleep(1)
        code, seconds = adapter.timed_terminate(timeout_s=60)
    assert code == 0, adapter.logs()[-3000:]
    assert seconds < drain_s + 2, f"SIGTERM took {seconds:.1f} s with a drain time of {drain_s} s"
    # Whatever was committed before the stop is there once; a successor takes up the rest.
    adapter.start()
    try:
        outputs = read_all(stack.bootstrap, f"mais.{agency}.person.v1", expect=3000, timeout_s=120)
    finally:
        assert adapter.terminate() == 0
    assert _ids(outputs) == Counter(f"P{i:07d}" for i in range(3000))
