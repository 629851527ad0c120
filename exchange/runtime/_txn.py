"""A transactional, idempotent confluent-kafka producer with the error handling every loop shares.

Per-message delivery failures that retrying cannot fix (a message too large for the broker, a
record the broker refuses) are remembered by the caller's *tag* (the input coordinate), so the
loop can abort, route that input to the DLQ at stage ``produce``, and try again.

Failures of the transaction itself follow the client's three documented error classes:

* **retriable** (a timeout while the coordinator is away): the same call is made again — a
  commit resumes where it stopped — until the transaction timeout, or the drain time after a stop;
* **abortable** (``txn_requires_abort``): :class:`~exchange.errors.TransientError`; the loop
  calls :meth:`TransactionalWriter.abort` and retries its batch with backoff;
* **fatal** (the producer cannot go on; e.g. the broker aborted a transaction left open longer
  than its timeout, which fences the producer's epoch): also a ``TransientError``, and the next
  :meth:`~TransactionalWriter.abort` *recreates* the producer, whose ``init_transactions`` fences
  the old epoch and finishes (commits or aborts) whatever it left open. After that the loop cannot
  know whether its last transaction committed: :attr:`~TransactionalWriter.generation` changes and
  the loop re-reads its durable state (committed offsets, progress) before the next attempt.

A fatal error is also what another running copy with the same transactional id causes. Producers
fenced again and again within a short time are therefore taken to have a live twin:
:class:`TransactionFencedError` stops the process with a message saying so.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from exchange.errors import TransientError
from exchange.runtime._control import Backoff, StopSignal
from exchange.runtime._settings import RuntimeSettings
from exchange.settings import KafkaSettings

__all__ = ["PermanentDeliveryError", "TransactionFencedError", "TransactionalWriter"]

T = TypeVar("T")

_PERMANENT = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_RECORD,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
    }
)
_TWIN_FENCES = 3
"""This many recreations within :data:`_TWIN_WINDOW_S` mean another live copy keeps fencing us."""
_TWIN_WINDOW_S = 300.0


class PermanentDeliveryError(Exception):
    """Some messages of the transaction can never be delivered; ``tags`` names their inputs."""

    def __init__(self, tags: set[str]) -> None:
        super().__init__(f"{len(tags)} message(s) refused by the broker")
        self.tags = tags


class TransactionFencedError(Exception):
    """Another instance with the same transactional id took over: this process must stop."""


class TransactionalWriter:
    """One transactional producer; all methods run on the caller's thread."""

    def __init__(
        self,
        kafka: KafkaSettings,
        transactional_id: str,
        *,
        settings: RuntimeSettings | None = None,
        stop: StopSignal | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings or RuntimeSettings()
        self._stop = stop or StopSignal()
        self._config: dict[str, Any] = {
            **kafka.confluent_config(),
            "transactional.id": transactional_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 200_000,
            "compression.type": "lz4",
            "message.max.bytes": self.settings.max_message_bytes,
            "transaction.timeout.ms": self.settings.transaction_timeout_ms,
            # After a commit the coordinator answers CONCURRENT_TRANSACTIONS until its markers are
            # written; the default 100 ms retry backoff would add ~100 ms to every transaction.
            "retry.backoff.ms": 10,
            "retry.backoff.max.ms": 1000,
            # Only failed deliveries call back (they name the input to send to the DLQ); the
            # commit tells us everything else was delivered.
            "delivery.report.only.error": True,
        }
        self._config.update(overrides or {})
        self.transactional_id = transactional_id
        self._producer = Producer(self._config)
        self._failed: set[str] = set()
        self._queued = 0
        self._fatal = False
        self._recreations: collections.deque[float] = collections.deque(maxlen=_TWIN_FENCES)
        self.in_transaction = False
        self.generation = 0
        """Incremented each time the producer is recreated: the last transaction's fate is unknown."""

    def init(self) -> None:
        """Register the transactional id, fencing (and finishing) any earlier instance's open transaction."""
        self._run(self._producer.init_transactions)

    def begin(self) -> None:
        if self._fatal:
            raise TransientError("the producer must be recreated first", hint="call abort()")
        self._failed.clear()
        self._run(lambda _: self._producer.begin_transaction())
        self.in_transaction = True

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        tag: str,
    ) -> None:
        """Queue one message in the open transaction; ``tag`` names the input it came from."""

        def delivered(error: KafkaError | None, _: Any) -> None:
            if error is not None and error.code() in _PERMANENT:
                self._failed.add(tag)
            # any other failed delivery makes the commit fail with an abortable error

        deadline = time.monotonic() + self.settings.step_timeout_s
        while True:
            try:
                self._producer.produce(topic, value, key, headers=cast(Any, headers), on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: the broker is slow or away
                if time.monotonic() > deadline:
                    raise TransientError("the producer's queue stayed full: is the broker away?") from None
                self._producer.poll(0.05)
            except KafkaException as exc:
                if exc.args[0].code() in _PERMANENT:
                    self._failed.add(tag)
                    break
                raise self._classify(exc.args[0]) from None
        self._queued += 1
        if self._queued % 1000 == 0:
            self._producer.poll(0)

    def commit(self, offsets: Sequence[TopicPartition] | None = None, group_metadata: Any = None) -> None:
        """Add consumer offsets (if any) to the transaction and commit it.

        A retriable failure (a timeout) is retried by calling the same step again, which resumes
        it, until the transaction timeout (or the drain time after a stop) has passed.
        """
        if self._failed:
            raise PermanentDeliveryError(set(self._failed))
        try:
            if offsets:
                self._run(
                    lambda t: self._producer.send_offsets_to_transaction(list(offsets), group_metadata, t)
                )
            self._run(self._producer.commit_transaction)
        except TransientError:
            if self._failed:  # reported during the final flush: that is why the commit failed
                raise PermanentDeliveryError(set(self._failed)) from None
            raise
        self.in_transaction = False

    def abort(self) -> None:
        """End the open transaction without committing it, whatever state the producer is in.

        A retriable failure of the abort is retried with backoff; if the producer failed fatally
        (or the abort cannot complete within the transaction timeout) the producer is recreated.
        """
        if not self._fatal and self.in_transaction:
            try:
                self._run(self._producer.abort_transaction)
            except TransientError:
                self._fatal = True  # an abort that cannot complete: start again with a new producer
        self.in_transaction = False
        if self._fatal and not self._stop.requested():
            # (when stopping, the next process's init_transactions finishes what was left open)
            self._recreate()

    def flush(self) -> int:
        return int(self._producer.flush(self.settings.step_timeout_s))

    def poll(self, timeout_s: float = 0.0) -> None:
        self._producer.poll(timeout_s)

    def _recreate(self) -> None:
        now = time.monotonic()
        if len(self._recreations) == _TWIN_FENCES and now - self._recreations[0] < _TWIN_WINDOW_S:
            raise TransactionFencedError(
                f"the producer was fenced {_TWIN_FENCES + 1} times within {_TWIN_WINDOW_S:.0f} s"
            )
        self._recreations.append(now)
        self._producer.purge(in_queue=True, in_flight=True)
        self._producer.flush(0)
        self._producer = Producer(self._config)
        self._fatal = False
        self.generation += 1
        backoff = Backoff(initial_s=0.2, maximum_s=5.0)
        while True:
            try:
                self.init()
                return
            except TransientError:
                if self._stop.wait(backoff.next_delay()):
                    self._fatal = True  # stopping: the next process's init finishes the transaction
                    raise

    def _run(self, step: Callable[[float], T]) -> T:
        """Call a blocking transactional ``step(timeout)``, calling it again while it fails retriably.

        Each call waits at most the step timeout; retries back off a little and end at the
        transaction timeout, or when the drain time after a stop request is over.
        """
        deadline = time.monotonic() + self.settings.transaction_timeout_s
        backoff = Backoff(initial_s=0.05, maximum_s=1.0)
        while True:
            left = deadline - time.monotonic()
            drain_left = self._stop.drain_left(self.settings.drain_s)
            if drain_left is not None:
                left = min(left, drain_left)
            try:
                return step(max(0.5, min(self.settings.step_timeout_s, left)))
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                retriable = error.retriable() and not error.fatal() and not error.txn_requires_abort()
                if (
                    not retriable
                    or time.monotonic() >= deadline
                    or self._stop.drain_expired(self.settings.drain_s)
                ):
                    raise self._classify(error) from None
                time.sleep(backoff.next_delay())

    def _classify(self, error: KafkaError) -> Exception:
        if error.fatal() or error.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED):
            self._fatal = True
            return TransientError(
                f"the transactional producer failed fatally ({error.name()}); it will be recreated",
                hint="usually the broker was away longer than the transaction timeout",
            )
        return TransientError(
            f"Kafka transaction step failed: {error.name()}"
            + (" (abort needed)" if error.txn_requires_abort() else ""),
            hint="the runtime retries; check the broker if this persists",
        )
