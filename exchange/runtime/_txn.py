"""A transactional, idempotent confluent-kafka producer with the error handling every loop shares.

Per-message delivery failures that retrying cannot fix (a message too large for the broker, a
record the broker refuses) are remembered by the caller's *tag* (the input coordinate), so the
loop can abort, route that input to the DLQ at stage ``produce``, and try again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from exchange.errors import TransientError
from exchange.settings import KafkaSettings

__all__ = ["PermanentDeliveryError", "TransactionFencedError", "TransactionalWriter"]

_PERMANENT = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_RECORD,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
    }
)


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
        self, kafka: KafkaSettings, transactional_id: str, *, overrides: dict[str, Any] | None = None
    ) -> None:
        config: dict[str, Any] = {
            **kafka.confluent_config(),
            "transactional.id": transactional_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 200_000,
            "compression.type": "lz4",
            "transaction.timeout.ms": 60_000,
            # After a commit the coordinator answers CONCURRENT_TRANSACTIONS until its markers are
            # written; the default 100 ms retry backoff would add ~100 ms to every transaction.
            "retry.backoff.ms": 10,
            "retry.backoff.max.ms": 1000,
            # Only failed deliveries call back (they name the input to send to the DLQ); the
            # commit tells us everything else was delivered.
            "delivery.report.only.error": True,
        }
        config.update(overrides or {})
        self.transactional_id = transactional_id
        self._producer = Producer(config)
        self._failed: set[str] = set()
        self._delivery_error: KafkaError | None = None
        self._queued = 0
        self.in_transaction = False

    def init(self, timeout_s: float = 30.0) -> None:
        """Register the transactional id, fencing (and aborting) any earlier instance's open transaction."""
        _call(self._producer.init_transactions, timeout_s)

    def begin(self) -> None:
        self._failed.clear()
        self._delivery_error = None
        _call(self._producer.begin_transaction)
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
            if error is None:
                return
            if error.code() in _PERMANENT:
                self._failed.add(tag)
            else:
                self._delivery_error = error

        while True:
            try:
                self._producer.produce(topic, value, key, headers=cast(Any, headers), on_delivery=delivered)
                break
            except BufferError:
                self._producer.poll(0.05)
            except KafkaException as exc:
                if exc.args[0].code() in _PERMANENT:
                    self._failed.add(tag)
                    break
                raise _translate(exc) from None
        self._queued += 1
        if self._queued % 1000 == 0:
            self._producer.poll(0)

    def commit(
        self,
        offsets: Sequence[TopicPartition] | None = None,
        group_metadata: Any = None,
        timeout_s: float = 30.0,
    ) -> None:
        """Add consumer offsets (if any) to the transaction and commit it."""
        if self._failed:
            raise PermanentDeliveryError(set(self._failed))
        try:
            if offsets:
                _call(self._producer.send_offsets_to_transaction, list(offsets), group_metadata, timeout_s)
            _call(self._producer.commit_transaction, timeout_s)
        except TransientError:
            if self._failed:  # reported during the final flush: that is why the commit failed
                raise PermanentDeliveryError(set(self._failed)) from None
            raise
        self.in_transaction = False

    def abort(self, timeout_s: float = 30.0) -> None:
        if self.in_transaction:
            try:
                _call(self._producer.abort_transaction, timeout_s)
            finally:
                self.in_transaction = False

    def flush(self, timeout_s: float = 30.0) -> int:
        return int(self._producer.flush(timeout_s))

    def poll(self, timeout_s: float = 0.0) -> None:
        self._producer.poll(timeout_s)


def _call(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except KafkaException as exc:
        raise _translate(exc) from None


def _translate(exc: KafkaException) -> Exception:
    error: KafkaError = exc.args[0]
    if error.fatal() or error.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED):
        return TransactionFencedError(f"transactional producer fenced or failed fatally: {error.name()}")
    return TransientError(
        f"Kafka transaction step failed: {error.name()}"
        + (" (abort needed)" if error.txn_requires_abort() else ""),
        hint="the runtime retries; check the broker if this persists",
    )
