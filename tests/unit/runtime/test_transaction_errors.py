"""The transactional writer follows the client's error classes: retriable, abortable, fatal.

No broker here: the blocking steps are stand-ins that raise the errors confluent-kafka raises
(the real broker outages are in tests/integration/runtime/test_runtime_faults.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException

from exchange.errors import TransientError
from exchange.runtime import RuntimeSettings, StopSignal
from exchange.runtime._txn import TransactionalWriter, TransactionFencedError
from exchange.settings import KafkaSettings


def _error(code: int, *, retriable: bool = False, abort: bool = False, fatal: bool = False) -> KafkaException:
    return KafkaException(
        KafkaError(code, "test", fatal=fatal, retriable=retriable, txn_requires_abort=abort)
    )


def _writer(stop: StopSignal | None = None, **settings: float) -> TransactionalWriter:
    runtime = RuntimeSettings(**settings)  # type: ignore[arg-type]
    return TransactionalWriter(
        KafkaSettings(bootstrap_servers="127.0.0.1:9"), "t-1", settings=runtime, stop=stop
    )


def _failing(times: int, error: KafkaException) -> tuple[Callable[[float], str], list[float]]:
    calls: list[float] = []

    def step(timeout: float) -> str:
        calls.append(timeout)
        if len(calls) <= times:
            raise error
        return "done"

    return step, calls


def test_a_retriable_failure_is_retried_by_calling_the_same_step_again() -> None:
    step, calls = _failing(3, _error(KafkaError._TIMED_OUT, retriable=True))
    assert _writer()._run(step) == "done"
    assert len(calls) == 4
    assert all(0 < timeout <= 30 for timeout in calls)


def test_retrying_ends_at_the_transaction_timeout() -> None:
    step, calls = _failing(10_000, _error(KafkaError._TIMED_OUT, retriable=True))
    with pytest.raises(TransientError, match="_TIMED_OUT"):
        _writer(transaction_timeout_s=1)._run(step)
    assert 1 < len(calls) < 100  # backed off between calls, not a busy loop


def test_retrying_ends_when_the_drain_time_after_a_stop_is_over() -> None:
    stop = StopSignal()
    stop.stop()
    step, calls = _failing(10_000, _error(KafkaError._TIMED_OUT, retriable=True))
    with pytest.raises(TransientError):
        _writer(stop, drain_s=0.3)._run(step)
    assert len(calls) < 20


def test_an_abortable_failure_is_not_retried_and_needs_an_abort() -> None:
    step, calls = _failing(1, _error(KafkaError._STATE, abort=True))
    writer = _writer()
    with pytest.raises(TransientError, match="abort needed"):
        writer._run(step)
    assert len(calls) == 1
    assert not writer._fatal


def test_a_fatal_failure_makes_the_next_abort_recreate_the_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = _writer()
    monkeypatch.setattr(writer, "init", lambda: None)  # init_transactions against the new producer
    step, _ = _failing(1, _error(KafkaError._FENCED, fatal=True))
    with pytest.raises(TransientError, match="recreated"):
        writer._run(step)
    old = writer._producer
    writer.abort()
    assert writer.generation == 1
    assert writer._producer is not old
    _fatal_again(writer)
    with pytest.raises(TransientError, match="recreated first"):  # no transaction on a dead producer
        writer.begin()


def _fatal_again(writer: TransactionalWriter) -> None:
    step, _ = _failing(1, _error(KafkaError._FENCED, fatal=True))
    with pytest.raises(TransientError):
        writer._run(step)


def test_a_producer_fenced_again_and_again_has_a_live_twin_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = _writer()
    monkeypatch.setattr(writer, "init", lambda: None)
    for _ in range(3):
        _fatal_again(writer)
        writer.abort()
    _fatal_again(writer)
    with pytest.raises(TransactionFencedError, match="fenced 4 times"):
        writer.abort()


def test_when_stopping_a_fatal_producer_is_left_for_the_next_start(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = StopSignal()
    writer = _writer(stop)
    monkeypatch.setattr(writer, "init", lambda: pytest.fail("no new producer while stopping"))
    _fatal_again(writer)
    stop.stop()
    writer.abort()
    assert writer.generation == 0
